"""Key latency while the servers fail, measured in a real pty: the cockpit against a real
Alertmanager, RabbitMQ (a vhost of its own) and kmock's Kubernetes emulator.

Run: .venv/bin/python -m tests.bench.bench_faults [--quick] [--phase SECONDS] [--profile DIR]
(--profile needs pyinstrument, not a dependency: DIR/session.txt, the UI thread's profile.)
Not a pytest test (timings are not assertions; the machine is shared). About 2 minutes
(--quick: about 40 s). The installed cockpit runs in a pseudo-terminal at 200x50 (bench_screen's
Session and its little VT100) with every source polling every 2 s, timeout 2 s. RabbitMQ's
management API and the Kubernetes API sit behind fault proxies (tests/hostile.py FaultProxy)
that live, with the emulator, in a child process (`--world`): their threads and the
emulator never hold this process's GIL while it times a key. The faults stack up:

1. healthy: everything up;
2. alertmanager stopped: its process ends (connection refused);
3. + rabbitmq silent: the management API's proxy accepts and never answers;
4. + kubernetes trickle: the API's answers (the open watch's too) come one byte every 0.5 s;
5. recovered: the proxies forward again and Alertmanager is started on the same port.

One pod restarts every second throughout (a watch event a second). Per phase: key -> first
bytes back and focus key -> footer redrawn (p50 / p95 / max, a key every ~0.1 s, keys 1-4
moving the focus), keys without an answer within 2 s; and from each fault to its source's
STALE/DOWN in the header, from the recovery to "ok" again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.bench.bench_screen import KEY_P95_MS, KEYS, PYTHON, Session, pct

ROOT = Path(__file__).resolve().parents[2]
MGMT = "http://127.0.0.1:15672"
RABBIT_USER = RABBIT_PASSWORD = "guest"
CHILD = "import sys\nfrom cockpit.cli import main\nsys.exit(main(%r))\n"
COLS, ROWS = 200, 50
FOCUS_CYCLE = ("1", "2", "3", "4", "2", "4", "1", "3")  # each moves the focus
SOURCES = ("alerts", "pods", "queues")
STATE = re.compile(r"\b(alerts|pods|queues) (ok|STALE|DOWN|loading)\b")


# prepended to the child's code under --profile: pyinstrument on the UI (main) thread for the
# whole session (async_mode disabled: whatever task runs), written as text at exit
PROFILED = textwrap.dedent(
    """
    import atexit, pyinstrument
    _dir = %r
    _prof = pyinstrument.Profiler(interval=0.001, async_mode="disabled")
    def _write():
        _prof.stop()
        with open(f"{_dir}/session.txt", "w") as fh:
            fh.write(_prof.output_text(unicode=True, show_all=True))
    atexit.register(_write)
    _prof.start()
    """
)


def states(line: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in STATE.finditer(line)}


# --------------------------------------------------------------------------- the world


async def world() -> None:
    """kmock's emulator and the two proxies; commands on stdin: `<rabbit|kube> <mode>`."""
    import kmock

    from tests.hostile import FaultProxy
    from tests.kubernetes.conftest import raw_pod

    async with kmock.KubernetesEmulator() as k, kmock.Server(k):
        for i in range(40):
            namespace = ("shop", "payments")[i % 2]
            crash = i % 13 == 0
            pod = raw_pod(f"web-{i}", namespace, crash=crash, restarts=4 if crash else 0)
            k.objects["v1/pods", namespace, pod["metadata"]["name"]] = pod
        port = int(str(k.url).rstrip("/").rsplit(":", 1)[1])
        proxies = {
            "rabbit": FaultProxy(("127.0.0.1", 15672)),
            "kube": FaultProxy(("127.0.0.1", port), interval=0.5),
        }
        for proxy in proxies.values():
            proxy.set("up")
        print(json.dumps({n: p.url for n, p in proxies.items()}), flush=True)
        loop = asyncio.get_running_loop()
        churn = asyncio.create_task(pod_churn(str(k.url).rstrip("/")))
        try:
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                name, _, mode = line.strip().partition(" ")
                if name == "quit":
                    break
                proxies[name].set(mode)
                print("ok", flush=True)
        finally:
            churn.cancel()
            for proxy in proxies.values():
                proxy.close()


async def pod_churn(url: str) -> None:
    """One pod restarts every second (a MODIFIED event on every open watch), straight to the
    emulator: the watch through the proxy has something to carry, or to trickle."""
    from tests.kubernetes.conftest import raw_pod

    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        for restarts in range(1, 1_000_000):
            pod = raw_pod("web-1", "payments", restarts=restarts)
            with contextlib.suppress(httpx.HTTPError):
                await client.patch(
                    "/api/v1/namespaces/payments/pods/web-1",
                    content=json.dumps({"status": pod["status"]}),
                    headers={"content-type": "application/merge-patch+json"},
                )
            await asyncio.sleep(1.0)


