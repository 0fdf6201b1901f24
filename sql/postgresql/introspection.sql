-- PostgreSQL-only introspection: the planner's statistics in pg_catalog.

-- name: introspect_row_estimate :scalar
-- The planner's row count estimate of one table in the current schema (pg_class.reltuples:
-- free to read, as fresh as the last VACUUM/ANALYZE; negative when never analyzed).
SELECT CAST(c.reltuples AS BIGINT)
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n
    ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
    AND c.relname = CAST(:name AS TEXT)
    AND c.relkind IN ('r', 'p', 'm');
