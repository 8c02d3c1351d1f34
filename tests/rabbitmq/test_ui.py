"""The queues panel and the messages screen against the REAL RabbitMQ, through the keys.

CockpitApp(build_runtime(parse_config(...))) polls the management API of the broker on
loopback; queues are filled with pika and the outcome of every key is checked on the
broker (pika's own counts, draining), on disk (the quarantine file) and in the shift log.
The management API's counts lag the broker by up to ~5 s: every wait is a poll.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pika
import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable

from cockpit.domain import EventKind, TimelineEvent
from cockpit.queue_trends import BARS
from cockpit.secrets import SecretResolver
from cockpit.ui.app import CockpitApp
from cockpit.ui.panels.queues import QueuesPanel
from cockpit.ui.screens.forms import FormScreen
from cockpit.ui.screens.views import MessagesScreen
from tests.pilot import CockpitFactory, bound_idle_wait, header
from tests.pilot import until as pilot_until

from .conftest import MGMT, depth_now, drain, free_port, q, wait_for

pytestmark = pytest.mark.server

T = TypeVar("T")

REQUEUE_NOTE = (
    "Peeking takes these messages and puts them back (requeue): RabbitMQ then marks them "
    "redelivered. Nothing is removed unless you quarantine one with d."
)


@pytest.fixture(autouse=True)
def _bounded_idle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    bound_idle_wait(monkeypatch)


# ---------------------------------------------------------------------------- helpers


async def until(
    pilot: Pilot[Any], check: Callable[[], T | None], what: str, timeout: float = 30.0
) -> T:
    """As tests.pilot.until, waiting 30 s by default: the management stats lag ~5 s."""
    return await pilot_until(pilot, check, what, timeout)


def screen_text(app: CockpitApp) -> str:
    """Every line of the screen as displayed, dialogs included (as tests/screen.py)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def panel_text(app: CockpitApp, name: str) -> str:
    """What one panel shows, cut out of the screen (panels stand side by side)."""
    region = app.panel(name).region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


def shown_column(app: CockpitApp, label: str) -> list[str]:
    """The queues panel's column under the heading `label`, as read off the screen."""
    lines = panel_text(app, "queues").splitlines()
    top = next(i for i, line in enumerate(lines) if "QUEUE" in line and label in line)
    start = lines[top].index(label)
    cells = [line[start : start + len(label) + 2].strip(" │") for line in lines[top + 1 : -1]]
    return [c for c in cells if c]


def flat(text: str) -> str:
    """Screen text with the wrapping and padding undone: one space between words."""
    return " ".join(text.split())


def queues_panel(app: CockpitApp) -> QueuesPanel:
    panel = app.panel("queues")
    assert isinstance(panel, QueuesPanel)
    return panel


def rows(app: CockpitApp) -> dict[str, dict[str, Any]]:
    """Queue name -> {column key: cell} of every shown row, in the order shown."""
    table = queues_panel(app).table
    out: dict[str, dict[str, Any]] = {}
    for key in table.row_keys():
        name = key.rsplit("/", 1)[1]
        out[name] = {col: table.get_cell(key, col) for col in table.column_keys}
    return out


def cell(app: CockpitApp, queue: str, column: str) -> str:
    value = rows(app).get(queue, {}).get(column, "")
    return value.plain if isinstance(value, Text) else str(value)


def shows_ready(app: CockpitApp, wanted: dict[str, int]) -> bool:
    return all(cell(app, name, "ready") == str(n) for name, n in wanted.items())


def messages_screen(app: CockpitApp) -> MessagesScreen | None:
    return app.screen if isinstance(app.screen, MessagesScreen) else None


def loaded(app: CockpitApp, count: int) -> MessagesScreen | None:
    screen = messages_screen(app)
    if screen is None or len(screen.messages) != count:
        return None
    return screen if screen.query_one(DataTable).row_count == count else None


def open_dialog(app: CockpitApp) -> FormScreen | None:
    return app.screen if isinstance(app.screen, FormScreen) and app.screen.armed else None


def quarantine_events(app: CockpitApp) -> list[TimelineEvent]:
    return [e for e in app.actions.store.timeline(None) if e.kind is EventKind.QUARANTINE]


async def select_queue(pilot: Pilot[Any], app: CockpitApp, name: str) -> None:
    """Focus the queues panel (key 4) and walk the cursor down to the queue."""
    panel = queues_panel(app)
    await pilot.press("4")
    await until(pilot, lambda: panel.table.has_focus, "queues panel focused")
    await pilot.press("home")
    for _ in range(panel.table.row_count):
        chosen = panel.selected_queue()
        if chosen is not None and chosen.name == name:
            return
        await pilot.press("down")
    raise AssertionError(f"no row for {name}: {list(rows(app))}")


