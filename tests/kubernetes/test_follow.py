"""From a firing alert to its pods, end to end: real alerts in a real Alertmanager, pods in
kmock's Kubernetes emulator, the cockpit built from a config naming both, keys pressed
through Pilot. Each matching rule narrows the pods panel to exactly the pods it names;
escape widens it; `f` then `r y` rollout-restarts the Deployment the alert is about."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest
from textual.pilot import Pilot

from cockpit.domain import RestartMode
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from tests.alertmanager.server import AlertmanagerServer, alertmanager_available
from tests.pilot import CockpitFactory, bound_idle_wait, until
from tests.screen import screen_text

from .conftest import DEPLOYMENTS, PODS, REPLICASETS, raw_pod, write_kubeconfig

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not alertmanager_available(), reason="prometheus-alertmanager missing"),
]

RS = "payments-api-7d4b9c"
CRASHING = f"{RS}-x2k9q"
PAYMENTS = {CRASHING, f"{RS}-m4n8p", f"{RS}-z7w3r"}


def pod(
    name: str,
    namespace: str,
    owner: tuple[str, str] | None,
    labels: dict[str, str],
    *,
    crash: bool = False,
) -> dict[str, Any]:
    raw = raw_pod(name, namespace, owner=owner, crash=crash, restarts=5 if crash else 0)
    raw["metadata"]["labels"] = labels
    return raw


WORLD = [
    *(
        pod(
            name,
            "payments",
            ("ReplicaSet", RS),
            {"app.kubernetes.io/name": "payments-api", "pod-template-hash": "7d4b9c"},
            crash=name == CRASHING,
        )
        for name in sorted(PAYMENTS)
    ),
    # a look-alike next to it, and the same Deployment name in another namespace
    pod(
        "payments-api-canary-5c4b3a-qqqqq",
        "payments",
        ("ReplicaSet", "payments-api-canary-5c4b3a"),
        {"app": "payments-api-canary", "pod-template-hash": "5c4b3a"},
    ),
    pod(
        "payments-api-9f8e7d-sssss",
        "staging",
        ("ReplicaSet", "payments-api-9f8e7d"),
        {"app.kubernetes.io/name": "payments-api", "pod-template-hash": "9f8e7d"},
    ),
    pod("reports-worker-0", "batch", ("StatefulSet", "reports-worker"), {"app": "reports"}),
    pod("reports-worker-1", "batch", ("StatefulSet", "reports-worker"), {"app": "reports"}),
    pod("node-exporter-abcde", "platform", ("DaemonSet", "node-exporter"), {}),
    pod(
        "nightly-report-29401260-wxyz1",
        "orders",
        ("Job", "nightly-report-29401260"),
        {"job-name": "nightly-report-29401260"},
    ),
    pod(
        "web-6c5d4e-ccccc",
        "checkout",
        ("ReplicaSet", "web-6c5d4e"),
        {"app": "checkout-web", "pod-template-hash": "6c5d4e"},
    ),
    pod("debug-shell", "platform", None, {}),
]
ALL = {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in WORLD}

# alertname -> (labels naming the objects, the pod keys `f` must show: exactly these)
RULES: dict[str, tuple[dict[str, str], set[str]]] = {
    "PodRule": ({"namespace": "payments", "pod": CRASHING}, {f"payments/{CRASHING}"}),
    "DeploymentRule": (
        {"namespace": "payments", "deployment": "payments-api"},
        {f"payments/{n}" for n in PAYMENTS},
    ),
    "ReplicaSetRule": (
        {"namespace": "payments", "replicaset": RS},
        {f"payments/{n}" for n in PAYMENTS},
    ),
    "StatefulSetRule": (
        {"namespace": "batch", "statefulset": "reports-worker"},
        {"batch/reports-worker-0", "batch/reports-worker-1"},
    ),
    "DaemonSetRule": (
        {"namespace": "platform", "daemonset": "node-exporter"},
        {"platform/node-exporter-abcde"},
    ),
    "JobRule": (
        {"namespace": "orders", "job": "nightly-report-29401260"},
        {"orders/nightly-report-29401260-wxyz1"},
    ),
    "CronJobRule": (
        {"namespace": "orders", "cronjob": "nightly-report"},
        {"orders/nightly-report-29401260-wxyz1"},
    ),
    "ServiceRule": (
        {"namespace": "payments", "service": "payments-api"},
        {f"payments/{n}" for n in PAYMENTS},
    ),
    "AppRule": ({"namespace": "checkout", "app": "checkout-web"}, {"checkout/web-6c5d4e-ccccc"}),
    "AppNameRule": (
        {"app_kubernetes_io_name": "payments-api"},  # no namespace: every namespace
        {f"payments/{n}" for n in PAYMENTS} | {"staging/payments-api-9f8e7d-sssss"},
    ),
    "ContainerRule": (
        {"namespace": "payments", "container": "payments-api-canary"},
        {"payments/payments-api-canary-5c4b3a-qqqqq"},
    ),
}


@pytest.fixture(autouse=True)
def _bounded_idle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    bound_idle_wait(monkeypatch)


@pytest.fixture
def am(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    server = AlertmanagerServer(tmp_path / "am", group_by=("alertname",)).start()
    yield server
    server.stop()


def seed(emulator: Any, am: AlertmanagerServer) -> None:
    emulator.objects[DEPLOYMENTS, "payments", "payments-api"] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "payments-api", "namespace": "payments"},
        "spec": {},
    }
    emulator.objects[REPLICASETS, "payments", RS] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": RS,
            "namespace": "payments",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "payments-api",
                 "controller": True}
            ],
        },
    }  # fmt: skip
    for raw in WORLD:
        meta = raw["metadata"]
        emulator.objects[PODS, meta["namespace"], meta["name"]] = raw
    alerts = [
        {"labels": {"alertname": name, "severity": "warning", **labels}}
        for name, (labels, _) in RULES.items()
    ]
    alerts.append({"labels": {"alertname": "NothingRule", "instance": "10.0.0.9:9100"}})
    am.post_alerts(alerts)
    am.wait_for_alerts(len(alerts))


@pytest.fixture
def cockpit(
    emulator: Any,
    am: AlertmanagerServer,
    cockpit_factory: CockpitFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> CockpitApp:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    seed(emulator, am)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", str(emulator.url).rstrip("/"))
    return cockpit_factory(
        {
            "kubernetes": {"kubeconfig": str(kubeconfig), "timeout": "2s"},
            "alertmanager": {"url": am.url, "poll_interval": "1s"},
        }
    )


def pod_rows(app: CockpitApp) -> set[str]:
    return set(app.panel("pods").table.row_keys())


def group_key(app: CockpitApp, name: str) -> str:
    return next(g.key for g in app.live.groups if g.name == name)


async def loaded(pilot: Pilot[Any], app: CockpitApp) -> None:
    await until(pilot, lambda: pod_rows(app) == ALL, "every pod in the panel")
    await until(pilot, lambda: len(app.live.groups) == len(RULES) + 1, "every alert group")


async def follow_group(pilot: Pilot[Any], app: CockpitApp, name: str) -> None:
    await pilot.press("1")
    table = app.panel("alerts").table
    await until(pilot, lambda: table.select_key(group_key(app, name)), f"{name} selected")
    await pilot.press("f")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_each_rule_narrows_the_pods_to_exactly_what_it_names(
    cockpit: CockpitApp, size: tuple[int, int]
) -> None:
    async with cockpit.run_test(size=size) as pilot:
        await loaded(pilot, cockpit)
        for name, (_labels, expected) in RULES.items():
            await follow_group(pilot, cockpit, name)
            await until(pilot, lambda e=expected: pod_rows(cockpit) == e, f"{name}: {expected}")
            table = cockpit.panel("pods").table
            await until(pilot, lambda t=table: cockpit.focused is t, f"{name}: pods focused")
            count = f"{len(expected)} pod" + ("s" if len(expected) > 1 else "")
            headline = f"following {name}: {count}"
            if size[0] >= 200:
                assert headline in screen_text(cockpit)  # whole on a wide border
            else:
                assert headline[:20] in screen_text(cockpit)
            await pilot.press("escape")
            await until(pilot, lambda: pod_rows(cockpit) == ALL, f"{name}: escape widens")
            assert "following" not in screen_text(cockpit)


async def test_f_again_widens_and_nothing_named_says_so(cockpit: CockpitApp) -> None:
    async with cockpit.run_test(size=(200, 50)) as pilot:
        await loaded(pilot, cockpit)
        await follow_group(pilot, cockpit, "StatefulSetRule")
        await until(pilot, lambda: len(pod_rows(cockpit)) == 2, "two reports-worker pods")
        await follow_group(pilot, cockpit, "StatefulSetRule")  # f on the same group again
        await until(pilot, lambda: pod_rows(cockpit) == ALL, "f again widens")
        await follow_group(pilot, cockpit, "NothingRule")
        line = await until(
            pilot,
            lambda: next(
                (str(n.message) for n in cockpit._notifications if "NothingRule" in str(n.message)),
                None,
            ),
            "one line saying the group names nothing",
        )
        assert line.startswith("NothingRule names no pod or queue")
        assert "\n" not in line
        assert pod_rows(cockpit) == ALL  # nothing narrowed


async def test_f_then_r_y_rollout_restarts_the_deployment_it_names(
    emulator: Any, cockpit: CockpitApp
) -> None:
    async with cockpit.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, cockpit)
        await follow_group(pilot, cockpit, "DeploymentRule")
        await until(pilot, lambda: len(pod_rows(cockpit)) == 3, "the three payments-api pods")
        pods_table = cockpit.panel("pods").table
        await until(pilot, lambda: cockpit.focused is pods_table, "the pods take the focus")
        await pilot.press("r")
        dialog = await until(
            pilot,
            lambda: cockpit.screen if isinstance(cockpit.screen, FormScreen) else None,
            "the restart confirmation",
        )
        # the alert is about the Deployment: its rollout restart is what `y` confirms
        mode = await until(pilot, lambda: dialog.values()["mode"], "the mode field")
        assert mode == RestartMode.ROLLOUT.value
        await until(
            pilot,
            lambda: "rollout restart is preselected" in " ".join(screen_text(cockpit).split()),
            "the confirmation says why the rollout is preselected",
        )
        await until(pilot, lambda: dialog.armed, "the confirmation takes keys")
        await pilot.press("y")
        patches = await until(
            pilot,
            lambda: [r for r in list(emulator) if r.method == kmock.method.PATCH],
            "the PATCH of the Deployment",
        )
        assert [str(p.url.path) for p in patches] == [
            "/apis/apps/v1/namespaces/payments/deployments/payments-api"
        ]
        annotations = json.loads(patches[0].body)["spec"]["template"]["metadata"]["annotations"]
        assert "kubectl.kubernetes.io/restartedAt" in annotations
        assert not [r for r in list(emulator) if r.method == kmock.method.DELETE]


async def test_the_alert_detail_shows_what_it_names_with_status(cockpit: CockpitApp) -> None:
    async with cockpit.run_test(size=(200, 50)) as pilot:
        await loaded(pilot, cockpit)
        await pilot.press("1")
        table = cockpit.panel("alerts").table
        await until(
            pilot, lambda: table.select_key(group_key(cockpit, "DeploymentRule")), "selected"
        )
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                "1/3 pods of payments/payments-api CrashLoopBackOff (2 Running)"
                in screen_text(cockpit)
            ),
            "the matched pods with their status in the detail",
        )
