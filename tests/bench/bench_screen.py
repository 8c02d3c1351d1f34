"""The screen benchmark: `cockpit --demo` at 5,000 pods / 2,000 alerts / 1,000 queues.

Run: .venv/bin/python -m tests.bench.bench_screen [--pods N --alerts N --queues N] [--quick]
Prints one table of figures against the team's bar; not a pytest test (timings are not
assertions). It runs the real app under a real pseudo-terminal (TERM=xterm-256color) and
reads what it writes through a small terminal emulator, so the figures are what a user
at the other end of an SSH session gets:

1. first full screen: process start -> the first frame where all four panels show data
   (header says every source is ok, no panel says "loading…", the incident panel's
   summary is there), at 200x50 and at 80x24;
2. keypress -> screen: time from writing a key to the first bytes back, over ~100 keys,
   plus, for the keys that move focus, the time until the footer shows the new panel's
   keys (a check that the bytes were the answer and not a clock tick);
3. bytes per second written to the terminal at steady state, no input;
4. RSS of the app at steady state (VmRSS) and its peak (VmHWM);
5. in-process (App.run_test, headless): one refresh_rows() per panel at scale, both when
   nothing changed and from an empty table.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import fcntl
import os
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.cells import get_character_cell_size

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# the targets (the team's bar)
FIRST_SCREEN_S = 0.8
KEY_P95_MS = 30.0
BYTES_PER_S = 1024.0
RSS_MB = 150.0

CHILD = textwrap.dedent(
    """
    import sys
    import tempfile
    from pathlib import Path
    from cockpit.runtime import build_demo_runtime
    from cockpit.ui.app import CockpitApp
    from cockpit.ui.driver import HangupAwareDriver

    # as `cockpit --demo` runs it: its store is a file (tests use :memory:)
    runtime = build_demo_runtime(
        seed=7,
        world_options={"pods": %d, "alerts": %d, "queues": %d},
        directory=Path(tempfile.mkdtemp(prefix="cockpit-bench-demo-")),
    )
    app = CockpitApp(runtime, driver_class=HangupAwareDriver)
    app.run(mouse=app.mouse_enabled)
    """
)

KEYS = {"down": b"\x1b[B", "tab": b"\t", "1": b"1", "2": b"2", "3": b"3", "4": b"4"}
# every key changes something on screen (a focus change or a cursor move)
KEY_CYCLE = ("3", "down", "down", "4", "down", "1", "down", "tab", "tab", "2")
FOCUS_KEYS = {"1", "2", "3", "4", "tab"}


def precompile() -> None:
    """Byte-compile the cockpit package, as `pip install .` (the Quickstart) does at install
    time. The test venv installs it editable, and with PYTHONDONTWRITEBYTECODE set (this
    machine sets it) every start would compile ~50 modules from source (~0.1 s): a cost
    no installed cockpit pays."""
    import compileall

    import cockpit

    compileall.compile_dir(str(Path(cockpit.__file__).parent), quiet=1)


# --------------------------------------------------------------------------- terminal


_SEQ = re.compile(
    r"\x1b\[([0-9;?<=>]*)([ -/]*)([@-~])"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1bP[^\x1b]*\x1b\\"  # DCS
    r"|\x1b[()][0-9A-Za-z]"  # charset
    r"|\x1b[^\[\]P()]"  # any other two-byte escape
)


class Screen:
    """Just enough of a VT100 for Textual's output: absolute cursor moves, text, clears.
    Styles are ignored: the checks below look at text only."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.x = self.y = 0
        self.cells = [[" "] * cols for _ in range(rows)]
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._pending = ""
        # characters written (text and escapes) per (row, column // 10): where the bytes go
        self.written: dict[tuple[int, int], int] = {}

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decode(data)
        self._pending = ""
        pos = 0
        while pos < len(text):
            esc = text.find("\x1b", pos)
            chunk = text[pos:] if esc < 0 else text[pos:esc]
            self._text(chunk)
            if esc < 0:
                return
            match = _SEQ.match(text, esc)
            if match is None:
                if len(text) - esc < 64:  # an escape cut in half by a read: wait for the rest
                    self._pending = text[esc:]
                    return
                pos = esc + 1
                continue
            spot = (self.y, self.x // 10)
            self.written[spot] = self.written.get(spot, 0) + match.end() - esc
            if match.group(3):
                self._csi(match.group(1), match.group(3))
            pos = match.end()

    def _text(self, chunk: str) -> None:
        if chunk:
            spot = (self.y, self.x // 10)
            self.written[spot] = self.written.get(spot, 0) + len(chunk)
        for ch in chunk:
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self.y = min(self.y + 1, self.rows - 1)
            elif ch == "\b":
                self.x = max(self.x - 1, 0)
            elif ch >= " ":
                width = get_character_cell_size(ch)
                if width == 0:
                    continue
                if self.x < self.cols and self.y < self.rows:
                    self.cells[self.y][self.x] = ch
                    if width == 2 and self.x + 1 < self.cols:
                        self.cells[self.y][self.x + 1] = ""
                self.x += width

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return  # modes (alternate screen, mouse, sync output): no effect on text
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []

        def arg(i: int, default: int = 1) -> int:
            return nums[i] if len(nums) > i and nums[i] else default

        if final in "Hf":
            self.y = min(arg(0) - 1, self.rows - 1)
            self.x = min(arg(1) - 1, self.cols - 1)
        elif final == "A":
            self.y = max(self.y - arg(0), 0)
        elif final == "B":
            self.y = min(self.y + arg(0), self.rows - 1)
        elif final == "C":
            self.x = min(self.x + arg(0), self.cols - 1)
        elif final == "D":
            self.x = max(self.x - arg(0), 0)
        elif final == "G":
            self.x = min(arg(0) - 1, self.cols - 1)
        elif final == "J" and arg(0, 0) == 2:
            self.cells = [[" "] * self.cols for _ in range(self.rows)]
        elif final == "K":
            mode = arg(0, 0)
            row = self.cells[self.y]
            start, end = {0: (self.x, self.cols), 1: (0, self.x + 1)}.get(mode, (0, self.cols))
            for i in range(start, min(end, self.cols)):
                row[i] = " "

    def line(self, y: int) -> str:
        return "".join(self.cells[y])

    def text(self) -> str:
        return "\n".join(self.line(y) for y in range(self.rows))


@dataclass
class Session:
    """The app in a pseudo-terminal; every byte it writes is timed, counted and emulated."""

    cols: int
    rows: int
    pods: int
    alerts: int
    queues: int
    started: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    master: int = -1
    script: str = ""  # the child's code; CHILD at this scale when empty
    argv: list[str] = field(default_factory=list)  # or a whole command line (scale.py)
    env: dict[str, str] = field(default_factory=dict)  # more environment for the child
    screen: Screen = field(init=False)
    total_bytes: int = 0
    last_output: float = 0.0

    def __post_init__(self) -> None:
        self.screen = Screen(self.cols, self.rows)

    def start(self) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "COLUMNS"))}
        env.update(TERM="xterm-256color", LINES=str(self.rows), COLUMNS=str(self.cols))
        env.pop("COLORTERM", None)
        env.pop("NO_COLOR", None)
        env.update(self.env)

        def controlling_tty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        script = self.script or CHILD % (self.pods, self.alerts, self.queues)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv or [PYTHON, "-c", script],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            preexec_fn=controlling_tty,
            close_fds=True,
        )
        os.close(slave)
        self.master = master

    def pump(self, timeout: float) -> float | None:
        """Read what is there (waiting up to `timeout` for the first bytes): the time the
        first bytes arrived, or None."""
        ready, _, _ = select.select([self.master], [], [], max(timeout, 0.0))
        if not ready:
            return None
        arrived = time.perf_counter()
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the app is gone
                raise RuntimeError(f"the app exited:\n{self.screen.text()}") from None
            self.total_bytes += len(data)
            self.screen.feed(data)
            self.last_output = time.perf_counter()
            ready, _, _ = select.select([self.master], [], [], 0)
            if not ready:
                return arrived

    def wait_for(self, check: Callable[[Screen], bool], timeout: float) -> float | None:
        """The time of the first read after which check(screen) holds, or None."""
        deadline = time.perf_counter() + timeout
        while (left := deadline - time.perf_counter()) > 0:
            if self.pump(left) is not None and check(self.screen):
                return self.last_output
        return None

    def drain_quiet(self, quiet: float, limit: float = 5.0) -> None:
        """Read until nothing came for `quiet` seconds (at most `limit` seconds)."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            if self.pump(quiet) is None:
                return

    def send(self, data: bytes) -> float:
        os.write(self.master, data)
        return time.perf_counter()

    def memory(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the app in MB."""
        assert self.proc is not None
        values = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0]) / 1024
        return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 10.0) -> None:
        """Quit with `q`, reading on meanwhile: an app that cannot write cannot exit."""
        if self.proc is None or self.master < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self.master, b"q")
        deadline = time.perf_counter() + timeout
        while self.proc.poll() is None and time.perf_counter() < deadline:
            with contextlib.suppress(RuntimeError, OSError):
                self.pump(0.1)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = -1


