"""A message whose headers nest 1,500 deep, published for real: the peek shows it (the deep
header as a marker) and the queue's other messages, and quarantine works for it and past it.

The messages go in through the management API's publish (its JSON decoder takes any depth;
pika's encoder would need a raised recursion limit) on the test's own vhost.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import DataTable

from cockpit.backends.http import TOO_DEEP
from cockpit.backends.rabbitmq import RabbitMQBroker
from cockpit.backends.rabbitmq_quarantine import HEADER_DEPTH, RawField, bounded_pika_tables
from cockpit.domain import QueueDepth, QueueMessage
from cockpit.secrets import SecretResolver
from cockpit.ui.app import CockpitApp
from cockpit.ui.panels.queues import QueuesPanel
from cockpit.ui.screens.forms import FormScreen
from cockpit.ui.screens.views import MessagesScreen
from tests.pilot import CockpitFactory, bound_idle_wait, until

from .conftest import MGMT, depth_now, drain, q, wait_for

pytestmark = pytest.mark.server

DEEP = 1500


@pytest.fixture(autouse=True)
def _bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    bound_idle_wait(monkeypatch)
    bounded_pika_tables()  # the test's own pika channel drains deep messages too


def nested_json(depth: int) -> str:
    return '{"h": ' * depth + "{}" + "}" * depth


def publish(
    mgmt: httpx.Client,
    vhost: str,
    queue: str,
    payload: str,
    *,
    headers: dict[str, str] | None = None,
    message_id: str = "",
) -> None:
    """Publish through the management API; `headers` values are raw JSON text."""
    props = ['"content_type": "application/json"']
    if message_id:
        props.append(f'"message_id": {json.dumps(message_id)}')
    if headers:
        inner = ", ".join(f"{json.dumps(k)}: {v}" for k, v in headers.items())
        props.append(f'"headers": {{{inner}}}')
    body = (
        f'{{"properties": {{{", ".join(props)}}}, "routing_key": {json.dumps(queue)}, '
        f'"payload": {json.dumps(payload)}, "payload_encoding": "string"}}'
    )
    answer = mgmt.post(
        f"/api/exchanges/{q(vhost)}/amq.default/publish",
        content=body,
        headers={"content-type": "application/json"},
    )
    answer.raise_for_status()
    assert answer.json() == {"routed": True}


def fill(mgmt: httpx.Client, amqp: Any, vhost: str, queue: str = "jobs") -> None:
    """m-0, then the deep one (no message id: matched by its hash), then m-2."""
    amqp.queue_declare(queue, durable=True)
    publish(mgmt, vhost, queue, '{"n": 0}', message_id="m-0")
    publish(
        mgmt,
        vhost,
        queue,
        '{"n": "deep"}',
        headers={"x-deep": nested_json(DEEP), "x-ok": '"fine"'},
    )
    publish(mgmt, vhost, queue, '{"n": 2}', message_id="m-2")
    wait_for(lambda: depth_now(amqp, queue) == 3)


def jobs(vhost: str) -> QueueDepth:
    return QueueDepth(vhost, "jobs", 3, 0, 0)


def head_json(mgmt: httpx.Client, vhost: str, queue: str) -> bytes:
    """The raw management API answer for the queue's messages (it renders every level)."""
    answer = mgmt.post(
        f"/api/queues/{q(vhost, queue)}/get",
        json={"count": 10, "ackmode": "ack_requeue_true", "encoding": "auto"},
    )
    answer.raise_for_status()
    return answer.content


async def test_peek_lists_every_message_with_the_deep_header_as_a_marker(
    broker: RabbitMQBroker, mgmt: httpx.Client, amqp: Any, vhost: str
) -> None:
    fill(mgmt, amqp, vhost)
    messages = await broker.peek(jobs(vhost))
    assert [m.payload for m in messages] == [b'{"n": 0}', b'{"n": "deep"}', b'{"n": 2}']
    deep = messages[1]
    assert deep.headers == {"x-deep": TOO_DEEP, "x-ok": "fine"}
    assert deep.routing_key == "jobs" and deep.content_type == "application/json"
    assert deep.message_id == "" and deep.identity.startswith("sha256:")
    assert [m.message_id for m in messages[::2]] == ["m-0", "m-2"]
    # the same identity on the next peek (the messages are requeued in place)
    again = await broker.peek(jobs(vhost))
    assert [m.identity for m in again] == [m.identity for m in messages]


async def test_quarantine_takes_the_deep_message_and_copies_it_whole(
    broker: RabbitMQBroker, mgmt: httpx.Client, amqp: Any, vhost: str, tmp_path: Path
) -> None:
    fill(mgmt, amqp, vhost)
    deep = (await broker.peek(jobs(vhost)))[1]
    result = await broker.quarantine(jobs(vhost), deep, actor="alice")
    assert result.ok, result.message
    assert result.details["position"] == 1
    # the copy in jobs.quarantine holds all 1,500 levels, as published
    copy = head_json(mgmt, vhost, "jobs.quarantine")
    assert copy.count(b'{"h":') == DEEP
    assert [b for b, _ in drain(amqp, "jobs")] == [b'{"n": 0}', b'{"n": 2}']
    record = json.loads(Path(result.ids["file"]).read_text())
    assert record["headers"] == {"x-deep": TOO_DEEP, "x-ok": "fine"}
    assert base64.b64decode(record["body_base64"]) == b'{"n": "deep"}'
    assert "x-deep" in record["deep_headers"]  # the value itself, as far as pika decodes


