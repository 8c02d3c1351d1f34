"""How fast 5,000 pods become kubectl rows: raw JSON vs the client's model objects.

Run: .venv/bin/python -m tests.bench.bench_pods [--pods N] [--runs N]
Prints a table; not a pytest test (timings are not assertions). Every figure is the
median of --runs runs, as wall time and as this process's CPU time: on a shared machine
the CPU figure is the one other processes cannot inflate (the long model path would
otherwise lose more to preemption than the short raw path, flattering the ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.backends import kubernetes as kube_backend
from cockpit.backends.kubernetes import decode_watch_line, parse_pod_list
from cockpit.backends.podstatus import pod_health, pod_list_decoder
from cockpit.clock import FrozenClock
from cockpit.config import KubernetesConfig

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _ts(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


def realistic_pod(i: int, rng: random.Random) -> dict[str, Any]:
    """A pod shaped like a real Deployment's pod (labels, probes, env, mounts, status)."""
    app = f"svc-{i % 250:03d}"
    rs = f"{app}-{rng.getrandbits(32):08x}"
    name = f"{rs[:-3]}-{rng.getrandbits(24):06x}"
    ns = f"team-{i % 12}"
    crash = i % 97 == 0
    restarts = rng.choice([0, 0, 0, 1, 4]) + (30 if crash else 0)
    state: dict[str, Any] = (
        {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"}}
        if crash
        else {"running": {"startedAt": _ts(timedelta(hours=rng.randint(1, 900)))}}
    )
    return {
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": f"{rng.getrandbits(128):032x}",
            "resourceVersion": str(1_000_000 + i),
            "creationTimestamp": _ts(timedelta(hours=rng.randint(1, 2000))),
            "labels": {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/part-of": "shop",
                "pod-template-hash": rs.rsplit("-", 1)[1],
                "team": ns,
            },
            "annotations": {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9090",
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs,
                    "uid": f"{rng.getrandbits(128):032x}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "volumes": [
                {"name": "config", "configMap": {"name": f"{app}-config", "defaultMode": 420}},
            ],
            "containers": [
                {
                    "name": "app",
                    "image": f"registry.example.com/shop/{app}:1.{i % 40}.3",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [
                        {"name": "LOG_LEVEL", "value": "info"},
                        {"name": "DB_HOST", "value": "postgres.shop.svc"},
                        {
                            "name": "POD_NAME",
                            "valueFrom": {
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}
                            },
                        },
                    ],
                    "resources": {
                        "limits": {"cpu": "1", "memory": "512Mi"},
                        "requests": {"cpu": "100m", "memory": "256Mi"},
                    },
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/app"},
                    ],
                    "livenessProbe": {
                        "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                        "timeoutSeconds": 1,
                        "periodSeconds": 10,
                        "successThreshold": 1,
                        "failureThreshold": 3,
                    },
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": app,
            "nodeName": f"node-{i % 40:02d}.eu-west-1.compute.internal",
            "schedulerName": "default-scheduler",
            "priority": 0,
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {
                    "type": t,
                    "status": "False" if (crash and t != "PodScheduled") else "True",
                    "lastTransitionTime": _ts(timedelta(hours=5)),
                }
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "hostIP": f"10.0.{i % 40}.{i % 250}",
            "podIP": f"10.1.{i % 250}.{i % 200}",
            "podIPs": [{"ip": f"10.1.{i % 250}.{i % 200}"}],
            "startTime": _ts(timedelta(hours=5)),
            "containerStatuses": [
                {
                    "name": "app",
                    "state": state,
                    "lastState": (
                        {
                            "terminated": {
                                "exitCode": 1,
                                "reason": "Error",
                                "startedAt": _ts(timedelta(minutes=20)),
                                "finishedAt": _ts(timedelta(minutes=9)),
                            }
                        }
                        if restarts
                        else {}
                    ),
                    "ready": not crash,
                    "restartCount": restarts,
                    "image": f"registry.example.com/shop/{app}:1.{i % 40}.3",
                    "imageID": f"registry.example.com/shop/{app}@sha256:{rng.getrandbits(256):x}",
                    "containerID": f"containerd://{rng.getrandbits(256):064x}",
                    "started": not crash,
                }
            ],
            "qosClass": "Burstable",
        },
    }


def pod_list_bytes(count: int) -> bytes:
    rng = random.Random(7)
    items = [realistic_pod(i, rng) for i in range(count)]
    body = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "999"},
        "items": items,
    }
    return json.dumps(body).encode()