def full_screen(screen: Screen) -> bool:
    """All four panels show data: every source is ok in the header, no panel is still
    loading, and the incident panel has drawn its summary."""
    text = screen.text()
    header = screen.line(0)
    return (
        all(f"{name} ok" in header for name in ("alerts", "pods", "queues"))
        and "loading…" not in text
        and "No open incident" in text
    )


# --------------------------------------------------------------------------- figures


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    target: float | None = None  # a maximum
    note: str = ""

    def row(self) -> str:
        shown = "-" if self.value is None else f"{self.value:,.1f} {self.unit}"
        target = f"<= {self.target:,.1f} {self.unit}" if self.target is not None else ""
        if self.target is None:
            verdict = ""
        elif self.value is None:
            verdict = "FAILED"
        else:
            verdict = "OK" if self.value <= self.target else "OVER"
        return f"{self.name:<44} {shown:>14} {target:>16}  {verdict:<6} {self.note}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)]


def first_screen(
    args: argparse.Namespace, cols: int, rows: int, profile: str | None = None
) -> tuple[Session, Figure]:
    session = Session(cols, rows, args.pods, args.alerts, args.queues)
    if profile:
        session.script = (
            "import cProfile\nprofiler = cProfile.Profile()\nprofiler.enable()\n"
            + CHILD % (args.pods, args.alerts, args.queues)
            + f"profiler.disable()\nprofiler.dump_stats({str(Path(profile).resolve())!r})\n"
        )
    session.start()
    shown = session.wait_for(full_screen, timeout=60)
    value = None if shown is None else shown - session.started
    note = "" if shown is not None else "never: " + session.screen.line(0).strip()
    return session, Figure(f"first full screen {cols}x{rows}", value, "s", FIRST_SCREEN_S, note)


