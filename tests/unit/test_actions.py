"""The action layer: timeline, shift log, read-only, failures that change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cockpit.actions import Actions
from cockpit.backends.demo import build_demo
from cockpit.clock import FrozenClock
from cockpit.config import Identity
from cockpit.domain import EventKind, IncidentStatus, PodEventType, RestartMode, Severity
from cockpit.incident.store import SQLiteStore
from cockpit.live import LiveState


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def record(self, actor, action, target, outcome, ids=None, detail=""):  # type: ignore[no-untyped-def]
        self.lines.append((action, target, outcome))


@pytest.fixture
def world(clock: FrozenClock):  # type: ignore[no-untyped-def]
    demo = build_demo(clock, poll=0.01)
    clock.advance(70)  # the scripted incident is under way
    return demo


def make_actions(world, clock: FrozenClock, *, read_only: bool = False) -> tuple[Actions, Recorder]:  # type: ignore[no-untyped-def]
    audit = Recorder()
    actions = Actions(
        store=SQLiteStore(":memory:"),
        identity=Identity("alice"),
        clock=clock,
        live=LiveState(),
        alerts=world.alerts,
        cluster=world.cluster,
        broker=world.broker,
        statuspage=world.statuspage,
        pager=world.pager,
        audit=audit,
        read_only=read_only,
    )
    return actions, audit


async def test_actions_before_an_incident_go_to_the_shift_log_and_join_it_when_declared(
    world, clock: FrozenClock
) -> None:
    actions, audit = make_actions(world, clock)
    groups = await world.alerts.groups()
    critical = min(groups, key=lambda g: g.severity_rank)
    result = await actions.ack(critical, timedelta(hours=1), "looking")
    assert result.ok and result.ids["silence_id"]
    shift = actions.store.timeline(None)
    assert [e.kind for e in shift] == [EventKind.ACK]
    assert shift[0].details["ids"]["silence_id"] == result.ids["silence_id"]
    assert "evidence" in shift[0].details
    clock.advance(60)
    declared = await actions.declare("Checkout slow", Severity.SEV1)
    assert declared.ok
    incident_id = declared.ids["incident"]
    kinds = [e.kind for e in actions.store.timeline(incident_id)]
    assert kinds == [EventKind.DECLARED, EventKind.ACK]  # newest first, the ack adopted
    assert actions.store.timeline(None) == []
    assert ("ack", critical.name, "attempt") in audit.lines
    assert ("ack", critical.name, "ok") in audit.lines


async def test_ack_comment_names_the_open_incident(world, clock: FrozenClock) -> None:
    actions, _ = make_actions(world, clock)
    await actions.declare("Checkout slow", Severity.SEV2)
    assert actions.ack_comment("on it") == "ACK! on it (incident INC-2026-0001)"


async def test_read_only_refuses_every_write_and_records_the_refusal(
    world, clock: FrozenClock
) -> None:
    actions, audit = make_actions(world, clock, read_only=True)
    groups = await world.alerts.groups()
    assert not (await actions.ack(groups[0], timedelta(hours=1))).ok
    assert not (await actions.declare("x", Severity.SEV3)).ok
    assert not (await actions.note("x")).ok
    events = [e async for e in _first(world.cluster.watch())]
    pod = events[0].pods[0]
    assert not (await actions.restart(pod, RestartMode.DELETE_POD)).ok
    assert not (await actions.set_status(IncidentStatus.RESOLVED)).ok
    assert all(g.ack is None for g in await world.alerts.groups())  # the world is unchanged
    assert actions.store.incidents() == []
    assert {line[2] for line in audit.lines} == {"refused"}


async def _first(stream):  # type: ignore[no-untyped-def]
    async for event in stream:
        if event.type is PodEventType.SYNC:
            yield event
            return


async def test_a_failing_backend_changes_nothing_and_says_why(world, clock: FrozenClock) -> None:
    actions, audit = make_actions(world, clock)
    groups = await world.alerts.groups()
    world.world.fail("alerts", "connection refused")
    result = await actions.ack(groups[0], timedelta(hours=1))
    assert not result.ok
    assert "connection refused" in result.message
    assert actions.store.timeline(None) == []
    assert audit.lines[-1][2] == "failed"


async def test_incident_lifecycle_to_resolved(world, clock: FrozenClock) -> None:
    actions, _ = make_actions(world, clock)
    await actions.declare("Orders backlog", Severity.SEV2, commander="bob")
    for status in (IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING):
        assert (await actions.set_status(status)).ok
    assert (await actions.set_severity(Severity.SEV1)).ok
    clock.advance(600)
    assert (await actions.set_status(IncidentStatus.RESOLVED)).ok
    assert actions.current_incident() is None
    incident = actions.store.incidents()[0]
    assert incident.resolved_at == clock.now()
    assert incident.severity is Severity.SEV1 and incident.commander == "bob"
    kinds = [e.kind for e in actions.store.timeline(incident.id)]
    assert kinds[0] is EventKind.RESOLVED and kinds[-1] is EventKind.DECLARED
    # a second incident can be declared once the first is resolved
    assert (await actions.declare("Next", Severity.SEV4)).ok


async def test_declaring_from_an_alert_owns_its_team_service_and_start(
    world, clock: FrozenClock
) -> None:
    actions, _ = make_actions(world, clock)
    groups = await world.alerts.groups()
    checkout = next(g for g in groups if g.name == "CheckoutLatencyHigh")
    result = await actions.declare(
        "Checkout latency", Severity.SEV1, group=checkout, customer_title="Payments are slow"
    )
    incident = actions.store.get_incident(result.ids["incident"])
    assert incident is not None
    assert (incident.team, incident.service) == ("payments", "checkout-api")
    assert incident.customer_title == "Payments are slow"
    assert incident.alert_group == checkout.key
    assert incident.detected_at == checkout.started_at and incident.detected_at < clock.now()


async def test_several_incidents_each_action_goes_to_the_selected_one(
    world, clock: FrozenClock
) -> None:
    actions, _ = make_actions(world, clock)
    first = (await actions.declare("Checkout latency", Severity.SEV1)).ids["incident"]
    second = (await actions.declare("Orders backlog", Severity.SEV2)).ids["incident"]
    assert [i.id for i in actions.active_incidents()] == [first, second]
    assert actions.selected_incident().id == second  # type: ignore[union-attr]
    assert actions.select_next(1).id == first  # type: ignore[union-attr]
    await actions.note("payments-api OOM")
    assert (await actions.set_severity(Severity.SEV2)).ok
    assert actions.store.timeline(first)[0].summary == f"{first} severity: SEV2"
    assert actions.store.timeline(first)[1].summary == "payments-api OOM"
    assert [e.kind for e in actions.store.timeline(second)] == [EventKind.DECLARED]
    assert actions.select_next(1).id == second  # wraps around  # type: ignore[union-attr]


async def test_owner_is_editable_and_never_empty(world, clock: FrozenClock) -> None:
    actions, _ = make_actions(world, clock)
    await actions.declare("Checkout latency", Severity.SEV1, team="payments")
    refused = await actions.set_owner("  ", "checkout-api")
    assert not refused.ok and "needs a team" in refused.message
    assert (await actions.set_owner("checkout", "checkout-api")).ok
    incident = actions.selected_incident()
    assert incident is not None and (incident.team, incident.service) == (
        "checkout",
        "checkout-api",
    )
    assert actions.store.timeline(incident.id)[0].kind is EventKind.OWNER


async def test_resolved_incident_still_takes_its_customer_update_until_closed(
    world, clock: FrozenClock
) -> None:
    actions, _ = make_actions(world, clock)
    incident_id = (
        await actions.declare("x", Severity.SEV1, customer_title="Problems with Checkout")
    ).ids["incident"]
    update = actions.customer_update_for(
        IncidentStatus.INVESTIGATING, "We are on it.", next_update_in=timedelta(minutes=30)
    )
    assert update is not None and update.title == "Problems with Checkout"
    assert update.body == "We are on it.\n\nNext update by 03:31 UTC."
    assert (await actions.customer_update(update)).ok
    incident = actions.store.get_incident(incident_id)
    assert incident is not None and incident.next_update_due == clock.now() + timedelta(minutes=30)
    clock.advance(600)
    assert (await actions.set_status(IncidentStatus.RESOLVED)).ok
    assert actions.current_incident() is None  # new acks go to the shift log
    assert actions.selected_incident().id == incident_id  # type: ignore[union-attr]
    final = actions.customer_update_for(
        IncidentStatus.RESOLVED, "Fixed.", next_update_in=timedelta(minutes=30)
    )
    assert final is not None and final.body == "Fixed." and final.next_update_due is None
    assert (await actions.customer_update(final)).ok
    event = actions.store.timeline(incident_id)[0]
    assert event.details["promised_by"] == "2026-11-25T03:31:10+00:00"
    assert (await actions.close_incident()).ok
    assert actions.selected_incident() is None and actions.active_incidents() == []


async def test_several_teams_paged_each_on_the_timeline_with_a_reason(
    world, clock: FrozenClock
) -> None:
    actions, _ = make_actions(world, clock)
    incident_id = (await actions.declare("x", Severity.SEV1)).ids["incident"]
    for team, reason in (("payments", "bug"), ("database", "no access")):
        assert (await actions.escalate(actions.escalation_for(team, reason=reason))).ok
    pages = [e for e in actions.store.timeline(incident_id) if e.kind is EventKind.ESCALATION]
    assert sorted((e.details["team"], e.details["reason"]) for e in pages) == [
        ("database", "no access"),
        ("payments", "bug"),
    ]
