"""The simulated world behind `cockpit --demo`, the UI tests and the benchmarks.

    backends = build_demo(FrozenClock(), seed=7)          # ~40 pods, 12 queues, a few alerts
    backends = build_demo(clock, scale=125)               # 5,000 pods, 2,000 alerts, 1,000 queues
    backends = build_demo(clock, pods=5000, alerts=2000, queues=1000)

Deterministic: state is a function of the seed, the clock's time since build_demo()
and the actions taken. See world.py for the scripted incident and its fixes.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.backends.demo.backends import (
    DemoAlertSource,
    DemoBackends,
    DemoBroker,
    DemoCluster,
    DemoPager,
    DemoStatusPage,
)
from cockpit.backends.demo.world import SOURCES, DemoWorld, Timing
from cockpit.clock import Clock

__all__ = [
    "SOURCES",
    "DemoAlertSource",
    "DemoBackends",
    "DemoBroker",
    "DemoCluster",
    "DemoPager",
    "DemoStatusPage",
    "DemoWorld",
    "Timing",
    "build_demo",
]


def build_demo(
    clock: Clock,
    *,
    seed: int = 7,
    scale: int = 1,
    pods: int | None = None,
    alerts: int | None = None,
    queues: int | None = None,
    timing: Timing | None = None,
    poll: float = 1.0,
    quarantine_dir: Path | str | None = None,
) -> DemoBackends:
    """The simulated Acme Shop. scale=N aims at 40N pods, 16N alerts and 8N queues (the
    scripted ones included); pods/alerts/queues override those totals. poll is the real
    time between watch() diffs and follow_logs() checks. Quarantined messages are only kept
    in memory unless quarantine_dir is given."""
    world = DemoWorld(
        clock,
        seed,
        scale,
        pods=pods,
        alerts=alerts,
        queues=queues,
        timing=timing,
        quarantine_dir=quarantine_dir,
    )
    return DemoBackends(
        world=world,
        alerts=DemoAlertSource(world),
        cluster=DemoCluster(world, poll=poll),
        broker=DemoBroker(world),
        statuspage=DemoStatusPage(world),
        pager=DemoPager(world),
    )
