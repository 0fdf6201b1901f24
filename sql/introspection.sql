-- Introspection: what the connected database holds (tradestore.schema.introspect, `tradestore stats`).
-- Standard information_schema, limited to the connection's current schema (the first on the
-- search_path, i.e. the URL's ?schema=). SQLite overrides: sql/sqlite/introspection.sql.

-- name: introspect_table_exists :scalar
-- Whether a table or view of this name exists in the current schema.
SELECT EXISTS (
    SELECT 1
    FROM information_schema.tables
    WHERE table_schema = current_schema()
        AND table_name = CAST(:name AS TEXT)
);

-- name: introspect_columns :many
-- The columns of one table or view in the current schema, in declaration order.
SELECT CAST(column_name AS TEXT) AS name,
    CAST(data_type AS TEXT) AS data_type,
    is_nullable = 'YES' AS nullable,
    CAST(column_default AS TEXT) AS default_value
FROM information_schema.columns
WHERE table_schema = current_schema()
    AND table_name = CAST(:name AS TEXT)
ORDER BY ordinal_position;

-- name: introspect_tables :many
-- The base tables of the current schema by name (views and other schemas left out).
SELECT CAST(table_name AS TEXT) AS name
FROM information_schema.tables
WHERE table_schema = current_schema()
    AND table_type = 'BASE TABLE'
ORDER BY table_name;