@dataclass
class World:
    proc: subprocess.Popen[str]
    urls: dict[str, str]

    @classmethod
    def start(cls) -> World:
        proc = subprocess.Popen(
            [PYTHON, "-m", "tests.bench.bench_faults", "--world"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the world process died while starting (see its stderr)")
        return cls(proc, json.loads(line))

    def set(self, name: str, mode: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{name} {mode}\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def rabbit_vhost(vhost: str) -> None:
    """The bench's own vhost: a few queues with messages (deleted at the end)."""
    with httpx.Client(base_url=MGMT, auth=(RABBIT_USER, RABBIT_PASSWORD), timeout=10) as api:
        v = quote(vhost, safe="")
        api.put(f"/api/vhosts/{v}").raise_for_status()
        api.put(
            f"/api/permissions/{v}/{RABBIT_USER}",
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
        for i, name in enumerate(("orders", "payments", "emails", "audit", "jobs")):
            api.put(f"/api/queues/{v}/{name}", json={"durable": True}).raise_for_status()
            for n in range(3 * i + 1):
                api.post(
                    f"/api/exchanges/{v}/amq.default/publish",
                    json={
                        "properties": {},
                        "routing_key": name,
                        "payload": f'{{"n": {n}}}',
                        "payload_encoding": "string",
                    },
                ).raise_for_status()


def delete_vhost(vhost: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.delete(
            f"{MGMT}/api/vhosts/{quote(vhost, safe='')}",
            auth=(RABBIT_USER, RABBIT_PASSWORD),
            timeout=10,
        )


def write_config(tmp: Path, am_url: str, kubeconfig: Path, rabbit_url: str, vhost: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(
        textwrap.dedent(
            f"""\
            [identity]
            name = "faults-bench"
            [store]
            path = "{tmp / "incidents.sqlite3"}"
            [ui]
            bell = false
            desktop_notify = false
            [alertmanager]
            url = "{am_url}"
            poll_interval = "2s"
            timeout = "2s"
            [kubernetes]
            kubeconfig = "{kubeconfig}"
            timeout = "2s"
            [rabbitmq]
            management_url = "{rabbit_url}"
            username = "{RABBIT_USER}"
            password_secret = "bench-rabbitmq"
            vhost = "{vhost}"
            poll_interval = "2s"
            timeout = "2s"
            """
        )
    )
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------- phases


@dataclass
class Phase:
    name: str
    first: list[float] = field(default_factory=list)  # key -> first bytes, ms
    footer: list[float] = field(default_factory=list)  # focus key -> footer redrawn, ms
    missed: int = 0
    # source -> seconds from the fault (or the recovery) to the state the phase awaits
    reached: dict[str, float | None] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # what the header said then


def header_check(session: Session, phase: Phase, since: dict[str, float], want: str) -> None:
    line = session.screen.line(0)
    now = session.last_output
    for source, state in states(line).items():
        if source not in since or phase.reached.get(source) is not None:
            continue
        if (state in ("STALE", "DOWN")) if want == "bad" else (state == "ok"):
            phase.reached[source] = now - since[source]
            start = line.find(source)
            phase.shown[source] = line[start : start + 70].strip()


def run_phase(
    session: Session,
    phase: Phase,
    seconds: float,
    since: dict[str, float],
    want: str,
    settle: float = 20.0,
) -> Phase:
    """Keys for `seconds`; meanwhile (and up to `settle` s more) the awaited states."""
    for source in since:
        phase.reached.setdefault(source, None)
    began = time.perf_counter()
    i = 0
    while time.perf_counter() - began < seconds:
        session.drain_quiet(0.05, limit=0.5)
        header_check(session, phase, since, want)
        key = FOCUS_CYCLE[i % len(FOCUS_CYCLE)]
        i += 1
        bottom = session.rows - 1
        was = session.screen.line(bottom)
        sent = session.send(KEYS[key])
        arrived = session.pump(2.0)
        if arrived is None:
            phase.missed += 1
            continue
        phase.first.append((arrived - sent) * 1000)

        def changed(screen: Any, bottom: int = bottom, was: str = was) -> bool:
            return bool(screen.line(bottom) != was)

        redrawn = changed(session.screen) or session.wait_for(changed, timeout=2.0)
        if redrawn:
            phase.footer.append((session.last_output - sent) * 1000)
        header_check(session, phase, since, want)
    deadline = time.perf_counter() + settle
    while any(v is None for v in phase.reached.values()) and time.perf_counter() < deadline:
        session.pump(0.2)
        header_check(session, phase, since, want)
    return phase


def row(phase: Phase) -> str:
    def trio(values: list[float]) -> str:
        if not values:
            return f"{'-':>22}"
        return f"{statistics.median(values):6.1f} {pct(values, 0.95):6.1f} {max(values):7.1f}"

    p95 = pct(phase.footer, 0.95) if phase.footer else None
    verdict = "" if p95 is None else ("OK" if p95 <= KEY_P95_MS else "OVER")
    missed = f"  {phase.missed} without an answer in 2 s" if phase.missed else ""
    return (
        f"{phase.name:<30} {len(phase.first):>4}  {trio(phase.first)}   {trio(phase.footer)}"
        f"  {verdict}{missed}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 s phases (about 40 s in all)")
    parser.add_argument("--phase", type=float, default=0.0, help="seconds of keys per phase")
    parser.add_argument("--profile", metavar="DIR", help="pyinstrument profile to DIR/session.txt")
    parser.add_argument("--world", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.world:
        asyncio.run(world())
        return 0
    seconds = args.phase or (6.0 if args.quick else 18.0)
    from tests.alertmanager.server import AlertmanagerServer, alertmanager_available
    from tests.kubernetes.conftest import write_kubeconfig

    if not alertmanager_available():
        raise SystemExit("prometheus-alertmanager is not installed (bash tests/run.sh installs it)")
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="cockpit-faults-"))
    vhost = f"cockpit-faults/{uuid.uuid4().hex[:8]}"
    env = {
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "COCKPIT_SECRET_BENCH_RABBITMQ": RABBIT_PASSWORD,
    }
    phases: list[Phase] = []
    am = AlertmanagerServer(tmp / "alertmanager").start()
    world_proc: World | None = None
    session: Session | None = None
    try:
        am.post_alerts(
            [
                {"labels": {"alertname": f"Alert{i}", "severity": ("warning", "critical")[i % 2]}}
                for i in range(12)
            ]
        )
        rabbit_vhost(vhost)
        world_proc = World.start()
        kubeconfig = write_kubeconfig(tmp / "kubeconfig", world_proc.urls["kube"])
        config = write_config(tmp, am.url, kubeconfig, world_proc.urls["rabbit"], vhost)
        session = Session(COLS, ROWS, 0, 0, 0, env=env)
        script = CHILD % (["--config", str(config)],)
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            script = PROFILED % str(Path(args.profile).resolve()) + script
        session.argv = [PYTHON, "-c", script]
        session.start()

        def all_ok(screen: Any) -> bool:
            return all(states(screen.line(0)).get(s) == "ok" for s in SOURCES)

        if session.wait_for(all_ok, timeout=60) is None:
            raise SystemExit("no healthy screen in 60 s: " + session.screen.line(0).strip())
        print(f"world and cockpit up in {time.perf_counter() - began:.0f} s", flush=True)
        session.drain_quiet(0.5, limit=3)

        phases.append(run_phase(session, Phase("1 healthy"), seconds, {}, "bad", settle=0))
        am.stop()
        phases.append(
            run_phase(
                session,
                Phase("2 alertmanager stopped"),
                seconds,
                {"alerts": time.perf_counter()},
                "bad",
            )
        )
        world_proc.set("rabbit", "silent")
        phases.append(
            run_phase(
                session,
                Phase("3 + rabbitmq silent"),
                seconds,
                {"queues": time.perf_counter()},
                "bad",
            )
        )
        world_proc.set("kube", "trickle")
        phases.append(
            run_phase(
                session,
                Phase("4 + kubernetes trickle"),
                seconds,
                {"pods": time.perf_counter()},
                "bad",
            )
        )
        healed: dict[str, float] = {}
        world_proc.set("rabbit", "up")
        healed["queues"] = time.perf_counter()
        world_proc.set("kube", "up")
        healed["pods"] = time.perf_counter()
        am.start()
        healed["alerts"] = time.perf_counter()
        phases.append(run_phase(session, Phase("5 recovered"), seconds, healed, "ok", settle=30))
    finally:
        if session is not None:
            session.stop()
        if world_proc is not None:
            world_proc.stop()
        am.stop()
        delete_vhost(vhost)

    print()
    print(f"key latency under faults, {COLS}x{ROWS}, polls every 2 s (timeout 2 s), ms")
    heads = f"{'first bytes p50 p95 max':>22}   {'footer p50 p95 max':>22}"
    print(f"{'phase':<30} {'keys':>4}  {heads}")
    for phase in phases:
        print(row(phase))
    print()
    print("fault -> header STALE/DOWN, recovery -> ok (seconds)")
    for phase in phases[1:]:
        for source, seconds_to in phase.reached.items():
            shown = "never" if seconds_to is None else f"{seconds_to:5.1f} s"
            print(f"  {phase.name:<28} {source:<7} {shown:>8}  {phase.shown.get(source, '')}")
    print(f"\ntotal {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
