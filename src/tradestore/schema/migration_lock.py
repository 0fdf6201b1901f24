"""The migration lock: yoyo's lock row, plus proof that its holder is still alive.

yoyo serialises migrators with one row in ``yoyo_lock``: ``locked = 1`` (the primary key, so a
second row cannot exist), ``ctime`` (naive UTC, when it was taken) and ``pid`` (the holder's OS
process id, on whatever host it ran: the host is not stored). A holder killed with SIGKILL never
deletes its row; yoyo then makes every later migrator wait its whole timeout and ends with "run
yoyo break-lock". Here every migrator of the kit also holds a lock that the operating system or
the server releases the moment the holder dies, and a waiter that gets that lock knows the row
is a dead holder's and takes it over, with a WARNING:

- PostgreSQL: a session-level advisory lock keyed on the lock table (``pg_locks``: classid
  `ADVISORY_LOCK_CLASS`, objid the OID of ``yoyo_lock``). The row's pid names a process on some
  client host, unknowable from the server; a session, though, is the server's own: when the
  client dies its connection closes, the backend exits and the advisory lock goes with it,
  whatever host the client ran on. Migrators wait on the advisory lock (their turn comes when
  the holder finishes or its session ends), then any row left in ``yoyo_lock`` is stale.
  It needs a real session, as yoyo's own ``SET search_path`` does: migrate directly or through
  a session-pooling proxy, not a transaction-pooling PgBouncer.
- SQLite: an exclusive ``flock`` (POSIX) on ``<database>-migrate.lock`` beside the database.
  SQLite's locking only works between processes of one host (it warns against network
  filesystems), so the holder is on this host: "same host" needs no hostname in the row. The
  kernel drops a dead process's flock. The flock, not the pid, is the proof: a bot restarted
  in a container gets the same pid (often 1) as the holder it replaces, and containers sharing
  a volume see each other's pids as unrelated or dead. The pid is still checked, as extra
  evidence: a row whose pid is a live process of this host other than this one (yoyo's own
  CLI, which takes no flock) is waited for.

What this cannot see, so `break_lock` is there for it: a row taken by something that holds no
proof lock (``yoyo apply`` on PostgreSQL, or a kit older than this module) is taken over as
stale even while it runs, so do not run yoyo's CLI while bots start; a reused pid on SQLite
looks alive and is waited for; on PostgreSQL a client whose *host* vanished keeps its session,
and so the advisory lock, until the server's TCP keepalive gives up (hours by default).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradestore.db.url import DatabaseURL, redact
from tradestore.errors import MigrationError

logger = logging.getLogger("tradestore.migrate")

#: classid of the kit's advisory lock in ``pg_locks`` ("trad" in ASCII); objid is the OID of
#: the ``yoyo_lock`` table, so each schema's migrations have a lock of their own.
ADVISORY_LOCK_CLASS = 0x74726164
LOCK_FILE_SUFFIX = "-migrate.lock"
POLL_SECONDS = 0.1
BREAK_LOCK_HINT = "`tradestore break-lock` (or `make break-lock`)"

_PG_TRY_LOCK = "SELECT pg_try_advisory_lock(:cls, to_regclass(:lock_table)::oid::int4)"
_PG_UNLOCK = "SELECT pg_advisory_unlock(:cls, to_regclass(:lock_table)::oid::int4)"
_PG_HOLDERS = """
SELECT a.pid, a.usename, a.application_name, host(a.client_addr), a.backend_start, a.state
FROM pg_locks AS l
JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = :cls AND l.objid = to_regclass(:lock_table)::oid AND l.objsubid = 2
"""


@dataclass(frozen=True, slots=True)
class LockRow:
    """yoyo's lock row: the holder's OS pid and when it took the lock (UTC)."""

    pid: int
    since: dt.datetime | None

    def __str__(self) -> str:
        when = f" since {self.since.isoformat(timespec='seconds')}" if self.since else ""
        return f"process {self.pid}{when}"


@dataclass(frozen=True, slots=True)
class BrokenLock:
    """What `break_lock` removed: yoyo's row, and on PostgreSQL the session it ended."""

    row: LockRow | None
    session: str | None


# -- yoyo's row ------------------------------------------------------------------------------


def _read_row(backend: Any) -> LockRow | None:
    sql = backend.format_sql("SELECT {quoted.pid}, {quoted.ctime} FROM {0.lock_table_quoted}")
    row = backend.execute(sql).fetchone()
    if row is None:
        return None
    since = row[1]
    if isinstance(since, str):
        since = dt.datetime.fromisoformat(since)
    if isinstance(since, dt.datetime) and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return LockRow(pid=int(row[0]), since=since if isinstance(since, dt.datetime) else None)


def _insert_row(backend: Any) -> None:
    """yoyo's own row, as its `lock()` writes it (naive UTC ctime, this process's pid)."""
    sql = backend.format_sql(
        "INSERT INTO {0.lock_table_quoted} ({quoted.locked}, {quoted.ctime}, {quoted.pid}) "
        "VALUES (1, :when, :pid)"
    )
    when = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with backend.transaction():
        backend.execute(sql, {"when": when, "pid": os.getpid()})


