"""Incident keys end to end: declare, note, customer update, escalate, status, the palette."""

from __future__ import annotations

from textual.widgets import Button, Input, Select, TextArea

from cockpit.domain import EventKind, IncidentStatus, Severity
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp, StatusBar
from cockpit.ui.screens.forms import Choices, FormScreen
from tests.pilot import until
from tests.ui.conftest import (
    home,
    modal,
    notifications,
    ready,
    row_texts,
    screen_text,
    settle,
    table,
)


def kinds(runtime: Runtime, incident_id: str | None) -> list[EventKind]:
    return [e.kind for e in runtime.store.timeline(incident_id, limit=500)]


async def declare(pilot: object, app: CockpitApp) -> FormScreen:
    await pilot.press("i")  # type: ignore[attr-defined]
    return await modal(pilot, app, FormScreen)  # type: ignore[arg-type]


async def test_declare_prefilled_cancel_then_submit_note_and_resolve(
    app: CockpitApp, runtime: Runtime
) -> None:
    store = runtime.store
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        group = app.panel("alerts").selected()
        assert group is not None and group.name == "CheckoutLatencyHigh"

        # i: prefilled from the selected alert; escape cancels, nothing is opened
        dialog = await declare(pilot, app)
        title = dialog.query_one("#field-title", Input)
        assert title.value == group.firing[0].summary
        assert "Checkout p99 latency" in title.value
        assert dialog.query_one("#field-severity", Select).value == Severity.SEV1.value
        assert app.focused is title
        await pilot.press("escape")
        await home(pilot, app)
        assert store.current_incident() is None

        # ctrl+s submits from the first field
        await declare(pilot, app)
        await pilot.press("ctrl+s")
        await home(pilot, app)
        incident = store.current_incident()
        assert incident is not None
        assert incident.severity is Severity.SEV1
        assert incident.title == group.firing[0].summary
        assert EventKind.DECLARED in kinds(runtime, incident.id)
        await until(pilot, lambda: incident.id in screen_text(app), "the incident")
        assert "No open incident" not in screen_text(app)
        assert incident.id in str(app.query_one(StatusBar).render())

        # i again: another incident may be declared; the form says the first stays open
        await pilot.press("i")
        await modal(pilot, app, FormScreen)
        assert f"{incident.id} stays open too" in screen_text(app)
        await pilot.press("escape")
        await home(pilot, app)
        assert [i.id for i in store.active_incidents()] == [incident.id]

        # n: a note, typed in the text area, submitted with ctrl+s
        await pilot.press("n")
        dialog = await modal(pilot, app, FormScreen)
        assert isinstance(app.focused, TextArea)
        await pilot.press(*"heap!")
        await pilot.press("ctrl+s")
        await home(pilot, app)
        notes = [e for e in store.timeline(incident.id) if e.kind is EventKind.NOTE]
        assert [n.summary for n in notes] == ["heap!"]
        await until(pilot, lambda: any("heap!" in r for r in row_texts(app, "incident")))
        # an empty note is refused by the form and adds nothing
        await pilot.press("n")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "the note is empty" in screen_text(app))
        await pilot.press("escape")
        await home(pilot, app)
        assert len([k for k in kinds(runtime, incident.id) if k is EventKind.NOTE]) == 1

        # s in the incident panel: the status form offers the next status; escape cancels
        await pilot.press("2")
        await pilot.press("s")
        await modal(pilot, app, FormScreen)
        await pilot.press("escape")
        await home(pilot, app)
        assert store.current_incident().status is IncidentStatus.INVESTIGATING
        await pilot.press("s")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await home(pilot, app)
        assert store.current_incident().status is IncidentStatus.IDENTIFIED
        # resolve: the form offers the next status (monitoring); the keyboard picks resolved
        await pilot.press("s")
        dialog = await modal(pilot, app, FormScreen)
        assert dialog.values()["status"] == IncidentStatus.MONITORING.value
        assert isinstance(app.focused, Choices)
        await pilot.press("down", "enter")
        assert dialog.values()["status"] == IncidentStatus.RESOLVED.value
        await pilot.press("ctrl+s")
        # resolving offers the resolved customer update in the same flow; escape says so
        offer = await modal(pilot, app, FormScreen)
        assert offer.values()["status"] == IncidentStatus.RESOLVED.value
        assert "has been resolved" in offer.query_one("#field-body", TextArea).text
        await pilot.press("escape")
        await home(pilot, app)
        await until(
            pilot, lambda: any("nothing sent" in n for n in notifications(app)), "nothing sent"
        )
        assert store.current_incident() is None
        resolved = store.get_incident(incident.id)
        assert resolved is not None and resolved.status is IncidentStatus.RESOLVED
        assert EventKind.RESOLVED in kinds(runtime, incident.id)
        # it stays on the panel, with its timeline, until closed (x, confirmed)
        await pilot.press("2")
        await until(pilot, lambda: "x Close" in screen_text(app).splitlines()[-1], "x Close")
        assert any("heap!" in r for r in row_texts(app, "incident"))
        await pilot.press("x")
        await modal(pilot, app, FormScreen)
        assert "NOT told it is resolved" in screen_text(app)
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: "No open incident" in screen_text(app), "No open incident")


