"""2,000 alerts from a real Alertmanager to the alerts panel's rows, next to `amtool alert query`.

Run: .venv/bin/python -m tests.bench.bench_alerts [--alerts 2000] [--runs 7] [--profile FILE]

The alerts are scale.py's (scale_alerts: ~60 names over ~40 services, grouped by alertname
and service). Prints, in CPU seconds of this process (time.process_time, which a loaded
machine inflates less than wall time) and wall seconds, medians of --runs:

- amtool alert query (its process start included: that is what the engineer waits for);
- the cockpit's alert fetch to table rows, as scale.py's side-by-side measures it (a first
  look: the backend forgets its last poll), and the same once the panel is on screen;
- where the cockpit's time goes: HTTP, JSON to domain objects, merge and acks, panel rows;
- a poll of an unchanged server (the raw-bytes digest skips the parse).

--profile FILE writes a cProfile of the fetch-to-rows runs (pstats; snakeviz reads it).
Not a pytest test: timings are not assertions (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.scale import AMTOOL, _to_rows, _tool_seconds, forget_last_poll, scale_alerts


def _median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def forget_memos() -> None:
    """A first look knows no string either: the parse's module-level memos (start times,
    severities, group keys) are emptied too, which scale.py's forget_last_poll does not do."""
    from cockpit.backends import alertmanager_parse

    for name in ("_TIMES", "_SEVERITIES", "_GROUP_KEYS"):
        memo = getattr(alertmanager_parse, name, None)
        if isinstance(memo, dict):
            memo.clear()


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    began, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - began, time.process_time() - cpu


async def breakdown(source: Any, app: Any, url: str, runs: int) -> list[tuple[str, float, float]]:
    """Each stage on its own (median wall, median CPU)."""
    from cockpit.backends import alertmanager_parse
    from cockpit.backends.alertmanager_parse import parse_groups, parse_silences

    # absent before the fast way came: the bench then measures the general way alone
    fast = getattr(alertmanager_parse, "parse_groups_body", lambda body, cluster: None)

    api = source.api
    params = {"active": "true", "silenced": "true", "inhibited": "true"}
    stages: dict[str, list[tuple[float, float]]] = {}

    def add(name: str, wall: float, cpu: float) -> None:
        stages.setdefault(name, []).append((wall, cpu))

    for _ in range(runs):
        began, cpu = time.perf_counter(), time.process_time()
        raw_groups = await api.fetch(url, "GET", "/api/v2/alerts/groups", params=params)
        raw_silences = await api.fetch(url, "GET", "/api/v2/silences")
        add("HTTP (both bodies)", time.perf_counter() - began, time.process_time() - cpu)

        def parse(g: bytes = raw_groups, s: bytes = raw_silences) -> Any:
            groups = fast(g, "")  # as the source does: the fast way first
            if groups is None:
                groups = parse_groups(api.decode(g, url, "groups"), "")
            return groups, parse_silences(api.decode(s, url, "silences"))

        forget_memos()
        (groups, silences), w, c = _timed(parse)
        add("JSON to domain objects", w, c)
        merged, w, c = _timed(lambda g=groups, s=silences: source._merge_cluster([(g, s)]))
        add("merge, dedupe, acks", w, c)

        def rows(m: Any = merged) -> None:
            panel = app.panel("alerts")
            app.live.groups = m
            panel.table.clear()
            panel.refresh_rows()

        _, w, c = _timed(rows)
        add("panel rows (entries, sort, table)", w, c)
    return [(name, *_median(samples)) for name, samples in stages.items()]


async def measure(args: argparse.Namespace, url: str, tmp: Path) -> None:
    from cockpit.config import parse_config
    from cockpit.runtime import build_runtime
    from cockpit.ui.app import CockpitApp

    config = parse_config(
        {
            "store": {"path": str(tmp / "incidents.sqlite3")},
            "ui": {"bell": False, "desktop_notify": False},
            "alertmanager": {"url": url},
        },
        tmp / "config.toml",
    )
    runtime = build_runtime(config)
    source = runtime.alerts
    assert source is not None
    runtime.alerts = runtime.pager = None  # this function drives the source, no feed does
    tool_s, tool_cpu, lines = _tool_seconds(
        [AMTOOL, f"--alertmanager.url={url}", "alert", "query"], 5
    )
    try:
        app = CockpitApp(runtime)
        async with app.run_test(size=(200, 50)) as pilot:
            await pilot.pause()
            await _to_rows(app, "alerts", source.groups, "groups")  # warm
            profiler = cProfile.Profile() if args.profile else None
            samples = []
            for _ in range(args.runs):
                if profiler:
                    profiler.enable()
                forget_memos()
                samples.append(await _to_rows(app, "alerts", source.groups, "groups"))
                if profiler:
                    profiler.disable()
            if profiler:
                profiler.dump_stats(args.profile)
            wall, cpu = _median(samples)
            rows = app.panel("alerts").table.row_count
            await pilot.pause()  # painted: the next figure starts from a screen showing them
            parts = await breakdown(source, app, url, args.runs)
            unchanged = []
            for _ in range(args.runs):
                began, cpu0 = time.perf_counter(), time.process_time()
                app.live.groups = await source.groups()
                app.panel("alerts").refresh_rows()
                unchanged.append((time.perf_counter() - began, time.process_time() - cpu0))
            same_wall, same_cpu = _median(unchanged)
            forget_last_poll(source)
            app.exit()
    finally:
        await source.close()
        await runtime.close()
    print(f"{args.alerts:,} alerts, {rows:,} groups; medians of {args.runs} (wall s / CPU s)")
    print(f"  amtool alert query          {tool_s:6.3f} / {tool_cpu:6.3f}  ({lines:,} lines)")
    ratio = tool_cpu / cpu if cpu else float("inf")
    verdict = "COCKPIT FASTER" if ratio >= 1 else "TOOL FASTER"
    print(f"  cockpit alerts to rows      {wall:6.3f} / {cpu:6.3f}  ({ratio:.1f}x CPU: {verdict})")
    for name, w, c in parts:
        print(f"    {name:<34}{w:6.3f} / {c:6.3f}")
    print(f"  unchanged poll to rows      {same_wall:6.3f} / {same_cpu:6.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", help="write a cProfile of the fetch-to-rows runs here")
    args = parser.parse_args(argv)
    from tests.alertmanager.server import AlertmanagerServer, alertmanager_available

    if not alertmanager_available():
        print("prometheus-alertmanager is not installed")
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as name:
        tmp = Path(name)
        os.environ["XDG_DATA_HOME"] = str(tmp / "xdg-data")
        os.environ["XDG_CONFIG_HOME"] = str(tmp / "xdg-config")
        os.environ.pop("COCKPIT_CONFIG", None)
        with AlertmanagerServer(tmp / "alertmanager") as am:
            am.post_alerts(scale_alerts(args.alerts, datetime.now(UTC)))
            am.wait_for_alerts(args.alerts)
            asyncio.run(measure(args, am.url, tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
