"""SQLite through the standard sqlite3 module: the embedded default.

- Autocommit mode (``isolation_level=None``): the kit issues ``BEGIN IMMEDIATE`` itself, so a
  transaction takes the write lock up front and never fails half-way on a lock upgrade
  (the source of "database is locked" under WAL that busy_timeout cannot cure).
- WAL, ``busy_timeout``, ``foreign_keys=ON`` and the decimal functions on every connection.
- Nothing process-global: Decimal, datetime, date and JSON values are converted per call by
  the kit (`sqlite_values`), never by adapters registered with the sqlite3 module, so the
  host's other sqlite3 connections behave as if the kit were not there.
- ``check_same_thread=False`` is safe because the pool hands a connection to one thread at a
  time; the pool, not sqlite3, enforces exclusivity.
- ``sqlite:///:memory:`` becomes one named in-memory database (the ``memdb`` VFS) shared by every
  connection of the pool, kept alive by an anchor connection until the pool closes.
- A file SQLite could only open read-only (a read-only mount) gives a read-only connection for
  good; the pool drops such connections at checkout once the file is writable again, so writes
  resume. (Another pool of the same process on the same file still holding one keeps the new
  connections read-only too: SQLite shares the -shm mapping process-wide.)
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tradestore.db.backends.base import Backend, DriverErrorInfo
from tradestore.db.backends.sqlite_session import SessionBaseline, changes_session
from tradestore.db.backends.sqlite_types import install_functions
from tradestore.db.backends.sqlite_values import convert_params
from tradestore.db.url import DatabaseURL

DEFAULT_BUSY_TIMEOUT_MS = 30_000
_PROGRESS_STEPS = 10_000


class _Deadline:
    """Per-connection statement deadline read by the progress handler (DB_QUERY_TIMEOUT)."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = 0.0

    def expired(self) -> int:
        return 1 if self.at and time.monotonic() > self.at else 0


