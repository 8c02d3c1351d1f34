"""The scale world on real servers, and `cockpit --demo` at the same scale, side by side
with the tools an engineer would otherwise use.

Run: .venv/bin/python -m tests.bench.scale [--quick] [--repeat N] [--profile DIR]
(--profile needs pyinstrument, which is not a dependency: pip install it in your venv.)

Not a pytest test (timings are not assertions; the machine is shared). It starts:

- kmock's KubernetesEmulator with 5,000 generated pods in 20 namespaces, 2 % of them
  crashing; under churn 1 % of the pods change state every second (PATCH -> watch events);
- a real prometheus-alertmanager on a free port with 2,000 alerts; under churn a few
  resolve and fire every second;
- a RabbitMQ vhost of its own (deleted afterwards) with 1,000 queues; under churn depths
  move every second (publishes and purges). A second vhost holds 2,000 queues for the
  "list and show 2,000 queues" figure.

The world lives in a child process (`--world`, internal) so that its CPU and its GIL never
sit between a key and the bytes this process times. The installed cockpit then runs
against it with a generated config in a pseudo-terminal (bench_screen's Session and its
little VT100) at 200x50 and at 80x24; the same sequence runs on `--demo` at the same scale.
Per session: first full screen; bytes/s and CPU at rest (no churn yet); then churn on:
keypresses, bytes/s and CPU under churn; peak RSS. A probe in the child times every
panel refresh (Panel.refresh_rows) and every paint (Screen._on_timer_update) on the UI
thread. With --repeat N every figure is the median of N sessions.

Side by side, in this process, against the same servers: `kubectl get pods -A` vs the
cockpit's pod list to table rows, `amtool alert query` vs the alert fetch to table rows,
`rabbitmqadmin list queues` (the script the broker serves) vs the queue fetch to rows.
The tools' times include their process start (that is what the engineer waits for); the
cockpit's do not (it is already running).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.bench.bench_screen import (
    CHILD,
    Session,
    full_screen,
    key_samples,
    pct,
    precompile,
)

PYTHON = sys.executable
MGMT = "http://127.0.0.1:15672"
RABBIT_USER = RABBIT_PASSWORD = "guest"
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"

# the targets of issue 14 (2 cores)
TARGETS = {
    "first_screen_demo": 0.8,
    "first_screen_scale": 1.2,
    "key_p95": 30.0,
    "bytes_rest": 1024.0,
    "bytes_churn": 3072.0,
    "cpu_rest": 3.0,
    "rss": 120.0,
    "queues_2k": 0.5,
}

# --------------------------------------------------------------------------- the world

NAMESPACES = 20


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def container_status(pod: dict[str, Any], *, crash: bool, restarts: int, now: datetime) -> None:
    """Set the pod's one container crashing (CrashLoopBackOff after an Error) or running."""
    status = pod["status"]
    container = status["containerStatuses"][0]
    container["restartCount"] = restarts
    container["ready"] = not crash
    container["started"] = not crash
    if crash:
        container["state"] = {
            "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting"}
        }
    else:
        container["state"] = {"running": {"startedAt": _stamp(now)}}
    if restarts:
        container["lastState"] = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": _stamp(now - timedelta(minutes=2)),
                "finishedAt": _stamp(now),
            }
        }
    for condition in status["conditions"]:
        if condition["type"] in {"Ready", "ContainersReady"}:
            condition["status"] = "False" if crash else "True"


def scale_pods(count: int, now: datetime, seed: int = 7) -> list[dict[str, Any]]:
    """Pods shaped like a Deployment's (bench_pods.realistic_pod), in 20 namespaces,
    2 % crashing; creation times from minutes to months ago."""
    from tests.bench.bench_pods import realistic_pod

    rng = random.Random(seed)
    pods = []
    for i in range(count):
        pod = realistic_pod(i, rng)
        pod["apiVersion"], pod["kind"] = "v1", "Pod"
        meta = pod["metadata"]
        namespace = f"ns-{i % NAMESPACES:02d}"
        meta["namespace"] = meta["labels"]["team"] = namespace
        created = now - timedelta(seconds=rng.choice([90, 600, 3000, 20_000, 400_000, 4e6]))
        meta["creationTimestamp"] = _stamp(created)
        crash = i % 50 == 0
        restarts = rng.randint(3, 40) if crash else rng.choice([0, 0, 0, 0, 1, 2])
        container_status(pod, crash=crash, restarts=restarts, now=created + timedelta(minutes=1))
        pods.append(pod)
    return pods


def scale_alerts(count: int, now: datetime, seed: int = 7) -> list[dict[str, Any]]:
    """Alerts of ~60 names over ~40 services (grouped by alertname and service), started
    from seconds to hours ago, ending in 6 hours (nothing has to re-post them)."""
    rng = random.Random(seed)
    names = [f"{kind}{n}" for kind in ("HighLatency", "ErrorRate", "DiskFill") for n in range(20)]
    alerts = []
    for i in range(count):
        name = names[i % len(names)]
        service = f"svc-{rng.randrange(40):02d}"
        started = now - timedelta(seconds=rng.choice([20, 200, 900, 2400, 7200, 30_000]))
        alerts.append(
            {
                "labels": {
                    "alertname": name,
                    "service": service,
                    "severity": rng.choice(["critical", "warning", "warning", "info"]),
                    "team": f"team-{rng.randrange(12)}",
                    "instance": f"10.0.{i // 250}.{i % 250}:9090",
                    "namespace": f"ns-{i % NAMESPACES:02d}",
                },
                "annotations": {"summary": f"{name} on {service} (instance {i})"},
                "startsAt": started.isoformat(),
                "endsAt": (now + timedelta(hours=6)).isoformat(),
            }
        )
    return alerts


