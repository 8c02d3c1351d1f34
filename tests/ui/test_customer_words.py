"""Issue 13 on the demo world: what customers and paged teams are told is right.

Each test reproduces one reported defect through the keys: `e` with the cursor on
Watchdog still pages the incident's team; the update form's message follows the chosen
status until edited, and an edited form cancelled says so; `u` works after resolving;
the static page carries customer words and the next update, never an alert name.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import Input, Select, TextArea

from cockpit.backends.statuspage import StaticStatusPage
from cockpit.clock import FrozenClock
from cockpit.domain import EventKind, IncidentStatus
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from tests.pilot import until
from tests.ui.conftest import (
    home,
    make_runtime,
    modal,
    notifications,
    ready,
    row_texts,
    screen_text,
    select_row,
    settle,
    table,
)


async def confirmation(pilot: object, app: CockpitApp) -> None:
    """The "Post this update?" confirmation, on screen and taking keys."""
    await until(
        pilot,  # type: ignore[arg-type]
        lambda: "Post this update" in screen_text(app) and getattr(app.screen, "armed", False),
        "the confirmation",
    )


async def declare_from_checkout(pilot: object, app: CockpitApp) -> str:
    select_row(app, "alerts", "CheckoutLatencyHigh")
    await pilot.press("i")  # type: ignore[attr-defined]
    dialog = await modal(pilot, app, FormScreen)  # type: ignore[arg-type]
    # the customer-facing title comes from [statuspage.services], never from the alert
    assert dialog.query_one("#field-customer_title", Input).value == "Problems with Checkout"
    assert dialog.query_one("#field-team", Input).value == "payments"
    assert dialog.query_one("#field-service", Input).value == "checkout-api"
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    await home(pilot, app)  # type: ignore[arg-type]
    incident = app.actions.selected_incident()
    assert incident is not None
    return incident.id


async def test_e_pages_the_incidents_team_with_the_cursor_on_watchdog(
    app: CockpitApp, runtime: Runtime
) -> None:
    world = runtime.demo.world
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        incident_id = await declare_from_checkout(pilot, app)
        select_row(app, "alerts", "Watchdog")
        assert app.panel("alerts").selected().team == "platform"

        await pilot.press("e")
        dialog = await modal(pilot, app, FormScreen)
        team = dialog.query_one("#field-team", Input)
        assert team.value == "payments"  # the incident's team, not the selected row's
        assert "Pages: pager, team payments" in screen_text(app)
        # an empty team is refused with a message; nothing is paged
        team.value = ""
        await pilot.press("y")
        await until(
            pilot, lambda: "name the team to page" in screen_text(app), "name the team to page"
        )
        assert isinstance(app.screen, FormScreen)
        # typing a team and pressing enter twice lands on Cancel: and it says so
        team.focus()
        await pilot.press(*"payments", "enter", "enter")
        await home(pilot, app)
        await until(
            pilot,
            lambda: any("nobody was paged" in n for n in notifications(app)),
            "nobody was paged",
        )
        assert world.pages == {}

        # y pages payments; a second team (with a reason) is paged separately, both on the
        # timeline
        await pilot.press("e")
        await modal(pilot, app, FormScreen)
        await pilot.press("y")
        await home(pilot, app)
        await pilot.press("e")
        dialog = await modal(pilot, app, FormScreen)
        assert "Already paged for " + incident_id + ": payments" in screen_text(app)
        dialog.query_one("#field-team", Input).value = "database"
        dialog.query_one("#field-reason", Select).value = "no access"
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: len(world.pages) == 2, "two pages")
        assert sorted(world.pages) == [f"{incident_id}:database", f"{incident_id}:payments"]
        pages = [
            e
            for e in runtime.store.timeline(incident_id)
            if e.kind is EventKind.ESCALATION and e.source == "cockpit"
        ]
        assert sorted(e.details["team"] for e in pages) == ["database", "payments"]
        assert {e.details["reason"] for e in pages} == {"", "no access"}


async def test_update_message_follows_the_status_until_edited(
    app: CockpitApp, runtime: Runtime
) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        await declare_from_checkout(pilot, app)
        await pilot.press("u")
        dialog = await modal(pilot, app, FormScreen)
        body = dialog.query_one("#field-body", TextArea)
        assert body.text.startswith("We are investigating reports of problems with Checkout.")
        for internal in ("CheckoutLatencyHigh", "checkout-api", "4.2s", "p99"):
            assert internal not in body.text
        assert dialog.query_one("#field-next", Input).value == "30"
        assert "Next update by 03:31 UTC." in screen_text(app)  # the preview

        # switching the status switches the message
        dialog.query_one("#field-status", Select).value = IncidentStatus.RESOLVED.value
        await until(
            pilot,
            lambda: body.text.startswith("This incident has been resolved"),
            "This incident has been resolved",
        )
        assert "Next update by" not in screen_text(app)  # no promise once resolved
        dialog.query_one("#field-status", Select).value = IncidentStatus.IDENTIFIED.value
        await until(
            pilot,
            lambda: body.text.startswith("We have identified the cause"),
            "We have identified the cause",
        )

        # once edited, the engineer's words stay; the preview warns on internal words
        body.focus()
        await pilot.press("end", *" CheckoutLatencyHigh p99")
        dialog.query_one("#field-status", Select).value = IncidentStatus.MONITORING.value
        await settle(pilot)
        assert body.text.startswith("We have identified the cause")
        text = screen_text(app)
        assert "internal name or label value 'CheckoutLatencyHigh'" in text
        assert "raw figure 'p99'" in text

        # an edited form cancelled says so, and nothing was sent
        await pilot.press("escape")
        await home(pilot, app)
        await until(
            pilot, lambda: any("cancelled: nothing sent" in n for n in notifications(app)), "toast"
        )
        assert runtime.demo.world.status_updates == []


async def test_u_after_resolving_tells_customers_and_the_incident_stays(
    app: CockpitApp, runtime: Runtime
) -> None:
    world = runtime.demo.world
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        incident_id = await declare_from_checkout(pilot, app)
        await pilot.press("n")
        await modal(pilot, app, FormScreen)
        await pilot.press(*"rolled back payments-api")
        await pilot.press("ctrl+s")
        await home(pilot, app)
        await pilot.press("2", "s")
        dialog = await modal(pilot, app, FormScreen)
        await pilot.press("4")  # (x) 4 resolved
        assert dialog.values()["status"] == IncidentStatus.RESOLVED.value
        await pilot.press("ctrl+s")
        # the resolved customer update is offered in the same flow
        offer = await modal(pilot, app, FormScreen)
        assert "is resolved: tell customers" in screen_text(app)
        assert offer.query_one("#field-body", TextArea).text.startswith(
            "This incident has been resolved: Checkout"
        )
        await pilot.press("escape")
        await home(pilot, app)
        # u still works on the resolved incident, whose timeline stays on the panel
        assert any("rolled back payments-api" in r for r in row_texts(app, "incident"))
        await pilot.press("u")
        dialog = await modal(pilot, app, FormScreen)
        assert dialog.values()["status"] == IncidentStatus.RESOLVED.value
        await pilot.press("ctrl+s")
        await confirmation(pilot, app)
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: len(world.status_updates) == 1, "the update")
        _remote, update = world.status_updates[0]
        assert update.status is IncidentStatus.RESOLVED and update.title == "Problems with Checkout"
        assert update.next_update_due is None and "Next update" not in update.body
        assert app.actions.selected_incident().id == incident_id  # until closed


async def test_static_page_shows_each_incident_in_customer_words_with_next_update(
    clock: FrozenClock, tmp_path: Path
) -> None:
    runtime = make_runtime(clock)
    runtime.statuspage = StaticStatusPage(
        runtime.config.statuspage, directory=tmp_path / "page", clock=clock
    )
    app = CockpitApp(runtime)
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        first = await declare_from_checkout(pilot, app)
        clock.advance(30)  # the invoice worker starts failing at t+90s
        await until(
            pilot,
            lambda: any("InvoiceConsumerErrors" in k for k in table(app, "alerts").row_keys()),
            what="InvoiceConsumerErrors",
        )
        select_row(app, "alerts", "InvoiceConsumerErrors")
        await pilot.press("i")
        dialog = await modal(pilot, app, FormScreen)
        assert dialog.query_one("#field-customer_title", Input).value == "Problems with Invoicing"
        await pilot.press("ctrl+s")
        await home(pilot, app)
        second = app.actions.selected_incident().id
        assert second != first
        for incident_id in (second, first):
            app.actions.select(incident_id)
            await pilot.press("u")
            await modal(pilot, app, FormScreen)
            await pilot.press("ctrl+s")
            await confirmation(pilot, app)
            await pilot.press("y")
            await home(pilot, app)
        index = tmp_path / "page" / "index.html"
        await until(
            pilot,
            lambda: index.exists() and first in index.read_text() and second in index.read_text(),
            what="both incidents on the static page",
        )
        html = index.read_text()
        assert "Problems with Checkout" in html and "Problems with Invoicing" in html
        assert html.count("Next update by") == 1  # SEV1 promises one; the SEV3 no cadence
        # no internal alert name or label value reaches customers
        allowed = {w.lower() for w in runtime.config.statuspage.services.values()}
        allowed |= {c.lower() for c in runtime.config.statuspage.components}
        for group in app.live.groups:
            assert group.name not in html, group.name
            for alert in group.alerts:
                for name, value in alert.labels.items():
                    if name == "severity" or len(value) < 4 or value.lower() in allowed:
                        continue
                    assert value not in html, (name, value)
        assert "Checkout p99" not in html and "4.2s" not in html


async def test_due_update_rings_once_and_brackets_switch_incidents(
    app: CockpitApp, runtime: Runtime, clock: FrozenClock
) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        first = await declare_from_checkout(pilot, app)
        await pilot.press("u")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await confirmation(pilot, app)
        await pilot.press("y")
        await home(pilot, app)
        await until(
            pilot, lambda: "next update 03:" in screen_text(app).splitlines()[0], "next update 03:"
        )
        clock.advance(timedelta(minutes=31))
        await until(
            pilot, lambda: "UPDATE OVERDUE" in screen_text(app).splitlines()[0], "UPDATE OVERDUE"
        )
        await until(
            pilot,
            lambda: any("customer update due" in n for n in notifications(app)),
            "customer update due",
        )
        await settle(pilot, 2.5)  # a few ticks: the reminder came once
        assert sum("customer update due" in n for n in notifications(app)) == 1

        # a second incident; ] and [ switch, and a note goes to the selected one
        select_row(app, "alerts", "RabbitMQQueueBacklog")
        await pilot.press("i")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await home(pilot, app)
        second = app.actions.selected_incident().id
        await pilot.press("2", "right_square_bracket")
        await until(
            pilot, lambda: app.actions.selected_incident().id == first, "the selected incident"
        )
        await until(pilot, lambda: f"{first} 1 of 2" in screen_text(app), "1 of 2")
        await pilot.press("n")
        await modal(pilot, app, FormScreen)
        await pilot.press(*"for the first")
        await pilot.press("ctrl+s")
        await home(pilot, app)
        assert runtime.store.timeline(first)[0].summary == "for the first"
        assert all(e.summary != "for the first" for e in runtime.store.timeline(second))
        await pilot.press("left_square_bracket")
        await until(
            pilot, lambda: app.actions.selected_incident().id == second, "the selected incident"
        )
