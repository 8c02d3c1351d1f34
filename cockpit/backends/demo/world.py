"""The simulated "Acme Shop": pods, queues and alerts, plus one scripted incident.

Everything is computed on read from the clock's elapsed time since the world was
built and from the actions taken (each stamped with the time it happened), so the
same seed, clock and actions always give the same state, and a test fast-forwards
by advancing a FrozenClock. Nothing runs in the background.

The script (seconds after construction, see Timing):
  t+0    calm except a DiskSpaceLow warning, an info alert with hostile label text
         and the Watchdog; a poison message sits at the head of `invoices`, whose
         consumers keep failing on it, so its depth grows slowly.
  t+20   CheckoutLatencyHigh (critical, team=payments) fires.
  t+40   payments-api pods are OOMKilled, then CrashLoopBackOff with rising restarts;
         KubePodCrashLooping fires per pod shortly after each first crash.
  t+60   orders-consumer loses its AMQP consumers (pods stay Running): `orders` grows
         every second with 0 consumers; RabbitMQQueueBacklog fires above 200 ready.
  t+90   InvoiceConsumerErrors (warning, team=billing) fires while the poison is there.

Fixes: a rollout restart of payments-api stops the OOMs (deleting one pod only gives a
replacement that crashes again: the fix is in the new ReplicaSet's pod template), and
CheckoutLatencyHigh clears 30 s after the last OOMing pod is gone. Restarting
orders-consumer pods brings consumers back (one per fresh pod), so `orders` drains.
Quarantining the poison message unblocks `invoices`, which then drains.
"""

from __future__ import annotations

import hashlib
import json
import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.backends.base import NotFound, Unreachable
from cockpit.backends.podstatus import owner_chain
from cockpit.clock import Clock
from cockpit.domain import (
    ActionResult,
    Alert,
    AlertGroup,
    AlertState,
    ContainerDetail,
    CustomerUpdate,
    Escalation,
    Incident,
    PodDetail,
    PodHealth,
    QueueDepth,
    QueueMessage,
    RestartMode,
    RestartPlan,
    Silence,
    frozen_map,
)

SOURCES = ("alerts", "pods", "queues", "statuspage", "pager")
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for generated names
_RUNBOOKS = "https://runbooks.acme.example"
_PROMETHEUS = "http://prometheus.acme.example:9090"


@dataclass(frozen=True, slots=True)
class Timing:
    """When the scripted incident's steps happen, in seconds after the world was built."""

    latency_at: float = 20.0
    crash_at: float = 40.0
    backlog_at: float = 60.0
    invoice_errors_at: float = 90.0
    creating_s: float = 4.0  # ContainerCreating before Running
    terminating_s: float = 3.0  # Terminating before a deleted pod disappears
    oom_run_s: float = 8.0  # how long payments-api runs before the heap is full
    oom_show_s: float = 2.0  # how long OOMKilled shows before the back-off
    backlog_threshold: int = 200
    latency_clear_s: float = 30.0


def _backoff(k: int) -> float:
    """Kubelet's crash back-off (10 s doubling, capped at 5 min); the first restart is at once."""
    return 0.0 if k == 0 else min(10.0 * 2 ** (k - 1), 300.0)


def _noise(*parts: object) -> float:
    """A deterministic number in [0, 1) from its inputs (cheap; no global RNG state)."""
    return (zlib.crc32(":".join(map(str, parts)).encode()) & 0xFFFFFF) / 0x1000000


def _fingerprint(labels: dict[str, str]) -> str:
    raw = "\x00".join(f"{k}\x00{v}" for k, v in sorted(labels.items()))
    return hashlib.blake2b(raw.encode(), digest_size=8).hexdigest()


# --------------------------------------------------------------------------- pods


@dataclass(slots=True)
class Workload:
    namespace: str
    name: str
    kind: str  # Deployment / StatefulSet / DaemonSet / Job / "" (a bare pod)
    replicas: int
    containers: tuple[str, ...]
    images: tuple[str, ...]
    rs_hash: str = ""
    paused: bool = False
    oom: bool = False  # pods of the current template run out of memory
    recs: list[PodRec] = field(default_factory=list)  # every pod it ever had
    rollouts: int = 0


@dataclass(slots=True, eq=False)
class PodRec:
    """One pod's life: visible from created_s until deleted_s + terminating_s."""

    workload: Workload
    name: str
    uid: str
    node: str
    created_s: float
    oom: bool = False
    stagger: float = 0.0
    base_restarts: int = 0
    base_last_restart_s: float | None = None
    deleted_s: float | None = None
    cached: PodHealth | None = None  # set once the pod's state stops changing

    @property
    def key(self) -> str:
        return f"{self.workload.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class _OomState:
    status: str
    running: bool
    restarts: int
    last_restart_s: float | None
    first_crash_s: float
    container_start_s: float  # when the current (or last) container instance started
    previous_start_s: float | None  # when the instance before it started


# --------------------------------------------------------------------------- queues


@dataclass(slots=True, eq=False)
class QueueModel:
    vhost: str
    name: str
    kind: str  # message flavour: orders / invoices / generic
    publish: float  # messages per second
    capacity: float  # messages per second per consumer
    consumers: int  # when nothing special happens
    dlx: str = ""
    published: float = 0.0
    consumed: float = 0.0  # position of the head in the message sequence
    removed: dict[int, float] = field(default_factory=dict)  # seq -> quarantined at
    poison_seq: int | None = None
    peeked: set[int] = field(default_factory=set)
    over_since: float | None = None  # backlog above the alert threshold since
    last_arrivals: float = 0.0
    last_served: float = 0.0
    static: QueueDepth | None = None  # background queues never change unless acted on

    @property
    def key(self) -> str:
        return f"{self.vhost}/{self.name}"

    def ready(self) -> int:
        head, tail = int(self.consumed), int(self.published)
        gone = sum(1 for s in self.removed if head <= s < tail)
        return max(tail - head - gone, 0)


# --------------------------------------------------------------------------- the world


