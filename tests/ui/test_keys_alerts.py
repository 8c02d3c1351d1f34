"""Keys end to end on the alerts panel and navigation: the world and the store are checked,
not only the screen."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Button, Input

from cockpit.domain import EventKind
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from cockpit.ui.screens.views import DetailScreen
from tests.pilot import until
from tests.ui.conftest import (
    SIZES,
    home,
    modal,
    ready,
    row_texts,
    screen_text,
    settle,
    table,
)


def focused_panel_name(app: CockpitApp) -> str | None:
    panel = app.focused_panel()
    return panel.panel_name if panel is not None else None


async def test_tab_and_number_keys_move_between_panels(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert focused_panel_name(app) == "alerts"
        for expected in ("incident", "pods", "queues"):
            await pilot.press("tab")
            assert focused_panel_name(app) == expected
        await pilot.press("shift+tab")
        assert focused_panel_name(app) == "pods"
        await pilot.press("shift+tab", "shift+tab")
        assert focused_panel_name(app) == "alerts"
        for key, expected in (("4", "queues"), ("2", "incident"), ("3", "pods"), ("1", "alerts")):
            await pilot.press(key)
            assert focused_panel_name(app) == expected
            assert app.focused is table(app, expected)


async def test_filter_reduces_rows_and_escape_clears(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        pods = table(app, "pods")
        total = pods.row_count
        await pilot.press("/")
        assert isinstance(app.focused, Input)
        await pilot.press(*"payments")
        await until(pilot, lambda: 0 < pods.row_count < total, "filtered rows")
        assert all("payments" in r for r in row_texts(app, "pods"))
        assert "filter: payments" in screen_text(app)
        # enter keeps the filter and goes back to the table
        await pilot.press("enter")
        assert app.focused is pods
        assert all("payments" in r for r in row_texts(app, "pods"))
        # escape in the filter line clears it
        await pilot.press("/")
        await pilot.press("escape")
        await until(pilot, lambda: pods.row_count == total, "all rows back")
        assert app.focused is pods
        assert "filter:" not in screen_text(app)
        # a filter nothing matches says so
        await pilot.press("/")
        await pilot.press(*"zz")
        await until(pilot, lambda: pods.row_count == 0)
        assert "no row matches the filter" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: pods.row_count == total)


async def test_enter_shows_alert_detail_and_escape_closes(app: CockpitApp) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        selected = table(app, "alerts").selected_key
        assert selected is not None and "CheckoutLatencyHigh" in selected
        await pilot.press("enter")
        await modal(pilot, app, DetailScreen)
        text = screen_text(app)
        assert "Alert group CheckoutLatencyHigh" in text
        assert "label route" in text and "/checkout/confirm" in text
        assert "label severity" in text and "critical" in text
        assert "Checkout p99 latency" in text  # the summary annotation
        assert "runbook" in text and "runbooks.acme.example" in text
        await pilot.press("escape")
        await home(pilot, app)


def group(app: CockpitApp, name: str) -> Any:
    return next(g for g in app.live.groups if g.name == name)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_ack_cancel_confirm_and_unack(
    app: CockpitApp, runtime: Runtime, size: tuple[int, int]
) -> None:
    world = runtime.demo.world
    store = runtime.store
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        alerts = table(app, "alerts")
        key = alerts.selected_key
        assert key is not None and "CheckoutLatencyHigh" in key

        # the confirmation focuses Cancel; n and escape cancel: nothing reaches Alertmanager
        for cancel in ("n", "escape"):
            await pilot.press("a")
            dialog = await modal(pilot, app, FormScreen)
            assert isinstance(app.focused, Button) and app.focused.id == "cancel"
            assert "Acknowledge CheckoutLatencyHigh?" in screen_text(app)
            assert dialog.query_one("#cancel").region.bottom <= size[1]  # reachable on screen
            await pilot.press(cancel)
            await home(pilot, app)
            assert world.silences == {}
        # enter on the focused Cancel button cancels too
        await pilot.press("a")
        await modal(pilot, app, FormScreen)
        await pilot.press("enter")
        await home(pilot, app)
        assert world.silences == {}
        assert not any(e.kind is EventKind.ACK for e in store.timeline(None))

        # y confirms
        await pilot.press("a")
        await modal(pilot, app, FormScreen)
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: len(world.silences) == 1, "the silence")
        silence = next(iter(world.silences.values()))
        assert silence.comment.startswith("ACK!")
        assert dict(silence.matchers)["alertname"] == "CheckoutLatencyHigh"
        await until(pilot, lambda: group(app, "CheckoutLatencyHigh").acked, "acked")
        # acked groups sort apart below; the cursor stays on top, on the next worst alert
        await until(pilot, lambda: alerts.row_keys()[0] != key)
        assert alerts.cursor_row == 0 and alerts.selected_key == alerts.row_keys()[0]
        assert "RabbitMQQueueBacklog" in str(alerts.selected_key)
        row = alerts.get_row(key)
        assert str(row[-1]) == "✓ 1h00m"  # time left in the ACK column
        assert "✓ 1h00m" in screen_text(app)
        assert "1 acked" in str(app.panel("alerts").border_title)
        # the timeline (shift log) has the ACK with the silence id
        acks = [e for e in store.timeline(None) if e.kind is EventKind.ACK]
        assert len(acks) == 1 and acks[0].details["ids"]["silence_id"] == silence.id
        await until(pilot, lambda: any("ACK" in r for r in row_texts(app, "incident")))

        # time passes: the ACK column counts down
        app.clock.advance(600)  # type: ignore[attr-defined]
        app.poll_now("alerts")
        await until(pilot, lambda: str(alerts.get_row(key)[-1]) == "✓ 50m", "50m left")

        # A expires it (after its own confirmation)
        alerts.select_key(key)
        await pilot.press("A")
        await modal(pilot, app, FormScreen)
        assert "Expire silence" in screen_text(app)
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: world.silences[silence.id].state == "expired")
        await until(pilot, lambda: not group(app, "CheckoutLatencyHigh").acked)
        assert any(e.kind is EventKind.UNACK for e in store.timeline(None))
        await until(pilot, lambda: alerts.row_keys()[0] == key, "back on top")


async def test_ack_duration_is_validated(app: CockpitApp, runtime: Runtime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("a")
        dialog = await modal(pilot, app, FormScreen)
        duration = dialog.query_one("#field-duration", Input)
        duration.value = "soon"
        dialog.query_one("#cancel").focus()
        await pilot.press("y")
        await until(pilot, lambda: "write it like 30m" in screen_text(app))
        assert isinstance(app.screen, FormScreen)
        await settle(pilot)
        assert runtime.demo.world.silences == {}
        await pilot.press("escape")
        await home(pilot, app)
