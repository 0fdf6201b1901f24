-- SQLite variants of sql/introspection.sql: sqlite_master and the pragma table functions.

-- name: introspect_table_exists :scalar
-- Whether a table or view of this name exists in the main database.
SELECT EXISTS (
    SELECT 1
    FROM sqlite_master
    WHERE type IN ('table', 'view')
        AND name = :name
);

-- name: introspect_columns :many
-- The columns of one table or view, in declaration order (primary key columns count as not
-- null, as on PostgreSQL).
SELECT name,
    type AS data_type,
    ("notnull" = 0 AND pk = 0) AS nullable,
    dflt_value AS default_value
FROM pragma_table_info(:name)
ORDER BY cid;

-- name: introspect_row_estimate :scalar
-- Rows of one table, counted from its b-tree leaf pages (the dbstat table; SQLite keeps no
-- cheap estimate, so this reads the table's pages once).
SELECT SUM(ncell)
FROM dbstat
WHERE name = :name
    AND pagetype = 'leaf';

-- name: introspect_tables :many
-- The tables of the main database by name (views and SQLite's own sqlite_* tables left out).
SELECT name
FROM sqlite_master
WHERE type = 'table'
    AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name;
