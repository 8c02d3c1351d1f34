"""Async polling and a misbehaving HTTP server for the Alertmanager tests."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

T = TypeVar("T")


async def eventually(
    fetch: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = 20.0
) -> T:
    """Call fetch() until check(result) holds; fails with the last result after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fetch()
        if check(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {result!r}")
        await asyncio.sleep(0.1)


@contextmanager
def bad_server(
    status: int, body: bytes, content_type: str = "application/json", delay: float = 0.0
) -> Iterator[str]:
    """A loopback server answering every request with the given status and body."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timeout test)
                pass

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
