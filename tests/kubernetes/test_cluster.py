"""KubernetesCluster on the official client over real HTTP against kmock's emulator."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import kmock
import pytest

from cockpit.backends.base import (
    AuthError,
    BadResponse,
    Cluster,
    Forbidden,
    NotFound,
    Unreachable,
)
from cockpit.backends.kubernetes import KubeconfigError, KubernetesCluster
from cockpit.clock import FrozenClock
from cockpit.config import KubernetesConfig
from cockpit.domain import PodEvent, PodEventType, PodHealth, RestartMode

from .conftest import (
    DEPLOYMENTS,
    EVENTS,
    PODS,
    REPLICASETS,
    STATEFULSETS,
    next_event,
    raw_pod,
    stamp,
    write_kubeconfig,
)

pytestmark = pytest.mark.server


def seed(emulator: Any, *pods: dict[str, Any]) -> None:
    for pod in pods:
        meta = pod["metadata"]
        emulator.objects[PODS, meta["namespace"], meta["name"]] = pod


def seed_deployment(emulator: Any, name: str = "web", *, paused: bool = False) -> None:
    emulator.objects[REPLICASETS, "payments", f"{name}-7d4b9c"] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-7d4b9c",
            "namespace": "payments",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "controller": True}
            ],
        },
    }
    emulator.objects[DEPLOYMENTS, "payments", name] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "payments"},
        "spec": {"paused": paused, "template": {"metadata": {"labels": {"app": name}}}},
    }


def health_of(cluster_pod: PodHealth) -> tuple[str, str, str, int]:
    return (cluster_pod.key, cluster_pod.ready, cluster_pod.status, cluster_pod.restarts)


async def events_until(
    stream: AsyncIterator[PodEvent], done: Any, timeout: float = 15.0
) -> list[PodEvent]:
    """Collect events until done(events) is true (the emulator replays ADDED on each watch)."""
    seen: list[PodEvent] = []
    deadline = time.monotonic() + timeout
    while not done(seen):
        seen.append(await next_event(stream, max(deadline - time.monotonic(), 0.1)))
    return seen


def test_is_a_cluster(cluster: KubernetesCluster) -> None:
    assert isinstance(cluster, Cluster)
    assert cluster.name == "pods"


async def test_list_gives_kubectl_rows(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(
        emulator,
        raw_pod("web-7d4b9c-aaaaa"),
        raw_pod("web-7d4b9c-bbbbb", crash=True, restarts=7),
        raw_pod("worker-0", "batch", owner=("StatefulSet", "worker")),
    )
    pods = sorted(await cluster.pods(), key=lambda p: p.key)
    assert [health_of(p) for p in pods] == [
        ("batch/worker-0", "1/1", "Running", 0),
        ("payments/web-7d4b9c-aaaaa", "1/1", "Running", 0),
        ("payments/web-7d4b9c-bbbbb", "0/1", "CrashLoopBackOff", 7),
    ]
    assert pods[2].owner_kind == "ReplicaSet" and not pods[2].healthy


async def test_watch_sync_then_added_modified_deleted(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    stream = cluster.watch()
    try:
        first = await next_event(stream)
        assert first.type is PodEventType.SYNC
        assert [p.key for p in first.pods] == ["payments/web-7d4b9c-aaaaa"]
        # wait until the watch is open (the emulator replays existing pods as ADDED)
        await events_until(stream, lambda seen: len(seen) >= 1)

        base = "/api/v1/namespaces/payments/pods"
        await emulator.post(base, json=raw_pod("web-7d4b9c-ccccc"))
        added = await events_until(stream, lambda seen: seen and seen[-1].type == "ADDED")
        assert added[-1].pods[0].key == "payments/web-7d4b9c-ccccc"

        crashing = raw_pod("web-7d4b9c-ccccc", crash=True, restarts=3)
        await emulator.patch(f"{base}/web-7d4b9c-ccccc", json={"status": crashing["status"]})
        modified = await events_until(stream, lambda seen: seen and seen[-1].type == "MODIFIED")
        assert health_of(modified[-1].pods[0]) == (
            "payments/web-7d4b9c-ccccc",
            "0/1",
            "CrashLoopBackOff",
            3,
        )

        await emulator.delete(f"{base}/web-7d4b9c-aaaaa")
        deleted = await events_until(stream, lambda seen: seen and seen[-1].type == "DELETED")
        assert deleted[-1].pods[0].key == "payments/web-7d4b9c-aaaaa"
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_watch_per_namespace_merges_and_filters(
    emulator: Any, kubeconfig: Path, clock: FrozenClock
) -> None:
    seed(
        emulator,
        raw_pod("web-7d4b9c-aaaaa", "payments"),
        raw_pod("api-1", "checkout"),
        raw_pod("noise-1", "kube-system"),
    )
    config = KubernetesConfig(
        kubeconfig=str(kubeconfig),
        namespaces=("payments", "checkout"),
        timeout=timedelta(seconds=3),
    )
    cluster = KubernetesCluster(config, clock=clock, watch_timeout=30)
    stream = cluster.watch()
    try:
        first = await next_event(stream)
        assert first.type is PodEventType.SYNC
        assert sorted(p.key for p in first.pods) == ["checkout/api-1", "payments/web-7d4b9c-aaaaa"]
        lists = [r for r in list(emulator) if r.action == kmock.action.LIST]
        assert sorted(r.namespace for r in lists) == ["checkout", "payments"]
        replayed = await events_until(stream, lambda seen: len(seen) >= 2)
        assert sorted(e.pods[0].key for e in replayed) == [
            "checkout/api-1",
            "payments/web-7d4b9c-aaaaa",
        ]
        watches = [r for r in list(emulator) if r.action == kmock.action.WATCH]
        assert sorted(r.namespace for r in watches) == ["checkout", "payments"]
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        await cluster.close()


async def test_watch_error_410_relists_with_a_new_sync(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    gone = {
        "type": "ERROR",
        "object": {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": "too old resource version: 100 (200)",
            "reason": "Expired",
            "code": 410,
        },
    }
    served: list[int] = []

    def first_watch_is_gone(request: Any) -> Any:
        served.append(1)
        return gone if len(served) == 1 else None  # None: fall back to the emulator

    emulator[kmock.action.WATCH, PODS] << first_watch_is_gone
    stream = cluster.watch()
    try:
        assert (await next_event(stream)).type is PodEventType.SYNC
        emulator.objects[PODS, "payments", "web-7d4b9c-zzzzz"] = raw_pod("web-7d4b9c-zzzzz")
        second = await next_event(stream)
        assert second.type is PodEventType.SYNC
        assert sorted(p.name for p in second.pods) == ["web-7d4b9c-aaaaa", "web-7d4b9c-zzzzz"]
        lists = [r for r in list(emulator) if r.action == kmock.action.LIST]
        assert len(lists) == 2
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_watch_http_410_relists(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    served: list[int] = []

    def first_watch_is_gone(request: Any) -> Any:
        served.append(1)
        if len(served) == 1:
            return kmock.Response(status=410, payload={"kind": "Status", "code": 410})
        return None

    emulator[kmock.action.WATCH, PODS] << first_watch_is_gone
    stream = cluster.watch()
    try:
        assert (await next_event(stream)).type is PodEventType.SYNC
        assert (await next_event(stream)).type is PodEventType.SYNC
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_bookmark_moves_the_resource_version(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    """After a stream ends, the watch resumes from the last BOOKMARK's resourceVersion."""
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    bookmark = {
        "type": "BOOKMARK",
        "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "4242"}},
    }
    served: list[int] = []

    def first_watch_bookmarks(request: Any) -> Any:
        served.append(1)
        return bookmark if len(served) == 1 else None

    emulator[kmock.action.WATCH, PODS] << first_watch_bookmarks
    stream = cluster.watch()
    try:
        assert (await next_event(stream)).type is PodEventType.SYNC
        await events_until(stream, lambda seen: len(seen) >= 1)  # the emulator's replay
        watches = [r for r in list(emulator) if r.action == kmock.action.WATCH]
        assert watches[-1].params.get("resourceVersion") == "4242"
        assert watches[-1].params.get("allowWatchBookmarks") == "true"
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def test_delete_pod_sends_delete(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    seed_deployment(emulator)
    pod = (await cluster.pods())[0]
    result = await cluster.restart(pod, RestartMode.DELETE_POD)
    assert result.ok
    assert "deleted pod payments/web-7d4b9c-aaaaa" in result.message
    deletes = [r for r in list(emulator) if r.method == kmock.method.DELETE]
    assert [str(r.url.path) for r in deletes] == [
        "/api/v1/namespaces/payments/pods/web-7d4b9c-aaaaa"
    ]


async def test_rollout_restart_patches_the_deployment_like_kubectl(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    seed_deployment(emulator)
    pod = (await cluster.pods())[0]

    plan = await cluster.plan_restart(pod)
    assert plan.modes == (RestartMode.DELETE_POD, RestartMode.ROLLOUT)
    assert (plan.workload_kind, plan.workload_name) == ("Deployment", "web")
    assert not plan.refusal and not plan.warning

    result = await cluster.restart(pod, RestartMode.ROLLOUT)
    assert result.ok, result.message
    patches = [r for r in list(emulator) if r.method == kmock.method.PATCH]
    assert len(patches) == 1
    assert str(patches[0].url.path) == "/apis/apps/v1/namespaces/payments/deployments/web"
    assert patches[0].headers["Content-Type"] == "application/strategic-merge-patch+json"
    assert json.loads(patches[0].body) == {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp()}}
            }
        }
    }
    assert stamp() == "2026-11-25T03:00:00Z"


