# Generated from postgres_deadline_async.py by tools/async_to_sync.py: do not edit, edit the async
# source and run `make generate` (a test fails while this file is stale).
"""psycopg calls that end by a deadline, whatever the server does: connecting, and the ping.

psycopg cannot bound them finely enough itself. Its `connect_timeout` is whole seconds,
truncated, and at least 2 (libpq's rule: 0.5 and 1.9 both become 2, 2.9 becomes 2), counted
again for each host tried; a query has no client-side timeout at all, and a server-side one
(`statement_timeout`) is no help when the server has stopped answering. So both calls drive
libpq's non-blocking functions (the public `psycopg.pq` layer) and wait on the socket for no
longer than the time left. A frozen server, a SYN never answered, a startup answered too
slowly: each ends in `psycopg.errors.ConnectionTimeout` at the deadline.

Written once for asyncio (the waits go through the event loop's readers and writers); the sync
twin, generated from it, waits with poll().
"""

from __future__ import annotations

import asyncio
import select
import time
from typing import Any

import psycopg
from psycopg import pq
from psycopg.errors import ConnectionTimeout

from tradestore.db._acompat import ASYNC

_READ = select.POLLIN | select.POLLERR | select.POLLHUP
_WRITE = select.POLLOUT | select.POLLERR | select.POLLHUP


def _wait(fd: int, events: int, deadline: float, what: str) -> None:
    """Wait until `fd` is ready for `events`; ConnectionTimeout once `deadline` passes."""
    left = deadline - time.monotonic()
    poller = select.poll()
    poller.register(fd, events)
    # poll() rounds a fraction of a millisecond up
    if left <= 0 or not poller.poll(left * 1000):
        raise ConnectionTimeout(f"{what} timeout expired")


def _message(pgconn: pq.abc.PGconn) -> str:
    return pgconn.error_message.decode("utf-8", "replace").strip()


def connect_within(conninfo: str, timeout: float) -> psycopg.Connection[Any]:
    """Open a connection, or raise within `timeout` seconds (psycopg's errors, its wording)."""
    deadline = time.monotonic() + timeout
    pgconn = pq.PGconn.connect_start(conninfo.encode())
    try:
        while True:
            if pgconn.status == pq.ConnStatus.BAD:
                raise psycopg.OperationalError(f"connection is bad: {_message(pgconn)}")
            status = pgconn.connect_poll()
            if status == pq.PollingStatus.OK:
                break
            if status == pq.PollingStatus.FAILED:
                raise psycopg.OperationalError(f"connection failed: {_message(pgconn)}")
            # libpq may change sockets between polls (next address, next host): ask each time.
            events = _WRITE if status == pq.PollingStatus.WRITING else _READ
            _wait(pgconn.socket, events, deadline, "connection")
    except BaseException:
        pgconn.finish()
        raise
    pgconn.nonblocking = 1
    return psycopg.Connection(pgconn)


def ping_within(raw: psycopg.Connection[Any], timeout: float) -> None:
    """``SELECT 1`` on an idle connection; ConnectionTimeout when no answer within `timeout`.

    On a timeout the connection is left mid-query: the caller must discard it.
    """
    deadline = time.monotonic() + timeout
    pgconn = raw.pgconn
    with raw.lock:
        pgconn.send_query(b"SELECT 1")
        while pgconn.flush():
            _wait(pgconn.socket, _WRITE, deadline, "ping")
        failed: str | None = None
        while True:
            pgconn.consume_input()
            while pgconn.is_busy():
                _wait(pgconn.socket, _READ, deadline, "ping")
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                break
            if result.status != pq.ExecStatus.TUPLES_OK:
                failed = result.error_message.decode("utf-8", "replace").strip()
    if failed is not None:
        raise psycopg.OperationalError(f"ping failed: {failed or 'no answer'}")
