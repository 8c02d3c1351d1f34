"""The pods panel's AGE and RESTARTS move on in steps: never "<invalid>" for a fresh pod."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cockpit.domain import PodHealth
from cockpit.ui.palette import Palette
from cockpit.ui.panels.pods import _PodEntry


def test_a_restart_after_the_age_step_began_is_0s_ago_not_invalid() -> None:
    step = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    pod = PodHealth(
        namespace="payments",
        name="api-1",
        ready="0/1",
        status="CrashLoopBackOff",
        restarts=2,
        last_restart=step + timedelta(seconds=9),  # the watch event came 9 s into the step
        created_at=step + timedelta(seconds=9),
        healthy=False,
    )
    entry = _PodEntry(pod.key, pod, Palette(), False)
    entry.set_times(step)
    assert entry.cells[3] == "2 (0s ago)"
    assert entry.cells[4] == "0s"