async def test_rollout_restart_of_a_statefulset(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(emulator, raw_pod("db-0", owner=("StatefulSet", "db")))
    emulator.objects[STATEFULSETS, "payments", "db"] = {"metadata": {"name": "db"}, "spec": {}}
    pod = (await cluster.pods())[0]
    result = await cluster.restart(pod, RestartMode.ROLLOUT)
    assert result.ok
    patches = [r for r in list(emulator) if r.method == kmock.method.PATCH]
    assert str(patches[0].url.path) == "/apis/apps/v1/namespaces/payments/statefulsets/db"


async def test_paused_deployment_is_refused(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    seed_deployment(emulator, paused=True)
    pod = (await cluster.pods())[0]
    plan = await cluster.plan_restart(pod)
    assert plan.refusal == (
        'deployments.apps "web" can\'t restart paused deployment (run rollout resume first)'
    )
    result = await cluster.restart(pod, RestartMode.ROLLOUT)
    assert not result.ok
    assert "paused" in result.message
    assert not [r for r in list(emulator) if r.method == kmock.method.PATCH]


async def test_pod_without_owner_gets_the_permanent_warning(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("debug-shell", owner=None))
    pod = (await cluster.pods())[0]
    plan = await cluster.plan_restart(pod)
    assert plan.modes == (RestartMode.DELETE_POD,)
    assert "permanent" in plan.warning and "nothing recreates it" in plan.warning


async def test_forbidden_names_verb_resource_and_namespace(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    status = {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "rbac says no"}
    emulator["delete", PODS] << 403 << status
    pod = (await cluster.pods())[0]
    with pytest.raises(Forbidden) as caught:
        await cluster.restart(pod, RestartMode.DELETE_POD)
    assert str(caught.value) == 'forbidden: cannot delete pods in namespace "payments"'


async def test_missing_pod_is_not_found(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    pod = (await cluster.pods())[0]
    del emulator.objects[PODS, "payments", "web-7d4b9c-aaaaa"]
    with pytest.raises(NotFound, match="web-7d4b9c-aaaaa"):
        await cluster.restart(pod, RestartMode.DELETE_POD)


async def test_logs_tail_and_previous(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))

    def logs(request: Any) -> bytes:
        if request.params.get("previous") == "true":
            return b"panic: nil map\ngoroutine 1 [running]\n"
        return b"GET /health 200\nGET /pay 500\n"

    emulator["get", PODS, kmock.subresource("log")] << logs
    pod = (await cluster.pods())[0]
    assert await cluster.logs(pod, "app", tail=50) == ["GET /health 200", "GET /pay 500"]
    assert await cluster.logs(pod, "app", previous=True) == [
        "panic: nil map",
        "goroutine 1 [running]",
    ]
    reads = [r for r in list(emulator) if r.subresource == "log"]
    assert reads[0].params["tailLines"] == "50" and reads[0].params["container"] == "app"
    assert reads[1].params["previous"] == "true" and reads[1].params["tailLines"] == "200"


async def test_follow_logs_streams_new_lines_and_stops(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))

    async def stream(request: Any) -> AsyncIterator[bytes]:
        yield b"line one\n"
        await asyncio.sleep(0.05)
        yield b"line two\nline "
        await asyncio.sleep(0.05)
        yield b"three\n"
        await asyncio.sleep(3600)  # the container keeps running, quietly

    emulator["get", PODS, kmock.subresource("log")] << stream
    pod = (await cluster.pods())[0]
    follow = cluster.follow_logs(pod, "app")
    lines = [await next_event(follow) for _ in range(3)]
    assert lines == ["line one", "line two", "line three"]
    started = time.monotonic()
    await follow.aclose()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 2
    reads = [r for r in list(emulator) if r.subresource == "log"]
    assert reads[0].params["follow"] == "true" and reads[0].params["tailLines"] == "0"


async def test_detail_has_containers_and_only_this_pods_events(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-bbbbb", crash=True, restarts=7))

    def event(name: str, involved: str, reason: str, minutes: int) -> dict[str, Any]:
        return {
            "metadata": {"name": name, "namespace": "payments"},
            "involvedObject": {"kind": "Pod", "name": involved, "uid": f"uid-{involved}"},
            "type": "Warning",
            "reason": reason,
            "message": "Back-off restarting failed container app",
            "lastTimestamp": stamp(timedelta(minutes=minutes)),
        }

    emulator.objects[EVENTS, "payments", "e1"] = event("e1", "web-7d4b9c-bbbbb", "BackOff", 2)
    emulator.objects[EVENTS, "payments", "e2"] = event("e2", "other-pod", "Failed", 1)
    pod = (await cluster.pods())[0]
    detail = await cluster.detail(pod)
    assert detail.events == ("2m ago  Warning  BackOff  Back-off restarting failed container app",)
    app = detail.containers[0]
    assert (app.name, app.state, app.restarts, app.last_termination_reason) == (
        "app",
        "waiting: CrashLoopBackOff",
        7,
        "Error",
    )
    event_lists = [r for r in list(emulator) if r.resource == EVENTS]
    assert event_lists[0].params["fieldSelector"] == "involvedObject.name=web-7d4b9c-bbbbb"


async def test_health_reports_the_version(emulator: Any, cluster: KubernetesCluster) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    health = await cluster.health()
    assert health.ok
    assert health.detail == "kubernetes v1.26.4+k3s1 (emu)"
    await cluster.pods()
    for request in list(emulator):  # the kubeconfig's token goes with every call
        assert request.headers.get("Authorization") == "Bearer not-a-real-token", request.url


async def test_contexts_and_switch(emulator: Any, cluster: KubernetesCluster) -> None:
    assert cluster.contexts() == ["emu", "other"]
    assert cluster.current_context == "emu"
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    assert len(await cluster.pods()) == 1
    await cluster.switch("other", ("payments",))
    assert cluster.current_context == "other" and cluster.namespaces == ("payments",)
    with pytest.raises(Unreachable):  # "other" points at a closed port
        await cluster.pods()
    with pytest.raises(KubeconfigError, match="no context named"):
        await cluster.switch("nope")
    await cluster.switch("emu")
    assert len(await cluster.pods()) == 1


# --------------------------------------------------------------------------- dead servers


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers: a hung API server or a black-holed LB."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_silent_server_fails_within_the_timeout(
    silent_server: str, tmp_path: Path, clock: FrozenClock
) -> None:
    path = write_kubeconfig(tmp_path / "kubeconfig", silent_server)
    config = KubernetesConfig(kubeconfig=str(path), timeout=timedelta(seconds=1))
    cluster = KubernetesCluster(config, clock=clock)
    started = time.monotonic()
    with pytest.raises(Unreachable) as caught:
        await cluster.pods()
    assert time.monotonic() - started < 4
    assert str(caught.value) == "cluster unreachable while trying to list pods: timed out"
    started = time.monotonic()
    with pytest.raises(Unreachable):
        await anext(cluster.watch())
    assert time.monotonic() - started < 4
    health = await cluster.health()
    assert not health.ok and health.detail == "unreachable: timed out"
    await cluster.close()


async def test_refused_connection_is_unreachable(tmp_path: Path, clock: FrozenClock) -> None:
    path = write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:9")
    cluster = KubernetesCluster(
        KubernetesConfig(kubeconfig=str(path), timeout=timedelta(seconds=2)), clock=clock
    )
    with pytest.raises(Unreachable, match="connection refused"):
        await cluster.pods()
    await cluster.close()


async def test_watch_raises_unreachable_when_the_server_dies(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """The server goes away mid-watch: the iterator raises Unreachable (the caller backs off)."""
    async with kmock.KubernetesEmulator() as emulator:
        server = kmock.Server(emulator)
        await server.__aenter__()
        seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
        path = write_kubeconfig(tmp_path / "kubeconfig", str(server.url).rstrip("/"))
        config = KubernetesConfig(kubeconfig=str(path), timeout=timedelta(seconds=1))
        cluster = KubernetesCluster(config, clock=clock, watch_timeout=2)
        stream = cluster.watch()
        try:
            assert (await next_event(stream)).type is PodEventType.SYNC
            await events_until(stream, lambda seen: len(seen) >= 1)
            await server.__aexit__(None, None, None)
            started = time.monotonic()
            with pytest.raises(Unreachable, match="watch pods"):
                await events_until(stream, lambda seen: False, timeout=20)
            assert time.monotonic() - started < 10
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            await cluster.close()


async def test_switch_ends_the_running_watch_and_the_next_uses_the_new_scope(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa", "payments"), raw_pod("api-1", "checkout"))
    stream = cluster.watch()
    assert len((await next_event(stream)).pods) == 2
    await cluster.switch("emu", ("checkout",))
    with pytest.raises(StopAsyncIteration):
        await events_until(stream, lambda seen: False)
    fresh = cluster.watch()
    try:
        first = await next_event(fresh)
        assert [p.key for p in first.pods] == ["checkout/api-1"]
    finally:
        await fresh.aclose()  # type: ignore[attr-defined]


async def test_unauthorized_says_the_credentials_were_refused(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    emulator["list", PODS] << 401 << {"kind": "Status", "code": 401, "reason": "Unauthorized"}
    with pytest.raises(AuthError, match="refused the credentials"):
        await cluster.pods()
    health = await cluster.health()
    assert health.ok  # /version needs no pod rights


async def test_no_kubeconfig_and_not_in_a_cluster(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cluster = KubernetesCluster(KubernetesConfig(), clock=clock)
    assert cluster.contexts() == []
    with pytest.raises(KubeconfigError, match="none found"):
        await cluster.pods()
    health = await cluster.health()
    assert not health.ok and "none found" in health.detail


def test_importing_and_listing_contexts_do_not_import_the_client(tmp_path: Path) -> None:
    """The client costs ~0.4 s to import: the UI thread (contexts for the palette) never pays."""
    path = write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:9")
    code = (
        "import sys\n"
        "from cockpit.backends.kubernetes import KubernetesCluster\n"
        "from cockpit.clock import SystemClock\n"
        "from cockpit.config import KubernetesConfig\n"
        f"c = KubernetesCluster(KubernetesConfig(kubeconfig={str(path)!r}), clock=SystemClock())\n"
        "print(c.contexts(), c.current_context, 'kubernetes' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['emu', 'other'] emu False"


async def test_previous_logs_of_a_container_that_never_restarted(
    emulator: Any, cluster: KubernetesCluster
) -> None:
    seed(emulator, raw_pod("web-7d4b9c-aaaaa"))
    message = 'previous terminated container "app" in pod "web-7d4b9c-aaaaa" not found'
    (
        emulator["get", PODS, kmock.subresource("log")]
        << 400
        << {
            "kind": "Status",
            "code": 400,
            "reason": "BadRequest",
            "message": message,
        }
    )
    pod = (await cluster.pods())[0]
    with pytest.raises(BadResponse) as caught:
        await cluster.logs(pod, "app", previous=True)
    assert str(caught.value) == (
        f'cannot get pods/log "web-7d4b9c-aaaaa" in namespace "payments": HTTP 400: {message}'
    )
