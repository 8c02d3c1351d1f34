"""The soak: the scale world (5,000 pods, 2,000 alerts, 1,000 queues) for an hour in a real
pty, with a key every few seconds, printing the app's RSS every minute. Not a pytest test.

    .venv/bin/python -m tests.bench.soak                 # one hour, the figure for issue 10
    .venv/bin/python -m tests.bench.soak --minutes 3 --pods 500 --alerts 200 --queues 100

It ends with the first and last minute's RSS, the peak, and the growth per hour from a
straight line through the samples after the first minute (warm-up). The run fails (exit
status 1) when RSS grows by more than --max-growth-mb per hour, or the app exits.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from tests.bench.bench_screen import KEY_CYCLE, KEYS, Session, full_screen


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    """Least squares MB/hour through (seconds, MB)."""
    if len(samples) < 2:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [m for _, m in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if not var:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 3600


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--key-every", type=float, default=3.0)
    parser.add_argument("--max-growth-mb", type=float, default=20.0, help="per hour")
    args = parser.parse_args(argv)

    session = Session(200, 50, args.pods, args.alerts, args.queues)
    session.start()
    try:
        if session.wait_for(full_screen, 120) is None:
            print("the first full screen never came", file=sys.stderr)
            return 1
        start = time.monotonic()
        end = start + args.minutes * 60
        next_sample = start
        next_key = start
        samples: list[tuple[float, float]] = []
        peak = 0.0
        keys = 0
        print(f"{'minute':>6} {'RSS MB':>8} {'peak MB':>8} {'keys':>6}", flush=True)
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_key:
                session.send(KEYS[KEY_CYCLE[keys % len(KEY_CYCLE)]])
                keys += 1
                next_key = now + args.key_every
            if now >= next_sample:
                rss, hwm = session.memory()
                peak = max(peak, hwm)
                samples.append((now - start, rss))
                print(f"{(now - start) / 60:6.1f} {rss:8.1f} {hwm:8.1f} {keys:6d}", flush=True)
                next_sample = now + args.every
            session.pump(0.2)  # keep reading: a full pty would block the app
            if session.proc is not None and session.proc.poll() is not None:
                print("the app exited during the soak", file=sys.stderr)
                return 1
        rss, hwm = session.memory()
        samples.append((time.monotonic() - start, rss))
        warm = [s for s in samples if s[0] >= min(60.0, args.minutes * 60 / 3)]
        growth = slope_per_hour(warm)
        print(
            f"first {samples[0][1]:.1f} MB, last {rss:.1f} MB, peak {max(peak, hwm):.1f} MB, "
            f"growth {growth:+.1f} MB/hour over {args.minutes:g} min, {keys} keys"
        )
        return 0 if growth <= args.max_growth_mb else 1
    finally:
        session.stop()


if __name__ == "__main__":
    sys.exit(main())
