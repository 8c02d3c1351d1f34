"""A loopback HTTP server for runbooks: each path answers a fixed body and content type,
records who asked (and with which headers), and can hang or stream a huge body."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Page:
    body: bytes
    content_type: str = "text/markdown; charset=utf-8"
    status: int = 200
    location: str = ""  # a redirect
    hang: bool = False  # never answers (until the server stops)
    endless: bool = False  # streams without end, no Content-Length
    trickle: bool = False  # one byte every 0.2 s: each read is quick, the whole is not


class RunbookServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sent: dict[str, int] = {}  # path -> bytes written before the client stopped
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                page = fake.pages.get(self.path) or Page(b"not found", "text/plain", 404)
                if page.hang:
                    fake.release.wait(30)
                    return
                self.send_response(page.status)
                if page.location:
                    self.send_header("Location", page.location)
                if page.content_type:
                    self.send_header("Content-Type", page.content_type)
                if page.trickle:
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    try:
                        for _ in range(1000):
                            if fake.release.wait(0.2):
                                return
                            self.wfile.write(b"x")
                            self.wfile.flush()
                    except OSError:
                        pass
                    return
                if page.endless:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    sent = 0
                    try:
                        while sent < 50 * 1024 * 1024 and not fake.release.is_set():
                            self.wfile.write(b"- [ ] more\n" * 1000)
                            sent += 11_000
                    except OSError:
                        pass  # the client had enough: that is the point
                    fake.sent[self.path] = sent
                    return
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)
                fake.sent[self.path] = len(page.body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[0], self.server.server_address[1]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