def _rabbit(method: str, path: str, body: Any = None) -> None:
    import httpx

    with httpx.Client(base_url=MGMT, auth=(RABBIT_USER, RABBIT_PASSWORD), timeout=60) as client:
        client.request(method, path, json=body).raise_for_status()


def _q(*parts: str) -> str:
    return "/".join(quote(p, safe="") for p in parts)


def make_vhost(name: str) -> None:
    _rabbit("PUT", f"/api/vhosts/{_q(name)}")
    _rabbit(
        "PUT",
        f"/api/permissions/{_q(name)}/{RABBIT_USER}",
        {"configure": ".*", "write": ".*", "read": ".*"},
    )


def _channel(vhost: str) -> Any:
    import pika

    connection = pika.BlockingConnection(
        pika.ConnectionParameters(
            "127.0.0.1",
            virtual_host=vhost,
            credentials=pika.PlainCredentials(RABBIT_USER, RABBIT_PASSWORD),
            client_properties={"connection_name": "cockpit scale benchmark"},
        )
    )
    return connection.channel()


def queue_names(count: int) -> list[str]:
    kinds = ("events", "commands", "retry", "dlq", "audit")
    return [f"svc-{i // len(kinds):03d}.{kinds[i % len(kinds)]}" for i in range(count)]


def fill_queues(vhost: str, count: int, seed: int = 7) -> list[str]:
    """Declare `count` queues; a few deep (warn/crit colours), most with a handful."""
    rng = random.Random(seed)
    channel = _channel(vhost)
    names = queue_names(count)
    for i, name in enumerate(names):
        channel.queue_declare(name, durable=False)
        depth = 1500 if i % 97 == 0 else rng.choice([0, 0, 1, 3, 8, 20])
        for _ in range(depth):
            channel.basic_publish("", name, b"{}")
    channel.connection.close()
    return names


