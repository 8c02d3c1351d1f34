"""What every Pilot-driven test of the cockpit needs: waiting for the screen, reading it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from textual.geometry import Region
from textual.pilot import Pilot

from cockpit.ui.app import CockpitApp, StatusBar

T = TypeVar("T")


def bound_idle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot waits after every key until the process looks idle (by CPU time), up to 1 s
    twice per key. The cockpit is never idle (feeds, a 1 s tick, watch threads), so that
    costs seconds per key; the tests wait for what they need with `until` instead, and each
    key still waits until every widget has processed its messages."""
    import textual.app
    import textual.pilot
    from textual._wait import wait_for_idle

    async def bounded(min_sleep: float = 0.0, max_sleep: float = 0.1) -> None:
        await wait_for_idle(min_sleep, min(max_sleep, 0.1))

    monkeypatch.setattr(textual.app, "wait_for_idle", bounded)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", bounded)


async def until(
    pilot: Pilot[Any], check: Callable[[], T | None], what: str, timeout: float = 20.0
) -> T:
    """Let the app run until check() is truthy and return it; fail naming what was awaited.
    A check that raises (a widget not mounted yet, a screen in transition) counts as no."""
    deadline = time.monotonic() + timeout
    result: T | None = None
    while True:
        try:
            result = check()
        except Exception:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s (last: {result!r})")
        await pilot.pause(0.05)


def header(app: CockpitApp) -> str:
    """The header line exactly as drawn (cut to the screen width)."""
    bar = app.query_one(StatusBar)
    return "".join(s.text for s in bar.render_lines(Region(0, 0, bar.size.width, 1)))