class DemoWorld:
    """All simulated state; the Demo* backends are thin views on it."""

    def __init__(
        self,
        clock: Clock,
        seed: int = 7,
        scale: int = 1,
        *,
        pods: int | None = None,
        alerts: int | None = None,
        queues: int | None = None,
        timing: Timing | None = None,
        quarantine_dir: Path | str | None = None,
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.timing = timing or Timing()
        self.t0: datetime = clock.now()
        self.quarantine_dir = Path(quarantine_dir) if quarantine_dir else None
        scale = max(1, scale)
        # scale=125 is the benchmark target: 5,000 pods, 2,000 alerts, 1,000 queues
        self.target_pods = pods if pods is not None else 40 * scale
        self.target_alerts = alerts if alerts is not None else 16 * scale
        self.target_queues = queues if queues is not None else 8 * scale
        self._rng = random.Random(seed)
        self._action_rng = random.Random(seed * 7919 + 1)
        self._failures: dict[str, str] = {}
        self.workloads: dict[tuple[str, str], Workload] = {}
        self._live: dict[str, PodRec] = {}  # uid -> pods not yet gone
        self.nodes: list[str] = []
        self.queues: dict[str, QueueModel] = {}
        self._queue_k = 0  # queue models are integrated on a 1 s grid up to here
        self.silences: dict[str, Silence] = {}
        self._silence_n = 0
        self._bg_alerts: list[tuple[tuple[str, str, str], Alert]] = []
        self._bg_cache: tuple[tuple[str, ...], list[AlertGroup]] | None = None
        self.quarantined: list[dict[str, Any]] = []
        self.status_updates: list[tuple[str, CustomerUpdate]] = []
        self.pages: dict[str, str] = {}
        self._remote_n = 0
        self._build_pods()
        self._build_queues()
        self._build_background_alerts()

    # ------------------------------------------------------------------ time, failures

    def elapsed(self) -> float:
        return (self.clock.now() - self.t0).total_seconds()

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)

    def fail(self, source: str, message: str = "simulated outage") -> None:
        """Make every call of that backend raise Unreachable(message) until recover()."""
        if source not in SOURCES:
            raise ValueError(f"unknown demo source {source!r}; one of {', '.join(SOURCES)}")
        self._failures[source] = message

    def recover(self, source: str) -> None:
        self._failures.pop(source, None)

    def failure(self, source: str) -> str | None:
        return self._failures.get(source)

    def check(self, source: str) -> None:
        message = self._failures.get(source)
        if message is not None:
            raise Unreachable(message)

    # ------------------------------------------------------------------ building

    def _hash(self, n: int, rng: random.Random | None = None) -> str:
        return "".join((rng or self._rng).choices(_HASH_ALPHABET, k=n))

    def _uid(self, rng: random.Random | None = None) -> str:
        return _uuid((rng or self._rng).getrandbits(128))

    def _workload(
        self,
        namespace: str,
        name: str,
        kind: str,
        replicas: int,
        containers: tuple[str, ...],
        *,
        version: str = "1.0.0",
        paused: bool = False,
        oom: bool = False,
    ) -> Workload:
        images = tuple(
            f"registry.acme.example/{namespace}/{c}:{version}"
            if c != "envoy"
            else "envoyproxy/envoy:v1.31.2"
            for c in containers
        )
        wl = Workload(namespace, name, kind, replicas, containers, images, paused=paused, oom=oom)
        if kind == "Deployment":
            wl.rs_hash = self._hash(10)
        self.workloads[(namespace, name)] = wl
        return wl

    def _add_pod(
        self,
        wl: Workload,
        name: str,
        created_s: float,
        node: str,
        *,
        rng: random.Random | None = None,
        stagger: float = 0.0,
        restarts: int = 0,
    ) -> PodRec:
        rec = PodRec(wl, name, self._uid(rng), node, created_s, oom=wl.oom, stagger=stagger)
        if restarts:
            rec.base_restarts = restarts
            rec.base_last_restart_s = created_s + (-created_s) * 0.6
        wl.recs.append(rec)
        self._live[rec.uid] = rec
        return rec

    def _pod_name(self, wl: Workload, index: int, rng: random.Random | None = None) -> str:
        if wl.kind == "Deployment":
            return f"{wl.name}-{wl.rs_hash}-{self._hash(5, rng)}"
        if wl.kind == "StatefulSet":
            return f"{wl.name}-{index}"
        if wl.kind in ("DaemonSet", "Job"):
            return f"{wl.name}-{self._hash(5, rng)}"
        return wl.name

    def _build_pods(self) -> None:
        rng = self._rng
        n_nodes = max(6, self.target_pods // 40)
        self.nodes = [f"node-eu1-{'abc'[i % 3]}-{i + 1:02d}" for i in range(n_nodes)]
        day = 86400.0
        spec: list[tuple[str, str, str, int, tuple[str, ...], dict[str, Any]]] = [
            ("payments", "payments-api", "Deployment", 3, ("payments-api",), {"oom": True}),
            ("payments", "payments-worker", "Deployment", 2, ("worker",), {}),
            ("checkout", "checkout-web", "Deployment", 3, ("web", "envoy"), {}),
            ("checkout", "checkout-api", "Deployment", 3, ("api",), {}),
            ("orders", "orders-api", "Deployment", 2, ("api",), {}),
            ("orders", "orders-consumer", "Deployment", 3, ("consumer",), {}),
            ("orders", "shipping-api", "Deployment", 2, ("api",), {}),
            ("orders", "nightly-report-29401260", "Job", 1, ("report",), {}),
            ("catalog", "catalog-api", "Deployment", 2, ("api",), {}),
            ("catalog", "catalog-indexer", "Deployment", 1, ("indexer",), {"paused": True}),
            ("catalog", "search-api", "Deployment", 1, ("api",), {}),
            ("billing", "invoice-worker", "Deployment", 2, ("worker",), {}),
            ("notifications", "email-sender", "Deployment", 2, ("sender",), {}),
            ("platform", "rabbitmq", "StatefulSet", 3, ("rabbitmq",), {}),
            ("platform", "prometheus", "StatefulSet", 1, ("prometheus", "config-reloader"), {}),
            ("platform", "ingress-nginx-controller", "Deployment", 2, ("controller",), {}),
            ("platform", "node-exporter", "DaemonSet", 0, ("node-exporter",), {}),
            ("platform", "debug-shell", "", 1, ("shell",), {}),
        ]
        node_i = 0
        for ns, name, kind, replicas, containers, extra in spec:
            version = f"2.{rng.randrange(30)}.{rng.randrange(10)}"
            wl = self._workload(ns, name, kind, replicas, containers, version=version, **extra)
            if kind == "DaemonSet":
                wl.replicas = len(self.nodes)
                for node in self.nodes:
                    created = -rng.uniform(20, 60) * day
                    self._add_pod(wl, self._pod_name(wl, 0), created, node)
                continue
            for i in range(replicas):
                node = self.nodes[node_i % len(self.nodes)]
                node_i += 1
                if kind == "":
                    created = -rng.uniform(0.5, 3) * 3600
                elif kind == "Job":
                    created = -rng.uniform(2, 4) * 3600
                else:
                    created = -rng.uniform(1, 14) * day
                restarts = 1 if name == "email-sender" and i == 0 else 0
                self._add_pod(
                    wl,
                    self._pod_name(wl, i),
                    created,
                    node,
                    stagger=3.0 * i,
                    restarts=restarts,
                )
        self._build_background_pods()
        # settle the caches once so the first reads are already cheap
        for rec in self._live.values():
            self._pod_health(rec, 0.0)

    def _build_background_pods(self) -> None:
        missing = self.target_pods - len(self._live)
        if missing <= 0:
            return
        rng = random.Random(self.seed * 31 + 5)
        namespaces = (
            "search", "recommendations", "shipping", "inventory", "loyalty", "analytics",
            "reporting", "identity", "pricing", "reviews", "fraud", "marketing", "media",
            "geo", "support",
        )  # fmt: skip
        roles = ("api", "worker", "cache", "gateway", "sync", "scheduler", "exporter", "web")
        nodes = self.nodes
        n = 0
        while missing > 0:
            ns = namespaces[n % len(namespaces)]
            name = f"{ns}-{roles[(n // len(namespaces)) % len(roles)]}-{n:04d}"
            replicas = min(missing, 2 + rng.randrange(7))
            wl = self._workload(ns, name, "Deployment", replicas, ("app",))
            created = -rng.uniform(1, 30) * 86400.0
            for i in range(replicas):
                rec = PodRec(
                    wl,
                    f"{name}-{wl.rs_hash}-{''.join(rng.choices(_HASH_ALPHABET, k=5))}",
                    _uuid(rng.getrandbits(128)),
                    nodes[(n * 7 + i) % len(nodes)],
                    created,
                )
                wl.recs.append(rec)
                self._live[rec.uid] = rec
            missing -= replicas
            n += 1

    # ------------------------------------------------------------------ pod state

    def _oom_state(self, rec: PodRec, t: float) -> _OomState:
        tm = self.timing
        running_at = rec.created_s + tm.creating_s
        first = max(tm.crash_at + rec.stagger, running_at + tm.oom_run_s)
        start, prev_start = running_at, None
        restarts, last = 0, None
        cursor, k = first, 0
        while True:
            if t < cursor:
                return _OomState("Running", True, restarts, last, first, start, prev_start)
            if t < cursor + tm.oom_show_s:
                return _OomState("OOMKilled", False, restarts, last, first, start, prev_start)
            restart_at = cursor + tm.oom_show_s + _backoff(k)
            if t < restart_at:
                status = "CrashLoopBackOff"
                return _OomState(status, False, restarts, last, first, start, prev_start)
            restarts += 1
            last = restart_at
            prev_start, start = start, restart_at
            cursor = restart_at + tm.oom_run_s
            k += 1

    def _pod_health(self, rec: PodRec, t: float) -> PodHealth | None:
        """The pod as `kubectl get pods` would show it at t, or None when it does not exist."""
        if rec.cached is not None:
            return rec.cached
        tm = self.timing
        wl = rec.workload
        if t < rec.created_s:
            return None
        if rec.deleted_s is not None and t >= rec.deleted_s + tm.terminating_s:
            return None
        n = len(wl.containers)
        restarts, last_s = rec.base_restarts, rec.base_last_restart_s
        settled = False
        if rec.deleted_s is not None and t >= rec.deleted_s:
            status, ready, healthy = "Terminating", f"0/{n}", False
        elif wl.kind == "Job":
            status, ready, healthy, settled = "Completed", f"0/{n}", True, True
        elif t < rec.created_s + tm.creating_s:
            status, ready, healthy = "ContainerCreating", f"0/{n}", False
        elif rec.oom:
            st = self._oom_state(rec, t)
            status, ready, healthy = st.status, f"{n if st.running else 0}/{n}", st.running
            restarts, last_s = st.restarts, st.last_restart_s
            if st.restarts and st.running:
                healthy = False  # crash-looping even while it briefly runs
        else:
            status, ready, healthy, settled = "Running", f"{n}/{n}", True, True
        owner_kind = {"Deployment": "ReplicaSet"}.get(wl.kind, wl.kind)
        owner_name = self._rs_name(rec) if wl.kind == "Deployment" else wl.name
        if wl.kind == "":
            owner_name = ""
        pod = PodHealth(
            namespace=wl.namespace,
            name=rec.name,
            ready=ready,
            status=status,
            restarts=restarts,
            last_restart=self.at(last_s) if last_s is not None else None,
            created_at=self.at(rec.created_s),
            node=rec.node,
            owner_kind=owner_kind,
            owner_name=owner_name,
            healthy=healthy,
            containers=wl.containers,
            uid=rec.uid,
            owners=owner_chain(owner_kind, owner_name, self._labels(rec)),
            apps=(wl.name,),
        )
        if settled and rec.deleted_s is None:
            rec.cached = pod
        return pod

    def _labels(self, rec: PodRec) -> dict[str, str]:
        wl = rec.workload
        labels = {"app.kubernetes.io/name": wl.name, "app.kubernetes.io/part-of": "acme-shop"}
        if wl.kind == "Deployment":
            labels["pod-template-hash"] = self._rs_name(rec).rsplit("-", 1)[-1]
        return labels

    @staticmethod
    def _rs_name(rec: PodRec) -> str:
        # the ReplicaSet is the pod name minus its 5-char suffix (the template may have rolled)
        return rec.name.rsplit("-", 1)[0]

    def pods(self) -> list[PodHealth]:
        t = self.elapsed()
        out: list[PodHealth] = []
        gone: list[str] = []
        gone_after = self.timing.terminating_s
        for uid, rec in self._live.items():
            pod = rec.cached
            if pod is None:
                pod = self._pod_health(rec, t)
                if pod is None:
                    if rec.deleted_s is not None and t >= rec.deleted_s + gone_after:
                        gone.append(uid)
                    continue
            out.append(pod)
        for uid in gone:
            del self._live[uid]
        return out

    def find(self, pod: PodHealth) -> PodRec:
        rec = self._live.get(pod.uid)
        if rec is None or rec.name != pod.name:
            rec = next(
                (
                    r
                    for r in self._live.values()
                    if r.name == pod.name and r.workload.namespace == pod.namespace
                ),
                None,
            )
        if rec is None or self._pod_health(rec, self.elapsed()) is None:
            raise NotFound(f"pod {pod.namespace}/{pod.name} not found")
        return rec

    def detail(self, pod: PodHealth) -> PodDetail:
        rec = self.find(pod)
        t = self.elapsed()
        current = self._pod_health(rec, t)
        assert current is not None
        wl = rec.workload
        containers: list[ContainerDetail] = []
        events: list[str] = []
        for name, image in zip(wl.containers, wl.images, strict=True):
            if current.status == "ContainerCreating":
                state, ready = "waiting: ContainerCreating", False
            elif current.status == "Completed":
                state, ready = "terminated: Completed", False
            elif current.status == "OOMKilled":
                state, ready = "terminated: OOMKilled", False
            elif current.status == "CrashLoopBackOff":
                state, ready = "waiting: CrashLoopBackOff", False
            else:
                state, ready = "running", current.status == "Running"
            reason, code = "", None
            if rec.oom and current.restarts:
                reason, code = "OOMKilled", 137
            elif current.restarts:
                reason, code = "Error", 143
            containers.append(
                ContainerDetail(name, image, ready, current.restarts, state, reason, code)
            )
        node_note = f"Successfully assigned {wl.namespace}/{rec.name} to {rec.node}"
        events.append(f"{_ago(t - rec.created_s)}  Normal   Scheduled  {node_note}")
        if rec.oom and t >= rec.created_s + self.timing.creating_s:
            st = self._oom_state(rec, t)
            c = wl.containers[0]
            if t >= st.first_crash_s:
                events.append(
                    f"{_ago(t - st.first_crash_s)}  Warning  OOMKilling  "
                    f"Memory cgroup out of memory: Killed process 1 (java) in container {c}"
                )
            if st.status == "CrashLoopBackOff" or st.restarts > 1:
                events.append(
                    f"{_ago(1.0)}  Warning  BackOff    Back-off restarting failed container "
                    f"{c} in pod {rec.name}"
                )
        if rec.deleted_s is not None and t >= rec.deleted_s:
            events.append(f"{_ago(t - rec.deleted_s)}  Normal   Killing    Stopping container")
        return PodDetail(current, tuple(containers), tuple(events), frozen_map(self._labels(rec)))

    # ------------------------------------------------------------------ restarts

    def plan_restart(self, pod: PodHealth) -> RestartPlan:
        rec = self.find(pod)
        wl = rec.workload
        both = (RestartMode.DELETE_POD, RestartMode.ROLLOUT)
        if wl.kind == "":
            return RestartPlan(
                pod,
                (RestartMode.DELETE_POD,),
                warning=f"no controller: deleting {rec.name} is permanent, nothing recreates it",
            )
        if wl.kind == "Job":
            return RestartPlan(
                pod,
                (RestartMode.DELETE_POD,),
                "Job",
                wl.name,
                warning="a Job's completed pod is not recreated once deleted",
            )
        if wl.paused:
            return RestartPlan(
                pod,
                (),
                wl.kind,
                wl.name,
                refusal=(
                    f"Deployment {wl.namespace}/{wl.name} is paused: resume it first "
                    f"(kubectl rollout resume deployment/{wl.name} -n {wl.namespace})"
                ),
            )
        return RestartPlan(pod, both, wl.kind, wl.name)

    def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult:
        self.advance_queues()
        plan = self.plan_restart(pod)
        if plan.refusal:
            return ActionResult.failure(plan.refusal)
        if mode not in plan.modes:
            return ActionResult.failure(f"{mode.value} is not possible for {pod.key}")
        rec = self.find(pod)
        wl = rec.workload
        t = self.elapsed()
        rng = self._action_rng
        if mode is RestartMode.DELETE_POD:
            if rec.deleted_s is not None:
                return ActionResult.failure(f"pod {pod.key} is already being replaced")
            rec.deleted_s, rec.cached = t, None
            if wl.kind in ("", "Job"):
                return ActionResult.success(f"deleted pod {pod.key}", pod=rec.name)
            index = int(rec.name.rsplit("-", 1)[1]) if wl.kind == "StatefulSet" else 0
            created = t + self.timing.terminating_s if wl.kind == "StatefulSet" else t
            new = self._add_pod(wl, self._pod_name(wl, index, rng), created, rec.node, rng=rng)
            return ActionResult.success(
                f"deleted pod {pod.key}; {wl.kind} {wl.name} recreates it",
                pod=rec.name,
                replacement=new.name,
            )
        # rollout restart: a new template; old pods go as their replacements become ready
        wl.rollouts += 1
        wl.oom = False  # the new template carries the raised memory limit
        if wl.kind == "Deployment":
            wl.rs_hash = self._hash(10, rng)
        for pending in [r for r in wl.recs if r.deleted_s is None and r.created_s > t]:
            wl.recs.remove(pending)  # a rollout still starting pods: the new one supersedes it
            self._live.pop(pending.uid, None)
        current = [r for r in wl.recs if r.deleted_s is None and self._pod_health(r, t) is not None]
        tm = self.timing
        if wl.kind == "StatefulSet":
            current.sort(key=lambda r: r.name, reverse=True)  # highest ordinal first
            for j, old in enumerate(current):
                gone_at = t + j * (tm.terminating_s + tm.creating_s)
                old.deleted_s, old.cached = gone_at, None
                self._add_pod(wl, old.name, gone_at + tm.terminating_s, old.node, rng=rng)
        else:
            nodes = [r.node for r in current][: wl.replicas]
            while len(nodes) < wl.replicas:  # a rollout interrupted another one
                nodes.append(self.nodes[len(nodes) % len(self.nodes)])
            for j, node in enumerate(nodes):
                self._add_pod(wl, self._pod_name(wl, j, rng), t + 2.0 * j, node, rng=rng)
            for j, old in enumerate(current):
                old.deleted_s, old.cached = t + 2.0 * j + tm.creating_s, None
        return ActionResult.success(
            f"rollout restart of {wl.kind} {wl.namespace}/{wl.name} started",
            workload=f"{wl.kind}/{wl.name}",
        )

    # ------------------------------------------------------------------ queues

    def _build_queues(self) -> None:
        rng = random.Random(self.seed * 17 + 3)
        scripted = [
            # name, kind, publish/s, capacity/s per consumer, consumers, dead-letter exchange
            ("orders", "orders", 40.0, 60.0, 3, "orders.dlx"),
            ("orders.dlq", "generic", 0.0, 0.0, 0, ""),
            ("invoices", "invoices", 0.5, 5.0, 2, "billing.dlx"),
            ("invoices.dlq", "generic", 0.0, 0.0, 0, ""),
            ("emails", "generic", 12.0, 20.0, 2, "notifications.dlx"),
            ("payments.events", "generic", 25.0, 40.0, 2, "payments.dlx"),
            ("payments.dlq", "generic", 0.0, 0.0, 0, ""),
            ("checkout.sessions", "generic", 30.0, 50.0, 3, ""),
            ("catalog.reindex", "generic", 1.0, 5.0, 1, ""),
            ("notifications.sms", "generic", 3.0, 10.0, 1, "notifications.dlx"),
            ("shipping.labels", "generic", 6.0, 10.0, 2, "shipping.dlx"),
            ("audit.log", "generic", 50.0, 100.0, 1, ""),
        ]
        for name, kind, publish, capacity, consumers, dlx in scripted:
            q = QueueModel("/", name, kind, publish, capacity, consumers, dlx)
            base = float(rng.randrange(10_000, 900_000))
            q.published = q.consumed = base
            if name.endswith(".dlq"):
                q.published += {"orders.dlq": 17, "invoices.dlq": 3}.get(name, 0)
            self.queues[q.key] = q
        inv = self.queues["//invoices"]
        inv.consumed = float(int(inv.consumed))
        inv.poison_seq = int(inv.consumed)  # at the head from the start, with 41 behind it
        inv.published = inv.consumed + 42
        missing = self.target_queues - len(self.queues)
        areas = ("search", "inventory", "loyalty", "analytics", "pricing", "reviews", "fraud")
        events = ("updates", "events", "commands", "retries", "exports", "webhooks")
        for i in range(max(missing, 0)):
            area, event = areas[i % len(areas)], events[(i // len(areas)) % len(events)]
            name = f"{area}.{event}-{i:04d}"
            ready = rng.randrange(4)
            consumers = 1 + rng.randrange(3)
            q = QueueModel("/", name, "generic", 0.0, 0.0, consumers)
            q.consumed = float(rng.randrange(1000, 50_000))
            q.published = q.consumed + ready
            rate = round(rng.uniform(0.1, 20.0), 1)
            q.static = QueueDepth("/", name, ready, 0, consumers, rate, rate, rate)
            self.queues[q.key] = q

    def _consumers_at(self, q: QueueModel, t: float) -> int:
        if q.name != "orders":
            return q.consumers
        # orders-consumer's AMQP consumers die at backlog_at while its pods stay Running;
        # a pod that starts afterwards consumes again
        tm = self.timing
        n = 0
        for rec in self.workloads[("orders", "orders-consumer")].recs:
            running_at = rec.created_s + tm.creating_s
            if running_at > t or (rec.deleted_s is not None and rec.deleted_s <= t):
                continue
            if t < tm.backlog_at or running_at >= tm.backlog_at:
                n += 1
        return n

    def _stuck(self, q: QueueModel) -> bool:
        return q.poison_seq is not None and q.poison_seq not in q.removed

    def advance_queues(self) -> None:
        """Integrate the scripted queues on a 1 s grid up to now (same result however read)."""
        now_k = int(self.elapsed())
        scripted = [q for q in self.queues.values() if q.static is None]
        threshold = self.timing.backlog_threshold
        for k in range(self._queue_k + 1, now_k + 1):
            for q in scripted:
                arrivals = q.publish * (0.6 + 0.8 * _noise(self.seed, q.name, k))
                q.published += arrivals
                n = self._consumers_at(q, float(k))
                served = 0.0
                if not self._stuck(q):
                    served = min(max(q.published - q.consumed, 0.0), n * q.capacity)
                q.consumed += served
                q.last_arrivals, q.last_served = arrivals, served
                if q.name == "orders":
                    if q.ready() > threshold:
                        q.over_since = q.over_since if q.over_since is not None else float(k)
                    else:
                        q.over_since = None
        self._queue_k = max(self._queue_k, now_k)

    def queue_depths(self) -> list[QueueDepth]:
        self.advance_queues()
        t = float(self._queue_k)
        out: list[QueueDepth] = []
        for q in self.queues.values():
            if q.static is not None:
                out.append(q.static)
                continue
            n = self._consumers_at(q, t)
            stuck = self._stuck(q)
            unacked = 0 if stuck or not n else min(n * 10, round(q.last_served * 0.2))
            deliver = 18.0 if stuck else q.last_served  # the poison bounces between consumers
            out.append(
                QueueDepth(
                    q.vhost,
                    q.name,
                    q.ready(),
                    unacked,
                    n,
                    round(q.last_arrivals, 1),
                    round(deliver, 1),
                    0.0 if stuck else round(q.last_served, 1),
                    q.dlx,
                )
            )
        return out

    def _queue(self, depth: QueueDepth) -> QueueModel:
        q = self.queues.get(depth.key)
        if q is None:
            raise NotFound(f"queue {depth.name!r} not found in vhost {depth.vhost!r}")
        return q

    def _message(self, q: QueueModel, seq: int, position: int) -> QueueMessage:
        stamp = int(self.t0.timestamp()) - 600 + seq % 600
        trace = f"{zlib.crc32(f'{self.seed}:{q.name}:{seq}'.encode()):08x}"
        props: dict[str, Any] = {
            "content_type": "application/json",
            "delivery_mode": 2,
            "timestamp": stamp,
            "message_id": f"{q.name}-{seq}",
        }
        headers: dict[str, Any] = {"x-trace-id": trace}
        redelivered = seq in q.peeked
        if seq == q.poison_seq:
            payload = (
                b'{"invoice_id": "inv-2026-004711", "order_id": "ord-183977", '
                b'"amount": 129.9\x00, "customer": "ACME \x1b[2J GmbH", "lines": [{"sku": '
            )
            first_death = self.t0 - timedelta(minutes=12)
            headers = {
                "x-trace-id": trace,
                "x-death": [
                    {
                        "count": 3,
                        "reason": "rejected",
                        "queue": "invoices",
                        "exchange": "billing",
                        "routing-keys": ["invoice.created"],
                        "time": first_death.isoformat(),
                    }
                ],
                "x-first-death-reason": "rejected",
                "x-first-death-queue": "invoices",
                "x-first-death-exchange": "billing",
            }
            props["app_id"] = "legacy-erp-bridge"
            redelivered = True
        elif q.kind == "orders":
            n = _noise(self.seed, "o", seq)
            body = {
                "order_id": f"ord-{seq}",
                "customer_id": f"cus-{int(n * 90000) + 10000}",
                "total": round(5 + n * 400, 2),
                "currency": "EUR",
                "items": 1 + int(n * 7),
            }
            payload = json.dumps(body).encode()
            props["app_id"] = "checkout-api"
        elif q.kind == "invoices":
            body = {
                "invoice_id": f"inv-2026-{seq % 1_000_000:06d}",
                "order_id": f"ord-{seq + 1000}",
                "amount": round(10 + _noise(self.seed, "i", seq) * 300, 2),
                "currency": "EUR",
            }
            payload = json.dumps(body).encode()
            props["app_id"] = "orders-api"
        else:
            body = {"id": seq, "type": f"{q.name.split('-')[0]}", "source": "acme-shop"}
            payload = json.dumps(body).encode()
        return QueueMessage(
            position=position,
            payload=payload,
            message_id=props["message_id"],
            correlation_id=f"corr-{trace}",
            content_type="application/json",
            headers=headers,
            properties=props,
            redelivered=redelivered,
            routing_key={"orders": "order.created", "invoices": "invoice.created"}.get(
                q.kind, q.name
            ),
            exchange={"orders": "orders", "invoices": "billing"}.get(q.kind, "events"),
        )

    def _seqs(self, q: QueueModel, count: int) -> list[int]:
        head, tail = int(q.consumed), int(q.published)
        out: list[int] = []
        seq = head
        while seq < tail and len(out) < count:
            if seq not in q.removed:
                out.append(seq)
            seq += 1
        return out

    def peek(self, depth: QueueDepth, count: int = 10) -> list[QueueMessage]:
        self.advance_queues()
        q = self._queue(depth)
        seqs = self._seqs(q, max(count, 0))
        messages = [self._message(q, seq, i) for i, seq in enumerate(seqs)]
        q.peeked.update(seqs)  # requeued: they come back marked redelivered
        return messages

    def quarantine(self, depth: QueueDepth, message: QueueMessage, *, actor: str) -> ActionResult:
        self.advance_queues()
        q = self._queue(depth)
        seq: int | None = None
        prefix = f"{q.name}-"
        if message.message_id.startswith(prefix) and message.message_id[len(prefix) :].isdigit():
            seq = int(message.message_id[len(prefix) :])
        else:  # no id of ours: match on content among the first messages
            for candidate in self._seqs(q, 1000):
                if self._message(q, candidate, 0).identity == message.identity:
                    seq = candidate
                    break
        head, tail = int(q.consumed), int(q.published)
        if seq is None or not head <= seq < tail or seq in q.removed:
            return ActionResult.failure(f"message is no longer in {q.name}: nothing removed")
        original = self._message(q, seq, 0)
        q.removed[seq] = self.elapsed()
        if q.static is not None:
            s = q.static
            q.static = QueueDepth(
                s.vhost, s.name, q.ready(), s.unacked, s.consumers, s.publish_rate,
                s.deliver_rate, s.ack_rate, s.dead_letter_exchange,
            )  # fmt: skip
        qid = f"demo-q-{len(self.quarantined) + 1:04d}"
        record = {
            "id": qid,
            "queue": q.key,
            "message_id": original.message_id,
            "identity": original.identity,
            "actor": actor,
            "at": self.clock.now().isoformat(),
            "payload_hex": original.payload.hex(),
            "headers": original.headers,
            "properties": original.properties,
        }
        self.quarantined.append(record)
        if self.quarantine_dir is not None:
            self.quarantine_dir.mkdir(parents=True, exist_ok=True)
            path = self.quarantine_dir / f"{qid}.json"
            path.write_text(json.dumps(record, indent=2, default=str))
        return ActionResult.success(
            f"quarantined {original.message_id} from {q.name}; the other messages stay in order",
            quarantine_id=qid,
            message_id=original.message_id,
        )

    # ------------------------------------------------------------------ alerts

    def _build_background_alerts(self) -> None:
        missing = self.target_alerts - 16  # roughly what the script shows at its peak
        if missing <= 0:
            return
        rng = random.Random(self.seed * 13 + 11)
        names = (
            "KubeDeploymentReplicasMismatch", "KubeHpaMaxedOut", "CPUThrottlingHigh",
            "NodeFilesystemSpaceFillingUp", "TargetDown", "KubeJobFailed", "HighErrorRate",
            "SlowQueries", "CacheHitRateLow", "CertificateRenewalDue", "KubeContainerWaiting",
            "PersistentVolumeUsageHigh", "ApiRequestsThrottled", "BatchJobLate",
        )  # fmt: skip
        teams = ("search", "inventory", "loyalty", "analytics", "pricing", "identity", "fraud")
        for i in range(missing):
            name = names[rng.randrange(len(names))]
            team = teams[rng.randrange(len(teams))]
            severity = "warning" if rng.random() < 0.3 else "info"
            labels = {
                "alertname": name,
                "team": team,
                "severity": severity,
                "namespace": team,
                "instance": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{i % 250 + 2}:9100",
            }
            alert = Alert(
                fingerprint=_fingerprint(labels),
                labels=frozen_map(labels),
                annotations=frozen_map({"summary": f"{name} on {labels['instance']}"}),
                severity=severity,
                starts_at=self.at(-rng.uniform(600, 7 * 86400)),
                generator_url=f"{_PROMETHEUS}/graph?g0.expr=ALERTS%7Balertname%3D%22{name}%22%7D",
                receivers=(f"team-{team}",),
            )
            self._bg_alerts.append(((name, team, f"team-{team}"), alert))

    def _scripted_alerts(self, t: float) -> list[tuple[dict[str, str], dict[str, str], float]]:
        tm = self.timing
        out: list[tuple[dict[str, str], dict[str, str], float]] = []

        def add(labels: dict[str, str], annotations: dict[str, str], since: float) -> None:
            out.append((labels, annotations, since))

        add(
            {"alertname": "Watchdog", "team": "platform", "severity": "none"},
            {"summary": "Alerting pipeline is alive (always firing)"},
            -3 * 86400.0,
        )
        add(
            {
                "alertname": "DiskSpaceLow",
                "team": "platform",
                "severity": "warning",
                "namespace": "platform",
                "instance": "node-eu1-a-01",
                "mountpoint": "/var/lib/rabbitmq",
            },
            {
                "summary": "Disk on node-eu1-a-01 is 86% full",
                "description": "/var/lib/rabbitmq will fill in about 3 days at the current rate.",
                "runbook_url": f"{_RUNBOOKS}/platform/disk-space",
            },
            -23 * 60.0,
        )
        add(
            {
                # hostile on purpose: the UI must show label values as plain text
                "alertname": "TLSCertificateExpiring",
                "team": "platform",
                "severity": "info",
                "instance": "[bold]db-1[/bold]\x1b[31m",
                "job": "blackbox",
            },
            {"summary": "TLS certificate of [bold]db-1[/bold] expires in 21 days"},
            -5 * 3600.0,
        )
        # payments: latency first, then the OOMs
        pay = self.workloads[("payments", "payments-api")]
        oom_recs = [r for r in pay.recs if r.oom]
        oom_end = max(
            (
                float("inf") if r.deleted_s is None else r.deleted_s + tm.terminating_s
                for r in oom_recs
            ),
            default=float("-inf"),
        )
        if tm.latency_at <= t < oom_end + tm.latency_clear_s and oom_end > tm.latency_at:
            for route, p99 in (("/checkout/confirm", "4.2s"), ("/checkout/pay", "3.7s")):
                add(
                    {
                        "alertname": "CheckoutLatencyHigh",
                        "team": "payments",
                        "severity": "critical",
                        "service": "checkout-api",
                        "namespace": "checkout",
                        "route": route,
                    },
                    {
                        "summary": f"Checkout p99 latency on {route} is {p99} (SLO 800ms)",
                        "description": (
                            "checkout-api waits on payments-api for card captures; "
                            "p99 has been above the SLO for 2 minutes."
                        ),
                        "runbook_url": f"{_RUNBOOKS}/payments/checkout-latency",
                    },
                    tm.latency_at,
                )
        for rec in oom_recs:
            if self._pod_health(rec, t) is None or t < rec.created_s + tm.creating_s:
                continue
            if rec.deleted_s is not None and t >= rec.deleted_s:
                continue
            first = self._oom_state(rec, t).first_crash_s
            if t >= first + 5.0:
                add(
                    {
                        "alertname": "KubePodCrashLooping",
                        "team": "payments",
                        "severity": "warning",
                        "namespace": "payments",
                        "pod": rec.name,
                        "container": "payments-api",
                    },
                    {
                        "summary": f"Pod payments/{rec.name} is crash looping",
                        "description": "Container payments-api was OOMKilled (exit code 137).",
                        "runbook_url": f"{_RUNBOOKS}/kubernetes/pod-crash-looping",
                    },
                    first + 5.0,
                )
        orders = self.queues["//orders"]
        if orders.over_since is not None:
            add(
                {
                    "alertname": "RabbitMQQueueBacklog",
                    "team": "orders",
                    "severity": "critical",
                    "vhost": "/",
                    "queue": "orders",
                    # the rule's own labels name who consumes the queue
                    "namespace": "orders",
                    "service": "orders-consumer",
                },
                {
                    "summary": f"Queue orders has {orders.ready():,} ready messages",
                    "description": "Messages pile up faster than orders-consumer takes them.",
                    "runbook_url": f"{_RUNBOOKS}/orders/queue-backlog",
                },
                orders.over_since,
            )
        invoices = self.queues["//invoices"]
        if t >= tm.invoice_errors_at and self._stuck(invoices):
            add(
                {
                    "alertname": "InvoiceConsumerErrors",
                    "team": "billing",
                    "severity": "warning",
                    "namespace": "billing",
                    "service": "invoice-worker",
                    "vhost": "/",
                    "queue": "invoices",
                },
                {
                    "summary": "invoice-worker fails every delivery: JSON parse error",
                    "description": "The same message is redelivered over and over (x-death 3).",
                    "runbook_url": f"{_RUNBOOKS}/billing/poison-message",
                },
                tm.invoice_errors_at,
            )
        return out

    def _active_silences(self, now: datetime) -> list[Silence]:
        return [
            s
            for s in self.silences.values()
            if s.state != "expired" and s.starts_at <= now < s.ends_at
        ]

    @staticmethod
    def _apply(alert: Alert, silences: list[Silence]) -> Alert:
        ids = tuple(s.id for s in silences if all(alert.labels.get(k) == v for k, v in s.matchers))
        if not ids:
            return alert
        return Alert(
            alert.fingerprint, alert.labels, alert.annotations, alert.severity,
            AlertState.SUPPRESSED, ids, (), alert.starts_at, alert.generator_url,
            alert.receivers, alert.cluster,
        )  # fmt: skip

    @staticmethod
    def _group(
        grouped: dict[tuple[str, str, str], list[Alert]], silences: list[Silence]
    ) -> list[AlertGroup]:
        out: list[AlertGroup] = []
        acks = [s for s in silences if s.is_ack]
        for (name, team, receiver), alerts in grouped.items():
            ack = None
            for s in acks:
                if all(all(a.labels.get(k) == v for k, v in s.matchers) for a in alerts) and (
                    ack is None or s.ends_at > ack.ends_at
                ):
                    ack = s
            out.append(
                AlertGroup(
                    key=f'{receiver}:{{alertname="{name}",team="{team}"}}',
                    labels=frozen_map({"alertname": name, "team": team}),
                    alerts=tuple(alerts),
                    receiver=receiver,
                    ack=ack,
                )
            )
        return out

    def alert_groups(self) -> list[AlertGroup]:
        self.advance_queues()  # the backlog alert reads the orders queue
        t = self.elapsed()
        now = self.clock.now()
        silences = self._active_silences(now)
        grouped: dict[tuple[str, str, str], list[Alert]] = {}
        for labels, notes, since in self._scripted_alerts(t):
            team = labels["team"]
            alert = Alert(
                fingerprint=_fingerprint(labels),
                labels=frozen_map(labels),
                annotations=frozen_map(notes),
                severity=labels.get("severity", "none"),
                starts_at=self.at(since),
                generator_url=(
                    f"{_PROMETHEUS}/graph?g0.expr=ALERTS%7Balertname%3D%22"
                    f"{labels['alertname']}%22%7D&g0.tab=1"
                ),
                receivers=(f"team-{team}",),
            )
            key = (labels["alertname"], team, f"team-{team}")
            grouped.setdefault(key, []).append(self._apply(alert, silences))
        groups = self._group(grouped, silences)
        return groups + self._background_groups(silences)

    def _background_groups(self, silences: list[Silence]) -> list[AlertGroup]:
        # immutable until the set of active silences changes: build once per set
        cache_key = tuple(f"{s.id}@{s.ends_at.isoformat()}" for s in silences)
        if self._bg_cache is not None and self._bg_cache[0] == cache_key:
            return self._bg_cache[1]
        grouped: dict[tuple[str, str, str], list[Alert]] = {}
        for key, alert in self._bg_alerts:
            grouped.setdefault(key, []).append(self._apply(alert, silences) if silences else alert)
        groups = self._group(grouped, silences)
        self._bg_cache = (cache_key, groups)
        return groups

    def ack(self, group: AlertGroup, *, duration: timedelta, author: str, comment: str) -> Silence:
        now = self.clock.now()
        if not comment.startswith("ACK!"):
            comment = f"ACK! {comment}".rstrip()
        current = next((g for g in self.alert_groups() if g.key == group.key), group)
        if current.ack is not None and current.ack.id in self.silences:
            old = current.ack
            silence = Silence(old.id, old.matchers, old.starts_at, now + duration, author, comment)
        else:
            matchers = current.common_labels or dict(current.labels)
            self._silence_n += 1
            silence = Silence(
                id=f"demo-sil-{self._silence_n:04d}",
                matchers=tuple(sorted(matchers.items())),
                starts_at=now,
                ends_at=now + duration,
                created_by=author,
                comment=comment,
            )
        self.silences[silence.id] = silence
        return silence

    def unack(self, silence_id: str) -> None:
        silence = self.silences.get(silence_id)
        if silence is None or silence.state == "expired":
            raise NotFound(f"silence {silence_id} not found or already expired")
        now = self.clock.now()
        self.silences[silence_id] = Silence(
            silence.id, silence.matchers, silence.starts_at, now, silence.created_by,
            silence.comment, state="expired",
        )  # fmt: skip

    # ------------------------------------------------------------------ logs

    def _windows(
        self, rec: PodRec, t: float
    ) -> tuple[tuple[float, float, bool] | None, tuple[float, float, bool] | None]:
        """(start, end, crashed) of the current and the previous container instance."""
        tm = self.timing
        running_at = rec.created_s + tm.creating_s
        if t < running_at:
            return None, None
        if rec.oom:
            st = self._oom_state(rec, t)

            def end_of(start: float) -> float:
                return st.first_crash_s if start == running_at else start + tm.oom_run_s

            cur_end = min(t, end_of(st.container_start_s))
            current = (st.container_start_s, cur_end, not st.running)
            previous = None
            if st.previous_start_s is not None:
                previous = (st.previous_start_s, end_of(st.previous_start_s), True)
            return current, previous
        if rec.workload.kind == "Job":
            return (running_at, running_at + 95.0, False), None
        if rec.base_restarts and rec.base_last_restart_s is not None:
            return (rec.base_last_restart_s, t, False), (
                running_at,
                rec.base_last_restart_s,
                True,
            )
        return (running_at, t, False), None

    def _line(self, rec: PodRec, container: str, s: int) -> str | None:
        """The log line written at second s, if any (about two in three seconds have one)."""
        n = _noise(self.seed, rec.name, container, s)
        if n > 0.7:
            return None
        # written during the second before s, so no line is stamped after the read
        ts = self.at(s - 1 + n).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        wl = rec.workload
        if rec.oom or wl.name == "payments-api":
            kinds = (
                f"INFO  [http-nio-8080-exec-{1 + int(n * 20)}] c.a.p.api.CaptureController - "
                f"capture ok order=ord-{183000 + s % 9000} amount={5 + n * 300:.2f} "
                f"took={int(40 + n * 300)}ms",
                f"INFO  [http-nio-8080-exec-{1 + int(n * 20)}] c.a.p.api.RefundController - "
                f"refund accepted id=rf-{s % 7000}",
                "DEBUG [ledger-sync-1] c.a.p.ledger.SettlementCache - "
                f"cached settlements={12000 + s * 37 % 90000}",
            )
            return f"{ts} {kinds[int(n * 10) % 3]}"
        levels = ("info", "info", "info", "debug", "info", "warn")
        level = levels[int(n * 60) % len(levels)]
        msg = {
            "consumer": f'msg="processed message" queue=orders order=ord-{180000 + s % 9000}',
            "worker": f'msg="job done" job=invoice-{s % 5000} duration={int(n * 900)}ms',
            "rabbitmq": f'msg="accepting AMQP connection" client=10.0.3.17:4{s % 10000:04d}',
        }.get(
            container,
            f'msg="request" method=GET path=/healthz status=200 duration={int(n * 20)}ms',
        )
        return f"{ts} level={level} pod={rec.name} {msg}"

    def _startup(self, rec: PodRec, start: float) -> list[str]:
        ts = self.at(start).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if rec.workload.name == "payments-api":
            return [
                f"{ts} INFO  [main] c.a.p.PaymentsApplication - Starting PaymentsApplication "
                "v2.14.3 using Java 21.0.5",
                f"{ts} INFO  [main] o.s.b.w.e.tomcat.TomcatWebServer - Tomcat initialized "
                "with port 8080 (http)",
                f"{ts} INFO  [main] c.a.p.ledger.SettlementCache - warming settlement cache "
                "(max heap 512m)",
            ]
        return [f'{ts} level=info pod={rec.name} msg="starting" version={rec.workload.images[0]}']

    def _crash(self, rec: PodRec, end: float) -> list[str]:
        ts = self.at(end).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if rec.oom or rec.workload.name == "payments-api":
            return [
                f"{ts} WARN  [ledger-sync-1] c.a.p.ledger.SettlementCache - GC overhead: "
                "heap 97% used after full GC",
                f"{ts} ERROR [http-nio-8080-exec-7] o.a.c.c.C.[.[.[/].[dispatcherServlet] - "
                "Servlet.service() for servlet [dispatcherServlet] threw exception",
                "java.lang.OutOfMemoryError: Java heap space",
                "    at java.base/java.util.Arrays.copyOf(Arrays.java:3537)",
                "    at java.base/java.util.ArrayList.grow(ArrayList.java:237)",
                "    at com.acme.payments.ledger.SettlementCache.snapshot("
                "SettlementCache.java:142)",
                "    at com.acme.payments.api.CaptureController.capture(CaptureController.java:88)",
                "    at org.springframework.web.servlet.FrameworkServlet.service("
                "FrameworkServlet.java:885)",
                "Terminating due to java.lang.OutOfMemoryError: Java heap space",
            ]
        return [f'{ts} level=error pod={rec.name} msg="received SIGTERM, shutting down"']

    def logs(self, pod: PodHealth, container: str, *, previous: bool, tail: int) -> list[str]:
        rec = self.find(pod)
        if container not in rec.workload.containers:
            raise NotFound(f"container {container!r} is not in pod {pod.key}")
        current, prev = self._windows(rec, self.elapsed())
        window = prev if previous else current
        if window is None:
            if previous:
                raise NotFound(
                    f"previous terminated container {container!r} in pod {pod.key} not found"
                )
            return []
        start, end, crashed = window
        tail = max(tail, 0)
        lines: list[str] = []
        s = int(end)
        while s - 1 >= start and len(lines) < tail:
            line = self._line(rec, container, s)
            if line is not None:
                lines.append(line)
            s -= 1
        lines.reverse()
        if s - 1 < start:
            lines = self._startup(rec, start) + lines
        if crashed:
            lines += self._crash(rec, end)
        return lines[-tail:] if tail else []

    def log_lines(self, pod: PodHealth, container: str, after: int, upto: int) -> list[str]:
        """Lines written in seconds (after, upto] by the current container (for follow)."""
        rec = self.find(pod)
        current, _ = self._windows(rec, float(upto))
        if current is None:
            return []
        start, end, _crashed = current
        lo, hi = max(after, int(start)), min(upto, int(end))
        if lo < start:  # the line of second lo + 1 would predate the container
            lo += 1
        lines = [self._line(rec, container, s) for s in range(lo + 1, hi + 1)]
        return [line for line in lines if line is not None]

    # ------------------------------------------------------------------ outbound

    def post_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> ActionResult:
        opened = remote_id is None
        if remote_id is None:
            self._remote_n += 1
            remote_id = f"demo-sp-{self._remote_n:04d}"
        self.status_updates.append((remote_id, update))
        verb = "opened" if opened else "updated"
        return ActionResult.success(
            f"status page incident {remote_id} {verb}: {update.status.value}",
            remote_id=remote_id,
        )

    def escalate(self, escalation: Escalation) -> ActionResult:
        key = escalation.dedup_key
        page_id = self.pages.get(key)
        if page_id is not None:
            return ActionResult(
                True,
                f"team {escalation.team} already paged for {escalation.incident_id}",
                frozen_map({"dedup_key": key, "page_id": page_id}),
                {"deduplicated": True},
            )
        page_id = f"demo-page-{len(self.pages) + 1:04d}"
        self.pages[key] = page_id
        return ActionResult.success(
            f"paged team {escalation.team} ({escalation.severity})",
            dedup_key=key,
            page_id=page_id,
        )


def _uuid(bits: int) -> str:
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ago(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    if seconds < 172800:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"
