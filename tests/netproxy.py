"""A loopback TCP proxy a test controls, to make a database misbehave without touching it.

The shared PostgreSQL must never be stopped or frozen; a test points its pool at a proxy in
front of it instead and switches the proxy's mode while the pool works::

    with NetProxy(("127.0.0.1", 5432)) as proxy:
        pool = Pool(f"postgresql://postgres@127.0.0.1:{proxy.port}/test", timeout=2)
        proxy.mode = "freeze"   # the server "stops" (like SIGSTOP): sockets stay open, silent
        ...
        proxy.mode = "pass"     # it wakes up: what was held back flows on, nothing is lost
        proxy.mode = "drop"     # new connections are closed at once (a dead port)
        proxy.cut()             # every open connection is reset (a crash or a restart)
        proxy.stall_open()      # the open connections go silent for good, new ones pass

Modes apply at once to every connection, old and new:

- ``"pass"``: bytes flow both ways.
- ``"freeze"``: new connections are accepted (and connected upstream) but nothing is forwarded
  either way; bytes already read are held and delivered when the mode goes back to ``"pass"``.
- ``"drop"``: new connections are reset as soon as they are accepted; open ones are left
  alone (call `cut` as well for a full outage).

`stall_open` silences only the connections open now, whatever the mode, as a NAT or a firewall
that forgot them would: nothing more goes through them, no reset either.

`unanswered_port` gives a port whose SYNs are never answered (a black-holed host).

Listens on 127.0.0.1 only. One daemon thread accepts, two per connection forward; at most
`max_connections` are open at once (more are reset), and `stop` (or leaving the ``with``
block) closes everything and joins the threads.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Literal

Mode = Literal["pass", "freeze", "drop"]
_POLL_S = 0.05  # how often blocked threads look at the mode and the stop flag
_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a dead or restarted server would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Link:
    """One proxied connection: the client's socket and the upstream one."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()
        self.stalled = False

    def close(self, *, abrupt: bool = True) -> None:
        """Reset both ends (abrupt), or close them politely: a peer that said goodbye gets
        its last bytes delivered before the other side sees the end."""
        if not self.closed.is_set():
            self.closed.set()
            for sock in (self.client, self.upstream):
                if abrupt:
                    _reset(sock)
                else:
                    with contextlib.suppress(OSError):
                        sock.close()


class NetProxy:
    """Forward 127.0.0.1:`port` to `target`, in a mode the test switches at run time."""

    def __init__(self, target: tuple[str, int], *, max_connections: int = 64) -> None:
        self.target = target
        self.max_connections = max_connections
        self._mode: Mode = "pass"
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(max_connections)
        self._listener.settimeout(_POLL_S)
        self.host, self.port = self._listener.getsockname()[:2]

    # -- control -------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        if mode not in ("pass", "freeze", "drop"):
            raise ValueError(f"unknown proxy mode {mode!r}: use 'pass', 'freeze' or 'drop'")
        self._mode = mode
        if mode == "freeze":
            self._flowing.clear()
        else:
            self._flowing.set()

    @property
    def connections(self) -> int:
        """Connections open through the proxy now."""
        with self._lock:
            return len(self._links)

    def cut(self) -> int:
        """Reset every open connection (both ends); return how many there were."""
        with self._lock:
            links = list(self._links)
            self._links.clear()
        for link in links:
            link.close()
        return len(links)

    def stall_open(self) -> int:
        """Forward nothing more on the connections open now; return how many there were."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.stalled = True
        return len(links)

    def start(self) -> NetProxy:
        self._spawn(self._accept_loop, "netproxy-accept")
        return self

    def stop(self) -> None:
        """Close the listener and every connection; wait for the threads (bounded)."""
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self.cut()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> NetProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the threads ---------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed by stop()
            if self._mode == "drop" or self.connections >= self.max_connections:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)  # the real server is down: so is the proxy's port
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(_POLL_S)
            link = _Link(client, upstream)
            with self._lock:
                self._links.add(link)
            self._spawn(self._forward, "netproxy-up", link, client, upstream)
            self._spawn(self._forward, "netproxy-down", link, upstream, client)

    def _flows(self, link: _Link) -> bool:
        return self._flowing.is_set() and not link.stalled

    def _forward(self, link: _Link, source: socket.socket, sink: socket.socket) -> None:
        ended = False
        try:
            while not link.closed.is_set() and not self._stopped.is_set():
                if not self._flows(link):
                    link.closed.wait(_POLL_S)
                    continue  # frozen: leave the bytes in the kernel's buffers
                try:
                    data = source.recv(_CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    ended = True  # one side closed: close the other, as a real peer would
                    break
                while not self._flows(link) and not link.closed.is_set():
                    link.closed.wait(_POLL_S)  # frozen while holding bytes: keep them
                sink.sendall(data)
        except OSError:
            pass  # reset by cut() or by a peer
        finally:
            with self._lock:
                self._links.discard(link)
            link.close(abrupt=not ended)


@contextlib.contextmanager
def unanswered_port() -> Iterator[int]:
    """A 127.0.0.1 port whose SYNs are never answered, as with a black-holed host.

    A listener with a backlog of 0 that never accepts, its one queue slot taken by a filler
    connection: Linux then drops further SYNs silently and the client keeps retransmitting.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        yield port
    finally:
        filler.close()
        listener.close()
