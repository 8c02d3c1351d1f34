"""A real Alertmanager on loopback for tests, plus a webhook receiver that records pages.

Usage (also what tests/alertmanager/conftest.py does)::

    with WebhookReceiver() as hook, AlertmanagerServer(tmp_path, webhook_url=hook.url) as am:
        am.post_alerts([{"labels": {"alertname": "DiskFull", "severity": "critical"}}])
        am.url                      # "http://127.0.0.1:<port>"
        am.silences()               # GET /api/v2/silences
        am.stop(); am.start()       # same port, same storage: for stale / recover tests
        hook.wait_for(lambda posts: posts)  # JSON bodies Alertmanager POSTed

The config routes alertname="CockpitEscalation" to the webhook (group_wait and
group_interval 1s); everything else goes to a receiver that sends nothing. Gossip is
off (--cluster.listen-address=), so two servers are independent "members".
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager") or ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


def wait_until(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.1) -> T:
    """Poll check() until it returns something truthy; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    last: T = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
        time.sleep(interval)
        last = check()
    return last


class WebhookReceiver:
    """A tiny HTTP server on loopback that records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.posts: list[Any] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                with receiver._lock:
                    receiver.posts.append(body)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def snapshot(self) -> list[Any]:
        with self._lock:
            return list(self.posts)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert of every notification received so far."""
        return [a for post in self.snapshot() for a in post.get("alerts", [])]

    def wait_for(self, check: Callable[[list[Any]], T], timeout: float = 20.0) -> T:
        return wait_until(lambda: check(self.snapshot()), timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def render_config(webhook_url: str, group_by: Sequence[str]) -> str:
    """Alertmanager YAML (written as JSON, which YAML accepts)."""
    config = {
        "route": {
            "receiver": "null",
            "group_by": list(group_by),
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "4h",
            "routes": [
                {
                    "receiver": "webhook",
                    "matchers": ['alertname="CockpitEscalation"'],
                    "group_by": ["alertname", "team", "incident"],
                    "group_wait": "1s",
                    "group_interval": "1s",
                    "repeat_interval": "4h",
                }
            ],
        },
        "receivers": [
            {"name": "null"},
            {
                "name": "webhook",
                "webhook_configs": [{"url": webhook_url, "send_resolved": False}],
            },
        ],
    }
    return json.dumps(config, indent=2)


class AlertmanagerServer:
    """prometheus-alertmanager on a free loopback port with its own storage and config."""

    def __init__(
        self,
        workdir: Path,
        *,
        webhook_url: str = "http://127.0.0.1:9/unused",
        group_by: Sequence[str] = ("alertname", "service"),
        port: int | None = None,
    ) -> None:
        if not BINARY:
            raise RuntimeError("prometheus-alertmanager is not installed (apt install it)")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.storage = self.workdir / "data"
        self.config_file = self.workdir / "alertmanager.yml"
        self.config_file.write_text(render_config(webhook_url, group_by))
        self.log_file = self.workdir / "alertmanager.log"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------ process

    def start(self, timeout: float = 20.0) -> AlertmanagerServer:
        """Start (or restart) on the same port and storage; returns once /-/ready answers."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        args = [
            BINARY,
            f"--config.file={self.config_file}",
            f"--storage.path={self.storage}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"alertmanager not ready within {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        """Stop the process (the port is then closed: connection refused)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def restart(self) -> AlertmanagerServer:
        self.stop()
        return self.start()

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> AlertmanagerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ API helpers (blocking)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip() else None

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """POST /api/v2/alerts; each alert needs at least labels."""
        self.api("POST", "/api/v2/alerts", alerts)

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return list(self.api("GET", "/api/v2/alerts" + (f"?{query}" if query else "")))

    def groups(self) -> list[dict[str, Any]]:
        return list(self.api("GET", "/api/v2/alerts/groups"))

    def silences(self, state: str | None = None) -> list[dict[str, Any]]:
        """GET /api/v2/silences, optionally only those in one state (active, expired...)."""
        found = list(self.api("GET", "/api/v2/silences"))
        return [s for s in found if state is None or s["status"]["state"] == state]

    def wait_for_alerts(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Poll until at least count alerts are listed; returns them."""

        def enough() -> list[dict[str, Any]]:
            found = self.alerts()
            return found if len(found) >= count else []

        return wait_until(enough, timeout)


def alertmanager_available() -> bool:
    return bool(BINARY) and os.access(BINARY, os.X_OK)
