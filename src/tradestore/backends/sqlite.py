"""SQLite through the standard sqlite3 module: the embedded default.

- Autocommit mode (``isolation_level=None``): the kit issues ``BEGIN IMMEDIATE`` itself, so a
  transaction takes the write lock up front and never fails half-way on a lock upgrade
  (the source of "database is locked" under WAL that busy_timeout cannot cure).
- WAL, ``busy_timeout``, ``foreign_keys=ON`` on every connection.
- ``check_same_thread=False`` is safe because the pool hands a connection to one thread at a
  time; the pool, not sqlite3, enforces exclusivity.
- ``sqlite:///:memory:`` becomes one named in-memory database (the ``memdb`` VFS) shared by every
  connection of the pool, kept alive by an anchor connection until the pool closes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from tradestore.backends.base import Backend, DriverErrorInfo
from tradestore.backends.sqlite_types import install_functions, register_adapters
from tradestore.url import DatabaseURL

register_adapters()

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

    def _open(self) -> sqlite3.Connection:
        raw = sqlite3.connect(
            self.target,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
            uri=self.target.startswith("file:"),
            cached_statements=256,
        )
        raw.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        raw.execute("PRAGMA foreign_keys = ON")
        if not self.url.is_memory:
            raw.execute("PRAGMA journal_mode = WAL")
        if self.synchronous in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raw.execute(f"PRAGMA synchronous = {self.synchronous}")
        install_functions(raw)
        return raw

    def connect(self) -> sqlite3.Connection:
        raw = self._open()
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

    def is_broken(self, raw: sqlite3.Connection) -> bool:
        try:
            raw.total_changes  # noqa: B018  (raises ProgrammingError once closed)
        except sqlite3.ProgrammingError:
            return True
        return False

    def needs_ping(self, raw: sqlite3.Connection) -> bool:
        return False

    def ping(self, raw: sqlite3.Connection) -> None:
        raw.execute("SELECT 1").fetchone()

    def in_transaction(self, raw: sqlite3.Connection) -> bool:
        return raw.in_transaction

    def reset(self, raw: sqlite3.Connection) -> bool:
        deadline = self._deadlines.get(id(raw))
        if deadline is not None:
            deadline.at = 0.0  # a returned connection carries no statement clock
        try:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            return not raw.in_transaction
        except sqlite3.Error:
            return False

    def close(self, raw: sqlite3.Connection) -> None:
        self._deadlines.pop(id(raw), None)
        with contextlib.suppress(Exception):  # thrown away anyway
            raw.close()

    def disown(self, raw: sqlite3.Connection) -> None:
        # SQLite forbids carrying a connection across fork; the child simply forgets it.
        _FORK_ORPHANS.append(raw)

    def shutdown(self) -> None:
        if self._anchor is not None:
            self.close(self._anchor)
            self._anchor = None

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