def key_samples(session: Session, presses: int) -> tuple[list[float], list[float], int]:
    """(key -> first bytes ms, focus key -> footer redrawn ms, keys without an answer)."""
    first: list[float] = []
    footer: list[float] = []
    missed = 0
    for i in range(presses):
        key = KEY_CYCLE[i % len(KEY_CYCLE)]
        # start from a quiet terminal, so the bytes that follow answer the key
        session.drain_quiet(0.05)
        before = session.screen.line(session.rows - 1)
        sent = session.send(KEYS[key])
        arrived = session.pump(1.0)
        if arrived is None:
            missed += 1
            continue
        first.append((arrived - sent) * 1000)
        if key in FOCUS_KEYS:
            # the footer lists the focused panel's keys: once it changed, the key took
            bottom, was = session.rows - 1, before

            def redrawn(screen: Screen, bottom: int = bottom, was: str = was) -> bool:
                return screen.line(bottom) != was

            if redrawn(session.screen) or session.wait_for(redrawn, timeout=1.0):
                footer.append((session.last_output - sent) * 1000)
    return first, footer, missed


def keypresses(session: Session, presses: int) -> list[Figure]:
    first, footer, missed = key_samples(session, presses)
    note = f"{len(first)} keys" + (f", {missed} without an answer in 1 s" if missed else "")
    figures = [
        Figure("key -> first bytes p50", statistics.median(first) if first else None, "ms"),
        Figure(
            "key -> first bytes p95",
            pct(first, 0.95) if first else None,
            "ms",
            KEY_P95_MS,
            note,
        ),
        Figure("key -> first bytes max", max(first) if first else None, "ms"),
    ]
    if footer:
        figures.append(
            Figure(
                "focus key -> footer redrawn p95",
                pct(footer, 0.95),
                "ms",
                KEY_P95_MS,
                f"{len(footer)} keys, p50 {statistics.median(footer):.1f} ms",
            )
        )
    return figures