async def test_quarantine_walks_past_the_deep_message(
    broker: RabbitMQBroker, mgmt: httpx.Client, amqp: Any, vhost: str
) -> None:
    """pika used to lose the connection on the deep message: nothing behind it could go."""
    fill(mgmt, amqp, vhost)
    result = await broker.quarantine(
        jobs(vhost), QueueMessage(0, b"", message_id="m-2"), actor="alice"
    )
    assert result.ok, result.message
    left = await broker.peek(jobs(vhost))
    assert [m.payload for m in left] == [b'{"n": 0}', b'{"n": "deep"}']
    assert left[1].headers["x-deep"] == TOO_DEEP
    taken = drain(amqp, "jobs")
    assert isinstance(_innermost(taken[1][1].headers["x-deep"]), RawField)


def _innermost(value: Any) -> Any:
    while isinstance(value, dict) and "h" in value:
        value = value["h"]
    return value


@pytest.mark.parametrize("depth", [HEADER_DEPTH, HEADER_DEPTH + 1, 70, 400])
async def test_identities_match_at_every_depth(
    broker: RabbitMQBroker, mgmt: httpx.Client, amqp: Any, vhost: str, depth: int
) -> None:
    """Around each bound (shown in full / marker; pika decoding / raw bytes; the JSON
    decoder's cut), the identity the peek shows is the one the quarantine finds."""
    amqp.queue_declare("jobs", durable=True)
    # nested_json(n) nests n + 1 deep (the innermost {} counts)
    publish(mgmt, vhost, "jobs", "a", headers={"x": nested_json(depth - 1)})
    publish(mgmt, vhost, "jobs", "b", headers={"x": nested_json(depth - 1)})
    wait_for(lambda: depth_now(amqp, "jobs") == 2)
    messages = await broker.peek(jobs(vhost))
    assert len(messages) == 2
    shown = messages[1].headers["x"]
    assert (shown == TOO_DEEP) is (depth > HEADER_DEPTH)
    result = await broker.quarantine(jobs(vhost), messages[1], actor="alice")
    assert result.ok, result.message
    assert result.details["position"] == 1
    assert [b for b, _ in drain(amqp, "jobs")] == [b"a"]


@pytest.fixture
def make_cockpit(
    cockpit_factory: CockpitFactory, tmp_path: Path, vhost: str
) -> Callable[..., CockpitApp]:
    def make() -> CockpitApp:
        section: dict[str, Any] = {
            "management_url": MGMT,
            "amqp_url": "amqp://127.0.0.1:5672",
            "username": "guest",
            "password_secret": "rabbit",
            "vhost": vhost,
            "poll_interval": "0.5s",
            "timeout": "5s",
        }
        secrets = SecretResolver(env={"COCKPIT_SECRET_RABBIT": "guest"}, prompt=False)
        return cockpit_factory({"rabbitmq": section}, secrets=secrets)

    return make


def screen_text(app: CockpitApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_messages_screen_shows_the_deep_message_and_quarantines_it_at_80x24(
    mgmt: httpx.Client, amqp: Any, vhost: str, make_cockpit: Callable[..., CockpitApp]
) -> None:
    fill(mgmt, amqp, vhost)
    app = make_cockpit()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.panel("queues")
        assert isinstance(panel, QueuesPanel)
        await until(
            pilot,
            lambda: any(getattr(v, "name", "") == "jobs" for v in panel.items.values()),
            "the jobs queue",
            30,
        )
        await pilot.press("4")
        await until(pilot, lambda: panel.table.has_focus, "queues panel focused")
        while (chosen := panel.selected_queue()) is None or chosen.name != "jobs":
            await pilot.press("down")
        await pilot.press("m")

        def shown() -> MessagesScreen | None:
            screen = app.screen
            if not isinstance(screen, MessagesScreen) or len(screen.messages) != 3:
                return None
            return screen if screen.query_one(DataTable).row_count == 3 else None

        screen = await until(pilot, shown, "three messages listed", 30)
        text = screen_text(app)
        assert "m-0" in text and "m-2" in text and "error" not in text.lower()
        await pilot.press("down")
        selected = screen.selected()
        assert selected is not None and selected.headers["x-deep"] == TOO_DEEP
        await until(pilot, lambda: TOO_DEEP in screen_text(app), "the deep header's marker")
        text = screen_text(app)
        assert "header x-deep" in text and "fine" in text and '{"n": "deep"}' in text

        await pilot.press("d")
        await until(
            pilot,
            lambda: isinstance(app.screen, FormScreen) and app.screen.armed,
            "quarantine dialog",
        )
        await pilot.press("y")
        await until(pilot, lambda: shown() is None and app.screen is screen, "dialog closed")
        await until(
            pilot,
            lambda: len(screen.messages) == 2 and screen.query_one(DataTable).row_count == 2,
            "the screen peeked again: two left",
            30,
        )
    assert [b for b, _ in drain(amqp, "jobs")] == [b'{"n": 0}', b'{"n": 2}']
    assert head_json(mgmt, vhost, "jobs.quarantine").count(b'{"h":') == DEEP
