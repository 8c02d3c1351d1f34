"""`python -m tests.bench.bench_terminal_diff [--seconds S] [--sizes 200x50,80x24]`: what the
terminal diff (cockpit/ui/terminal_diff.py) costs and saves on `cockpit --demo`'s real output.

Each size: the demo in a pty for S seconds (keys, a zoom, the help dialog), every write
Textual made recorded (tests/ui/pty_diff_demo.py); then the writes replayed through a fresh
TerminalDiff: microseconds per write (the first full frame on its own), bytes Textual wrote vs
bytes the diff sends, and (pyte installed) the check that both give the same screen."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from cockpit.ui.terminal_diff import TerminalDiff


def record(width: int, height: int, seconds: float) -> list[Any]:
    from tests.ui.test_terminal_diff_pty import Recorded

    with tempfile.TemporaryDirectory() as tmp:
        cockpit = Recorded(Path(tmp), width, height)
        try:
            cockpit.wait_for_writes(10)
            began = time.monotonic()
            time.sleep(min(4.0, seconds / 2))
            cockpit.type(b"j", b"j", b"\t", b"z", b"z", b"?")
            cockpit.type(b"\x1b", pause=1.0)
            while time.monotonic() - began < seconds:
                time.sleep(0.2)
        finally:
            writes = cockpit.stop()
    return writes


def measure(writes: list[Any], width: int, height: int) -> dict[str, Any]:
    diff = TerminalDiff(width, height)
    costs: list[float] = []
    bytes_in = bytes_out = 0
    first = 0.0
    for write in writes:
        if isinstance(write, dict):
            diff.request_resize(*write["resize"])
            continue
        began = time.perf_counter()
        out = diff.feed(write)
        spent = time.perf_counter() - began
        bytes_in += len(write.encode())
        bytes_out += len(out.encode())
        if len(write) > 200:  # a frame (not a sync marker nor a mode switch)
            if not first:
                first = spent
            costs.append(spent)
    costs.sort()
    return {
        "frames": len(costs),
        "first_us": first * 1e6,
        "p50_us": statistics.median(costs) * 1e6,
        "p95_us": costs[int(len(costs) * 0.95)] * 1e6,
        "max_us": costs[-1] * 1e6,
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--sizes", default="200x50,80x24")
    args = parser.parse_args()
    for size in args.sizes.split(","):
        width, height = (int(n) for n in size.split("x"))
        writes = record(width, height, args.seconds)
        figures = measure(writes, width, height)
        saved = 1 - figures["bytes_out"] / max(1, figures["bytes_in"])
        print(
            f"{size}: {figures['frames']} frames in {args.seconds:.0f} s; diff per frame "
            f"p50 {figures['p50_us']:.0f} µs, p95 {figures['p95_us']:.0f} µs, "
            f"max {figures['max_us']:.0f} µs, first full frame {figures['first_us']:.0f} µs; "
            f"bytes {figures['bytes_in']:,} -> {figures['bytes_out']:,} ({saved:.0%} saved)"
        )
        try:
            from tests.ui.test_terminal_diff_pty import replay

            replay(writes, width, height)
            print(f"{size}: the same screen as Textual's raw output after every write")
        except ImportError:
            pass


if __name__ == "__main__":
    main()
