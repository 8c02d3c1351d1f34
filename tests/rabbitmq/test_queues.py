"""Listing, paging, peeking and health against the real broker."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest

from cockpit.backends.base import Broker
from cockpit.backends.rabbitmq import RabbitMQBroker
from cockpit.clock import FrozenClock
from cockpit.domain import QueueDepth

from .conftest import MGMT, PASSWORD, USER, depth_now, drain, q, rabbit_config

pytestmark = pytest.mark.server


async def poll_queues(
    broker: RabbitMQBroker, ok: Any, timeout: float = 40.0, **kw: Any
) -> dict[str, QueueDepth]:
    """queues() until ok(by_name) holds: the management stats lag the broker by ~5 s."""
    deadline = time.monotonic() + timeout
    while True:
        by_name = {d.name: d for d in await broker.queues(**kw)}
        if ok(by_name):
            return by_name
        if time.monotonic() > deadline:
            raise AssertionError(f"stats never caught up: {by_name}")
        await asyncio.sleep(0.5)


async def test_depths_equal_what_was_published(
    broker: RabbitMQBroker, amqp: Any, vhost: str, mgmt: httpx.Client
) -> None:
    amqp.exchange_declare("dlx", "direct", durable=True)
    amqp.queue_declare("orders", durable=True, arguments={"x-dead-letter-exchange": "dlx"})
    amqp.queue_declare("billing", durable=True)
    amqp.queue_declare("empty", durable=True)
    mgmt.put(
        f"/api/policies/{q(vhost)}/dl",
        json={"pattern": "^billing$", "definition": {"dead-letter-exchange": "pol-dlx"}},
    ).raise_for_status()
    for i in range(37):
        amqp.basic_publish("", "orders", f"o{i}".encode())
    for i in range(12):
        amqp.basic_publish("", "billing", f"b{i}".encode())
    # a consumer holding 5 unacked messages of billing
    consumer = amqp.connection.channel()
    consumer.basic_qos(prefetch_count=5)
    consumer.basic_consume("billing", lambda *a: None)
    consumer.connection.process_data_events(time_limit=0.5)

    def caught_up(by: dict[str, QueueDepth]) -> bool:
        b = by.get("billing")
        return (
            by.get("orders") is not None
            and by["orders"].ready == 37
            and b is not None
            and (b.ready, b.unacked, b.consumers) == (7, 5, 1)
            and b.dead_letter_exchange == "pol-dlx"
        )

    by = await poll_queues(broker, caught_up)
    assert set(by) == {"orders", "billing", "empty"}
    orders = by["orders"]
    assert (orders.vhost, orders.unacked, orders.consumers) == (vhost, 0, 0)
    assert orders.dead_letter_exchange == "dlx"
    assert orders.stalled and not by["billing"].stalled
    assert by["empty"].total == 0 and by["empty"].dead_letter_exchange == ""
    # the full listing (no columns=) turns into the same rows
    full = {d.name: d for d in await broker.queues(columns=False)}
    assert {n: (d.ready, d.unacked, d.dead_letter_exchange) for n, d in full.items()} == {
        n: (d.ready, d.unacked, d.dead_letter_exchange) for n, d in by.items()
    }


async def test_pagination_follows_page_count_past_500_queues(
    amqp: Any, vhost: str, tmp_path: Path, clock: FrozenClock
) -> None:
    names = {f"q{i:04d}" for i in range(520)}
    for name in names:
        amqp.queue_declare(name)
    pages: list[str] = []

    async def record(request: httpx.Request) -> None:
        pages.append(request.url.params.get("page", ""))

    http = httpx.AsyncClient(timeout=30, event_hooks={"request": [record]})
    broker = RabbitMQBroker(
        rabbit_config(vhost, page_size=120),
        password=PASSWORD,
        clock=clock,
        quarantine_dir=tmp_path,
        http=http,
    )
    try:
        depths = await broker.queues()
        assert {d.name for d in depths} == names
        assert len(depths) == 520
        assert pages == ["1", "2", "3", "4", "5"]  # 520 / 120 -> 5 pages
        # page_size above the API's maximum is clamped to 500, still complete
        big = RabbitMQBroker(
            rabbit_config(vhost, page_size=5000),
            password=PASSWORD,
            clock=clock,
            quarantine_dir=tmp_path,
            http=http,
        )
        pages.clear()
        assert {d.name for d in await big.queues()} == names
        assert pages == ["1", "2"]
    finally:
        await http.aclose()


async def test_peek_shows_the_head_in_order_and_removes_nothing(
    broker: RabbitMQBroker, amqp: Any, vhost: str
) -> None:
    amqp.queue_declare("work", durable=True)
    for i in range(20):
        amqp.basic_publish(
            "",
            "work",
            f"job-{i}".encode(),
            pika.BasicProperties(
                message_id=f"m{i}",
                correlation_id=f"c{i}",
                content_type="application/json",
                headers={"attempt": i, "tenant": "acme"},
                delivery_mode=2,
            ),
        )
    amqp.basic_publish("", "work", b"\xff\xfe\x00binary", pika.BasicProperties())
    row = QueueDepth(vhost, "work", 21, 0, 0)

    first = await broker.peek(row, 5)
    assert [m.message_id for m in first] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m.position for m in first] == [0, 1, 2, 3, 4]
    m0 = first[0]
    assert m0.payload == b"job-0"
    assert (m0.correlation_id, m0.content_type, m0.routing_key, m0.exchange) == (
        "c0",
        "application/json",
        "work",
        "",
    )
    assert m0.headers == {"attempt": 0, "tenant": "acme"}
    assert m0.properties["delivery_mode"] == 2
    assert not m0.redelivered
    assert depth_now(amqp, "work") == 21

    again = await broker.peek(row, 3)
    assert [m.message_id for m in again] == ["m0", "m1", "m2"]
    assert all(m.redelivered for m in again)  # what the UI warns about

    everything = await broker.peek(row, 50)
    assert len(everything) == 21
    assert everything[-1].payload == b"\xff\xfe\x00binary"  # came back base64
    assert everything[-1].identity.startswith("sha256:")

    bodies = [body for body, _ in drain(amqp, "work")]
    assert bodies == [f"job-{i}".encode() for i in range(20)] + [b"\xff\xfe\x00binary"]


async def test_health_reports_the_version(broker: RabbitMQBroker) -> None:
    health = await broker.health()
    assert health.ok, health.detail
    version = httpx.get(f"{MGMT}/api/overview", auth=(USER, PASSWORD)).json()["rabbitmq_version"]
    assert health.detail.startswith(f"RabbitMQ {version}")
    assert health.name == "queues"
    assert isinstance(broker, Broker)


async def test_an_unchanged_listing_is_the_same_list_and_a_change_shows(
    broker: RabbitMQBroker, amqp: Any
) -> None:
    """A poll whose pages are byte for byte the last poll's hands back the very same list
    (the screen then has nothing to redraw); a moved depth is seen at the next poll."""
    amqp.queue_declare("orders")
    amqp.queue_declare("billing")
    amqp.basic_publish("", "orders", b"o1")
    by = await poll_queues(broker, lambda by: by.get("orders") and by["orders"].ready == 1)
    first = await broker.queues()
    second = await broker.queues()
    assert second is first  # nothing moved: not even parsed again
    assert {d.name: d.ready for d in second} == {"orders": 1, "billing": 0}
    amqp.basic_publish("", "orders", b"o2")
    moved = await poll_queues(broker, lambda by: by["orders"].ready == 2)
    assert moved["billing"].ready == 0 and by["orders"].ready == 1