class SqliteBackend(Backend):
    dialect = "sqlite"
    paramstyle = "named"
    begin_sql = "BEGIN IMMEDIATE"

    def __init__(self, url: DatabaseURL, *, query_timeout: float | None = None) -> None:
        super().__init__(url, query_timeout=query_timeout)
        opts = url.options
        self.busy_timeout_ms = int(opts.get("busy_timeout", DEFAULT_BUSY_TIMEOUT_MS))
        self.synchronous = opts.get("synchronous", "FULL").upper()
        self._anchor: sqlite3.Connection | None = None
        self._deadlines: dict[int, _Deadline] = {}
        # ids of connections opened while the file was not writable: SQLite then silently
        # opens it read-only, and such a connection stays read-only after a remount.
        self._read_only: set[int] = set()
        # PRAGMAs of a fresh kit connection: read at the first restore (see restore()).
        self._baseline: SessionBaseline | None = None
        if url.is_memory:
            self.target = f"file:/tradestore-{uuid.uuid4().hex}?vfs=memdb"
            self._anchor = self._open()
        else:
            path = Path(url.database or "")
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            self.target = str(path)

    @property
    def path(self) -> str:
        """The database file, or the in-memory database's name."""
        return self.target

    def _open(self, wait_ms: int | None = None) -> sqlite3.Connection:
        """Open and configure a connection. Setting WAL up may wait on another connection's
        lock: `wait_ms` bounds that wait (a checkout's deadline), then busy_timeout applies."""
        busy_ms = self.busy_timeout_ms if wait_ms is None else min(wait_ms, self.busy_timeout_ms)
        raw = sqlite3.connect(
            self.target,
            timeout=busy_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
            uri=self.target.startswith("file:"),
            cached_statements=256,
        )
        try:
            raw.execute(f"PRAGMA busy_timeout = {busy_ms}")
            raw.execute("PRAGMA foreign_keys = ON")
            if not self.url.is_memory:
                raw.execute("PRAGMA journal_mode = WAL")
            if self.synchronous in ("OFF", "NORMAL", "FULL", "EXTRA"):
                raw.execute(f"PRAGMA synchronous = {self.synchronous}")
            if busy_ms != self.busy_timeout_ms:
                raw.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            install_functions(raw)
        except BaseException:
            raw.close()
            raise
        return raw

    def _open_file(self, wait_ms: int | None) -> sqlite3.Connection:
        writable = self._writable()
        try:
            raw = self._open(wait_ms)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_CANTOPEN" or self._writable():
                raise
            # SQLite's own "unable to open database file" does not say why: a WAL database
            # closed cleanly cannot even be read without creating its -wal and -shm files.
            explained = sqlite3.OperationalError(
                f"{exc}: {self.target} is not writable (a read-only mount?) and SQLite in WAL "
                "mode must create its -wal and -shm files beside it to open it"
            )
            explained.sqlite_errorcode = exc.sqlite_errorcode
            explained.sqlite_errorname = exc.sqlite_errorname
            raise explained from exc
        # Checked before and after: SQLite opened the file read-only if either says so. And a
        # connection opened while a read-only one is alive is read-only too, writable file or
        # not: SQLite shares the -shm mapping of a file between all connections of a process.
        if not (writable and self._writable()) or self._read_only:
            self._read_only.add(id(raw))
        return raw

    def _writable(self) -> bool:
        """Whether SQLite could open the file read-write now (False on a read-only mount)."""
        if os.path.exists(self.target):
            return os.access(self.target, os.W_OK)
        return os.access(os.path.dirname(self.target) or ".", os.W_OK)

    def connect(self, timeout: float | None = None) -> sqlite3.Connection:
        wait_ms = None if timeout is None else max(1, math.ceil(timeout * 1000))
        raw = self._open(wait_ms) if self.url.is_memory else self._open_file(wait_ms)
        if self.query_timeout:
            deadline = _Deadline()
            raw.set_progress_handler(deadline.expired, _PROGRESS_STEPS)
            self._deadlines[id(raw)] = deadline
        return raw

    def arm_timeout(self, raw: sqlite3.Connection) -> None:
        """Start the DB_QUERY_TIMEOUT clock for the statement about to run on `raw`."""
        deadline = self._deadlines.get(id(raw))
        if deadline is not None and self.query_timeout:
            deadline.at = time.monotonic() + self.query_timeout

    def execute(self, raw: sqlite3.Connection, sql: str, params: Any = None) -> sqlite3.Cursor:
        """Ad-hoc SQL: values converted like a named query's, under the statement clock."""
        self.arm_timeout(raw)
        return raw.execute(sql, () if params is None else convert_params(params))

    def disarm(self, raw: sqlite3.Connection) -> None:
        """Stop the statement clock of a returned connection."""
        deadline = self._deadlines.get(id(raw))
        if deadline is not None:
            deadline.at = 0.0

    def is_broken(self, raw: sqlite3.Connection) -> bool:
        if id(raw) in self._read_only and self._writable():
            return True  # opened read-only, writable again: reopen so that writes succeed
        try:
            raw.total_changes  # noqa: B018  (raises ProgrammingError once closed)
        except sqlite3.ProgrammingError:
            return True
        return False

    def needs_ping(self, raw: sqlite3.Connection) -> bool:
        return False

    def ping(self, raw: sqlite3.Connection, timeout: float | None = None) -> None:
        raw.execute("SELECT 1").fetchone()  # touches no file and takes no lock: cannot wait

    def in_transaction(self, raw: sqlite3.Connection) -> bool:
        return raw.in_transaction

    def reset(self, raw: sqlite3.Connection) -> bool:
        self.disarm(raw)  # a returned connection carries no statement clock
        try:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            return not raw.in_transaction
        except sqlite3.Error:
            return False

    def changes_session(self, sql: str) -> bool:
        return changes_session(sql)

    def restore(self, raw: sqlite3.Connection) -> bool:
        if sys.version_info >= (3, 12):  # apart: mypy (python 3.11) skips this block whole
            if raw.autocommit != sqlite3.LEGACY_TRANSACTION_CONTROL:
                return False  # 3.12's PEP 249 transaction control: discard, do not untangle
        # sqlite3's side, as connect() left it. reset() has rolled back, so setting
        # isolation_level (which commits) commits nothing.
        if raw.isolation_level is not None:
            raw.isolation_level = None
        raw.row_factory = None
        raw.text_factory = str
        raw.set_trace_callback(None)
        deadline = self._deadlines.get(id(raw))
        raw.set_progress_handler(deadline.expired if deadline else None, _PROGRESS_STEPS)
        # Not reset: functions, collations and an authorizer a borrower registers (like
        # psycopg adapters they are the borrower's deliberate additions, and re-registering
        # would expire every cached statement of the connection).
        if self._baseline is None:
            fresh = self._open()
            try:
                self._baseline = SessionBaseline.take(fresh)
            finally:
                fresh.close()
        return self._baseline.restore(raw)

    def close(self, raw: sqlite3.Connection) -> None:
        self._deadlines.pop(id(raw), None)
        self._read_only.discard(id(raw))
        with contextlib.suppress(Exception):  # thrown away anyway
            raw.close()

    def disown(self, raw: sqlite3.Connection) -> None:
        # SQLite forbids carrying a connection across fork; the child simply forgets it.
        _FORK_ORPHANS.append(raw)

    def shutdown(self) -> None:
        if self._anchor is not None:
            self.close(self._anchor)
            self._anchor = None

    def rejection_hint(self, exc: BaseException) -> str | None:
        name = getattr(exc, "sqlite_errorname", None)
        if name == "SQLITE_NOTADB":
            return f"{self.target} is not a SQLite database: check the path in the URL"
        if name == "SQLITE_CORRUPT":
            return f"{self.target} is corrupt: restore it from a backup"
        return None  # locked, busy, unwritable for now: worth retrying

    def error_info(self, exc: BaseException) -> DriverErrorInfo | None:
        if not isinstance(exc, sqlite3.Error):
            return None
        name: str | None = getattr(exc, "sqlite_errorname", None)
        message = str(exc)
        return DriverErrorInfo(
            sqlstate=name,
            disconnected=isinstance(exc, sqlite3.ProgrammingError) and "closed database" in message,
            timed_out=isinstance(exc, sqlite3.OperationalError) and message == "interrupted",
            integrity=isinstance(exc, sqlite3.IntegrityError),
        )


# Connections inherited through fork: never closed in the child (see `disown`).
_FORK_ORPHANS: list[Any] = []