class World:
    """Runs in the --world child: the emulator, and the churn of all three servers."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.churning = threading.Event()
        self.stopping = threading.Event()
        self.rng = random.Random(11)
        self.now = datetime.now(UTC)
        self.lists: dict[Any, Any] = {}

    async def run(self) -> None:
        import kmock

        lists: dict[Any, Any] = {}  # rendered lists, dropped on every churn batch

        class Emulator(kmock.KubernetesEmulator):  # type: ignore[misc]
            """Like a real API server where kmock is a test double: a list names its kind
            (kubectl refuses one without), is rendered once until something changes (Python
            JSON of 5,000 pods would otherwise be what every figure measures), and a watch
            from a resourceVersion streams changes only (kmock replays every object first)."""

            async def _serve_list(self, request: Any) -> Any:
                key = (request.resource, request.namespace, tuple(sorted(request.params.items())))
                if key not in lists:
                    payload = await super()._serve_list(request)
                    body = json.dumps({"kind": "PodList", "apiVersion": "v1", **payload})
                    lists[key] = kmock.Response(
                        payload=body.encode(), headers={"content-type": "application/json"}
                    )
                return lists[key]

            async def _serve_watch(self, request: Any) -> Any:
                if not request.params.get("resourceVersion"):
                    async for item in super()._serve_watch(request):
                        yield item
                    return
                yield b""
                async for event in self._buses[request.resource]:
                    namespace = event.get("object", {}).get("metadata", {}).get("namespace")
                    if request.namespace in (None, namespace):
                        yield event

        self.lists = lists
        async with Emulator() as emulator, kmock.Server(emulator):
            # kmock's own discovery says groupVersion "/v1", which kubectl cannot use
            emulator["get /api/v1"] << {
                "apiVersion": "v1",
                "kind": "APIResourceList",
                "groupVersion": "v1",
                "resources": [
                    {
                        "name": "pods",
                        "kind": "Pod",
                        "singularName": "pod",
                        "shortNames": ["po"],
                        "categories": ["all"],
                        "verbs": ["watch", "list", "get", "patch", "delete"],
                        "namespaced": True,
                    }
                ],
            }
            resource = kmock.resource("", "v1", "pods")
            pods = scale_pods(self.args.pods, self.now)
            for pod in pods:
                meta = pod["metadata"]
                emulator.objects[resource, meta["namespace"], meta["name"]] = pod
            await asyncio.to_thread(make_vhost, self.args.vhost)
            await asyncio.to_thread(fill_queues, self.args.vhost, self.args.queues)
            if self.args.big_vhost:
                await asyncio.to_thread(make_vhost, self.args.big_vhost)
                await asyncio.to_thread(fill_queues, self.args.big_vhost, 2000)
            url = str(emulator.url).rstrip("/")
            print(json.dumps({"kube_url": url}), flush=True)
            rabbit = threading.Thread(target=self.queue_churn, daemon=True)
            rabbit.start()
            tasks = [
                asyncio.create_task(self.pod_churn(url, pods)),
                asyncio.create_task(self.alert_churn()),
            ]
            await self.commands()
            self.stopping.set()
            for task in tasks:
                task.cancel()
            rabbit.join(timeout=5)

    async def commands(self) -> None:
        """Lines on stdin: `churn 1`, `churn 0`, `quit` (end of input quits too)."""
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            word = line.strip()
            if not word or word == "quit":
                return
            if word == "churn 1":
                self.churning.set()
            elif word == "churn 0":
                self.churning.clear()
            print("ok", flush=True)

    async def pod_churn(self, url: str, pods: list[dict[str, Any]]) -> None:
        """1 % of the pods a second: half of them start crashing, as many recover."""
        import httpx

        crashing = [p for p in pods if not p["status"]["containerStatuses"][0]["ready"]]
        healthy = [p for p in pods if p["status"]["containerStatuses"][0]["ready"]]
        per_second = max(len(pods) // 100, 2)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            while True:
                began = time.monotonic()
                if self.churning.is_set():
                    now = datetime.now(UTC)
                    half = per_second // 2
                    recover = [crashing.pop(self.rng.randrange(len(crashing))) for _ in range(half)]
                    crash = [healthy.pop(self.rng.randrange(len(healthy))) for _ in range(half)]
                    patches = []
                    for pod, is_crash in [(p, False) for p in recover] + [(p, True) for p in crash]:
                        restarts = pod["status"]["containerStatuses"][0]["restartCount"]
                        container_status(pod, crash=is_crash, restarts=restarts + is_crash, now=now)
                        meta = pod["metadata"]
                        patches.append(
                            client.patch(
                                f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                                content=json.dumps({"status": pod["status"]}),
                                headers={"content-type": "application/merge-patch+json"},
                            )
                        )
                    with contextlib.suppress(httpx.HTTPError):
                        await asyncio.gather(*patches)
                    self.lists.clear()
                    crashing.extend(crash)
                    healthy.extend(recover)
                await asyncio.sleep(max(1.0 - (time.monotonic() - began), 0.05))

    async def alert_churn(self) -> None:
        """A few alerts a second resolve (endsAt now) and as many fire again."""
        import httpx

        alerts = scale_alerts(self.args.alerts, self.now)
        resolved: list[dict[str, Any]] = []
        async with httpx.AsyncClient(base_url=self.args.am_url, timeout=10) as client:
            while True:
                if self.churning.is_set():
                    now = datetime.now(UTC)
                    batch = []
                    for _ in range(3):
                        alert = alerts[self.rng.randrange(len(alerts))]
                        batch.append({**alert, "endsAt": now.isoformat()})
                        resolved.append(alert)
                    for alert in resolved[:-3][:3]:
                        alert["startsAt"] = now.isoformat()
                        batch.append(alert)
                    del resolved[: min(3, max(len(resolved) - 3, 0))]
                    with contextlib.suppress(httpx.HTTPError):
                        await client.post("/api/v2/alerts", json=batch)
                await asyncio.sleep(1.0)

    def queue_churn(self) -> None:
        """Depths move: publishes to 30 queues a second, a purge of 2."""
        channel = _channel(self.args.vhost)
        names = queue_names(self.args.queues)
        while not self.stopping.is_set():
            if self.churning.is_set():
                for name in self.rng.sample(names, 30):
                    for _ in range(self.rng.randint(1, 40)):
                        channel.basic_publish("", name, b"{}")
                for name in self.rng.sample(names, 2):
                    channel.queue_purge(name)
            channel.connection.sleep(1.0)
        channel.connection.close()


def world_main(args: argparse.Namespace) -> int:
    try:
        asyncio.run(World(args).run())
    finally:
        for vhost in (args.vhost, args.big_vhost):
            if vhost:
                with contextlib.suppress(Exception):
                    _rabbit("DELETE", f"/api/vhosts/{_q(vhost)}")
    return 0


@dataclass
class WorldProcess:
    """The --world child, driven by lines on its stdin."""

    proc: subprocess.Popen[str]
    kube_url: str

    @classmethod
    def start(cls, args: argparse.Namespace, am_url: str, vhost: str, big: str) -> WorldProcess:
        command = [PYTHON, "-m", "tests.bench.scale", "--world", "--am-url", am_url]
        command += ["--vhost", vhost, "--big-vhost", big, "--pods", str(args.pods)]
        command += ["--alerts", str(args.alerts), "--queues", str(args.queues)]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the world process died while starting (see its stderr)")
        return cls(proc, json.loads(line)["kube_url"])

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()

    def churn(self, on: bool) -> None:
        self.send(f"churn {int(on)}")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------- the cockpit

# prepended to the child's code: times every panel refresh and every paint on the UI
# thread, written as JSON at exit (perf_counter is CLOCK_MONOTONIC: comparable across
# processes, so the parent can pick the samples of each window)
PROBE = textwrap.dedent(
    """
    import atexit, json, os, sys, time
    _samples = []
    def _timed(cls, name, kind):
        original = getattr(cls, name)
        def timed(self, *args, **kwargs):
            began = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                _samples.append((began, kind, time.perf_counter() - began))
        setattr(cls, name, timed)
    from textual.screen import Screen
    from cockpit.ui.panels.base import Panel
    _timed(Panel, "refresh_rows", "rows")
    _timed(Screen, "_on_timer_update", "paint")
    import gc
    _gc_began = [0.0]
    def _gc(phase, info):  # the cycle collector's pauses (the UI thread stops for them)
        if phase == "start":
            _gc_began[0] = time.perf_counter()
        elif info.get("generation") == 2:
            _samples.append((_gc_began[0], "gc", time.perf_counter() - _gc_began[0]))
    gc.callbacks.append(_gc)
    def _dump():
        with open(os.environ["SCALE_PROBE"], "w") as out:
            json.dump(_samples, out)
    atexit.register(_dump)
    if os.environ.get("SCALE_RSS"):
        # --rss-trace: VmRSS every 5 ms, a sample kept per MB it moves, and the threads alive
        import threading
        def _rss():
            last = 0
            while True:
                with open("/proc/self/statm") as statm:
                    rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
                if abs(rss - last) >= 1:
                    last = rss
                    _samples.append((time.perf_counter(), f"rss {threading.active_count()}", rss))
                time.sleep(0.005)
        threading.Thread(target=_rss, name="rss-probe", daemon=True).start()
    if os.environ.get("SCALE_TRACE"):
        # --trace-refresh: every repaint asked for, with its caller (whole widget or regions)
        import traceback
        from textual.widget import Widget
        _refresh = Widget.refresh
        def _traced(self, *regions, **kwargs):
            where = " < ".join(
                f"{f.name}:{f.lineno}" for f in traceback.extract_stack(limit=4)[:-1][::-1]
            )
            what = "region" if regions else "WHOLE"
            name = f"{type(self).__name__}#{self.id}"
            _samples.append((time.perf_counter(), f"{name} {what} {where}", 0))
            return _refresh(self, *regions, **kwargs)
        Widget.refresh = _traced
    if os.environ.get("SCALE_PROFILE"):
        # one pyinstrument profile per phase: SIGUSR2 from the parent ends one, starts the next
        import signal
        from pyinstrument import Profiler
        _phases = ["first", "rest", "churn", "exit"]
        _profiler = [Profiler(interval=0.001, async_mode="disabled")]
        _profiler[0].start()
        def _profile(*_):
            profiler = _profiler[0]
            if profiler is None:
                return
            profiler.stop()
            name = _phases.pop(0) if _phases else "more"
            base = os.environ["SCALE_PROFILE"] + "-" + name
            with open(base + ".txt", "w") as out:
                out.write(profiler.output_text(unicode=True, show_all=False))
            with open(base + ".html", "w") as out:
                out.write(profiler.output_html())
            profiler.last_session.save(base + ".pyisession")  # pyinstrument --load it
            _profiler[0] = Profiler(interval=0.001, async_mode="disabled") if _phases else None
            if _profiler[0] is not None:
                _profiler[0].start()
        signal.signal(signal.SIGUSR2, _profile)
        atexit.register(_profile)
    """
)

SCALE_CHILD = "import sys\nfrom cockpit.cli import main\nsys.exit(main(%r))\n"


def write_config(tmp: Path, am_url: str, kubeconfig: Path, vhost: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        textwrap.dedent(
            f"""\
            [identity]
            name = "scale-bench"
            [store]
            path = "{tmp / "incidents.sqlite3"}"
            [ui]
            bell = false
            desktop_notify = false
            [alertmanager]
            url = "{am_url}"
            [kubernetes]
            kubeconfig = "{kubeconfig}"
            [rabbitmq]
            management_url = "{MGMT}"
            username = "{RABBIT_USER}"
            password_secret = "scale-rabbitmq"
            vhost = "{vhost}"
            """
        )
    )
    path.chmod(0o600)
    return path


@dataclass
class Run:
    """The figures of one session."""

    first: float | None = None
    first_cpu: float | None = None  # CPU seconds the app had used by then
    keys: list[float] = field(default_factory=list)
    footer: list[float] = field(default_factory=list)
    bytes_rest: float | None = None
    bytes_churn: float | None = None
    cpu_rest: float | None = None
    cpu_churn: float | None = None
    rss: float | None = None
    rss_first: float | None = None  # VmHWM at the first full screen
    rss_rest: float | None = None  # VmHWM after the warm-up and the window at rest
    rows: list[float] = field(default_factory=list)  # ms per Panel.refresh_rows
    paint: list[float] = field(default_factory=list)  # ms per paint
    gc: list[float] = field(default_factory=list)  # ms per full (generation 2) collection
    note: str = ""


def window(session: Session, seconds: float) -> tuple[float, float]:
    """(bytes/s, CPU % of one core) over `seconds` of reading and doing nothing else."""
    count, cpu = session.total_bytes, session.cpu_seconds()
    began = time.perf_counter()
    while (left := began + seconds - time.perf_counter()) > 0:
        session.pump(left)
    elapsed = time.perf_counter() - began
    return (session.total_bytes - count) / elapsed, (session.cpu_seconds() - cpu) / elapsed * 100


def print_bytes_map(
    session: Session, before: dict[tuple[int, int], int], seconds: float, size: str
) -> None:
    """Where the characters written under churn went: per screen row, with what it shows."""
    after = session.screen.written
    rows: dict[int, int] = {}
    cols: dict[tuple[int, int], int] = {}
    for spot, n in after.items():
        d = n - before.get(spot, 0)
        if d:
            rows[spot[0]] = rows.get(spot[0], 0) + d
            cols[spot] = d
    total = sum(rows.values()) or 1
    print(f"where the characters went under churn, {size} ({total / seconds:,.0f}/s):")
    for y in sorted(rows):
        bands = " ".join(
            f"{x * 10}:{cols[(y, x)] / seconds:.0f}" for x in range(30) if (y, x) in cols
        )
        print(f"  row {y:2} {rows[y] / seconds:7.0f}/s |{session.screen.line(y)[:70]}| {bands}")


def phase_done(session: Session, profile: str) -> None:
    """Under --profile: the child writes the phase's profile and starts the next one."""
    if profile and session.proc is not None:
        session.proc.send_signal(signal.SIGUSR2)


