"""The `b` flow without a screen: what the form is prefilled with, what the confirmation
names, and the one ticket it puts in the outbox (tests/flows/fake.py)."""

from __future__ import annotations

from cockpit.actions import Actions
from cockpit.backends.demo.jira import DemoJira
from cockpit.domain import Severity
from cockpit.incident.outbox import TICKET, Outbox
from cockpit.ui.flows import tickets
from cockpit.ui.screens.forms import FormScreen
from tests.flows.fake import FakeCockpit, fake_cockpit


def with_jira(*answers: object) -> FakeCockpit:
    cockpit = fake_cockpit(*answers)
    store = cockpit.runtime.store
    cockpit.runtime.tracker = DemoJira(cockpit.clock)
    cockpit.runtime.outbox = Outbox(store)  # type: ignore[arg-type]
    cockpit.actions = Actions(
        store=store,
        identity=cockpit.config.identity,
        clock=cockpit.clock,
        live=cockpit.live,
        outbox=cockpit.runtime.outbox,
        tracker=cockpit.runtime.tracker,
    )
    return cockpit


def fields(dialog: object) -> dict[str, str]:
    assert isinstance(dialog, FormScreen)
    return {f.name: f.value for f in dialog.fields}


async def test_no_incident_asks_nothing() -> None:
    cockpit = with_jira()
    await tickets.file_ticket(cockpit)
    assert cockpit.dialogs == []
    assert "declare one first" in cockpit.notifications[-1][1]


async def test_prefilled_then_one_ticket_queued_as_confirmed() -> None:
    edited = {
        "summary": "  payments-api   OOM after 1.4.2 ",
        "project": "chk",
        "priority": "High",
        "description": "## What happened\nOOM",
    }
    cockpit = with_jira(edited, {})
    await cockpit.actions.declare("Checkout errors", Severity.SEV2)
    (incident,) = cockpit.actions.store.incidents()

    await tickets.file_ticket(cockpit)

    form, sure = cockpit.dialogs
    prefilled = fields(form)
    assert prefilled["summary"] == "Checkout errors"
    assert prefilled["project"] == "SHOP"  # the demo's default: the incident has no team
    assert prefilled["priority"] == "High"  # SEV2
    assert prefilled["description"].startswith("## What happened\nCheckout errors. SEV2")
    assert isinstance(sure, FormScreen)
    assert sure.title_text == "File a Bug in Jira project CHK?"
    (item,) = [i for i in cockpit.actions.outbox.items(incident.id) if i.kind == TICKET]  # type: ignore[union-attr]
    assert (item.payload["summary"], item.payload["project"], item.payload["priority"]) == (
        "payments-api OOM after 1.4.2",
        "CHK",
        "High",
    )
    assert item.payload["description"] == "## What happened\nOOM"
    assert item.idempotency_key == f"ticket:{incident.id}:1"
    assert [r.ok for r in cockpit.reports] == [True]


async def test_cancelled_at_the_confirmation_queues_nothing_and_bad_fields_are_named() -> None:
    cockpit = with_jira({"summary": "x", "project": "PAY", "priority": "(none)",
                         "description": ""}, None)  # fmt: skip
    await cockpit.actions.declare("Checkout errors", Severity.SEV1)
    await tickets.file_ticket(cockpit)
    assert cockpit.actions.outbox.pending() == []  # type: ignore[union-attr]
    form = cockpit.dialogs[0]
    assert isinstance(form, FormScreen) and form.validate_fn is not None
    assert form.validate_fn({"summary": " ", "project": "PAY"}).startswith("summary:")
    assert form.validate_fn({"summary": "s", "project": " "}).startswith("project:")
    assert form.validate_fn({"summary": "s" * 300, "project": "PAY"}).startswith(
        "summary: at most 255"
    )