def steady_bytes(session: Session, seconds: float, label: str) -> list[Figure]:
    session.drain_quiet(0.3)
    count, cpu = session.total_bytes, session.cpu_seconds()
    began = time.perf_counter()
    while (left := began + seconds - time.perf_counter()) > 0:
        session.pump(left)
    elapsed = time.perf_counter() - began
    rate = (session.total_bytes - count) / elapsed
    used = (session.cpu_seconds() - cpu) / elapsed * 100
    return [
        Figure(f"bytes to the terminal {label}", rate, "B/s", BYTES_PER_S, f"over {elapsed:.0f} s"),
        Figure(f"app CPU at steady state {label}", used, "%", note="of one core"),
    ]


# --------------------------------------------------------------------------- in-process


async def _refresh_costs(args: argparse.Namespace) -> list[Figure]:
    from cockpit.runtime import build_demo_runtime
    from cockpit.ui.app import CockpitApp

    runtime = build_demo_runtime(
        seed=7, world_options={"pods": args.pods, "alerts": args.alerts, "queues": args.queues}
    )
    app = CockpitApp(runtime)
    figures: list[Figure] = []
    async with app.run_test(size=(200, 50)) as pilot:
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            await pilot.pause(0.2)
            if app.live.pods and app.live.queues and app.live.groups:
                break
        await pilot.pause(0.5)
        counts = {
            "alerts": len(app.live.groups),
            "incident": 0,
            "pods": len(app.live.pods),
            "queues": len(app.live.queues),
        }
        for name in ("alerts", "incident", "pods", "queues"):
            panel = app.panel(name)
            build, refresh = [], []
            for _ in range(5):
                t0 = time.perf_counter()
                panel.build_rows()
                build.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                panel.refresh_rows()
                refresh.append(time.perf_counter() - t0)
            panel.table.clear()
            t0 = time.perf_counter()
            panel.refresh_rows()
            cold = time.perf_counter() - t0
            rows = panel.table.row_count
            figures.append(
                Figure(
                    f"refresh_rows {name}, nothing changed",
                    statistics.median(refresh) * 1000,
                    "ms",
                    note=f"{rows} rows ({counts[name] or rows} items); "
                    f"build_rows {statistics.median(build) * 1000:.1f} ms",
                )
            )
            figures.append(
                Figure(f"refresh_rows {name}, from empty", cold * 1000, "ms", note=f"{rows} rows")
            )
        app.exit()
    await runtime.close()
    return figures


def refresh_costs(args: argparse.Namespace) -> list[Figure]:
    return asyncio.run(_refresh_costs(args))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--steady", type=float, default=30.0, help="seconds of steady state")
    parser.add_argument("--quick", action="store_true", help="20 keys, 10 s of steady state")
    parser.add_argument("--show", action="store_true", help="print the last 200x50 screen")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="run the 200x50 app under cProfile and write its stats to FILE "
        "(the figures are then slower than real)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.presses, args.steady = 20, 10.0
    precompile()
    began = time.perf_counter()
    figures: list[Figure] = []
    sessions: list[Session] = []
    shown = ""
    try:
        small, figure = first_screen(args, 80, 24)
        sessions.append(small)
        figures.append(figure)
        small.stop()
        session, figure = first_screen(args, 200, 50, args.profile)
        sessions.append(session)
        figures.append(figure)
        if figure.value is not None:
            session.drain_quiet(0.5, limit=10)
            figures.extend(keypresses(session, args.presses))
            figures.extend(steady_bytes(session, args.steady, "200x50"))
            rss, hwm = session.memory()
            figures.append(Figure("RSS at steady state", rss, "MB", RSS_MB))
            figures.append(Figure("RSS peak (VmHWM)", hwm, "MB", RSS_MB))
        shown = session.screen.text()
        session.stop()
    finally:
        for each in sessions:
            each.stop()
    figures.extend(refresh_costs(args))
    if args.show:
        print(shown)
    print()
    print(
        f"cockpit --demo at {args.pods:,} pods / {args.alerts:,} alerts / {args.queues:,} queues, "
        f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}"
    )
    print(f"{'figure':<44} {'value':>14} {'target':>16}  verdict")
    for figure in figures:
        print(figure.row())
    print(f"(benchmark took {time.perf_counter() - began:.0f} s)")
    if args.profile:
        print(f"profile of the 200x50 run (figures above are slowed by it): {args.profile}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
