"""Flows without a screen: a fake Cockpit whose dialogs answer from a script, the real
action layer behind it (see tests/flows/fake.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cockpit.domain import (
    Alert,
    AlertGroup,
    EventKind,
    PodHealth,
    RestartMode,
    RestartPlan,
    Severity,
)
from cockpit.ui import context
from cockpit.ui.flows import alerts, incident, pods
from cockpit.ui.screens.forms import FormScreen
from tests.flows.fake import FakeCockpit, RecordingAlerts, RecordingCluster, fake_cockpit

STARTED = datetime(2026, 11, 25, 2, 40, tzinfo=UTC)


def group() -> AlertGroup:
    labels = {"alertname": "CheckoutErrors", "service": "checkout", "severity": "critical"}
    return AlertGroup(
        key="{}:{alertname=CheckoutErrors}",
        labels={"alertname": "CheckoutErrors"},
        alerts=(
            Alert("f1", labels, {"summary": "5xx on checkout"}, "critical", starts_at=STARTED),
        ),
    )


def pod() -> PodHealth:
    return PodHealth(
        "payments", "payments-api-7d4b9c-x2k9q", "0/1", "CrashLoopBackOff", 7, STARTED, STARTED,
        node="node-a", owner_kind="ReplicaSet", owner_name="payments-api-7d4b9c",
    )  # fmt: skip


def events(cockpit: FakeCockpit, kind: EventKind) -> list[object]:
    return [e for e in cockpit.actions.store.timeline(None) if e.kind is kind]


def dialog_text(cockpit: FakeCockpit) -> str:
    """Title and body of the last dialog, as the engineer reads them."""
    dialog = cockpit.dialogs[-1]
    assert isinstance(dialog, FormScreen)
    return f"{dialog.title_text}\n{getattr(dialog.body, 'plain', dialog.body)}"


def test_the_fake_has_every_member_of_the_protocol() -> None:
    """A member added to Cockpit must be added to the fake too, or flow tests lie."""
    members = {n for n in vars(context.Cockpit) if not n.startswith("_")}
    cockpit = fake_cockpit()
    assert members and all(hasattr(cockpit, n) for n in members), members


# ---------------------------------------------------------------------------- ack


async def test_ack_creates_one_silence_and_one_timeline_event() -> None:
    source = RecordingAlerts()
    cockpit = fake_cockpit({"duration": "30m", "note": "looking at it"}, alerts=source)

    await alerts.ack(cockpit, group())

    text = dialog_text(cockpit)
    assert "Acknowledge CheckoutErrors?" in text
    assert "alertname='CheckoutErrors'" in text  # the matchers the silence will have
    assert len(source.acks) == 1
    ack = source.acks[0]
    assert ack["duration"] == timedelta(minutes=30)
    assert ack["author"] == cockpit.actions.actor
    assert "looking at it" in ack["comment"]
    (event,) = events(cockpit, EventKind.ACK)
    assert event.details["matchers"]["alertname"] == "CheckoutErrors"  # type: ignore[attr-defined]
    assert [r.ok for r in cockpit.reports] == [True]
    assert cockpit.polled == ["alerts"]  # the panel shows the ack at once, not next poll


async def test_ack_cancelled_changes_nothing() -> None:
    source = RecordingAlerts()
    cockpit = fake_cockpit(None, alerts=source)

    await alerts.ack(cockpit, group())

    assert len(cockpit.dialogs) == 1
    assert source.acks == []
    assert events(cockpit, EventKind.ACK) == []
    assert cockpit.reports == []


# ---------------------------------------------------------------------------- restart


async def test_restart_asks_with_the_plan_and_restarts_once_with_the_chosen_mode() -> None:
    plan = RestartPlan(
        pod(),
        (RestartMode.DELETE_POD, RestartMode.ROLLOUT),
        workload_kind="Deployment",
        workload_name="payments-api",
    )
    cluster = RecordingCluster(plan)
    cockpit = fake_cockpit({"mode": RestartMode.ROLLOUT.value}, cluster=cluster)

    await pods.restart(cockpit, pod())

    dialog = cockpit.dialogs[-1]
    assert isinstance(dialog, FormScreen)
    assert dialog.title_text == "Restart payments/payments-api-7d4b9c-x2k9q?"
    (mode_field,) = dialog.fields
    assert mode_field.value == RestartMode.DELETE_POD.value  # the preselected, gentler one
    labels = [label for label, _ in mode_field.options]
    assert labels[0].startswith("Delete only pod payments-api-7d4b9c-x2k9q")
    assert labels[1].startswith("Rollout restart Deployment payments-api")
    assert cluster.restarts == [("payments/payments-api-7d4b9c-x2k9q", RestartMode.ROLLOUT)]
    (event,) = events(cockpit, EventKind.RESTART)
    assert event.details["mode"] == RestartMode.ROLLOUT.value  # type: ignore[attr-defined]
    assert [r.ok for r in cockpit.reports] == [True]
    assert cockpit.acted == ["pods"]  # the cursor stays where the restarted pod was


async def test_restart_preselects_the_rollout_when_two_pods_of_the_workload_are_unhealthy() -> None:
    from dataclasses import replace

    plan = RestartPlan(
        pod(),
        (RestartMode.DELETE_POD, RestartMode.ROLLOUT),
        workload_kind="Deployment",
        workload_name="payments-api",
    )
    cockpit = fake_cockpit(None, cluster=RecordingCluster(plan))
    crashing = replace(pod(), healthy=False)
    sibling = replace(crashing, name="payments-api-7d4b9c-ct8wt", status="OOMKilled")
    healthy = replace(pod(), name="payments-api-7d4b9c-aaaaa", status="Running", ready="1/1")
    cockpit.live.pods = {p.key: p for p in (crashing, sibling, healthy)}

    await pods.restart(cockpit, pod())

    (mode_field,) = cockpit.dialogs[-1].fields  # type: ignore[attr-defined]
    assert mode_field.value == RestartMode.ROLLOUT.value
    assert "2 pods of payments-api are unhealthy" in dialog_text(cockpit)
    # one unhealthy pod: deleting it is the gentler fix
    cockpit = fake_cockpit(None, cluster=RecordingCluster(plan))
    cockpit.live.pods = {p.key: p for p in (crashing, healthy)}
    await pods.restart(cockpit, pod())
    (mode_field,) = cockpit.dialogs[-1].fields  # type: ignore[attr-defined]
    assert mode_field.value == RestartMode.DELETE_POD.value


async def test_restart_refused_by_the_plan_shows_why_and_asks_nothing() -> None:
    plan = RestartPlan(pod(), (), refusal="Deployment payments-api is paused: resume it first")
    cluster = RecordingCluster(plan)
    cockpit = fake_cockpit(cluster=cluster)

    await pods.restart(cockpit, pod())

    assert cockpit.dialogs == []
    assert cluster.restarts == []
    assert cockpit.notifications == [
        ("error", "Deployment payments-api is paused: resume it first")
    ]
    assert events(cockpit, EventKind.RESTART) == []


async def test_restart_cancelled_changes_nothing() -> None:
    cluster = RecordingCluster()
    cockpit = fake_cockpit(None, cluster=cluster)

    await pods.restart(cockpit, pod())

    assert len(cockpit.dialogs) == 1
    assert cluster.restarts == []
    assert events(cockpit, EventKind.RESTART) == []


# ---------------------------------------------------------------------------- declare


async def test_declare_is_prefilled_from_the_selected_group_and_opens_one_incident() -> None:
    cockpit = fake_cockpit({"title": "Checkout 5xx", "severity": "SEV1", "commander": ""})

    await incident.declare(cockpit, group())

    dialog = cockpit.dialogs[-1]
    assert isinstance(dialog, FormScreen)
    prefilled = {f.name: f.value for f in dialog.fields}
    assert prefilled["title"] == "5xx on checkout"  # the firing alert's summary
    assert prefilled["severity"] == "SEV1"  # critical
    assert prefilled["commander"] == cockpit.actions.actor
    opened = cockpit.actions.current_incident()
    assert opened is not None and opened.title == "Checkout 5xx"
    assert [e.kind for e in cockpit.actions.store.timeline(opened.id)].count(
        EventKind.DECLARED
    ) == 1


async def test_declare_while_one_is_open_says_it_stays_open_and_opens_a_second() -> None:
    cockpit = fake_cockpit(
        {"title": "Payments 5xx", "customer_title": "Payments", "severity": "SEV2", "commander": ""}
    )
    await cockpit.actions.declare("Already", Severity.SEV2)
    (first,) = cockpit.actions.active_incidents()

    await incident.declare(cockpit, group())

    dialog = cockpit.dialogs[-1]
    assert isinstance(dialog, FormScreen)
    assert f"{first.id} stays open too" in str(dialog.body)
    assert [i.title for i in cockpit.actions.active_incidents()] == ["Already", "Payments 5xx"]