def _delete_row(backend: Any, pid: int | None) -> None:
    """Delete the row of `pid` (None: whoever's). By pid, as yoyo does: two waiters taking over
    the same dead holder cannot delete each other's fresh row."""
    if pid is None:
        sql, params = backend.format_sql("DELETE FROM {0.lock_table_quoted}"), None
    else:
        sql = backend.format_sql("DELETE FROM {0.lock_table_quoted} WHERE {quoted.pid} = :pid")
        params = {"pid": pid}
    with backend.transaction():
        backend.execute(sql, params)


def _is_contention(exc: BaseException) -> bool:
    """A write that lost a race for a moment (SQLite busy, PostgreSQL lock or serialization
    conflict): try again. Anything else is a real failure to report at once."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    return getattr(exc, "sqlstate", None) in {"55P03", "40001", "40P01"}


# -- proof of life -----------------------------------------------------------------------------


class _SessionLock:
    """PostgreSQL: the kit's advisory lock, held by the migrating session itself."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._params = {"cls": ADVISORY_LOCK_CLASS, "lock_table": backend.lock_table}

    def try_acquire(self) -> bool:
        (got,) = self._backend.execute(_PG_TRY_LOCK, self._params).fetchone()
        if got is None:  # to_regclass found no lock table: the access check should have said
            raise MigrationError(f"yoyo's lock table {self._params['lock_table']} is missing")
        return bool(got)

    def release(self) -> None:
        self._backend.execute(_PG_UNLOCK, self._params)

    def holders(self) -> list[tuple[int, str]]:
        """Sessions holding the advisory lock: (backend pid, a description for people)."""
        rows = self._backend.execute(_PG_HOLDERS, self._params).fetchall()
        found = []
        for pid, user, app, client, started, state in rows:
            where = f"from {client}" if client else "over a local socket"
            since = started.isoformat(timespec="seconds") if started else "?"
            name = f", application {app!r}" if app else ""
            found.append(
                (int(pid), f"session {pid} (role {user}, {where}{name}, since {since}, {state})")
            )
        return found

    def describe_holder(self) -> str:
        sessions = [text for _, text in self.holders()]
        return " and ".join(sessions) or "a session that has just let go"

    @staticmethod
    def row_holder_alive(row: LockRow) -> bool:
        # Holding the advisory lock proves no other migrator of the kit is alive; the row's
        # pid names a process on an unknown host, so it proves nothing either way.
        del row
        return False


class _FileLock:
    """SQLite: an exclusive flock on the lock file beside the database."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + LOCK_FILE_SUFFIX)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl  # noqa: PLC0415  (POSIX only; see the module docstring)

        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise MigrationError(
                f"cannot open the migration lock file {self.path}: {exc}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def describe_holder(self) -> str:
        return f"a live process of this host (it holds {self.path})"

    @staticmethod
    def row_holder_alive(row: LockRow) -> bool:
        # We hold the flock, so no migrator of the kit holds the row. A live process of this
        # host under that pid may be yoyo's CLI (no flock): wait for it. Our own pid means a
        # predecessor that died (a restarted container gets the same pid): not alive.
        return row.pid != os.getpid() and process_alive(row.pid)


def process_alive(pid: int) -> bool:
    """Whether `pid` is a running process of this host (zombies count as dead). Unknown means
    alive: a wrong "dead" would let two migrations run at once, a wrong "alive" only waits."""
    if pid <= 0 or sys.platform == "win32":  # os.kill on Windows would terminate the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    state = stat.rpartition(")")[2].split()[:1]
    return state not in (["Z"], ["X"])  # killed, not yet reaped by its parent


def _proof(backend: Any, db: DatabaseURL) -> _SessionLock | _FileLock:
    if db.dialect == "postgresql":
        return _SessionLock(backend)
    return _FileLock(Path(db.database or "").resolve())


# -- the lock ----------------------------------------------------------------------------------


def _wait(attempt: Callable[[], bool], deadline: float) -> bool:
    """Call `attempt` until it returns True (then True) or `deadline` passes (then False)."""
    while True:
        if attempt():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(POLL_SECONDS, remaining))


class _RowTaker:
    """Attempts at yoyo's row, under the proof lock; remembers the live holder it waits for."""

    def __init__(self, backend: Any, db: DatabaseURL, proof: _SessionLock | _FileLock) -> None:
        self._backend = backend
        self._db = db
        self._proof = proof
        self.waiting_for: LockRow | None = None

    def attempt(self) -> bool:
        """True when the row is ours; False to wait and try again."""
        self.waiting_for = None
        if self._insert():
            return True
        row = _read_row(self._backend)
        if row is None:  # its holder let go meanwhile
            return self._insert()
        if self._proof.row_holder_alive(row):
            self.waiting_for = row
            return False
        logger.warning(
            "taking over the migration lock on %s from %s: its holder is gone (%s); "
            "it was probably killed while migrating",
            self._db.redacted,
            row,
            "no session holds the kit's advisory lock"
            if self._db.dialect == "postgresql"
            else f"no process {row.pid} on this host",
        )
        _delete_row(self._backend, row.pid)
        return self._insert()

    def _insert(self) -> bool:
        backend = self._backend
        try:
            _insert_row(backend)
        except backend.driver.IntegrityError:
            return False  # the row is there
        except backend.DatabaseError as exc:
            if _is_contention(exc):
                return False
            raise  # the real cause, reported at once (not waited out, as yoyo does)
        return True


