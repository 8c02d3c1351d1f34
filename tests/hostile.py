"""Servers that misbehave the way real ones do at 3 a.m., for every HTTP backend's tests.

HostileServer listens on a free loopback port and answers every request one way:
- "silent": accepts the connection, reads the request, never answers;
- "trickle": sends the headers, then one byte of body every `interval` seconds;
- "endless": sends the headers, then body bytes for ever (no Content-Length);
- "huge": announces and sends `size` bytes;
- "body": answers `status` with `body` and `headers` (deep JSON, odd Retry-After...).
It counts requests, so a test can also assert nothing was sent twice.

Also the hostile strings every rendering test shows, and a tally the suite summary prints.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

# What the cockpit's summary line counts (tests/conftest.py prints it at the end of the run).
TALLY: Counter[str] = Counter()

# Escape sequences a hostile label, reason or queue name carries, and what each would do.
INJECTIONS = {
    "title": "\x1b]2;PWNED\x1b\\",  # renames the terminal window
    "clipboard": "\x1b]52;c;bHMK\x1b\\",  # writes "ls\n" to the clipboard
    "wipe": "\x1b[2J",  # clears the screen
    "dcs": "\x1bP1$r0m\x1b\\",  # device control string
    "c1-csi": "\x9b31m",  # an 8-bit CSI
    "bel": "\x07",
    "bidi": "\u202eevil\u202c",  # shows text reversed
    "zero-width": "pay\u200bments",
}
MARKUP = ["X[/]", "[/]", "[bold red]big[/", "[link=http://x]y[/link]", "[@click=app.quit]q[/]"]


def hostile(name: str = "") -> str:
    """One string holding every injection and markup fragment."""
    return name + "".join(INJECTIONS.values()) + "".join(MARKUP)


# Raw bytes none of which may ever reach the terminal.
FORBIDDEN_OUTPUT = [
    b"\x1b]2;PWNED",
    b"\x1b]52;",
    b"\x1bP1$r",
    b"PWNED\x07",
    "\u202e".encode(),
    "\u200b".encode(),
    b"\xc2\x9b31m",
]


class HostileServer:
    def __init__(
        self,
        mode: str,
        *,
        status: int = 200,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        size: int = 0,
        interval: float = 0.2,
    ) -> None:
        self.mode = mode
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.size = size
        self.interval = interval
        self.requests = 0
        self.paths: list[str] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for conn in list(self._conns):
            _quietly_close(conn)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _read_request(self, conn: socket.socket) -> str:
        data = b""
        conn.settimeout(5)
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return ""
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head.split(b" ")[1].decode() if b" " in head else ""

    def _handle(self, conn: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                path = self._read_request(conn)
                if not path:
                    return
                self.requests += 1
                self.paths.append(path)
                if not self._answer(conn):
                    return
        except OSError:
            return
        finally:
            _quietly_close(conn)

    def _head(self, extra: Mapping[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {self.status} X"]
        headers = {"Content-Type": "application/json", **self.headers, **extra}
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _answer(self, conn: socket.socket) -> bool:
        """Answer one request; False when the connection must end."""
        if self.mode == "silent":
            self._stop.wait()
            return False
        if self.mode == "trickle":
            conn.sendall(self._head({"Content-Length": "100000"}))
            while not self._stop.wait(self.interval):
                conn.sendall(b" ")
            return False
        if self.mode == "endless":
            conn.sendall(self._head({"Connection": "close"}))
            chunk = b"[" + b"0," * 32767
            while not self._stop.is_set():
                conn.sendall(chunk)
            return False
        if self.mode == "huge":
            conn.sendall(self._head({"Content-Length": str(self.size), "Connection": "close"}))
            chunk = b" " * 65536
            sent = 0
            while sent < self.size and not self._stop.is_set():
                conn.sendall(chunk[: self.size - sent])
                sent += len(chunk)
            return False
        conn.sendall(self._head({"Content-Length": str(len(self.body))}) + self.body)
        return True


def _quietly_close(conn: socket.socket) -> None:
    with suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


@contextmanager
def hostile_server(mode: str, **kwargs: Any) -> Iterator[HostileServer]:
    with HostileServer(mode, **kwargs) as server:
        yield server


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.monotonic()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.start


class FaultProxy:
    """A TCP proxy on a loopback port in front of a real server, to break it on cue without
    stopping a server other tests share: "up" forwards, "down" refuses connections (the port
    is closed, open connections are cut), "silent" accepts and never answers, "trickle"
    forwards the requests but the answers one byte every `interval` seconds (the connections
    open at the switch slow down too, as a server does)."""

    def __init__(self, target: tuple[str, int], *, interval: float = 0.5) -> None:
        self.target = target
        self.interval = interval
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = "down"
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []

    def set(self, mode: str) -> None:
        with self._lock:
            slowing = {self.mode, mode} <= {"up", "trickle"}
            self.mode = mode
            if not slowing:  # up <-> trickle keeps the connections: they slow down / speed up
                for conn in self._conns:
                    _quietly_close(conn)
                self._conns.clear()
            if mode == "down":
                if self._listener is not None:
                    # shutdown first: close() alone does not wake a thread blocked in accept()
                    with suppress(OSError):
                        self._listener.shutdown(socket.SHUT_RDWR)
                    self._listener.close()
                    self._listener = None
                return
            if self._listener is None:
                listener = socket.socket()
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind(("127.0.0.1", self.port))
                listener.listen(64)
                self._listener = listener
                threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def pace(self) -> float:
        """Seconds between two bytes of an answer now (0: full speed)."""
        return self.interval if self.mode == "trickle" else 0.0

    def close(self) -> None:
        self.set("down")

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(client)
                mode = self.mode
            if mode == "silent":
                continue  # held open, never read, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _quietly_close(client)
                continue
            with self._lock:
                self._conns.append(upstream)
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=_pump, args=(upstream, client, self.pace), daemon=True).start()


def _pump(
    source: socket.socket, sink: socket.socket, pace: Callable[[], float] | None = None
) -> None:
    """Forward until either side closes; while pace() says so, one byte every pace() s
    (checked whenever data is waiting: a switch to trickle slows the very next answer)."""
    try:
        source.settimeout(None)
        while True:
            if pace is not None:
                ready, _, _ = select.select([source], [], [], 0.2)
                if not ready:
                    continue
            wait = pace() if pace is not None else 0.0
            data = source.recv(1 if wait else 65536)
            if not data:
                break
            sink.sendall(data)
            if wait:
                time.sleep(wait)
    except (OSError, ValueError):  # ValueError: select() on a socket closed meanwhile
        pass
    finally:
        _quietly_close(source)
        _quietly_close(sink)
