-- Enum and enum-array columns read into str, enum and list fields (PostgreSQL only: SQLite has
-- no enum types). The tables are created by tests/test_postgres_types.py.

-- name: ticket :one Ticket
-- One ticket: its status (an enum) and its status history (an array of that enum).
SELECT id, status, history
FROM tickets
WHERE id = :id;

-- name: tickets :many Ticket
-- Every ticket, oldest first.
SELECT id, status, history
FROM tickets
ORDER BY id;

-- name: stream_tickets :iter TypedTicket
-- Every ticket, streamed (server-side cursor), into enum-typed fields.
SELECT id, status, history
FROM tickets
ORDER BY id;

-- name: ticket_history :scalar
-- The status history of one ticket.
SELECT history
FROM tickets
WHERE id = :id;

-- name: ticket_legs :one TicketLegs
-- An array of a composite type: psycopg has no loader for it, check-sql must say so.
SELECT id, legs
FROM tickets
WHERE id = :id;