async def test_customer_update_reaches_the_status_page(app: CockpitApp, runtime: Runtime) -> None:
    world = runtime.demo.world
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        # without an incident, u says what to do first (never a silent no-op)
        await pilot.press("u")
        await until(pilot, lambda: "declare an incident first (i)" in notifications(app))
        assert app.screen is app.default_screen
        await runtime_declare(pilot, app)
        incident = runtime.store.current_incident()
        assert incident is not None
        await until(pilot, lambda: "u Update" in screen_text(app).splitlines()[-1])

        # the form, then escape: nothing queued, nothing posted
        await pilot.press("u")
        dialog = await modal(pilot, app, FormScreen)
        body = dialog.query_one("#field-body", TextArea)
        assert "We are investigating" in body.text
        assert "Customers" not in screen_text(app)
        await pilot.press("escape")
        await home(pilot, app)
        # the form, then the confirmation, cancelled with n
        await pilot.press("u")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Post this update" in screen_text(app) and app.screen.armed)
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"
        assert "Customers will see exactly this" in screen_text(app)
        await pilot.press("n")
        await home(pilot, app)
        await settle(pilot)
        assert world.status_updates == []
        assert EventKind.CUSTOMER_UPDATE not in kinds(runtime, incident.id)

        # form -> confirmation -> y -> outbox -> the demo status page
        await pilot.press("u")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Post this update" in screen_text(app) and app.screen.armed)
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: len(world.status_updates) == 1, "the status page")
        _remote, update = world.status_updates[0]
        assert update.incident_id == incident.id
        assert update.status is IncidentStatus.INVESTIGATING
        assert update.body.startswith("We are investigating")
        events = runtime.store.timeline(incident.id)
        await until(
            pilot,
            lambda: any(
                e.summary.startswith("Customer update sent")
                for e in runtime.store.timeline(incident.id)
            ),
            what="the sent event",
        )
        events = runtime.store.timeline(incident.id)
        assert sum(1 for e in events if e.kind is EventKind.CUSTOMER_UPDATE) == 2  # queued, sent
        await until(pilot, lambda: any("UPD" in r for r in row_texts(app, "incident")), "UPD")
        assert "next update by" in screen_text(app)  # the summary line (it wraps)
        await settle(pilot, 0.5)
        assert len(world.status_updates) == 1  # sent once


async def runtime_declare(pilot: object, app: CockpitApp) -> None:
    await declare(pilot, app)
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    await home(pilot, app)  # type: ignore[arg-type]


async def test_escalate_pages_once(app: CockpitApp, runtime: Runtime) -> None:
    world = runtime.demo.world
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await runtime_declare(pilot, app)
        incident = runtime.store.current_incident()
        assert incident is not None
        await pilot.press("1")
        selected = app.panel("alerts").selected()
        assert selected is not None and selected.team == "payments"

        # e: team prefilled from the alert's team label, Cancel focused; escape cancels
        await pilot.press("e")
        dialog = await modal(pilot, app, FormScreen)
        assert dialog.query_one("#field-team", Input).value == "payments"
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"
        await pilot.press("escape")
        await home(pilot, app)
        await settle(pilot)
        assert world.pages == {}

        for _ in range(2):  # pressing it twice pages once
            await pilot.press("e")
            await modal(pilot, app, FormScreen)
            await pilot.press("y")
            await home(pilot, app)
            await until(pilot, lambda: len(world.pages) == 1, "the page")
        await until(
            pilot,
            lambda: any(
                e.summary.startswith("Escalation sent") for e in runtime.store.timeline(incident.id)
            ),
        )
        await settle(pilot, 0.5)
        assert list(world.pages) == [f"{incident.id}:payments"]
        await until(pilot, lambda: any("PAGE" in r for r in row_texts(app, "incident")))


async def test_command_palette_runs_an_action(app: CockpitApp, runtime: Runtime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen is not app.default_screen, "palette")
        await pilot.press(*"a note")
        await until(pilot, lambda: "Add a note to the incident timeline" in screen_text(app))
        await pilot.press("enter")
        await modal(pilot, app, FormScreen)
        await pilot.press(*"via ^p")
        await pilot.press("ctrl+s")
        await home(pilot, app)
        notes = [e for e in runtime.store.timeline(None) if e.kind is EventKind.NOTE]
        assert [n.summary for n in notes] == ["via ^p"]
        await until(pilot, lambda: table(app, "incident").row_count == 1)

        # a panel's action from the palette runs on that panel's selected row
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen is not app.default_screen, "palette")
        await pilot.press(*"ackno")
        await until(pilot, lambda: "Acknowledge the selected" in screen_text(app))
        await pilot.press("enter")
        await modal(pilot, app, FormScreen)
        assert "Acknowledge CheckoutLatencyHigh?" in screen_text(app)
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: len(runtime.demo.world.silences) == 1, "the ack")


async def test_q_quits(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the app to exit")
    assert app.return_code == 0
