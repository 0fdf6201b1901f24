"""The whole exception tree of tradestore.

Every message names the thing that failed (pool, query and file:line, URL, parameter) so a bot
operator can act on it, and none ever contains a password: URLs are shown redacted.
"""

from __future__ import annotations


class TradestoreError(Exception):
    """Base of every error the kit raises on purpose."""


class ConfigurationError(TradestoreError):
    """A setting or environment variable has a value the kit cannot use."""


class DatabaseURLError(ConfigurationError):
    """A database URL is malformed or names a backend the kit does not support."""


class PoolError(TradestoreError):
    """A pool could not hand out a connection."""


class PoolTimeout(PoolError):
    """No connection became free within the pool's `timeout`."""


class PoolClosed(PoolError):
    """The pool was closed before or while waiting for a connection."""


class ConnectionFailed(PoolError):
    """Opening a new connection to the database failed (retried until the pool's `timeout`)."""


class ConnectionRejected(ConnectionFailed):
    """The database refused the connection for a reason retrying cannot cure, so it was not
    retried: a wrong password, an unknown role or database, no permission to connect, a TLS
    mismatch, a setting or URL option it does not accept. The message carries its words."""


class SqlFileError(TradestoreError):
    """A named SQL file is malformed: the message names the file and line."""


class QueryError(TradestoreError):
    """A query could not run: bad parameters or a driver error, named by query and file:line.

    `sqlstate` holds the database's five-character error code when there is one
    (PostgreSQL SQLSTATE, or the SQLite error name such as ``SQLITE_CONSTRAINT_FOREIGNKEY``).
    """

    def __init__(self, message: str, *, query: str | None = None, sqlstate: str | None = None):
        super().__init__(message)
        self.query = query
        self.sqlstate = sqlstate


class QueryTimeout(QueryError):
    """A statement ran longer than `DB_QUERY_TIMEOUT` and was cancelled."""


class IntegrityViolation(QueryError):
    """A constraint (foreign key, check, unique, not null) rejected a write."""


class MigrationError(TradestoreError):
    """Applying or rolling back migrations failed; the message names the migration."""


class StaleVersionError(TradestoreError):
    """An optimistic-locking update found a different `version` than the caller read."""


class IllegalTransition(TradestoreError):
    """A state change the lifecycle does not allow (e.g. filling a cancelled order)."""


class NotFound(TradestoreError):
    """The entity asked for does not exist."""


class BackupError(TradestoreError):
    """Creating, pruning or restoring a backup failed."""
