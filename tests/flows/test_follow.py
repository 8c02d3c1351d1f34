"""The follow and runbook flows without a screen (a fake Cockpit, the real action layer):
what `f` narrows to and focuses, f again, a group naming nothing, the restart that `r`
preselects while following, and `o` handing the runbook screen its checked steps."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from cockpit.config import RunbooksConfig
from cockpit.domain import (
    Alert,
    AlertGroup,
    EventKind,
    PodHealth,
    QueueDepth,
    RestartMode,
    RestartPlan,
    frozen_map,
)
from cockpit.runbooks import RunbookLibrary
from cockpit.ui.flows import alerts, pods
from cockpit.ui.screens.forms import FormScreen
from cockpit.ui.screens.runbook import RunbookScreen
from tests.flows.fake import FakeCockpit, RecordingCluster, fake_cockpit

RS = ("ReplicaSet", "payments-api-7d4b9c")
OWNERS = (RS, ("Deployment", "payments-api"))


def pod(name: str, status: str = "CrashLoopBackOff") -> PodHealth:
    return PodHealth(
        "payments", name, "0/1", status, 3, None, None, owner_kind=RS[0], owner_name=RS[1],
        healthy=status == "Running", owners=OWNERS, apps=("payments-api",),
    )  # fmt: skip


CRASHING = pod("payments-api-7d4b9c-x2k9q")
OTHER = pod("payments-api-7d4b9c-m4n8p")
HEALTHY = pod("payments-api-7d4b9c-z7w3r", "Running")


def group(name: str, *label_sets: dict[str, str]) -> AlertGroup:
    return AlertGroup(
        key=f"{{}}:{{alertname={name}}}",
        labels=frozen_map({"alertname": name}),
        alerts=tuple(
            Alert(str(i), frozen_map({"alertname": name, **labels}))
            for i, labels in enumerate(label_sets)
        ),
    )


def cockpit_with_pods(*answers: object, cluster: RecordingCluster | None = None) -> FakeCockpit:
    cockpit = fake_cockpit(*answers, cluster=cluster)
    cockpit.live.pods = {p.key: p for p in (CRASHING, OTHER, HEALTHY)}
    cockpit.live.queues = [
        QueueDepth("/", "orders", 4000, 0, 0),
        QueueDepth("/", "emails", 0, 0, 2),
    ]
    return cockpit


async def test_f_narrows_and_focuses_the_pods_f_again_widens() -> None:
    cockpit = cockpit_with_pods()
    crash = group("KubePodCrashLooping", {"namespace": "payments", "pod": CRASHING.name})
    await alerts.follow(cockpit, crash)
    assert cockpit.following is not None and cockpit.following.key == crash.key
    assert cockpit.following.narrows_pods and not cockpit.following.narrows_queues
    assert cockpit.focused == ["pods"]
    await alerts.follow(cockpit, crash)  # the same group again
    assert cockpit.following is None


async def test_a_queue_only_alert_focuses_the_queues() -> None:
    cockpit = cockpit_with_pods()
    await alerts.follow(cockpit, group("Backlog", {"queue": "orders", "vhost": "/"}))
    assert cockpit.following is not None
    assert cockpit.following.narrows_queues and not cockpit.following.narrows_pods
    assert cockpit.focused == ["queues"]
    await alerts.unfollow(cockpit)
    assert cockpit.following is None


async def test_a_group_naming_nothing_says_so_once_and_follows_nothing() -> None:
    cockpit = cockpit_with_pods()
    await alerts.follow(cockpit, group("DiskSpaceLow", {"instance": "node-1"}))
    assert cockpit.following is None and cockpit.focused == []
    ((severity, message),) = cockpit.notifications
    assert severity == "warning"
    assert message.startswith("DiskSpaceLow names no pod or queue")


async def test_r_preselects_the_rollout_when_the_alert_is_about_the_workload() -> None:
    plan = RestartPlan(
        CRASHING,
        (RestartMode.DELETE_POD, RestartMode.ROLLOUT),
        workload_kind="Deployment",
        workload_name="payments-api",
    )
    about_one_pod = group("PodDown", {"namespace": "payments", "pod": CRASHING.name})
    about_the_workload = group("ApiDown", {"namespace": "payments", "deployment": "payments-api"})
    for followed, expected in (
        # nothing followed: 2 of payments-api's 3 pods crash, the workload is broken
        (None, RestartMode.ROLLOUT),
        (about_one_pod, RestartMode.DELETE_POD),
        (about_the_workload, RestartMode.ROLLOUT),
    ):
        cockpit = cockpit_with_pods(None, cluster=RecordingCluster(plan))
        if followed is not None:
            await alerts.follow(cockpit, followed)
        await pods.restart(cockpit, CRASHING)
        dialog = cockpit.dialogs[-1]
        assert isinstance(dialog, FormScreen)
        (mode,) = dialog.fields
        assert mode.value == expected.value, followed


async def test_the_detail_lists_what_the_group_names() -> None:
    cockpit = cockpit_with_pods()
    await alerts.detail(
        cockpit, group("ApiDown", {"namespace": "payments", "service": "payments-api"})
    )
    (screen,) = cockpit.screens
    console = Console(width=120, record=True)
    console.print(screen.body)  # type: ignore[attr-defined]
    text = console.export_text()
    assert "2/3 pods of payments/payments-api CrashLoopBackOff (1 Running)" in text
    assert "matched by service=payments/payments-api" in text


async def test_o_hands_the_screen_the_steps_done_and_a_recorder(tmp_path: Path) -> None:
    (tmp_path / "ApiDown.md").write_text("- [ ] look\n- [ ] restart\n")
    cockpit = cockpit_with_pods()
    cockpit.runtime.runbooks = RunbookLibrary(RunbooksConfig(directory=str(tmp_path)))
    down = group("ApiDown", {"namespace": "payments"})
    await alerts.runbook(cockpit, down)
    (screen,) = cockpit.screens
    assert isinstance(screen, RunbookScreen) and screen.runbook is not None
    assert screen.done == {}
    assert screen.on_check is not None
    first = screen.runbook.steps[0]
    assert (await screen.on_check(first)).details["recorded"] is True
    assert (await screen.on_check(first)).details["recorded"] is False  # once
    events = [e for e in cockpit.actions.store.timeline(None) if e.kind is EventKind.RUNBOOK_STEP]
    assert [e.summary for e in events] == ["runbook step: look"]
    await alerts.runbook(cockpit, down)  # opened again: the step shows as done
    assert set(cockpit.screens[-1].done) == {"look"}  # type: ignore[attr-defined]
