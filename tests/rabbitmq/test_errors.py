"""Each failure is one clear line, and the password never shows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cockpit.backends.base import AuthError, BadResponse, NotFound, Unreachable
from cockpit.backends.rabbitmq import ManagementPluginMissing, RabbitMQBroker
from cockpit.clock import FrozenClock
from cockpit.domain import QueueDepth, QueueMessage

from .conftest import MGMT, free_port, rabbit_config

SECRET = "S3cret-Pa55w0rd!xyz"

pytestmark = pytest.mark.server


def one_line_without_secret(text: str) -> None:
    assert text and "\n" not in text
    assert SECRET not in text
    assert "Traceback" not in text


def make(url: str, tmp_path: Path, clock: FrozenClock, **kw: Any) -> RabbitMQBroker:
    return RabbitMQBroker(
        rabbit_config(management_url=url, password_secret="rabbit-prod", **kw),
        password=SECRET,
        clock=clock,
        quarantine_dir=tmp_path,
    )


async def test_wrong_password_names_the_user_not_the_password(
    tmp_path: Path, clock: FrozenClock
) -> None:
    broker = make(MGMT, tmp_path, clock)
    try:
        with pytest.raises(AuthError) as err:
            await broker.queues()
        text = str(err.value)
        one_line_without_secret(text)
        assert "'guest'" in text and "401" in text and "rabbit-prod" in text
        assert SECRET not in repr(broker)
        health = await broker.health()
        assert not health.ok
        one_line_without_secret(health.detail)
        # quarantine refuses before touching anything, and says so
        result = await broker.quarantine(
            QueueDepth("/", "orders", 1, 0, 0), QueueMessage(0, b"x", message_id="m1"), actor="me"
        )
        assert not result.ok and "not started" in result.message
        one_line_without_secret(result.message)
    finally:
        await broker.close()


async def test_closed_port_is_unreachable(tmp_path: Path, clock: FrozenClock) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    broker = make(url, tmp_path, clock)
    try:
        with pytest.raises(Unreachable) as err:
            await broker.queues()
        text = str(err.value)
        one_line_without_secret(text)
        assert url in text and "rabbitmq_management" in text
        with pytest.raises(Unreachable):
            await broker.peek(QueueDepth("/", "orders", 1, 0, 0))
    finally:
        await broker.close()


async def test_closed_amqp_port_fails_the_quarantine_without_the_password(
    broker: RabbitMQBroker,
    amqp: Any,
    vhost: str,
    tmp_path: Path,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="pika")
    amqp.queue_declare("orders")
    amqp.basic_publish("", "orders", b"x")
    port = free_port()
    bad = RabbitMQBroker(
        rabbit_config(vhost, amqp_url=f"amqp://127.0.0.1:{port}"),
        password=SECRET,
        clock=clock,
        quarantine_dir=tmp_path,
    )
    bad._auth = broker._auth  # the management API login is fine; only AMQP is unreachable
    try:
        result = await bad.quarantine(
            QueueDepth(vhost, "orders", 1, 0, 0), QueueMessage(0, b"x"), actor="me"
        )
    finally:
        await bad.close()
    assert not result.ok
    assert "nothing was removed" in result.message
    one_line_without_secret(result.message)
    assert "AMQPConnectionWorkflowFailed" in caplog.text  # pika logged the attempt...
    assert SECRET not in caplog.text  # ...without the password
    assert int(amqp.queue_declare("orders", passive=True).method.message_count) == 1


async def test_missing_management_plugin_says_how_to_enable_it(
    fake_http: Callable[[int, bytes], str], tmp_path: Path, clock: FrozenClock
) -> None:
    url = fake_http(404, b'{"error":"Object Not Found","reason":"Not Found"}')
    broker = make(url, tmp_path, clock)
    try:
        health = await broker.health()
        assert not health.ok
        one_line_without_secret(health.detail)
        assert "management plugin is not enabled" in health.detail
        assert "rabbitmq-plugins enable rabbitmq_management" in health.detail
        with pytest.raises(ManagementPluginMissing) as err:
            await broker.check()
        assert "management plugin is not enabled" in str(err.value)
        assert isinstance(err.value, NotFound)
    finally:
        await broker.close()


async def test_malformed_json_is_a_bad_response(
    fake_http: Callable[[int, bytes], str], tmp_path: Path, clock: FrozenClock
) -> None:
    url = fake_http(200, b"<html>not json{")
    broker = make(url, tmp_path, clock)
    try:
        with pytest.raises(BadResponse) as err:
            await broker.queues()
        one_line_without_secret(str(err.value))
        assert "not JSON" in str(err.value) and "<html>" not in str(err.value)
        with pytest.raises(BadResponse):
            await broker.peek(QueueDepth("/", "orders", 1, 0, 0))
    finally:
        await broker.close()


async def test_unknown_vhost_and_vanished_queue_are_not_found(
    tmp_path: Path, clock: FrozenClock, broker: RabbitMQBroker, vhost: str
) -> None:
    ghost = RabbitMQBroker(
        rabbit_config("no-such-vhost-cockpit"),
        password="guest",
        clock=clock,
        quarantine_dir=tmp_path,
    )
    try:
        with pytest.raises(NotFound, match="vhost 'no-such-vhost-cockpit' does not exist"):
            await ghost.queues()
    finally:
        await ghost.close()
    with pytest.raises(NotFound, match=r"queue 'gone' in vhost .* no longer exists"):
        await broker.peek(QueueDepth(vhost, "gone", 1, 0, 0))
