"""kubectl's READY / STATUS / RESTARTS / AGE words, table-driven on raw pod JSON.

Every expected value is what `kubectl get pods` prints for that pod (printPod in
kubernetes pkg/printers/internalversion/printers.go, duration.HumanDuration).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cockpit.backends.podstatus import kubectl_age, pod_detail, pod_health, restarts_text

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def ts(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def running(ready: bool = True, restarts: int = 0, last_exit: dict[str, Any] | None = None,
            name: str = "app") -> dict[str, Any]:  # fmt: skip
    status: dict[str, Any] = {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": ts(timedelta(minutes=1))}},
    }
    if last_exit:
        status["lastState"] = {"terminated": last_exit}
    return status


def waiting(
    reason: str, restarts: int = 0, name: str = "app", last: dict[str, Any] | None = None
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, "message": "..."}},
    }
    if last:
        status["lastState"] = {"terminated": last}
    return status


def terminated(name: str = "app", exit_code: int = 0, reason: str = "", signal: int = 0,
               restarts: int = 0) -> dict[str, Any]:  # fmt: skip
    term: dict[str, Any] = {"exitCode": exit_code, "finishedAt": ts(timedelta(minutes=2))}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"terminated": term}}


def pod(
    containers: list[dict[str, Any]] | None = None,
    *,
    names: tuple[str, ...] = ("app",),
    init: list[dict[str, Any]] | None = None,
    init_specs: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    reason: str = "",
    conditions: dict[str, str] | None = None,
    condition_reasons: dict[str, str] | None = None,
    deleting: bool = False,
    owner: tuple[str, str] | None = ("ReplicaSet", "web-7d4b9c"),
) -> dict[str, Any]:
    conds = conditions if conditions is not None else {"Ready": "True", "Initialized": "True"}
    meta: dict[str, Any] = {
        "name": "web-7d4b9c-x2x9q",
        "namespace": "payments",
        "uid": "0b1c-uid",
        "creationTimestamp": ts(timedelta(hours=3)),
        "labels": {"app": "web"},
    }
    if owner:
        meta["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "Other", "name": "not-controller"},
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True},
        ]
    if deleting:
        meta["deletionTimestamp"] = ts(timedelta(seconds=10))
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [
            {
                "type": t,
                "status": s,
                **(
                    {"reason": (condition_reasons or {})[t]}
                    if t in (condition_reasons or {})
                    else {}
                ),
            }
            for t, s in conds.items()
        ],
        "containerStatuses": containers if containers is not None else [running()],
    }
    if reason:
        status["reason"] = reason
    if init is not None:
        status["initContainerStatuses"] = init
    spec: dict[str, Any] = {
        "nodeName": "node-a",
        "containers": [{"name": n, "image": f"registry/{n}:1"} for n in names],
    }
    if init_specs is not None:
        spec["initContainers"] = init_specs
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


INIT2 = [{"name": "migrate", "image": "m:1"}, {"name": "warm", "image": "w:1"}]
SIDECAR = [{"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}]
ONE_MIN = timedelta(minutes=1)

# (id, raw pod, READY, STATUS, RESTARTS as printed, healthy)
CASES: list[tuple[str, dict[str, Any], str, str, str, bool]] = [
    ("running", pod(), "1/1", "Running", "0", True),
    (
        "running-two-one-ready",
        pod([running(name="app"), running(ready=False, name="log")], names=("app", "log")),
        "1/2",
        "Running",
        "0",
        False,
    ),
    (
        "crashloop-with-restarts",
        pod(
            [
                waiting(
                    "CrashLoopBackOff",
                    7,
                    last={"exitCode": 1, "reason": "Error", "finishedAt": ts(timedelta(minutes=5))},
                )
            ],
            conditions={"Ready": "False"},
        ),
        "0/1",
        "CrashLoopBackOff",
        "7 (5m ago)",
        False,
    ),
    (
        "image-pull-backoff",
        pod([waiting("ImagePullBackOff")]),
        "0/1",
        "ImagePullBackOff",
        "0",
        False,
    ),
    ("err-image-pull", pod([waiting("ErrImagePull")]), "0/1", "ErrImagePull", "0", False),
    (
        "create-container-config-error",
        pod([waiting("CreateContainerConfigError")]),
        "0/1",
        "CreateContainerConfigError",
        "0",
        False,
    ),
    (
        "container-creating",
        pod([waiting("ContainerCreating")], phase="Pending"),
        "0/1",
        "ContainerCreating",
        "0",
        False,
    ),
    (
        "oom-killed",
        pod([terminated(exit_code=137, reason="OOMKilled")]),
        "0/1",
        "OOMKilled",
        "0",
        False,
    ),
    (
        "error",
        pod([terminated(exit_code=1, reason="Error")], phase="Failed"),
        "0/1",
        "Error",
        "0",
        False,
    ),
    (
        "completed-job-pod",
        pod([terminated(reason="Completed")], phase="Succeeded", owner=("Job", "nightly")),
        "0/1",
        "Completed",
        "0",
        True,
    ),
    ("signal-no-reason", pod([terminated(exit_code=137, signal=9)]), "0/1", "Signal:9", "0", False),
    ("exit-code-no-reason", pod([terminated(exit_code=3)]), "0/1", "ExitCode:3", "0", False),
    (
        "first-container-reason-wins",
        pod(
            [waiting("CrashLoopBackOff", name="app"), waiting("ImagePullBackOff", name="log")],
            names=("app", "log"),
        ),
        "0/2",
        "CrashLoopBackOff",
        "0",
        False,
    ),
    (
        "completed-but-running-ready",
        pod(
            [terminated(reason="Completed", name="app"), running(name="log")], names=("app", "log")
        ),
        "1/2",
        "Running",
        "0",
        False,
    ),
    (
        "completed-but-running-not-ready",
        pod(
            [terminated(reason="Completed", name="app"), running(name="log")],
            names=("app", "log"),
            conditions={"Ready": "False", "Initialized": "True"},
        ),
        "1/2",
        "NotReady",
        "0",
        False,
    ),
    (
        "init-crashloop",
        pod(
            [waiting("PodInitializing")],
            init=[waiting("CrashLoopBackOff", 4, name="migrate")],
            init_specs=INIT2,
            phase="Pending",
            conditions={"Initialized": "False", "Ready": "False"},
        ),
        "0/1",
        "Init:CrashLoopBackOff",
        "4",
        False,
    ),
    (
        "init-1-of-2",
        pod(
            [waiting("PodInitializing")],
            init=[terminated(name="migrate"), running(ready=False, name="warm")],
            init_specs=INIT2,
            phase="Pending",
            conditions={"Initialized": "False"},
        ),
        "0/1",
        "Init:1/2",
        "0",
        False,
    ),
    (
        "init-exit-code",
        pod(
            [waiting("PodInitializing")],
            init=[terminated(name="migrate", exit_code=1)],
            init_specs=INIT2,
            phase="Pending",
            conditions={"Initialized": "False"},
        ),
        "0/1",
        "Init:ExitCode:1",
        "0",
        False,
    ),
    (
        "init-signal",
        pod(
            [waiting("PodInitializing")],
            init=[terminated(name="migrate", exit_code=137, signal=9)],
            init_specs=INIT2,
            phase="Pending",
            conditions={"Initialized": "False"},
        ),
        "0/1",
        "Init:Signal:9",
        "0",
        False,
    ),
    (
        "init-error-reason",
        pod(
            [waiting("PodInitializing")],
            init=[terminated(name="migrate", exit_code=2, reason="Error")],
            init_specs=INIT2,
            phase="Pending",
            conditions={"Initialized": "False"},
        ),
        "0/1",
        "Init:Error",
        "0",
        False,
    ),
    (
        "init-done-app-running",
        pod(
            init=[terminated(name="migrate", restarts=2), terminated(name="warm")],
            init_specs=INIT2,
        ),
        "1/1",
        "Running",
        "0",  # once initialized, kubectl counts only app (and sidecar) restarts
        True,
    ),
    (
        "sidecar-counted-in-ready-and-restarts",
        pod(
            [running(restarts=1, last_exit={"exitCode": 1, "finishedAt": ts(timedelta(hours=2))})],
            init=[
                running(
                    name="proxy",
                    restarts=2,
                    last_exit={"exitCode": 1, "finishedAt": ts(timedelta(minutes=3))},
                )
            ],
            init_specs=SIDECAR,
        ),
        "2/2",
        "Running",
        "3 (3m ago)",
        True,
    ),
    (
        "sidecar-not-ready",
        pod([running()], init=[running(name="proxy", ready=False)], init_specs=SIDECAR),
        "1/2",
        "Running",
        "0",
        False,
    ),
    ("terminating", pod(deleting=True), "1/1", "Terminating", "0", False),
    (
        "terminating-succeeded-stays-completed",
        pod([terminated(reason="Completed")], phase="Succeeded", deleting=True),
        "0/1",
        "Completed",
        "0",
        True,
    ),
    ("node-lost", pod(reason="NodeLost", deleting=True), "1/1", "Unknown", "0", False),
    ("evicted", pod([], phase="Failed", reason="Evicted"), "0/1", "Evicted", "0", False),
    (
        "scheduling-gated",
        pod(
            [],
            phase="Pending",
            conditions={"PodScheduled": "False"},
            condition_reasons={"PodScheduled": "SchedulingGated"},
        ),
        "0/1",
        "SchedulingGated",
        "0",
        False,
    ),
    ("pending-unscheduled", pod([], phase="Pending", conditions={}), "0/1", "Pending", "0", False),
]


@pytest.mark.parametrize(
    ("raw", "ready", "status", "restarts", "healthy"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_pod_health_matches_kubectl(
    raw: dict[str, Any], ready: str, status: str, restarts: str, healthy: bool
) -> None:
    health = pod_health(raw, NOW)
    assert (health.ready, health.status, restarts_text(health, NOW), health.healthy) == (
        ready,
        status,
        restarts,
        healthy,
    )


def test_pod_health_identity_owner_node_and_containers() -> None:
    health = pod_health(pod([running(name="app"), running(name="log")], names=("app", "log")), NOW)
    assert health.key == "payments/web-7d4b9c-x2x9q"
    assert (health.owner_kind, health.owner_name) == ("ReplicaSet", "web-7d4b9c")
    assert health.node == "node-a"
    assert health.containers == ("app", "log")
    assert health.uid == "0b1c-uid"
    assert health.created_at == NOW - timedelta(hours=3)
    assert pod_health(pod(owner=None), NOW).owner_kind == ""


def test_last_restart_is_the_latest_termination() -> None:
    raw = pod(
        [
            running(name="a", restarts=1, last_exit={"finishedAt": ts(timedelta(hours=1))}),
            running(name="b", restarts=1, last_exit={"finishedAt": ts(timedelta(minutes=4))}),
        ],
        names=("a", "b"),
    )
    health = pod_health(raw, NOW)
    assert health.last_restart == NOW - timedelta(minutes=4)
    assert restarts_text(health, NOW) == "2 (4m ago)"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-1), "0s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(seconds=120), "2m"),
        (timedelta(seconds=200), "3m20s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=10, seconds=30), "10m"),
        (timedelta(minutes=179), "179m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=4, minutes=12), "4h12m"),
        (timedelta(hours=8, minutes=30), "8h"),
        (timedelta(hours=47), "47h"),
        (timedelta(days=2), "2d"),
        (timedelta(days=3, hours=4), "3d4h"),
        (timedelta(days=8), "8d"),
        (timedelta(days=45), "45d"),
        (timedelta(days=729), "729d"),
        (timedelta(days=730), "2y"),
        (timedelta(days=733), "2y3d"),
        (timedelta(days=365 * 9 + 20), "9y"),
    ],
)
def test_kubectl_age(delta: timedelta, text: str) -> None:
    assert kubectl_age(delta) == text


def test_pod_detail_containers_and_events() -> None:
    raw = pod(
        [
            waiting(
                "CrashLoopBackOff",
                7,
                last={"exitCode": 137, "reason": "OOMKilled", "finishedAt": ts(ONE_MIN)},
            ),
        ],
        init=[terminated(name="migrate"), terminated(name="warm")],
        init_specs=INIT2,
    )
    events: list[dict[str, Any]] = [
        {
            "type": "Warning",
            "reason": "BackOff",
            "message": "Back-off restarting\nfailed container",
            "lastTimestamp": ts(timedelta(minutes=2)),
            "count": 3,
        },
        {
            "type": "Normal",
            "reason": "Pulled",
            "message": "Container image pulled",
            "lastTimestamp": ts(timedelta(minutes=30)),
        },
    ]
    detail = pod_detail(raw, events, NOW)
    names = [(c.name, c.init) for c in detail.containers]
    assert names == [("migrate", True), ("warm", True), ("app", False)]
    app = detail.containers[-1]
    assert app.state == "waiting: CrashLoopBackOff"
    assert (app.last_termination_reason, app.last_exit_code, app.restarts) == ("OOMKilled", 137, 7)
    assert app.image == "registry/app:1"
    assert detail.containers[0].state == "terminated: ExitCode:0"
    assert detail.events == (
        "30m ago  Normal  Pulled  Container image pulled",
        "2m ago  Warning  BackOff  Back-off restarting failed container (x3)",
    )
    assert detail.labels == {"app": "web"}
    assert detail.pod.status == "CrashLoopBackOff"