def print_rss_trace(
    samples: list[Any], started: float, run: Run, size: str, churn_began: float
) -> None:
    """--rss-trace: the child's RSS over time (a line per MB it moved, thread count),
    seconds from its start, with the first screen and the churn marked."""
    print(f"RSS over time, {size} (s from start: MB, threads alive):")
    marks = [(run.first or 0.0, "first full screen")]
    if churn_began:
        marks.append((churn_began - started, "churn on"))
    line: list[str] = []
    for t, kind, mb in samples:
        if not kind.startswith("rss"):
            continue
        at = t - started
        while marks and at >= marks[0][0]:
            line.append(f"[{marks.pop(0)[1]}]")
        line.append(f"{at:.2f}:{mb}({kind.split()[1]})")
    print("  " + " ".join(line))


def run_session(
    args: argparse.Namespace,
    cols: int,
    rows: int,
    tmp: Path,
    *,
    command: list[str] | None,
    env: dict[str, str],
    churn: Callable[[bool], None] | None,
    profile: str = "",
) -> Run:
    """One cockpit in a pty: first screen, rest, then churn with keys; the probe's samples."""
    probe = tmp / f"probe-{uuid.uuid4().hex[:8]}.json"
    env = {**env, "SCALE_PROBE": str(probe)}
    if args.trace_refresh:
        env["SCALE_TRACE"] = "1"
    if args.rss_trace:
        env["SCALE_RSS"] = "1"
    if profile:
        env["SCALE_PROFILE"] = profile
    if command is None:  # the demo, at scale, exactly as bench_screen runs it
        script = PROBE + CHILD % (args.pods, args.alerts, args.queues)
    else:
        script = PROBE + SCALE_CHILD % (command,)
    session = Session(cols, rows, args.pods, args.alerts, args.queues, env=env)
    session.argv = [PYTHON, "-c", script]
    run = Run()
    began = ended = window_began = 0.0
    session.start()
    try:
        shown = session.wait_for(full_screen, timeout=60)
        if shown is None:
            run.note = "no full screen in 60 s: " + session.screen.line(0).strip()
            return run
        run.first = shown - session.started
        run.first_cpu = session.cpu_seconds()
        run.rss_first = session.memory()[1]
        phase_done(session, profile)
        # past the warm-up: the queues' sparklines fill in over their first 8 polls, which
        # is the cockpit starting, not the world moving
        warm = time.perf_counter() + args.warmup
        while (left := warm - time.perf_counter()) > 0:
            session.pump(left)
        run.bytes_rest, run.cpu_rest = window(session, args.window)
        run.rss_rest = session.memory()[1]
        phase_done(session, profile)
        if churn is not None:
            churn(True)
        try:
            session.drain_quiet(0.3, limit=2)
            began = time.perf_counter()
            run.keys, run.footer, missed = key_samples(session, args.presses)
            if missed:
                run.note = f"{missed} keys without an answer in 1 s"
            before, window_began = dict(session.screen.written), time.perf_counter()
            run.bytes_churn, run.cpu_churn = window(session, args.window)
            ended = time.perf_counter()
            if args.bytes_map:
                print_bytes_map(session, before, ended - window_began, f"{cols}x{rows}")
            phase_done(session, profile)
        finally:
            if churn is not None:
                churn(False)
        run.rss = session.memory()[1]
        if args.show and cols == 200:
            print(session.screen.text())
    finally:
        session.stop()
    with contextlib.suppress(OSError, ValueError):
        samples = json.loads(probe.read_text())
        picked = [(kind, d * 1000) for t, kind, d in samples if began <= t <= ended]
        if args.rss_trace:
            print_rss_trace(samples, session.started, run, f"{cols}x{rows}", began)
        if args.trace_refresh:
            calls = Counter(k for t, k, _ in samples if window_began <= t <= ended)
            print(f"repaints asked for under churn, {cols}x{rows}, per second:")
            for what, n in calls.most_common(20):
                if what not in {"rows", "paint", "gc"}:
                    print(f"  {n / (ended - window_began):6.1f} {what}")
        run.rows = [d for kind, d in picked if kind == "rows"]
        run.paint = [d for kind, d in picked if kind == "paint"]
        run.gc = [d for kind, d in picked if kind == "gc"]
    return run