def publish(channel: Any, queue: str, ids: list[str], body: Callable[[str], bytes]) -> None:
    for mid in ids:
        channel.basic_publish("", queue, body(mid), pika.BasicProperties(message_id=mid))


def mgmt_counts(mgmt: httpx.Client, vhost: str) -> dict[str, tuple[int, int]]:
    """Queue name -> (ready, consumers) as the management API reports them now."""
    data = mgmt.get(f"/api/queues/{q(vhost)}").raise_for_status().json()
    return {d["name"]: (d.get("messages_ready", 0), d.get("consumers", 0)) for d in data}


def mgmt_depth(mgmt: httpx.Client, vhost: str, queue: str) -> int:
    data = mgmt.get(f"/api/queues/{q(vhost, queue)}").raise_for_status().json()
    return int(data.get("messages", -1))


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture
def pub(amqp: Any) -> Any:
    """The test vhost's pika channel with publisher confirms: a publish returns once the
    message is on the broker."""
    amqp.confirm_delivery()
    return amqp


@pytest.fixture
def data_home(cockpit_factory: CockpitFactory, tmp_path: Path) -> Path:
    """The quarantine folder and the audit log, under tmp (cockpit_factory isolates XDG)."""
    return tmp_path / "xdg-data" / "cockpit"


@pytest.fixture
def make_cockpit(
    cockpit_factory: CockpitFactory, data_home: Path, vhost: str
) -> Callable[..., CockpitApp]:
    """CockpitApp on the test vhost; `rabbitmq` keys override the [rabbitmq] section."""

    def make(**rabbitmq: Any) -> CockpitApp:
        section: dict[str, Any] = {
            "management_url": MGMT,
            "amqp_url": "amqp://127.0.0.1:5672",
            "username": "guest",
            "password_secret": "rabbit",
            "vhost": vhost,
            "poll_interval": "0.5s",
            "timeout": "5s",
            **rabbitmq,
        }
        # the real resolver, reading the secret from its env var (a mapping: no os.environ)
        secrets = SecretResolver(env={"COCKPIT_SECRET_RABBIT": "guest"}, prompt=False)
        return cockpit_factory({"rabbitmq": section}, secrets=secrets)

    return make


# ---------------------------------------------------------------------------- the panel


async def test_queues_sort_crit_then_stalled_and_flag_no_consumers(
    pub: Any, mgmt: httpx.Client, vhost: str, make_cockpit: Callable[..., CockpitApp]
) -> None:
    """busy: the deepest, consumed; stalled: 3 waiting and nobody consuming; hot: above its
    crit threshold of 5 but consumed. hot comes first, then stalled, then the deeper busy."""
    for name in ("busy", "stalled", "hot"):
        pub.queue_declare(name)
    publish(pub, "busy", [f"b-{i}" for i in range(20)], str.encode)
    publish(pub, "stalled", [f"s-{i}" for i in range(3)], str.encode)
    publish(pub, "hot", [f"h-{i}" for i in range(8)], str.encode)
    # one consumer each on busy and hot, holding one unacked message (prefetch 1)
    consumer = pub.connection.channel()
    consumer.basic_qos(prefetch_count=1)
    for name in ("busy", "hot"):
        consumer.basic_consume(name, lambda *_: None)
    # the first poll sees the final counts (see the xfail below for why that matters)
    wanted = {"busy": (19, 1), "stalled": (3, 0), "hot": (7, 1)}
    wait_for(lambda: mgmt_counts(mgmt, vhost) == wanted)

    app = make_cockpit(thresholds=[{"pattern": "hot", "warn": 2, "crit": 5}])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot,
            lambda: (
                shows_ready(app, {"busy": 19, "stalled": 3, "hot": 7})
                and cell(app, "busy", "consumers") == "1"
            ),
            "ready counts and consumers from the management API",
        )
        assert list(rows(app)) == ["hot", "stalled", "busy"]
        panel = queues_panel(app)
        # the stalled queue's CONS cell is drawn in the crit colour; the consumed ones are not
        cons = {name: r["consumers"] for name, r in rows(app).items()}
        assert cons["stalled"].plain == "0" and cons["stalled"].style == app.palette.crit
        # (a cell drawn plainly may be a plain string: no style at all)
        assert getattr(cons["busy"], "style", None) != app.palette.crit
        assert getattr(cons["hot"], "style", None) != app.palette.crit
        # hot's depth is drawn in the crit level's colour, busy's plainly
        assert rows(app)["hot"]["ready"].style == app.palette.level("crit")
        assert getattr(rows(app)["busy"]["ready"], "style", None) != app.palette.level("crit")
        assert "1 without consumers" in str(panel.border_title)
        text = screen_text(app)
        assert "1 without consumers" in text
        # on screen, top to bottom: hot's 7, stalled's 3 (0 consumers), busy's 19
        assert shown_column(app, "READY") == ["7", "3", "19"], panel_text(app, "queues")
        assert shown_column(app, "CONS") == ["1", "0", "1"], panel_text(app, "queues")
        assert "queues ok" in header(app)
        assert "Traceback" not in text


