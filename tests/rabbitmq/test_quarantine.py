"""Quarantine against the real broker: the poison one moves, every other message stays in order."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pika
import pytest

from cockpit.backends.rabbitmq import RabbitMQBroker
from cockpit.clock import FrozenClock
from cockpit.domain import QueueDepth, QueueMessage

from .conftest import PASSWORD, depth_now, drain, q, rabbit_config, wait_for

N = 1000
POISON = 500

pytestmark = pytest.mark.server


def ids(n: int) -> list[str]:
    return [f"msg-{i:04d}" for i in range(n)]


def publish_ids(channel: Any, queue: str, n: int = N) -> None:
    channel.confirm_delivery()
    for mid in ids(n):
        channel.basic_publish(
            "", queue, f"body of {mid}".encode(), pika.BasicProperties(message_id=mid)
        )


def row(vhost: str, name: str) -> QueueDepth:
    return QueueDepth(vhost, name, N, 0, 0)


def the_file(result: Any) -> dict[str, Any]:
    path = Path(result.ids["file"])
    assert path.exists() and path.suffix == ".json"
    assert not list(path.parent.glob(".tmp-*"))  # the atomic write left no temp file
    data: dict[str, Any] = json.loads(path.read_text())
    return data


async def test_quarantine_to_the_dead_letter_exchange_keeps_the_rest_in_order(
    broker: RabbitMQBroker, amqp: Any, vhost: str
) -> None:
    amqp.exchange_declare("dlx", "direct", durable=True)
    amqp.queue_declare("orders.dlq", durable=True)
    amqp.queue_bind("orders.dlq", "dlx", routing_key="dead")
    amqp.queue_declare(
        "orders",
        durable=True,
        arguments={"x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "dead"},
    )
    publish_ids(amqp, "orders")
    poison = QueueMessage(POISON, b"body of msg-0500", message_id="msg-0500")

    result = await broker.quarantine(row(vhost, "orders"), poison, actor="alice")

    assert result.ok, result.message
    assert result.ids["identity"] == "msg-0500"
    assert result.ids["target"] == "dead-letter exchange 'dlx'"
    assert result.details["position"] == POISON and result.details["acked"] is True
    left = [p.message_id for _, p in drain(amqp, "orders")]
    assert left == [m for m in ids(N) if m != "msg-0500"]
    moved = drain(amqp, "orders.dlq")
    assert len(moved) == 1
    body, props = moved[0]
    assert (body, props.message_id, props.delivery_mode) == (b"body of msg-0500", "msg-0500", 2)
    assert props.headers["x-cockpit-quarantined-by"] == "alice"
    record = the_file(result)
    assert base64.b64decode(record["body_base64"]) == b"body of msg-0500"
    assert record["source"] == {"vhost": vhost, "queue": "orders"}
    assert record["actor"] == "alice" and record["identity"] == "msg-0500"
    assert record["quarantined_at"] == "2026-11-25T03:00:00+00:00"  # the injected clock
    assert record["properties"]["message_id"] == "msg-0500"


async def test_quarantine_without_dlx_matches_by_hash_and_uses_a_quarantine_queue(
    broker: RabbitMQBroker, amqp: Any, vhost: str
) -> None:
    """No message ids: the hash of body + properties computed from the peek must match the
    one computed from the AMQP side, headers of every kind included."""
    amqp.queue_declare("events", durable=True)
    amqp.confirm_delivery()
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    for i in range(N):
        amqp.basic_publish(
            "",
            "events",
            f"event {i}".encode() if i != POISON else b"\xff\x00 poison",
            pika.BasicProperties(
                content_type="application/json",
                timestamp=1_700_000_000 + i,
                priority=1,
                headers={
                    "n": i,
                    "raw": b"\xff\x01",
                    "text": b"plain",
                    "at": when,
                    "nested": {"list": [1, "x", True]},
                },
            ),
        )
    peeked = await broker.peek(row(vhost, "events"), POISON + 1)
    poison = peeked[POISON]
    assert poison.payload == b"\xff\x00 poison" and poison.identity.startswith("sha256:")
    assert len({m.identity for m in peeked}) == len(peeked)

    result = await broker.quarantine(row(vhost, "events"), poison, actor="bob")

    assert result.ok, result.message
    assert result.ids["target"] == "queue 'events.quarantine'"
    left = [(b, p.headers["n"]) for b, p in drain(amqp, "events")]
    assert [n for _, n in left] == [i for i in range(N) if i != POISON]
    assert all(b == f"event {n}".encode() for b, n in left)
    moved = drain(amqp, "events.quarantine")
    assert [b for b, _ in moved] == [b"\xff\x00 poison"]
    record = the_file(result)
    assert base64.b64decode(record["body_base64"]) == b"\xff\x00 poison"
    assert record["headers"]["n"] == POISON
    assert record["target"] == "queue 'events.quarantine'"


async def test_quorum_queue_only_the_head_with_a_policy_dlx(
    broker: RabbitMQBroker, amqp: Any, vhost: str, mgmt: httpx.Client
) -> None:
    """RabbitMQ 3.10 cannot put taken quorum messages back in order (a nack sends them to the
    back; a closed channel returns them scrambled), so peek and quarantine take only the head."""
    amqp.exchange_declare("pol-dlx", "fanout", durable=True)
    amqp.queue_declare("pol-dlq", durable=True)
    amqp.queue_bind("pol-dlq", "pol-dlx")
    mgmt.put(
        f"/api/policies/{q(vhost)}/dl",
        json={
            "pattern": "^jobs$",
            "definition": {"dead-letter-exchange": "pol-dlx"},
            "apply-to": "queues",
        },
    ).raise_for_status()
    amqp.queue_declare("jobs", durable=True, arguments={"x-queue-type": "quorum"})
    n = 200
    publish_ids(amqp, "jobs", n)
    # a policy reaches the queue asynchronously
    wait_for(
        lambda: (
            mgmt.get(f"/api/queues/{q(vhost, 'jobs')}").json().get("effective_policy_definition")
        )
    )
    jobs = row(vhost, "jobs")

    peeked = await broker.peek(jobs, 20)
    assert [m.message_id for m in peeked] == ["msg-0000"]

    deep = await broker.quarantine(jobs, QueueMessage(0, b"", message_id="msg-0100"), actor="c")
    assert not deep.ok
    assert "not at the head of quorum queue" in deep.message
    assert "nothing was removed" in deep.message

    head = await broker.quarantine(jobs, peeked[0], actor="carol")
    assert head.ok, head.message
    assert head.details["queue_type"] == "quorum"
    assert head.ids["target"] == "dead-letter exchange 'pol-dlx'"

    assert [p.message_id for _, p in drain(amqp, "jobs")] == ids(n)[1:]
    assert [p.message_id for _, p in drain(amqp, "pol-dlq")] == ["msg-0000"]


async def test_not_found_within_the_bound_removes_nothing(
    amqp: Any, vhost: str, tmp_path: Path, clock: FrozenClock
) -> None:
    amqp.queue_declare("small", durable=True)
    publish_ids(amqp, "small", 50)
    broker = RabbitMQBroker(
        rabbit_config(vhost),
        password=PASSWORD,
        clock=clock,
        quarantine_dir=tmp_path,
        quarantine_bound=20,
    )
    try:
        beyond = await broker.quarantine(
            row(vhost, "small"), QueueMessage(30, b"", message_id="msg-0030"), actor="d"
        )
        absent = await broker.quarantine(
            row(vhost, "small"), QueueMessage(0, b"", message_id="nope"), actor="d"
        )
    finally:
        await broker.close()
    for result in (beyond, absent):
        assert not result.ok and "nothing was removed" in result.message
        assert "not found in the first 20 messages" in result.message
        assert "file" not in result.ids
    assert [p.message_id for _, p in drain(amqp, "small")] == ids(50)
    assert depth_now(amqp, "small.quarantine") == 0
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("dlx", ["missing", "unbound"])
async def test_a_copy_the_broker_cannot_take_removes_nothing(
    broker: RabbitMQBroker, amqp: Any, vhost: str, dlx: str
) -> None:
    """A DLX that does not exist, or routes nowhere (mandatory publish comes back)."""
    if dlx == "unbound":
        amqp.exchange_declare("unbound", "direct", durable=True)
    amqp.queue_declare("pay", durable=True, arguments={"x-dead-letter-exchange": dlx})
    publish_ids(amqp, "pay", 100)

    result = await broker.quarantine(
        row(vhost, "pay"), QueueMessage(0, b"", message_id="msg-0042"), actor="e"
    )

    assert not result.ok
    assert "nothing was removed" in result.message
    assert result.details["acked"] is False
    assert "file" not in result.ids  # no local copy claims a removal that did not happen
    assert [p.message_id for _, p in drain(amqp, "pay")] == ids(100)
    assert not list(broker.quarantine_dir.glob("*.json"))


async def test_connection_closed_mid_quarantine_loses_nothing(
    amqp: Any, vhost: str, tmp_path: Path, clock: FrozenClock, mgmt: httpx.Client
) -> None:
    amqp.queue_declare("orders", durable=True)
    publish_ids(amqp, "orders")
    killed: list[str] = []

    def kill_connection(taken: int) -> None:
        # runs in the quarantine's thread, after 300 of the 1,000 messages were taken
        if taken != 300:
            return

        def ours() -> list[str]:
            conns = mgmt.get("/api/connections", params={"columns": "name,user_provided_name"})
            return [
                c["name"]
                for c in conns.json()
                if c.get("user_provided_name") == f"cockpit quarantine {vhost}"
            ]

        names = wait_for(ours, timeout=30)
        for name in names:
            mgmt.delete(f"/api/connections/{q(name)}").raise_for_status()
            killed.append(name)
        time.sleep(0.2)  # let the close frame reach the client before its next get

    broker = RabbitMQBroker(
        rabbit_config(vhost),
        password=PASSWORD,
        clock=clock,
        quarantine_dir=tmp_path,
        _step_hook=kill_connection,
    )
    try:
        result = await broker.quarantine(
            row(vhost, "orders"), QueueMessage(0, b"", message_id="msg-0700"), actor="f"
        )
    finally:
        await broker.close()

    assert killed, "the hook never found the quarantine's connection"
    assert not result.ok
    assert "nothing was removed" in result.message and "after 300 messages" in result.message
    assert result.details["acked"] is False
    wait_for(lambda: depth_now(amqp, "orders") == N, timeout=15)
    assert [p.message_id for _, p in drain(amqp, "orders")] == ids(N)
    assert depth_now(amqp, "orders.quarantine") == 0
    assert not list(tmp_path.glob("*.json"))


async def test_dead_letter_to_the_default_exchange_goes_to_the_named_queue(
    broker: RabbitMQBroker, amqp: Any, vhost: str
) -> None:
    """x-dead-letter-exchange "" is the default exchange: the routing key names the queue."""
    amqp.queue_declare("mail.dead", durable=True)
    amqp.queue_declare(
        "mail",
        durable=True,
        arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "mail.dead"},
    )
    publish_ids(amqp, "mail", 10)

    result = await broker.quarantine(
        row(vhost, "mail"), QueueMessage(3, b"", message_id="msg-0003"), actor="g"
    )

    assert result.ok, result.message
    assert result.ids["target"] == "dead-letter queue 'mail.dead'"
    assert [p.message_id for _, p in drain(amqp, "mail.dead")] == ["msg-0003"]
    assert [p.message_id for _, p in drain(amqp, "mail")] == [m for m in ids(10) if m != "msg-0003"]