# --------------------------------------------------------------------------- in-process


class _Secrets:
    """What build_runtime asks of cockpit.secrets: the RabbitMQ password by its name."""

    @dataclass
    class Value:
        value: str

    def resolve(self, name: str) -> _Secrets.Value:
        return self.Value(RABBIT_PASSWORD)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tool_seconds(command: list[str], runs: int) -> tuple[float, float, int]:
    """Median wall time of a command line to its last byte of output, the median CPU time
    it used (user + system: what a loaded machine does not inflate), its line count."""
    subprocess.run(command, capture_output=True, check=True)  # caches warm (kubectl discovery)
    walls, cpus, lines = [], [], 0
    for _ in range(runs):
        began, cpu = time.perf_counter(), _children_cpu()
        done = subprocess.run(command, capture_output=True, check=True)
        walls.append(time.perf_counter() - began)
        cpus.append(_children_cpu() - cpu)
        lines = done.stdout.count(b"\n")
    return statistics.median(walls), statistics.median(cpus), lines


@dataclass
class Ratio:
    tool: str
    tool_s: float
    tool_cpu: float
    tool_lines: int
    cockpit: str
    cockpit_s: float
    cockpit_cpu: float
    cockpit_rows: int


@dataclass
class QueuesShown:
    size: str
    list_s: float
    rows_s: float
    frame_s: float
    cpu_s: float  # this process's CPU over the three
    rows: int

    @property
    def total(self) -> float:
        return self.list_s + self.rows_s + self.frame_s


