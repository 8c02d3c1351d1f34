"""The same restart twice within a minute, from two seats: the second asks with who did it."""

from __future__ import annotations

from datetime import timedelta

from cockpit.domain import EventKind, RestartMode, RestartPlan, TimelineEvent
from cockpit.ui.flows import pods
from tests.flows.fake import RecordingCluster, fake_cockpit
from tests.flows.test_flows import dialog_text, pod


def bobs_rollout(at: object) -> TimelineEvent:
    """What bob's cockpit wrote on the shared timeline when he rolled the workload out."""
    return TimelineEvent(
        at,  # type: ignore[arg-type]
        EventKind.RESTART,
        "kubernetes",
        "bob",
        "rollout restart of payments-api",
        {"workload": "payments/payments-api", "mode": RestartMode.ROLLOUT.value},
    )


def plan() -> RestartPlan:
    return RestartPlan(
        pod(), (RestartMode.DELETE_POD, RestartMode.ROLLOUT), "Deployment", "payments-api"
    )


async def test_a_restart_just_done_by_another_seat_is_named_in_the_confirmation() -> None:
    cockpit = fake_cockpit(None, cluster=RecordingCluster(plan()))  # the engineer cancels
    now = cockpit.actions.clock.now()
    cockpit.actions.store.add_event(bobs_rollout(now - timedelta(seconds=20)))

    await pods.restart(cockpit, pod())

    assert "ALREADY DONE: bob rolled out payments-api 20 s ago" in dialog_text(cockpit)


async def test_a_restart_more_than_a_minute_ago_is_not_mentioned() -> None:
    cockpit = fake_cockpit(None, cluster=RecordingCluster(plan()))
    now = cockpit.actions.clock.now()
    cockpit.actions.store.add_event(bobs_rollout(now - timedelta(seconds=61)))

    await pods.restart(cockpit, pod())

    assert "ALREADY DONE" not in dialog_text(cockpit)


async def test_my_own_restart_a_moment_ago_is_mentioned_too() -> None:
    cluster = RecordingCluster(plan())
    cockpit = fake_cockpit({"mode": RestartMode.DELETE_POD.value}, None, cluster=cluster)
    await pods.restart(cockpit, pod())
    await pods.restart(cockpit, pod())
    assert "ALREADY DONE: you restarted pod payments/payments-api-7d4b9c-x2k9q 0 s ago" in (
        dialog_text(cockpit)
    )
    assert len(cluster.restarts) == 1  # the second was cancelled
