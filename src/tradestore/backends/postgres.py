"""PostgreSQL through psycopg 3.

Connections run in autocommit mode: a lone statement is its own transaction with no extra
BEGIN/COMMIT round trips, and the kit opens explicit transactions (``BEGIN``/savepoints) when
a caller asks for one. Python dicts are sent as ``jsonb``.
"""

from __future__ import annotations

import contextlib
import os
import select
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from psycopg.types.json import JsonbDumper

from tradestore.backends.base import Backend, DriverErrorInfo

_DISCONNECT_SQLSTATES = ("08", "57P01", "57P02", "57P03")
_QUERY_CANCELED = "57014"
_CONNECT_TIMEOUT_S = 10
# DISCARD ALL without its DEALLOCATE ALL and DISCARD PLANS: the session's prepared statements
# are psycopg's cache of the kit's own queries (prepare_threshold); dropping them would make
# every query re-prepare after each restored connection. RESET ALL returns every setting to
# its session default, which for the kit's startup options (`-c search_path`,
# `-c statement_timeout`) is the kit's value. One round trip: a statement without parameters
# goes over the simple query protocol, where several may share one message.
_RESTORE_SESSION = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
    "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES"
)


class PostgresBackend(Backend):
    dialect = "postgresql"
    paramstyle = "pyformat"

    def connect(self) -> psycopg.Connection[Any]:
        options: list[str] = []
        if self.url.schema:
            # Only the named schema: tests and tenants cannot see each other's tables.
            options.append(f"-c search_path={self.url.schema}")
        if self.query_timeout:
            options.append(f"-c statement_timeout={int(self.query_timeout * 1000)}")
        kwargs: dict[str, Any] = {"autocommit": True}
        if "connect_timeout" not in self.url.options:
            kwargs["connect_timeout"] = _CONNECT_TIMEOUT_S
        if options:
            kwargs["options"] = " ".join(options)
        raw: psycopg.Connection[Any] = psycopg.connect(self.url.conninfo(), **kwargs)
        raw.adapters.register_dumper(dict, JsonbDumper)
        return raw

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

    def ping(self, raw: psycopg.Connection[Any]) -> None:
        raw.execute("SELECT 1")

    def in_transaction(self, raw: psycopg.Connection[Any]) -> bool:
        return raw.pgconn.transaction_status in (
            TransactionStatus.INTRANS,
            TransactionStatus.INERROR,
        )

    def reset(self, raw: psycopg.Connection[Any]) -> bool:
        if raw.closed or raw.broken:
            return False
        status = raw.pgconn.transaction_status
        if status == TransactionStatus.IDLE:
            return True
        if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            try:
                raw.execute("ROLLBACK")
            except psycopg.Error:
                return False
            return raw.pgconn.transaction_status == TransactionStatus.IDLE
        # ACTIVE (a result still streaming) or UNKNOWN: not worth saving.
        return False

    def restore(self, raw: psycopg.Connection[Any]) -> bool:
        # The driver's side first, as connect() left it. reset() has rolled back whatever the
        # borrower left open, so autocommit may change; set only what differs.
        if not raw.autocommit:
            raw.autocommit = True
        if raw.read_only is not None:
            raw.read_only = None
        if raw.isolation_level is not None:
            raw.isolation_level = None
        if raw.deferrable is not None:
            raw.deferrable = None
        raw.row_factory = tuple_row
        raw.cursor_factory = psycopg.Cursor
        raw.server_cursor_factory = psycopg.ServerCursor
        raw.execute(_RESTORE_SESSION, prepare=False)
        return raw.pgconn.transaction_status == TransactionStatus.IDLE

    def close(self, raw: psycopg.Connection[Any]) -> None:
        with contextlib.suppress(Exception):  # already broken: nothing left to release
            raw.close()

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