async def _to_rows(app: Any, name: str, fetch: Callable[[], Any], keep: str) -> tuple[float, float]:
    """Fetch, store in LiveState as the feed does, rows into an emptied table: (wall
    seconds, CPU seconds of this process, its threads included)."""
    forget_last_poll(getattr(fetch, "__self__", None))
    began, cpu = time.perf_counter(), time.process_time()
    found = await fetch()
    setattr(app.live, keep, {p.key: p for p in found} if keep == "pods" else found)
    panel = app.panel(name)
    panel.table.clear()
    panel.refresh_rows()
    return time.perf_counter() - began, time.process_time() - cpu


def forget_last_poll(backend: Any) -> None:
    """A poll of an unchanged server is not parsed again (the same bytes give the same
    objects back): a side-by-side measures a first look, so the backend forgets it."""
    for name in ("_snapshots", "_cluster_results", "_pages", "_last_pages"):
        memo = getattr(backend, name, None)
        if isinstance(memo, dict):
            memo.clear()
    if hasattr(backend, "_last_groups"):
        backend._last_groups = []
    if hasattr(backend, "_last_queues"):
        backend._last_queues = None
    from cockpit.backends import alertmanager_parse

    for memo in (alertmanager_parse._TIMES, alertmanager_parse._SEVERITIES):
        memo.clear()
    alertmanager_parse._GROUP_KEYS.clear()


async def _median_rows(
    app: Any, runs: int, name: str, fetch: Any, keep: str
) -> tuple[float, float, int]:
    await _to_rows(app, name, fetch, keep)  # warm: clients built, imports done
    samples = [await _to_rows(app, name, fetch, keep) for _ in range(runs)]
    wall = statistics.median(w for w, _ in samples)
    cpu = statistics.median(c for _, c in samples)
    return wall, cpu, app.panel(name).table.row_count


async def _two_thousand(app: Any, pilot: Any, broker: Any) -> tuple[float, float, float, float]:
    """2,000 queues: listed (HTTP + parse), rows (table sync), frame (the paint after),
    and this process's CPU seconds over all three."""
    forget_last_poll(broker)
    cpu = time.process_time()
    began = time.perf_counter()
    queues = await broker.queues()
    listed = time.perf_counter()
    app.live.queues = queues
    panel = app.panel("queues")
    panel.table.clear()
    panel.refresh_rows()
    rowed = time.perf_counter()
    await pilot.pause()
    done = time.perf_counter()
    return listed - began, rowed - listed, done - rowed, time.process_time() - cpu


