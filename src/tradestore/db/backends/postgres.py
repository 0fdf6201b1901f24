"""PostgreSQL through psycopg 3.

Connections run in autocommit mode: a lone statement is its own transaction with no extra
BEGIN/COMMIT round trips, and the kit opens explicit transactions (``BEGIN``/savepoints) when
a caller asks for one. Python dicts are sent as ``jsonb``; arrays of enums come back as lists
of str (`postgres_types`). Both are registered per connection, never in psycopg's global map.
Connecting and pinging end by the caller's deadline (see `postgres_deadline`).

A failed connection says why only in words (libpq exposes no SQLSTATE for it), so the
failures retrying cannot cure are recognised by the server's and libpq's English messages.
A server whose `lc_messages` is another language gets its rejections retried until the pool
timeout, as every connection failure was before.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.types.json import JsonbDumper

from tradestore.db.backends import postgres_session
from tradestore.db.backends.base import Backend, DriverErrorInfo
from tradestore.db.backends.postgres_deadline import connect_within, ping_within
from tradestore.db.backends.postgres_types import install_unknown_types, unknown_types_loader
from tradestore.db.url import DatabaseURL

_DISCONNECT_SQLSTATES = ("08", "57P01", "57P02", "57P03")
_QUERY_CANCELED = "57014"
# The bound of a connect or a ping whose caller gives none (the pool always gives one).
DEFAULT_TIMEOUT_S = 10.0

# Connection failures retrying cannot cure, by their words, with what to check. Anything else
# (refused, reset, timed out, "starting up", "too many clients", DNS) is worth retrying.
_REJECTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"authentication failed|no password supplied|pg_hba\.conf|channel binding"
            r"|authentication method requirement"
        ),
        "check the user and password in the URL (and the server's pg_hba.conf)",
    ),
    (
        re.compile(r'(role|database) "[^"]*" does not exist'),
        "check the user and database names in the URL",
    ),
    (
        re.compile(
            r"is not permitted to log in|permission denied for database|CONNECT privilege"
            r"|is not currently accepting connections"
        ),
        "the role needs LOGIN and CONNECT on the database",
    ),
    (
        re.compile(r"does not support SSL|certificate|private key|GSSAPI|does not match host"),
        "check sslmode (and the certificates) in the URL against the server's SSL setup",
    ),
    (
        re.compile(
            r"invalid value for parameter|unrecognized configuration parameter"
            r"|permission denied to set parameter|invalid connection option"
            r"|invalid URI query parameter|invalid \w+ value|invalid port number"
        ),
        "fix the option in the URL",
    ),
)


class PostgresBackend(Backend):
    dialect = "postgresql"
    paramstyle = "pyformat"

    def __init__(self, url: DatabaseURL, *, query_timeout: float | None = None) -> None:
        super().__init__(url, query_timeout=query_timeout)
        # One per pool: it keeps what this database's catalog said about the result types
        # psycopg has no loader for (OIDs are per database).
        self._unknown_types_loader = unknown_types_loader({})

    def connect(self, timeout: float | None = None) -> psycopg.Connection[Any]:
        raw = connect_within(self.conninfo(), self.bound(timeout))
        raw.autocommit = True
        self.configure(raw)
        return raw

    def conninfo(self) -> str:
        """The connection string: the URL's, with the kit's session options at startup."""
        options: list[str] = []
        if self.url.schema:
            # Only the named schema: tests and tenants cannot see each other's tables.
            options.append(f"-c search_path={self.url.schema}")
        if self.query_timeout:
            options.append(f"-c statement_timeout={int(self.query_timeout * 1000)}")
        return make_conninfo(self.url.conninfo(), options=" ".join(options) or None)

    def configure(self, raw: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
        """What every kit connection gets, per connection (never in psycopg's global map)."""
        raw.adapters.register_dumper(dict, JsonbDumper)
        install_unknown_types(raw, self._unknown_types_loader)

    def bound(self, timeout: float | None) -> float:
        """`timeout`, shortened by the URL's own ``connect_timeout`` when that is shorter."""
        bound = DEFAULT_TIMEOUT_S if timeout is None else timeout
        given = self.url.options.get("connect_timeout", "")
        with contextlib.suppress(ValueError):
            if float(given) > 0:  # libpq: zero or less means no limit of its own
                bound = min(bound, float(given))
        return bound

    def is_broken(self, raw: psycopg.Connection[Any]) -> bool:
        return raw.closed or raw.broken

    def needs_ping(self, raw: psycopg.Connection[Any]) -> bool:
        # An idle connection has nothing to read unless the server spoke first: a FATAL notice
        # from pg_terminate_backend or a shutdown, or EOF. One poll() costs about a microsecond.
        try:
            readable, _, _ = select.select((raw.pgconn.socket,), (), (), 0)
        except (OSError, ValueError, psycopg.Error):
            return True
        return bool(readable)

    def ping(self, raw: psycopg.Connection[Any], timeout: float | None = None) -> None:
        ping_within(raw, DEFAULT_TIMEOUT_S if timeout is None else timeout)

    def in_transaction(self, raw: psycopg.Connection[Any]) -> bool:
        return raw.pgconn.transaction_status in (
            TransactionStatus.INTRANS,
            TransactionStatus.INERROR,
        )

    def reset(self, raw: psycopg.Connection[Any]) -> bool:
        return postgres_session.reset(raw)

    def restore(self, raw: psycopg.Connection[Any]) -> bool:
        return postgres_session.restore(raw)

    def in_failed_transaction(self, raw: Any) -> bool:
        return bool(raw.pgconn.transaction_status == TransactionStatus.INERROR)

    def close(self, raw: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
        # libpq's finish() at once, for both faces: an async connection's close() is a
        # coroutine, and a cancelled task must still be able to give a connection up.
        with contextlib.suppress(Exception):  # already broken: nothing left to release
            raw.pgconn.finish()

    def disown(self, raw: psycopg.Connection[Any]) -> None:
        # After fork the socket is shared with the parent. Closing it here would send the
        # protocol's Terminate message and end the parent's session, so point this process's
        # descriptor at /dev/null first: the goodbye goes nowhere, the parent keeps its socket.
        try:
            fd = raw.fileno()
        except (psycopg.Error, ValueError, OSError):
            return
        devnull = os.open(os.devnull, os.O_RDWR)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
        self.close(raw)

    def error_info(self, exc: BaseException) -> DriverErrorInfo | None:
        if not isinstance(exc, psycopg.Error):
            return None
        sqlstate = exc.sqlstate
        disconnected = isinstance(exc, psycopg.OperationalError) and (
            sqlstate is None or sqlstate.startswith(_DISCONNECT_SQLSTATES)
        )
        return DriverErrorInfo(
            sqlstate=sqlstate,
            disconnected=disconnected,
            timed_out=sqlstate == _QUERY_CANCELED,
            integrity=isinstance(exc, psycopg.IntegrityError),
        )

    def rejection_hint(self, exc: BaseException) -> str | None:
        if isinstance(exc, psycopg.ProgrammingError):
            return "fix the option in the URL"  # a malformed conninfo, refused before sending
        if not isinstance(exc, psycopg.OperationalError):
            return None
        message = str(exc)
        return next((hint for words, hint in _REJECTIONS if words.search(message)), None)
