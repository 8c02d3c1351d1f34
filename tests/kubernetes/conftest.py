"""A Kubernetes API on loopback: kmock's KubernetesEmulator over real HTTP, and a kubeconfig
pointing the official client at it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kmock
import pytest

from cockpit.backends.kubernetes import KubernetesCluster
from cockpit.clock import FrozenClock
from cockpit.config import KubernetesConfig

PODS = kmock.resource("", "v1", "pods")
EVENTS = kmock.resource("", "v1", "events")
REPLICASETS = kmock.resource("apps", "v1", "replicasets")
DEPLOYMENTS = kmock.resource("apps", "v1", "deployments")
STATEFULSETS = kmock.resource("apps", "v1", "statefulsets")

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def stamp(ago: timedelta = timedelta(0)) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def raw_pod(
    name: str,
    namespace: str = "payments",
    *,
    owner: tuple[str, str] | None = ("ReplicaSet", "web-7d4b9c"),
    crash: bool = False,
    restarts: int = 0,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "creationTimestamp": stamp(timedelta(hours=2)),
        "labels": {"app": name.split("-")[0]},
    }
    if owner:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
        ]
    state: dict[str, Any] = (
        {"waiting": {"reason": "CrashLoopBackOff"}}
        if crash
        else {"running": {"startedAt": stamp(timedelta(hours=1))}}
    )
    status: dict[str, Any] = {
        "name": "app",
        "ready": not crash,
        "restartCount": restarts,
        "state": state,
    }
    if restarts:
        status["lastState"] = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "finishedAt": stamp(timedelta(minutes=5)),
            }
        }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "web:1.2"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False" if crash else "True"}],
            "containerStatuses": [status],
        },
    }


def write_kubeconfig(path: Path, server: str, *, other: str = "http://127.0.0.1:9") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "emu",
        "clusters": [
            {"name": "emu", "cluster": {"server": server}},
            {"name": "other", "cluster": {"server": other}},
        ],
        "users": [{"name": "oncall", "user": {"token": "not-a-real-token"}}],
        "contexts": [
            {"name": "emu", "context": {"cluster": "emu", "user": "oncall"}},
            {"name": "other", "context": {"cluster": "other", "user": "oncall"}},
        ],
    }
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def emulator() -> AsyncIterator[Any]:
    async with kmock.KubernetesEmulator() as k, kmock.Server(k):
        yield k


@pytest.fixture
def kubeconfig(tmp_path: Path, emulator: Any) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", str(emulator.url).rstrip("/"))


@pytest.fixture
async def cluster(kubeconfig: Path, clock: FrozenClock) -> AsyncIterator[KubernetesCluster]:
    config = KubernetesConfig(kubeconfig=str(kubeconfig), timeout=timedelta(seconds=3))
    cluster = KubernetesCluster(config, clock=clock, watch_timeout=30)
    yield cluster
    await cluster.close()


async def next_event(iterator: AsyncIterator[Any], timeout: float = 10.0) -> Any:
    return await asyncio.wait_for(anext(iterator), timeout)
