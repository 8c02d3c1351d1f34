"""h: the outgoing engineer edits and saves the handover; the incoming one acknowledges it
with one key; both are stamped on the timeline. The shift figure and the arrivals
sparkline are on the incident panel."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from cockpit.config import Identity
from cockpit.domain import EventKind
from cockpit.queue_trends import BARS
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.handover import HandoverScreen
from tests.pilot import until
from tests.ui.conftest import SIZES, home, make_runtime, modal, notifications, ready, screen_text


@pytest.mark.parametrize("size", SIZES)
async def test_h_edit_save_then_the_incoming_engineer_acknowledges(
    clock,
    size: tuple[int, int],  # type: ignore[no-untyped-def]
) -> None:
    runtime: Runtime = make_runtime(clock)
    app = CockpitApp(runtime)
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        # the shift so far: the demo's alerts were recorded by the feed
        await until(pilot, lambda: "shift: " in screen_text(app), "the shift figure")
        assert any(bar in screen_text(app) for bar in BARS[1:])  # the arrivals sparkline

        await pilot.press("h")
        dialog = await modal(pilot, app, HandoverScreen)
        editor = dialog.query_one("#field-markdown", TextArea)
        assert editor.text.startswith("# Handover")
        assert "## Alerts still firing" in editor.text
        assert "CheckoutLatencyHigh (critical" in editor.text  # the live groups
        editor.move_cursor(editor.document.end)
        await pilot.press(*"watch the orders queue")
        await pilot.press("ctrl+s")
        await home(pilot, app)
        saved = app.actions.latest_handover()
        assert saved is not None and saved.kind is EventKind.HANDOVER
        assert saved.details["markdown"].endswith("watch the orders queue")
        await until(pilot, lambda: any("Handover saved" in n for n in notifications(app)), "saved")

        # the incoming engineer: h shows the saved handover; y acknowledges it
        app.actions.identity = Identity("bob")
        await pilot.press("h")
        await modal(pilot, app, HandoverScreen)
        assert f"Handover from {saved.actor}" in screen_text(app)
        await pilot.press("y")
        await home(pilot, app)
        ack = app.actions.handover_acknowledged(saved)
        assert ack is not None and ack.actor == "bob"
        await until(pilot, lambda: any("acknowledged" in n for n in notifications(app)), "ack")
        # acknowledged once: h now drafts bob's own handover
        await pilot.press("h")
        await modal(pilot, app, HandoverScreen)
        assert "from bob" in app.screen.query_one("#field-markdown", TextArea).text
        await pilot.press("escape")
        await home(pilot, app)
