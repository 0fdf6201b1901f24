"""PostgreSQL through psycopg 3.

Connections run in autocommit mode: a lone statement is its own transaction with no extra
BEGIN/COMMIT round trips, and the kit opens explicit transactions (``BEGIN``/savepoints) when
a caller asks for one. Python dicts are sent as ``jsonb``; arrays of enums come back as lists
of str (`postgres_types`). Both are registered per connection, never in psycopg's global map.
"""

from __future__ import annotations

import contextlib
import os
import select
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.types.json import JsonbDumper

from tradestore.backends.base import Backend, DriverErrorInfo
from tradestore.backends.postgres_types import install_unknown_types, unknown_types_loader
from tradestore.url import DatabaseURL

_DISCONNECT_SQLSTATES = ("08", "57P01", "57P02", "57P03")
_QUERY_CANCELED = "57014"
_CONNECT_TIMEOUT_S = 10


class PostgresBackend(Backend):
    dialect = "postgresql"
    paramstyle = "pyformat"

    def __init__(self, url: DatabaseURL, *, query_timeout: float | None = None) -> None:
        super().__init__(url, query_timeout=query_timeout)
        # One per pool: it keeps what this database's catalog said about the result types
        # psycopg has no loader for (OIDs are per database).
        self._unknown_types_loader = unknown_types_loader({})

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
        install_unknown_types(raw, self._unknown_types_loader)
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
