"""The post-mortem key writes the draft from the record; past incidents open read-only."""

from __future__ import annotations

from textual.widgets import OptionList

from cockpit.domain import IncidentStatus, Severity
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.flows import incident as flows
from cockpit.ui.screens.views import DetailScreen, PickScreen
from tests.pilot import until
from tests.ui.conftest import home, modal, notifications, ready, screen_text


async def test_postmortem_key_writes_the_draft_with_the_timeline(
    app: CockpitApp, runtime: Runtime
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        declared = await app.actions.declare("Checkout slow", Severity.SEV1)
        await app.actions.note("payments-api OOMKilled, rolling back")
        await pilot.press("2")
        await pilot.press("P")
        directory = runtime.postmortem_dir
        await until(
            pilot,
            lambda: directory.exists() and any(directory.iterdir()),
            what="a post-mortem file",
        )
        (path,) = directory.iterdir()
        text = path.read_text()
        incident_id = declared.ids["incident"]
        assert incident_id in path.name
        assert "Checkout slow" in text
        assert "payments-api OOMKilled, rolling back" in text  # the timeline is in it
        assert "Root cause" in text and "Follow-ups" in text
        await until(pilot, lambda: any(str(path) in n for n in notifications(app)))


async def test_a_past_incident_opens_read_only_from_the_palette(
    app: CockpitApp, runtime: Runtime
) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        await app.actions.declare("Orders backlog", Severity.SEV2)
        await app.actions.note("orders-consumer restarted")
        await app.actions.set_status(IncidentStatus.RESOLVED)
        await home(pilot, app)
        app.start(flows.past_incidents)
        picker = await modal(pilot, app, PickScreen)
        options = picker.query_one(OptionList)
        assert options.option_count == 1
        await pilot.press("enter")
        await modal(pilot, app, DetailScreen)
        shown = screen_text(app)
        assert "INC-2026-0001 (read-only)" in shown
        assert "orders-consumer restarted" in shown
        assert "resolved" in shown
        # read-only: the incident keys do nothing on this view
        await pilot.press("s")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        await home(pilot, app)