def median_of(runs: int, fn: Any) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of `runs` calls, each after a full GC."""
    walls, cpus = [], []
    for _ in range(runs):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def raw_path(data: bytes) -> list[Any]:
    return parse_pod_list(data, NOW)[0]  # what watch() and pods() run


def _gc_off(fn: Any) -> Any:
    gc.disable()
    try:
        return fn()
    finally:
        gc.enable()


def decode_only(data: bytes) -> None:
    _gc_off(lambda: pod_list_decoder().decode(data))


def json_loads_path(data: bytes) -> list[Any]:
    """The previous raw path: json.loads of everything, then pod_health (GC paused too)."""
    return _gc_off(lambda: [pod_health(item, NOW) for item in json.loads(data)["items"]])


def model_path(data: bytes) -> Any:
    from kubernetes import client

    # exactly what the client does with _preload_content=True: text -> V1PodList models
    return client.ApiClient().deserialize(data.decode(), "V1PodList", "application/json")


class _FakeResponse:
    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines

    def stream(self, amt: Any = None, decode_content: bool = False) -> Any:
        yield from self._lines

    def close(self) -> None:
        pass


class _FakeCore:
    """Serves one watch stream with a single MODIFIED event, then fails the reconnect."""

    def __init__(self, line: bytes) -> None:
        self.calls = 0
        self.line = line

    def list_pod_for_all_namespaces(self, **kwargs: Any) -> _FakeResponse:
        self.calls += 1
        if self.calls > 1:
            raise kube_backend.Unreachable("bench: done")
        return _FakeResponse([self.line])


def modified_event_calls(pod: dict[str, Any]) -> int:
    """Runs the real watch worker on a one-event stream and counts pod_health calls."""
    calls = 0
    original = kube_backend.pod_health

    def counting(raw: Any, now: Any = None) -> Any:
        nonlocal calls
        calls += 1
        return original(raw, now)

    cluster = kube_backend.KubernetesCluster(KubernetesConfig(), clock=FrozenClock(NOW))
    line = json.dumps({"type": "MODIFIED", "object": pod}).encode() + b"\n"
    fake = _FakeCore(line)
    cluster._core = lambda api=None: fake  # type: ignore[method-assign]

    async def run() -> list[Any]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()
        kube_backend.pod_health = counting
        try:
            await asyncio.to_thread(cluster._watch_worker, "", "1", loop, queue, stop, [])
        finally:
            kube_backend.pod_health = original
        await asyncio.sleep(0)
        return [queue.get_nowait() for _ in range(queue.qsize())]

    items = asyncio.run(run())
    assert items and items[0][1][0].value == "MODIFIED", items
    return calls


def row(label: str, value: str) -> None:
    print(f"{label:<54} {value:>16}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    data = pod_list_bytes(args.pods)
    assert len(raw_path(data)) == args.pods

    raw = median_of(args.runs, lambda: raw_path(data))
    decode = median_of(args.runs, lambda: decode_only(data))
    items = pod_list_decoder().decode(data)["items"]
    rows_only = median_of(args.runs, lambda: [pod_health(item, NOW) for item in items])
    before = median_of(args.runs, lambda: json_loads_path(data))
    started = time.perf_counter()
    import kubernetes.client  # noqa: F401  (timed apart: the import is not the parse)

    import_seconds = time.perf_counter() - started
    model = median_of(args.runs, lambda: model_path(data))
    assert [p.name for p in raw_path(data)] == [p.metadata.name for p in model_path(data).items]

    one = json.loads(data)["items"][0]
    line = json.dumps({"type": "MODIFIED", "object": one}).encode()
    repeats = 2000

    def events() -> None:
        for _ in range(repeats):
            pod_health(decode_watch_line(line)[1], NOW)

    event = median_of(args.runs, events)
    calls = modified_event_calls(one)

    def ms(pair: tuple[float, float]) -> str:
        return f"{pair[0] * 1e3:.0f} / {pair[1] * 1e3:.0f} ms"

    size = f"{len(data) / 1e6:.1f} MB JSON, {len(data) / args.pods / 1000:.2f} KB/pod"
    print(f"pod list: {args.pods} pods, {size}, median of {args.runs} runs")
    print()
    row("path", "wall / CPU")
    row("-" * 54, "-" * 16)
    row("(a) parse_pod_list: msgspec decode + pod_health", ms(raw))
    row("    msgspec decode alone (only pod_health's keys)", ms(decode))
    row("    pod_health alone, all pods", ms(rows_only))
    row("    before: json.loads + pod_health", ms(before))
    row("(b) ApiClient.deserialize -> V1PodList models", ms(model))
    row("    import kubernetes.client (once, lazily)", f"{import_seconds * 1e3:.0f} ms")
    wall_ratio, cpu_ratio = model[0] / raw[0], model[1] / raw[1]
    row("ratio (b) / (a)", f"{wall_ratio:.1f} / {cpu_ratio:.1f} x")
    row("ratio (b) / before", f"{model[0] / before[0]:.1f} / {model[1] / before[1]:.1f} x")
    per_event = (event[0] / repeats * 1e6, event[1] / repeats * 1e6)
    row(
        "(c) one MODIFIED event: decode + pod_health", f"{per_event[0]:.0f} / {per_event[1]:.0f} us"
    )
    row("    pod_health calls for it in the real watch worker", str(calls))
    print()
    verdict = "met" if min(wall_ratio, cpu_ratio) >= 20 else "NOT met"
    print(f"target (b)/(a) >= 20x (wall and CPU): {verdict}")


if __name__ == "__main__":
    main()
