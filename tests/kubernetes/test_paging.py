"""The pod list in pages (limit + continue), against an emulator that pages like an API
server (tests/kubernetes/paging.py; kmock itself answers every list whole)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import kmock
import pytest

from cockpit.backends import kubernetes as kube
from cockpit.backends.base import BackendError, BadResponse
from cockpit.backends.kubernetes import KubernetesCluster
from cockpit.clock import FrozenClock
from cockpit.config import KubernetesConfig
from cockpit.domain import PodEventType
from cockpit.live import LiveState

from .conftest import PODS, next_event, raw_pod, write_kubeconfig
from .paging import PagingEmulator

pytestmark = pytest.mark.server

NAMES = [f"web-7d4b9c-{c * 5}" for c in "abcde"]


@pytest.fixture
async def emulator(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PagingEmulator]:
    monkeypatch.setattr(kube, "LIST_PAGE", 2)  # 5 pods: pages of 2, 2 and 1
    async with PagingEmulator() as k, kmock.Server(k):
        for name in NAMES:
            k.objects[PODS, "payments", name] = raw_pod(name)
        yield k


def make_cluster(tmp_path: Path, emulator: Any, clock: FrozenClock, **config: Any) -> Any:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", str(emulator.url).rstrip("/"))
    settings = KubernetesConfig(kubeconfig=str(kubeconfig), timeout=timedelta(seconds=3), **config)
    return KubernetesCluster(settings, clock=clock, watch_timeout=30)


@pytest.fixture
async def cluster(
    tmp_path: Path, emulator: Any, clock: FrozenClock
) -> AsyncIterator[KubernetesCluster]:
    cluster = make_cluster(tmp_path, emulator, clock)
    yield cluster
    await cluster.close()


def names(pods: Any) -> list[str]:
    return sorted(p.name for p in pods)


async def test_the_list_follows_continue_tokens_to_the_last_page(
    emulator: PagingEmulator, cluster: KubernetesCluster
) -> None:
    assert names(await cluster.pods()) == NAMES
    limits = [limit for _ns, limit, _token in emulator.pages]
    tokens = [token for _ns, _limit, token in emulator.pages]
    assert limits == [2, 2, 2]
    assert tokens[0] == "" and tokens[1] and tokens[2] and tokens[1] != tokens[2]


async def test_a_namespaced_watch_pages_and_watches_from_the_lists_version(
    tmp_path: Path, emulator: PagingEmulator, clock: FrozenClock
) -> None:
    cluster = make_cluster(tmp_path, emulator, clock, namespaces=("payments",))
    stream = cluster.watch()
    try:
        sync = await next_event(stream)
        assert sync.type is PodEventType.SYNC and names(sync.pods) == NAMES
        assert [(ns, limit) for ns, limit, _t in emulator.pages] == [("payments", 2)] * 3
        for _ in NAMES:  # kmock replays its objects on every watch
            await next_event(stream)
        watches = [r for r in list(emulator) if r.action == kmock.action.WATCH]
        version = watches[-1].params.get("resourceVersion")
        assert version and version != "..."  # the snapshot's, which every page carried
        assert "limit" not in watches[-1].params and "continue" not in watches[-1].params
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
        await cluster.close()


async def test_an_expired_continue_token_lists_again_from_the_start(
    emulator: PagingEmulator, cluster: KubernetesCluster
) -> None:
    emulator.expire_pages = {2}  # etcd compacted between the first and the second page
    pods = await cluster.pods()
    assert names(pods) == NAMES  # each pod once: the rows of the dropped attempt are gone
    assert [token == "" for _ns, _l, token in emulator.pages] == [True, False, True, False, False]


async def test_expired_twice_falls_back_to_one_unpaged_list(
    emulator: PagingEmulator, cluster: KubernetesCluster
) -> None:
    emulator.expire_pages = {2, 4}
    assert names(await cluster.pods()) == NAMES
    assert [limit for _ns, limit, _t in emulator.pages] == [2, 2, 2, 2, 0]


async def test_a_page_failing_midway_fails_the_list(
    emulator: PagingEmulator, cluster: KubernetesCluster
) -> None:
    emulator.fail_page = 2
    with pytest.raises(BadResponse, match=r"cannot list pods.*HTTP 500.*etcdserver"):
        await cluster.pods()


async def test_a_relist_failing_midway_keeps_the_pods_shown(
    emulator: PagingEmulator, cluster: KubernetesCluster
) -> None:
    """A 410 on the watch relists; its second page fails: the watch says so, and no SYNC of
    half a list ever reaches LiveState (the panel keeps the pods it had)."""
    gone = {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}}
    served: list[int] = []

    def first_watch_is_gone(request: Any) -> Any:
        served.append(1)
        return gone if len(served) == 1 else None

    emulator[kmock.action.WATCH, PODS] << first_watch_is_gone
    emulator.fail_page = 5  # the list was pages 1-3; the relist's 1st is 4, its 2nd fails
    live = LiveState()
    stream = cluster.watch()
    try:
        live.apply_pod_event(await next_event(stream))
        assert names(live.pods.values()) == NAMES
        with pytest.raises(BackendError, match="HTTP 500"):
            while True:
                event = await next_event(stream)
                assert event.type is not PodEventType.SYNC, "a SYNC of a failed relist"
                live.apply_pod_event(event)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert names(live.pods.values()) == NAMES
    assert len(emulator.pages) == 5


async def test_a_server_repeating_its_continue_token_is_refused(
    emulator: PagingEmulator, cluster: KubernetesCluster
) -> None:
    emulator[kmock.action.LIST, PODS] << {
        "kind": "PodList",
        "metadata": {"resourceVersion": "7", "continue": "again"},
        "items": [raw_pod("web-7d4b9c-aaaaa")],
    }
    with pytest.raises(BadResponse, match="paging does not end"):
        await cluster.pods()


async def test_each_page_is_bounded_by_the_size_limit(
    emulator: PagingEmulator, cluster: KubernetesCluster
) -> None:
    from cockpit.backends import http

    before = http.default_max_bytes()
    http.set_default_max_bytes(1024)  # a page of two pods is ~1.5 KB
    try:
        with pytest.raises(BadResponse, match=r"limits\.max_response_mb"):
            await cluster.pods()
    finally:
        http.set_default_max_bytes(before)


def test_the_generated_api_classes_are_never_imported(tmp_path: Path) -> None:
    """CoreV1Api and AppsV1Api cost ~21 MB of RSS to import: the cockpit's requests go
    through the ApiClient alone (kubernetes._Api)."""
    import subprocess
    import sys

    path = write_kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:9")
    code = (
        "import asyncio, sys\n"
        "from cockpit.backends.kubernetes import KubernetesCluster\n"
        "from cockpit.clock import SystemClock\n"
        "from cockpit.config import KubernetesConfig\n"
        f"c = KubernetesCluster(KubernetesConfig(kubeconfig={str(path)!r}), clock=SystemClock())\n"
        "try:\n"
        "    asyncio.run(c.pods())\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
        "print(sorted(m for m in sys.modules if m.startswith('kubernetes.client.api.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Unreachable", "[]"]
