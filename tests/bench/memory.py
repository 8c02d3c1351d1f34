"""Where the cockpit's memory goes against the scale world: peak RSS (VmHWM) phase by phase.

    .venv/bin/python -m tests.bench.memory            # the backends as the feeds run them
    .venv/bin/python -m tests.bench.memory --app      # and the whole app, headless, 200x50
    .venv/bin/python -m tests.bench.memory --trace    # tracemalloc: peak and what stays
    .venv/bin/python -m tests.bench.memory --app --unpaged --growth --watch 60
        # lists answered whole (as scale.py's kmock does); what the app keeps after its
        # first screen, by where it was made; --every 5: RSS every 5 s meanwhile
    MEMORY_SMAPS=1 ...  # each phase also: pymalloc arenas, RSS by mapping (heap, threads'
                        # malloc arenas, stacks, anonymous, files); MEMORY_TB=1: --trace's
                        # "what stays" by traceback, not by file

The world is scale.py's (its generators): 5,000 pods in 20 namespaces on kmock's emulator
(with limit/continue paging, tests/kubernetes/paging.py, as a real API server pages),
2,000 alerts on a real Alertmanager, 1,000 queues on a RabbitMQ vhost of its own. The
measured side is a fresh interpreter (so VmHWM is only its own): the imports the app
makes, then the pod list + watch (cluster.watch() into LiveState, as feeds.py does), the
alert fetch, the queue fetch; with --app the CockpitApp under Textual's headless driver
with its feeds running until every panel has its rows. Not a test; not collected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def status_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


# --------------------------------------------------------------------------- the world


async def serve_pods(count: int, paged: bool = True) -> None:
    """The kmock child: a paging emulator with `count` pods (kmock's own, which answers a
    list whole whatever its limit, as scale.py's world does, when not `paged`); prints its
    URL, runs until stdin closes."""
    import kmock

    from tests.bench.scale import scale_pods
    from tests.kubernetes.paging import PagingEmulator

    base = PagingEmulator if paged else kmock.KubernetesEmulator

    class Emulator(base):  # type: ignore[misc, valid-type]
        """A watch from a resourceVersion streams changes only, as an API server's does
        (kmock replays every object first): scale.py's world does the same."""

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

    async with Emulator() as emulator, kmock.Server(emulator):
        resource = kmock.resource("", "v1", "pods")
        for pod in scale_pods(count, datetime.now(UTC)):
            meta = pod["metadata"]
            emulator.objects[resource, meta["namespace"], meta["name"]] = pod
        print(json.dumps({"kube_url": str(emulator.url).rstrip("/")}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


# --------------------------------------------------------------------------- the measured side


def smaps() -> dict[str, float]:
    """RSS (MB) by kind of mapping: the main heap (brk), other threads' malloc arenas (an
    rw part and a no-access rest, 64 MB in all), thread stacks (8 MB after a guard page),
    other anonymous maps (pymalloc's 1 MB arenas, big mallocs), files (code)."""
    maps: list[tuple[int, int, str, str, float]] = []
    with open("/proc/self/smaps") as lines:
        for line in lines:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                start, end = (int(x, 16) for x in head[0].split("-"))
                maps.append((start, end, head[1], head[5] if len(head) > 5 else "", 0.0))
            elif head[0] == "Rss:":
                a, b, perms, name, _ = maps[-1]
                maps[-1] = (a, b, perms, name, int(head[1]) / 1024)
    kinds: dict[str, float] = {}
    for i, (start, end, perms, name, rss) in enumerate(maps):
        size = end - start
        after = maps[i + 1] if i + 1 < len(maps) else None
        before = maps[i - 1] if i else None
        if name == "[heap]":
            kind = "heap"
        elif name.startswith("/"):
            kind = "files"
        elif name:
            kind = name
        elif (
            after is not None
            and after[2].startswith("---")
            and after[0] == end
            and (after[1] - start) == 64 << 20
        ) or (perms.startswith("rw") and size == 64 << 20):
            kind = "arenas"
        elif (
            before is not None
            and before[2].startswith("---")
            and before[1] == start
            and size == 8 << 20
        ):
            kind = "stacks"
        else:
            kind = "anon"
        kinds[kind] = kinds.get(kind, 0.0) + rss
    return kinds


def pymalloc_mb() -> float:
    """MB in pymalloc's arenas now (from sys._debugmallocstats, which writes to fd 2)."""
    with tempfile.TemporaryFile("w+") as out:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        for line in out:
            if line.startswith("# arenas allocated current"):
                return int(line.split("=")[1].replace(",", "")) * 1.0
    return 0.0


class Phases:
    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.rows: list[tuple[str, float, float, str]] = []
        self.began = time.perf_counter()

    def start_trace(self) -> None:
        """tracemalloc from here on (tracing the imports would take 20 s and say little)."""
        if self.trace:
            import tracemalloc

            tracemalloc.start(6)

    def mark(self, name: str) -> None:
        rss, hwm = status_mb()
        extra = ""
        if self.trace:
            import tracemalloc

            current, peak = tracemalloc.get_traced_memory()
            extra = f"traced {current / 2**20:6.1f} MB, peak {peak / 2**20:6.1f} MB"
            tracemalloc.reset_peak()
        if os.environ.get("MEMORY_SMAPS"):
            extra += f"blocks {sys.getallocatedblocks():,} pymalloc {pymalloc_mb():.1f} MB "
            now = smaps()
            last = getattr(self, "_smaps", {})
            self._smaps = now
            extra += " ".join(
                f"{k} {v:.1f}({v - last.get(k, 0.0):+.1f})"
                for k, v in sorted(now.items())
                if v > 0.5
            )
        self.rows.append((name, rss, hwm, extra))
        took = time.perf_counter() - self.began
        print(f"  {name:<34} RSS {rss:6.1f} MB  HWM {hwm:6.1f} MB  {took:5.1f} s  {extra}")

    def top(self, title: str, limit: int = 12) -> None:
        if not self.trace:
            return
        import tracemalloc

        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        if os.environ.get("MEMORY_TB"):
            print(f"  -- what stays after {title}, by where it was made:")
            for stat in snapshot.statistics("traceback")[: limit * 3]:
                print(f"     {stat.size / 2**20:6.2f} MB {stat.count:8,} blocks")
                for frame in list(stat.traceback)[::-1][:6]:
                    name = frame.filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
                    print(f"         {name}:{frame.lineno}")
            return
        print(f"  -- what stays after {title}, by file:")
        for stat in snapshot.statistics("filename")[:limit]:
            name = stat.traceback[0].filename.replace(str(ROOT) + "/", "")
            name = name.split("site-packages/")[-1]
            print(f"     {stat.size / 2**20:6.2f} MB {stat.count:8,} blocks  {name}")


class _Secrets:
    class Value:
        def __init__(self, value: str) -> None:
            self.value = value

    def resolve(self, name: str) -> Any:
        return self.Value("guest")  # scale.py's RABBIT_PASSWORD


async def measure(args: argparse.Namespace) -> None:
    phases = Phases(args.trace)
    phases.mark("interpreter")
    import cockpit.cli  # noqa: F401  (what `cockpit` imports first)

    phases.mark("import cockpit.cli")
    from cockpit.config import load_config
    from cockpit.live import LiveState
    from cockpit.runtime import build_runtime
    from cockpit.ui.app import CockpitApp

    phases.mark("import cockpit.ui.app")
    from cockpit.runtime import tune_malloc

    tune_malloc()  # as cockpit.cli does before the app starts
    runtime = build_runtime(load_config(Path(args.config)), secrets=_Secrets())
    phases.mark("build_runtime")
    if args.trace:  # traced, its import alone would outlast the list's timeout
        import kubernetes.client  # noqa: F401

        phases.mark("import kubernetes.client (--trace)")
    phases.start_trace()
    if args.app:
        await whole_app(CockpitApp(runtime), phases, args)
        return
    cluster, alerts, broker = runtime.cluster, runtime.alerts, runtime.broker
    assert cluster is not None and alerts is not None and broker is not None
    if args.trace:
        cluster._timeout = 120.0  # type: ignore[attr-defined]  # traced, all is slower
    live = LiveState()
    stream = cluster.watch()
    first = await anext(stream)
    live.apply_pod_event(first)
    phases.mark(f"pods: list to SYNC ({len(live.pods):,})")
    phases.top("the pod list")
    events = 0
    deadline = time.monotonic() + args.watch
    while time.monotonic() < deadline:
        try:
            event = await asyncio.wait_for(anext(stream), max(deadline - time.monotonic(), 0.01))
        except TimeoutError:
            break
        live.apply_pod_event(event)
        events += 1
    phases.mark(f"pods: watch {args.watch:g} s ({events} events)")
    await stream.aclose()  # type: ignore[attr-defined]
    live.groups = await alerts.groups()
    phases.mark(f"alerts: groups ({sum(len(g.alerts) for g in live.groups):,} alerts)")
    live.queues = await broker.queues()
    phases.mark(f"queues: list ({len(live.queues):,})")
    phases.top("all three")
    await runtime.close()


async def whole_app(app: Any, phases: Phases, args: argparse.Namespace) -> None:
    """The CockpitApp at 200x50, feeds on, until pods, alerts and queues are all shown."""
    async with app.run_test(size=(200, 50)) as pilot:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            live = app.live
            if len(live.pods) >= args.pods and live.groups and len(live.queues) >= args.queues:
                break
            await pilot.pause(0.05)
        phases.mark(f"app: all shown ({len(app.live.pods):,} pods)")
        if args.growth:
            import tracemalloc

            tracemalloc.start(12)
            first = tracemalloc.take_snapshot()
            await pilot.pause(args.watch)
            phases.mark(f"app: {args.watch:g} s later (traced)")
            growth(first, tracemalloc.take_snapshot())
            app.exit()
            return
        waited = 0.0
        while waited < args.watch:  # RSS every `--every` seconds meanwhile
            step = min(args.every or args.watch, args.watch - waited)
            await pilot.pause(step)
            waited += step
            phases.mark(f"app: {waited:g} s later")
        phases.top("the app's first screens")
        app.exit()


def growth(first: Any, last: Any, limit: int = 12) -> None:
    """--growth: what the app allocated and kept between two snapshots, by traceback."""
    import tracemalloc

    skip = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = last.filter_traces(skip).compare_to(first.filter_traces(skip), "traceback")
    total = sum(s.size_diff for s in stats)
    by_file = last.filter_traces(skip).compare_to(first.filter_traces(skip), "filename")
    print("  -- kept meanwhile, by file:")
    for stat in by_file[:limit]:
        name = stat.traceback[0].filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        print(f"     {stat.size_diff / 2**20:+6.2f} MB {stat.count_diff:+8,} blocks  {name}")
    print(f"  -- kept meanwhile: {total / 2**20:+.2f} MB; the biggest, by where they were made:")
    for stat in stats[:limit]:
        print(f"     {stat.size_diff / 2**20:+6.2f} MB {stat.count_diff:+8,} blocks")
        for frame in list(stat.traceback)[::-1][:8]:
            name = frame.filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
            print(f"         {name}:{frame.lineno}")


# --------------------------------------------------------------------------- the parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--watch", type=float, default=3.0, help="seconds of watch after SYNC")
    parser.add_argument("--trace", action="store_true", help="tracemalloc figures too")
    parser.add_argument("--app", action="store_true", help="the whole app, headless")
    parser.add_argument("--every", type=float, default=0.0, help="with --app: RSS every N s")
    parser.add_argument(
        "--growth",
        action="store_true",
        help="with --app: tracemalloc from the first screen on, what the app keeps meanwhile",
    )
    parser.add_argument(
        "--unpaged", action="store_true", help="lists answered whole (as in scale.py's world)"
    )
    parser.add_argument("--serve-pods", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_pods:
        asyncio.run(serve_pods(args.pods, paged=not args.unpaged))
        return 0
    if args.measure:
        asyncio.run(measure(args))
        return 0

    from tests.alertmanager.server import AlertmanagerServer
    from tests.bench.scale import (
        MGMT,
        RABBIT_USER,
        _q,
        _rabbit,
        fill_queues,
        make_vhost,
        scale_alerts,
        write_config,
    )
    from tests.kubernetes.conftest import write_kubeconfig

    tmp = Path(tempfile.mkdtemp(prefix="cockpit-memory-"))
    vhost = f"cockpit-memory/{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "cfg")}
    world = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.memory", "--serve-pods", "--pods", str(args.pods)]
        + ["--unpaged"] * args.unpaged,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        with AlertmanagerServer(tmp / "alertmanager") as am:
            am.post_alerts(scale_alerts(args.alerts, datetime.now(UTC)))
            make_vhost(vhost)
            fill_queues(vhost, args.queues)
            assert world.stdout is not None
            kube_url = json.loads(world.stdout.readline())["kube_url"]
            kubeconfig = write_kubeconfig(tmp / "kubeconfig", kube_url)
            config = write_config(tmp, am.url, kubeconfig, vhost)
            print(
                f"{args.pods:,} pods (kmock, {'unpaged' if args.unpaged else 'paged'}), "
                f"{args.alerts:,} alerts, {args.queues:,} "
                f"queues; load {os.getloadavg()[0]:.1f}"
            )
            command = [sys.executable, "-m", "tests.bench.memory", "--measure"]
            command += ["--config", str(config), "--watch", str(args.watch)]
            command += ["--pods", str(args.pods), "--queues", str(args.queues)]
            command += ["--trace"] * args.trace + ["--app"] * args.app
            command += ["--growth"] * args.growth + ["--every", str(args.every)]
            subprocess.run(command, cwd=ROOT, env=env, check=True)
    finally:
        if world.stdin is not None:
            world.stdin.close()
        try:
            world.wait(timeout=10)
        except subprocess.TimeoutExpired:
            world.kill()
        try:
            _rabbit("DELETE", f"/api/vhosts/{_q(vhost)}")
        except Exception as exc:
            print(f"(vhost {vhost} not deleted: {exc}; {MGMT} as {RABBIT_USER})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