@contextmanager
def migration_lock(backend: Any, db: DatabaseURL, timeout: float) -> Iterator[None]:
    """Hold the migration lock of `backend`'s database for the block.

    Waits up to `timeout` seconds for a live holder; takes a dead holder's lock over at once
    (WARNING on ``tradestore.migrate``); raises `MigrationError` naming the holder on timeout,
    or at once, with the real cause, when the lock cannot be written at all.
    """
    deadline = time.monotonic() + timeout
    proof = _proof(backend, db)
    with _as_migration_error(backend, db):
        if not _wait(proof.try_acquire, deadline):
            row = _read_row(backend)
            raise MigrationError(
                f"could not take the migration lock on {db.redacted} within {timeout:g}s: it is "
                f"held by {proof.describe_holder()}{f' ({row})' if row else ''}, another "
                f"migration still running. If that holder is in fact gone, run {BREAK_LOCK_HINT}"
            )
    try:
        taker = _RowTaker(backend, db, proof)
        with _as_migration_error(backend, db):
            got_row = _wait(taker.attempt, deadline)
        if not got_row:
            raise MigrationError(
                f"could not take the migration lock on {db.redacted} within {timeout:g}s: "
                f"yoyo's lock row is held by {taker.waiting_for or 'another writer'}, alive on "
                "this host but not a tradestore migrator (yoyo's own CLI, or a crashed holder "
                f"whose pid was reused). If it is not migrating, run {BREAK_LOCK_HINT}"
            )
        # yoyo's own lock() (its internal schema upgrade takes it) yields at once on this flag.
        backend._is_locked = True
        try:
            yield
        finally:
            backend._is_locked = False
            _let_go(db, "remove its lock row", lambda: _delete_row(backend, os.getpid()))
    finally:
        _let_go(db, "release its proof-of-life lock", proof.release)


@contextmanager
def _as_migration_error(backend: Any, db: DatabaseURL) -> Iterator[None]:
    """A driver error while taking the lock (the connection broke, a query failed) as itself."""
    try:
        yield
    except backend.DatabaseError as exc:
        raise MigrationError(
            f"cannot take the migration lock on {db.redacted}: "
            f"{redact(str(exc).strip(), db.password)}"
        ) from None


def _let_go(db: DatabaseURL, what: str, action: Callable[[], None]) -> None:
    """Release a part of the lock; a failure (the connection broke mid-migration) must not hide
    the error being raised, and leaves only a lock the next migrator takes over as stale."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001  (any driver error: the warning says which)
        logger.warning(
            "migration on %s could not %s: %s; the next migration takes it over as stale",
            db.redacted,
            what,
            redact(str(exc).strip(), db.password),
        )


def break_migration_lock(backend: Any, db: DatabaseURL) -> BrokenLock:
    """Remove the lock row, whoever holds it; on PostgreSQL also end the sessions holding the
    kit's advisory lock (a client whose host vanished keeps its session until TCP keepalive
    notices). On SQLite a process holding the lock file is refused: the kernel proves it is
    alive, and breaking its lock would let two migrations run at once."""
    row = _read_row(backend)
    proof = _proof(backend, db)
    ended: list[str] = []
    if isinstance(proof, _SessionLock):
        for pid, text in proof.holders():
            try:
                backend.execute("SELECT pg_terminate_backend(:pid)", {"pid": pid})
            except backend.DatabaseError as exc:
                raise MigrationError(
                    f"cannot break the migration lock on {db.redacted}: {text} holds it and "
                    f"this role may not end it ({redact(str(exc).strip(), db.password)}); "
                    f"as a superuser run SELECT pg_terminate_backend({pid})"
                ) from None
            ended.append(text)
        _delete_row(backend, None)
    else:
        if not proof.try_acquire():
            raise MigrationError(
                f"will not break the migration lock on {db.redacted}: it is held by "
                f"{proof.describe_holder()}, still migrating ({row or 'taking the lock'}); "
                "wait for it or stop that process"
            )
        try:
            _delete_row(backend, None)
        finally:
            proof.release()
    return BrokenLock(row=row, session=" and ".join(ended) or None)


__all__ = [
    "ADVISORY_LOCK_CLASS",
    "LOCK_FILE_SUFFIX",
    "BrokenLock",
    "LockRow",
    "break_migration_lock",
    "migration_lock",
    "process_alive",
]
