"""A real RabbitMQ on 127.0.0.1 (5672 + management on 15672), one fresh vhost per test.

The vhost name holds a '/' and a space so that every URL the backend builds has to
percent-encode it.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from cockpit.backends.rabbitmq import RabbitMQBroker
from cockpit.clock import FrozenClock
from cockpit.config import RabbitMQConfig

MGMT = "http://127.0.0.1:15672"
USER, PASSWORD = "guest", "guest"


def q(*parts: str) -> str:
    return "/".join(quote(p, safe="") for p in parts)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, step: float = 0.2) -> Any:
    """Poll until condition() is truthy; the management stats refresh every ~5 s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(step)


@pytest.fixture(scope="session")
def mgmt() -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=MGMT, auth=(USER, PASSWORD), timeout=30)
    try:
        client.get("/api/overview").raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"RabbitMQ management API not reachable on {MGMT} ({exc}): run tests/run.sh")
    yield client
    client.close()


def make_vhost(mgmt: httpx.Client) -> str:
    name = f"cockpit test/{uuid.uuid4().hex[:10]}"
    mgmt.put(f"/api/vhosts/{q(name)}").raise_for_status()
    mgmt.put(
        f"/api/permissions/{q(name)}/{USER}",
        json={"configure": ".*", "write": ".*", "read": ".*"},
    ).raise_for_status()
    return name


@pytest.fixture
def vhost(mgmt: httpx.Client) -> Iterator[str]:
    name = make_vhost(mgmt)
    yield name
    mgmt.delete(f"/api/vhosts/{q(name)}")


@pytest.fixture
def amqp(vhost: str) -> Iterator[Any]:
    """A pika channel on the test vhost (for publishing, declaring and draining)."""
    import pika

    conn = pika.BlockingConnection(
        pika.ConnectionParameters(
            "127.0.0.1",
            virtual_host=vhost,
            credentials=pika.PlainCredentials(USER, PASSWORD),
            client_properties={"connection_name": "cockpit test helper"},
        )
    )
    channel = conn.channel()
    yield channel
    if conn.is_open:
        conn.close()


def rabbit_config(vhost: str = "", **overrides: Any) -> RabbitMQConfig:
    values: dict[str, Any] = {
        "management_url": MGMT,
        "username": USER,
        "vhost": vhost,
        "timeout": timedelta(seconds=10),
    }
    values.update(overrides)
    return RabbitMQConfig(**values)


@pytest.fixture
async def broker(vhost: str, tmp_path: Path, clock: FrozenClock) -> AsyncIterator[RabbitMQBroker]:
    b = RabbitMQBroker(
        rabbit_config(vhost), password=PASSWORD, clock=clock, quarantine_dir=tmp_path / "q"
    )
    yield b
    await b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake_http() -> Iterator[Callable[[int, bytes], str]]:
    """A local HTTP server answering every request with one status and body; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, body: bytes) -> str:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def drain(channel: Any, queue: str) -> list[tuple[bytes, Any]]:
    """Take every message off the queue (auto-ack), in order: (body, properties)."""
    out: list[tuple[bytes, Any]] = []
    while True:
        method, props, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((body, props))


def depth_now(channel: Any, queue: str) -> int:
    """The broker's own count, without the management stats' delay."""
    return int(channel.queue_declare(queue, passive=True).method.message_count)
