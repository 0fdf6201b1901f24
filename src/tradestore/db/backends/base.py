"""What every backend provides to the pool and the query layer, on each face.

A backend owns the driver: it opens raw DB-API connections, checks and resets them, and tells
the kit what a driver exception means (SQLSTATE, lost connection, timeout, constraint).
`Backend` is the sync face. `AsyncBackend` is the async one: it keeps a sync `Backend` of the
same database for everything that is not I/O (error meanings, free checks, the SQLite value
conversion) and does the I/O with the driver's async API (psycopg) or on a worker thread per
connection (sqlite3), so nothing it does blocks the event loop.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from tradestore.db.url import DatabaseURL, Dialect


@dataclass(frozen=True)
class DriverErrorInfo:
    """What a driver exception means, independent of the driver."""

    sqlstate: str | None
    disconnected: bool = False
    timed_out: bool = False
    integrity: bool = False


class Backend(ABC):
    """One database dialect: connect, check, reset, and interpret errors."""

    dialect: ClassVar[Dialect]
    #: Parameter placeholder style the query layer translates ``:name`` into.
    paramstyle: ClassVar[str]
    #: Statement that opens a transaction on a connection in autocommit mode.
    begin_sql: ClassVar[str] = "BEGIN"

    def __init__(self, url: DatabaseURL, *, query_timeout: float | None = None) -> None:
        self.url = url
        self.query_timeout = query_timeout

    @abstractmethod
    def connect(self, timeout: float | None = None) -> Any:
        """Open a new raw connection in autocommit mode, configured for the kit; succeed or
        raise within `timeout` seconds (None: the backend's own bound), whatever the server
        or a lock holder does."""

    @abstractmethod
    def is_broken(self, raw: Any) -> bool:
        """Free check (no round trip): the driver already knows the connection is unusable."""

    @abstractmethod
    def needs_ping(self, raw: Any) -> bool:
        """Cheap check (no round trip): something happened on an idle connection that a ping
        should look at, e.g. the server sent a termination notice."""

    @abstractmethod
    def ping(self, raw: Any, timeout: float | None = None) -> None:
        """One round trip; raises the driver's error when the connection does not answer
        within `timeout` seconds (None: the backend's own bound). After a timeout the
        connection is unusable: discard it."""

    @abstractmethod
    def in_transaction(self, raw: Any) -> bool:
        """True when a transaction is open (or aborted) on the connection."""

    @abstractmethod
    def reset(self, raw: Any) -> bool:
        """Make a returned connection clean (roll back what is open); False if unusable."""

    def execute(self, raw: Any, sql: str, params: Any = None) -> Any:
        """Run one statement of the kit's own (transaction control) or a borrower's ad-hoc
        SQL on `raw`, in the driver's parameter style; return the driver cursor."""
        return raw.execute(sql, params)

    def in_failed_transaction(self, raw: Any) -> bool:
        """True when a statement of the open transaction failed: COMMIT would roll back."""
        return False

    def changes_session(self, sql: str) -> bool:
        """Whether ad-hoc `sql` may change the session, so the connection needs a `restore`.

        True by default: on PostgreSQL any statement may call a function that runs SET."""
        return True

    def restore(self, raw: Any) -> bool:
        """Undo what a borrower may have changed in the session (called after `reset`, only for
        a connection whose `raw` was touched or that ran session-changing SQL); False to
        discard it.

        The default discards: always correct, never cheap. Backends restore in place."""
        return False

    @abstractmethod
    def close(self, raw: Any) -> None:
        """Close, ignoring errors: the connection is being thrown away."""

    @abstractmethod
    def disown(self, raw: Any) -> None:
        """Forget a connection inherited through fork without touching the parent's session."""

    @abstractmethod
    def error_info(self, exc: BaseException) -> DriverErrorInfo | None:
        """Interpret a driver exception; None when `exc` is not the driver's."""

    def rejection_hint(self, exc: BaseException) -> str | None:
        """When `exc`, raised by `connect`, means the database refused the connection for a
        reason retrying cannot cure (wrong password, unknown database...): what to check.
        None when the failure may pass (refused port, reset, timeout): worth retrying."""
        return None

    def arm_timeout(self, raw: Any) -> None:  # noqa: B027  (PostgreSQL times out server-side)
        """Start the statement-timeout clock for the statement about to run on `raw`."""

    def shutdown(self) -> None:  # noqa: B027  (optional hook; most backends hold nothing)
        """Release what the backend itself holds (the SQLite in-memory anchor)."""

    def describe(self) -> str:
        """Where this backend points, safe to log."""
        return self.url.redacted


class AsyncBackend(ABC):
    """The async face of one database: the same answers as its sync `Backend` (kept as
    `sync`) for everything that is not I/O; connecting, pinging, resetting, restoring and
    running statements are coroutines that never block the event loop. `close` and `disown`
    stay plain calls, so a cancelled task can still give a connection up."""

    def __init__(self, sync: Backend) -> None:
        self.sync = sync
        self.url = sync.url
        self.query_timeout = sync.query_timeout
        self.dialect: Dialect = sync.dialect
        self.paramstyle = sync.paramstyle
        self.begin_sql = sync.begin_sql

    @abstractmethod
    async def connect(self, timeout: float | None = None) -> Any:
        """`Backend.connect`, awaited."""

    @abstractmethod
    async def ping(self, raw: Any, timeout: float | None = None) -> None:
        """`Backend.ping`, awaited."""

    @abstractmethod
    async def reset(self, raw: Any) -> bool:
        """`Backend.reset`, awaited."""

    @abstractmethod
    async def restore(self, raw: Any) -> bool:
        """`Backend.restore`, awaited."""

    @abstractmethod
    async def execute(self, raw: Any, sql: str, params: Any = None) -> Any:
        """`Backend.execute`, awaited; the cursor returned has awaitable fetch methods."""

    @abstractmethod
    def close(self, raw: Any) -> None:
        """Close at once, ignoring errors (a cancelled task may call it)."""

    def is_broken(self, raw: Any) -> bool:
        return self.sync.is_broken(raw)

    def needs_ping(self, raw: Any) -> bool:
        return self.sync.needs_ping(raw)

    def in_transaction(self, raw: Any) -> bool:
        return self.sync.in_transaction(raw)

    def in_failed_transaction(self, raw: Any) -> bool:
        return self.sync.in_failed_transaction(raw)

    def changes_session(self, sql: str) -> bool:
        return self.sync.changes_session(sql)

    def disown(self, raw: Any) -> None:
        self.sync.disown(raw)

    def error_info(self, exc: BaseException) -> DriverErrorInfo | None:
        return self.sync.error_info(exc)

    def rejection_hint(self, exc: BaseException) -> str | None:
        return self.sync.rejection_hint(exc)

    def arm_timeout(self, raw: Any) -> None:
        self.sync.arm_timeout(raw)

    def shutdown(self) -> None:
        self.sync.shutdown()

    def describe(self) -> str:
        return self.sync.describe()