async def test_queue_names_are_readable_unzoomed(
    pub: Any, make_cockpit: Callable[..., CockpitApp]
) -> None:
    for name in ("orders", "refunds"):
        pub.queue_declare(name)
    app = make_cockpit()
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: len(rows(app)) == 2, "two queues listed")
        text = screen_text(app)
        assert "orders" in text and "refunds" in text


async def test_z_zooms_the_queues_panel_to_show_full_names(
    pub: Any, vhost: str, make_cockpit: Callable[..., CockpitApp]
) -> None:
    pub.queue_declare("stalled")
    app = make_cockpit()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(rows(app)) == 1, "the queue listed")
        assert "UNACK" not in screen_text(app)  # dropped: the 2x2 grid is too narrow
        await pilot.press("4", "z")
        panel = app.query_one("#queues")
        await until(pilot, lambda: panel.size.width >= 78, "zoomed", timeout=3)
        # the zoomed panel has room for every column again
        await until(pilot, lambda: "UNACK" in screen_text(app), "all columns", timeout=3)
        assert "stalled" in screen_text(app)
        await pilot.press("z")
        await until(pilot, lambda: panel.size.width < 60, "back to the grid", timeout=3)


async def test_growing_queue_shows_a_sparkline_and_positive_growth(
    pub: Any, make_cockpit: Callable[..., CockpitApp]
) -> None:
    pub.queue_declare("orders")
    publish(pub, "orders", [f"o-{i}" for i in range(3)], str.encode)
    app = make_cockpit()
    # 120 columns: two panels side by side, wide enough for GROWTH (the four-up layout from
    # 160 columns gives each panel ~48 and drops GROWTH first)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: shows_ready(app, {"orders": 3}), "orders at 3")
        key = next(k for k in queues_panel(app).table.row_keys() if k.endswith("/orders"))
        await until(pilot, lambda: len(app.trends.history(key)) >= 2, "two polls at 3")

        publish(pub, "orders", [f"o-{i}" for i in range(3, 40)], str.encode)
        await until(pilot, lambda: shows_ready(app, {"orders": 40}), "orders at 40")

        trend = cell(app, "orders", "trend")
        assert trend and set(trend) <= set(BARS), trend
        assert trend[-1] == BARS[-1]  # the newest sample is the window's maximum
        assert any(bar < BARS[-1] for bar in trend), trend  # and earlier ones were lower
        growth = cell(app, "orders", "rate")
        assert growth.startswith("+") and growth.endswith("/m"), growth
        assert app.trends.growth_per_minute(key) > 0
        assert queues_panel(app).table.column_keys[-1] == "rate"  # shown
        text = panel_text(app, "queues")
        assert trend in text and growth in text, text


async def test_queue_that_fills_up_without_consumers_gets_flagged(
    pub: Any, make_cockpit: Callable[..., CockpitApp]
) -> None:
    pub.queue_declare("stalled")
    app = make_cockpit()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: shows_ready(app, {"stalled": 0}), "stalled shown empty")
        publish(pub, "stalled", ["s-0", "s-1", "s-2"], str.encode)
        await until(pilot, lambda: shows_ready(app, {"stalled": 3}), "stalled at 3")
        assert "1 without consumers" in str(queues_panel(app).border_title)
        # the CONS cell "0" turns red although its text did not change (rich's Text equality
        # ignores the style: a table diff on == alone would keep it plain)
        await until(
            pilot,
            lambda: rows(app)["stalled"]["consumers"].style == app.palette.crit,
            "CONS flagged",
            timeout=5,
        )


# ---------------------------------------------------------------------------- messages