async def in_process(
    args: argparse.Namespace, tmp: Path, config_path: Path, kubeconfig: Path, big_vhost: str
) -> tuple[list[Ratio], list[QueuesShown]]:
    """The cockpit's fetch-to-rows of each source next to the tool an engineer would run,
    and 2,000 queues listed and shown, in a headless app whose feeds are off (this
    function drives the backends, so nothing else runs meanwhile)."""
    from dataclasses import replace

    from cockpit.backends.rabbitmq import RabbitMQBroker
    from cockpit.clock import SystemClock
    from cockpit.config import load_config
    from cockpit.runtime import build_runtime
    from cockpit.ui.app import CockpitApp

    config = load_config(config_path)
    runtime = build_runtime(config, secrets=_Secrets())
    alerts, cluster, broker = runtime.alerts, runtime.cluster, runtime.broker
    assert alerts is not None and cluster is not None and broker is not None
    assert config.rabbitmq is not None and config.alertmanager is not None
    runtime.alerts = runtime.cluster = runtime.broker = runtime.pager = None
    big = RabbitMQBroker(
        replace(config.rabbitmq, vhost=big_vhost),
        password=RABBIT_PASSWORD,
        clock=SystemClock(),
        quarantine_dir=tmp / "quarantine",
    )
    runs = args.runs
    rabbitmqadmin = tmp / "rabbitmqadmin"
    with urllib.request.urlopen(f"{MGMT}/cli/rabbitmqadmin", timeout=10) as answer:
        rabbitmqadmin.write_bytes(answer.read())
    kubectl = [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp / "kube-cache")]
    amtool = [AMTOOL, f"--alertmanager.url={config.alertmanager.clusters[0].urls[0]}"]
    admin = [shutil.which("python3") or PYTHON, str(rabbitmqadmin), "-H", "127.0.0.1"]
    admin += ["-P", "15672", "-u", RABBIT_USER, "-p", RABBIT_PASSWORD, "-V", config.rabbitmq.vhost]
    sides = [
        ("kubectl get pods -A", [*kubectl, "get", "pods", "-A"], "pods", cluster.pods, "pods"),
        ("amtool alert query", [*amtool, "alert", "query"], "alerts", alerts.groups, "groups"),
        (
            "rabbitmqadmin list queues",
            [*admin, "list", "queues"],
            "queues",
            broker.queues,
            "queues",
        ),
    ]
    ratios: list[Ratio] = []
    shown: list[QueuesShown] = []
    try:
        for size in ((200, 50), (80, 24)):
            app = CockpitApp(runtime)
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                if size == (200, 50):
                    for tool, line, panel, fetch, keep in sides:
                        took, cpu, rows = await _median_rows(app, runs, panel, fetch, keep)
                        tool_s, tool_cpu, lines = _tool_seconds(line, runs)
                        mine = f"{panel} to rows"
                        ratios.append(Ratio(tool, tool_s, tool_cpu, lines, mine, took, cpu, rows))
                await _two_thousand(app, pilot, big)
                samples = [await _two_thousand(app, pilot, big) for _ in range(runs)]
                middle = sorted(samples, key=lambda s: sum(s[:3]))[len(samples) // 2]
                rows = app.panel("queues").table.row_count
                shown.append(QueuesShown(f"{size[0]}x{size[1]}", *middle, rows=rows))
                app.exit()
    finally:
        for backend in (alerts, cluster, broker, big):
            with contextlib.suppress(Exception):
                await backend.close()
        await runtime.close()
    return ratios, shown


# --------------------------------------------------------------------------- the tables


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _med(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _dist(runs: list[Run], attr: str, q: float) -> float | None:
    """The median over sessions of each session's quantile q (1.0: max)."""
    values = []
    for run in runs:
        samples = getattr(run, attr)
        if samples:
            values.append(max(samples) if q >= 1 else pct(samples, q))
    return _med(values)


def table(title: str, by_size: dict[str, list[Run]], first_target: float) -> list[str]:
    sizes = list(by_size)
    lines = [
        title,
        f"{'figure':<40}" + "".join(f"{s:>22}" for s in sizes) + f"{'target':>12}  verdict",
    ]

    def row(name: str, cells: list[str], values: list[float | None], target: float | None) -> None:
        verdict = ""
        if target is not None:
            if any(v is None for v in values):
                verdict = "MISSING"
            else:
                worst = max(v for v in values if v is not None)
                verdict = "OK" if worst <= target else f"OVER x{worst / target:.1f}"
        shown = f"<= {target:g}" if target is not None else ""
        lines.append(f"{name:<40}" + "".join(f"{c:>22}" for c in cells) + f"{shown:>12}  {verdict}")

    def scalar(name: str, attr: str, target: float | None, digits: int = 1) -> None:
        values = [_med([getattr(r, attr) for r in by_size[s]]) for s in sizes]
        row(name, [_fmt(v, digits) for v in values], values, target)

    def spread(name: str, attr: str, target: float | None, with_max: bool = True) -> None:
        cells, primary = [], []
        for s in sizes:
            p50, p95 = _dist(by_size[s], attr, 0.5), _dist(by_size[s], attr, 0.95)
            parts = [_fmt(p50), _fmt(p95)] + (
                [_fmt(_dist(by_size[s], attr, 1.0))] if with_max else []
            )
            cells.append(" / ".join(parts))
            primary.append(p95)
        row(name, cells, primary, target)

    scalar("start to full first screen (s)", "first", first_target, 2)
    scalar("  CPU seconds used by then", "first_cpu", None, 2)
    spread("UI thread per panel refresh p50/p95/max", "rows", None)
    spread("UI thread per paint p50/p95/max (ms)", "paint", None)
    spread("full GC pauses under churn p50/p95/max (ms)", "gc", None)
    spread("key -> first bytes p50/p95 (ms), churn", "keys", TARGETS["key_p95"], with_max=False)
    spread("focus key -> footer p50/p95 (ms)", "footer", TARGETS["key_p95"], with_max=False)
    scalar("bytes/s to the terminal at rest", "bytes_rest", TARGETS["bytes_rest"], 0)
    scalar("bytes/s to the terminal under churn", "bytes_churn", TARGETS["bytes_churn"], 0)
    scalar("CPU % of a core at rest", "cpu_rest", TARGETS["cpu_rest"])
    scalar("CPU % of a core under churn", "cpu_churn", None)
    scalar("peak RSS (VmHWM, MB)", "rss", TARGETS["rss"])
    scalar("  VmHWM by the first screen (MB)", "rss_first", None)
    scalar("  VmHWM after warm-up and rest (MB)", "rss_rest", None)
    notes = {r.note for s in sizes for r in by_size[s] if r.note}
    lines.extend(f"  note: {n}" for n in sorted(notes))
    return lines


def ratio_lines(ratios: list[Ratio], shown: list[QueuesShown]) -> list[str]:
    lines = ["2,000 queues listed and shown (HTTP + parse, table rows, one paint)"]
    for item in shown:
        verdict = "OK" if item.total <= TARGETS["queues_2k"] else f"OVER x{item.total / 0.5:.1f}"
        lines.append(
            f"  {item.size:<8} list {item.list_s * 1000:6.0f} ms  rows {item.rows_s * 1000:6.0f} ms"
            f"  frame {item.frame_s * 1000:5.0f} ms  = {item.total:.2f} s ({item.rows} rows,"
            f" {item.cpu_s:.2f} CPU-s)  target <= 0.5 s  {verdict}"
        )
    lines.append("")
    lines.append(
        "side by side on the same servers (median wall and CPU time; the tools' include their"
        " process start, the servers' work is in neither)"
    )
    for r in ratios:
        verdict = "cockpit faster" if r.cockpit_s < r.tool_s else "TOOL FASTER"
        lines.append(
            f"  {r.tool:<26} {r.tool_s:5.2f} s {r.tool_cpu:5.2f} CPU-s ({r.tool_lines} lines)"
            f"  vs  {r.cockpit:<15} {r.cockpit_s:5.2f} s {r.cockpit_cpu:5.2f} CPU-s"
            f" ({r.cockpit_rows} rows)  wall {r.tool_s / r.cockpit_s:4.1f}x"
            f"  CPU {r.tool_cpu / max(r.cockpit_cpu, 1e-3):4.1f}x  {verdict}"
        )
    return lines


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--window", type=float, default=20.0, help="seconds at rest / churn")
    parser.add_argument(
        "--warmup", type=float, default=45.0, help="seconds after the first screen before rest"
    )
    parser.add_argument("--repeat", type=int, default=1, help="sessions per figure (median)")
    parser.add_argument("--quick", action="store_true", help="20 keys, 8 s windows")
    parser.add_argument("--no-demo", action="store_true", help="skip the --demo table")
    parser.add_argument(
        "--side-only", action="store_true", help="only the side-by-side and 2,000-queue figures"
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="pyinstrument profile of each 200x50 session to DIR"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per side-by-side figure")
    parser.add_argument("--show", action="store_true", help="print each 200x50 screen")
    parser.add_argument(
        "--trace-refresh", action="store_true", help="print the repaints asked for under churn"
    )
    parser.add_argument(
        "--bytes-map", action="store_true", help="print where the churn's bytes go, per row"
    )
    parser.add_argument(
        "--rss-trace", action="store_true", help="print each session's RSS, MB by MB, over time"
    )
    parser.add_argument("--world", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--am-url", help=argparse.SUPPRESS)
    parser.add_argument("--vhost", help=argparse.SUPPRESS)
    parser.add_argument("--big-vhost", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.world:
        return world_main(args)
    if args.quick:
        args.presses, args.window, args.runs = 20, 8.0, 3
    from tests.alertmanager.server import AlertmanagerServer, alertmanager_available
    from tests.kubernetes.conftest import write_kubeconfig

    if not alertmanager_available():
        raise SystemExit("prometheus-alertmanager is not installed (bash tests/run.sh installs it)")
    precompile()
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="cockpit-scale-"))
    if args.profile:
        if importlib.util.find_spec("pyinstrument") is None:
            raise SystemExit("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    vhost, big_vhost = f"cockpit-scale/{tag}", f"cockpit-scale-2k/{tag}"
    env = {
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "COCKPIT_SECRET_SCALE_RABBITMQ": RABBIT_PASSWORD,
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("XDG")})
    scale: dict[str, list[Run]] = {"200x50": [], "80x24": []}
    demo: dict[str, list[Run]] = {"200x50": [], "80x24": []}
    with AlertmanagerServer(tmp / "alertmanager") as am:
        am.post_alerts(scale_alerts(args.alerts, datetime.now(UTC)))
        world = WorldProcess.start(args, am.url, vhost, big_vhost)
        try:
            kubeconfig = write_kubeconfig(tmp / "kubeconfig", world.kube_url)
            config = write_config(tmp, am.url, kubeconfig, vhost)
            command = ["--config", str(config)]
            print(f"world up in {time.perf_counter() - began:.0f} s; sessions…", flush=True)
            for n in range(0 if args.side_only else args.repeat):
                for size, runs in scale.items():
                    cols, rows = (int(x) for x in size.split("x"))
                    profile = str(Path(args.profile) / f"scale-{size}-{n}") if args.profile else ""
                    runs.append(
                        run_session(
                            args,
                            cols,
                            rows,
                            tmp,
                            command=command,
                            env=env,
                            churn=world.churn,
                            profile=profile,
                        )
                    )
                if not args.no_demo:
                    for size, runs in demo.items():
                        cols, rows = (int(x) for x in size.split("x"))
                        profile = (
                            str(Path(args.profile) / f"demo-{size}-{n}") if args.profile else ""
                        )
                        runs.append(
                            run_session(
                                args,
                                cols,
                                rows,
                                tmp,
                                command=None,
                                env=env,
                                churn=None,
                                profile=profile,
                            )
                        )
            ratios, shown = asyncio.run(in_process(args, tmp, config, kubeconfig, big_vhost))
        finally:
            world.stop()
    print()
    print(
        f"scale world: {args.pods:,} pods / {NAMESPACES} namespaces (kmock), {args.alerts:,} alerts"
        f" (prometheus-alertmanager), {args.queues:,} queues (RabbitMQ); {os.cpu_count()} CPUs,"
        f" load {os.getloadavg()[0]:.1f}, python {sys.version.split()[0]};"
        f" {args.repeat} session(s) per figure (median), windows {args.window:g} s,"
        f" {args.presses} keys under churn"
    )
    for line in table("cockpit against the scale world", scale, TARGETS["first_screen_scale"]):
        if not args.side_only:
            print(line)
    if not args.no_demo and not args.side_only:
        print()
        title = "cockpit --demo at the same scale (its world moves by itself: rest = no input)"
        for line in table(title, demo, TARGETS["first_screen_demo"]):
            print(line)
    print()
    for line in ratio_lines(ratios, shown):
        print(line)
    print(f"(benchmark took {time.perf_counter() - began:.0f} s; scratch {tmp})")
    if args.profile:
        print(f"pyinstrument profiles: {args.profile}/*.txt and *.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