async def test_m_shows_head_messages_in_order_and_removes_nothing(
    pub: Any, mgmt: httpx.Client, vhost: str, make_cockpit: Callable[..., CockpitApp]
) -> None:
    pub.queue_declare("invoices")
    ids = [f"inv-{i}" for i in range(5)]
    publish(pub, "invoices", ids, lambda mid: json.dumps({"invoice": mid}).encode())
    app = make_cockpit()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: shows_ready(app, {"invoices": 5}), "invoices at 5")
        await select_queue(pilot, app, "invoices")
        await pilot.press("m")
        screen = await until(pilot, lambda: loaded(app, 5), "five messages peeked")

        assert [m.message_id for m in screen.messages] == ids
        table = screen.query_one(DataTable)
        shown = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert shown == ids
        text = screen_text(app)
        assert REQUEUE_NOTE in flat(text)
        positions = [text.index(mid) for mid in ids]
        assert positions == sorted(positions), "shown top to bottom in queue order"
        assert '{"invoice": "inv-0"}' in text  # the head message's payload, selected

        assert depth_now(pub, "invoices") == 5
        assert mgmt_depth(mgmt, vhost, "invoices") == 5
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.default_screen, "back to the panels")
    # still all there, in their order (now marked redelivered by the peek)
    back = drain(pub, "invoices")
    assert [p.message_id for _, p in back] == ids


async def test_d_then_y_quarantines_the_poison_and_keeps_the_rest_in_order(
    pub: Any,
    mgmt: httpx.Client,
    vhost: str,
    data_home: Path,
    make_cockpit: Callable[..., CockpitApp],
) -> None:
    ids = [f"m-{i:03d}" for i in range(50)]
    poison = "m-025"
    pub.queue_declare("payments", durable=True)

    def body(mid: str) -> bytes:
        return b'{"amount": "NaN"}' if mid == poison else json.dumps({"id": mid}).encode()

    publish(pub, "payments", ids, body)
    app = make_cockpit(peek_count=60)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: shows_ready(app, {"payments": 50}), "payments at 50")
        await select_queue(pilot, app, "payments")
        await pilot.press("m")
        screen = await until(pilot, lambda: loaded(app, 50), "fifty messages peeked")
        assert [m.message_id for m in screen.messages] == ids
        for _ in range(25):
            await pilot.press("down")
        selected = screen.selected()
        assert selected is not None and selected.message_id == poison
        await until(pilot, lambda: '"NaN"' in screen_text(app), "poison payload shown")

        # d then n: the dialog names the message and the target, and nothing moves
        await pilot.press("d")
        dialog = await until(pilot, lambda: open_dialog(app), "quarantine dialog")
        said = flat(screen_text(app))
        assert poison in said and "payments.quarantine" in said
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, "dialog closed")
        await pilot.pause(0.5)
        assert depth_now(pub, "payments") == 50
        assert mgmt.get(f"/api/queues/{q(vhost, 'payments.quarantine')}").status_code == 404
        assert quarantine_events(app) == []
        assert not (data_home / "quarantine").exists() or not list(
            (data_home / "quarantine").rglob("*.json")
        )

        # d then y: quarantined
        still = screen.selected()  # the cursor stayed on the poison
        assert still is not None and still.message_id == poison
        await pilot.press("d")
        dialog = await until(pilot, lambda: open_dialog(app), "quarantine dialog again")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is not dialog, "dialog closed")
        events = await until(pilot, lambda: quarantine_events(app), "QUARANTINE in the log")
        # the screen peeks again: 49 left
        await until(pilot, lambda: loaded(app, 49), "the messages screen reloaded")

    assert len(events) == 1
    event = events[0]
    assert "payments" in event.summary and poison in event.summary, event.summary
    assert event.details["queue"].endswith("/payments") and event.details["message"] == poison
    assert event.incident_id is None

    remaining = drain(pub, "payments")
    assert [p.message_id for _, p in remaining] == [i for i in ids if i != poison]
    moved = drain(pub, "payments.quarantine")
    assert [(b, p.message_id) for b, p in moved] == [(body(poison), poison)]
    files = list((data_home / "quarantine").rglob("*.json"))
    assert len(files) == 1, files
    record = json.loads(files[0].read_text())
    assert poison in json.dumps(record)


# ---------------------------------------------------------------------------- failures


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
async def test_management_port_closed_says_queues_down_with_the_reason(
    make_cockpit: Callable[..., CockpitApp], size: tuple[int, int]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = make_cockpit(management_url=url)
    async with app.run_test(size=size) as pilot:
        line = await until(
            pilot, lambda: h if "queues DOWN" in (h := header(app)) else "", "queues DOWN"
        )
        if size[0] >= 160:
            assert "queues DOWN: cannot reach the RabbitMQ management API" in line, line
        # the panel says why in full (the header has room for the start only)
        text = await until(
            pilot,
            lambda: t if url in flat(t := panel_text(app, "queues")) else "",
            "the reason in the panel",
            timeout=10,
        )
        said = flat(text.replace("│", " "))
        assert f"stale: cannot reach the RabbitMQ management API at {url}" in said, text
        assert "is RabbitMQ up, with the rabbitmq_management plugin enabled?" in said, text
        assert "Traceback" not in text and "httpx" not in text and "Error" not in text
        assert queues_panel(app).table.row_count == 0
