"""Fixtures for driving the cockpit screen with Textual's Pilot on the simulated world.

The world runs on a FrozenClock the test advances, so the demo script unfolds the same
way every run; the feeds poll every few hundredths of a (real) second so the screen
catches up fast, and every wait is a poll with a generous timeout, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from cockpit.clock import FrozenClock
from cockpit.runtime import Runtime, build_demo_runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.keyed_table import KeyedTable
from cockpit.ui.panels.base import Panel
from tests.pilot import bound_idle_wait, until

SIZES = [(80, 24), (200, 50)]
FAST = timedelta(seconds=0.2)


@pytest.fixture(autouse=True)
def _bounded_idle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    bound_idle_wait(monkeypatch)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No user theme, config or data dir of the machine leaks into a test (or gets written)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLORTERM", "truecolor")
    yield


def make_runtime(clock: FrozenClock, *, read_only: bool = False, advance: float = 70) -> Runtime:
    """The demo world `advance` seconds into its script, with feeds that poll fast."""
    runtime = build_demo_runtime(clock, read_only=read_only, world_options={"poll": 0.05})
    runtime.alerts_interval = FAST
    runtime.queues_interval = FAST
    runtime.outbox_interval = FAST
    clock.advance(advance)
    return runtime


@pytest.fixture
def runtime(clock: FrozenClock) -> Runtime:
    return make_runtime(clock)


@pytest.fixture
def app(runtime: Runtime) -> CockpitApp:
    return CockpitApp(runtime)


# the one "wait until" is tests.pilot.until; the old name stays for branches in flight
wait_until = until


def screen_lines(app: CockpitApp) -> list[str]:
    """What the terminal shows right now, one string per line (the active screen)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: CockpitApp) -> str:
    return "\n".join(screen_lines(app))


def raw_segments(app: CockpitApp) -> str:
    """Every character the screen would write, before any terminal encoding."""
    return "".join(
        segment.text for strip in app.screen._compositor.render_strips() for segment in strip
    )


def table(app: CockpitApp, name: str) -> KeyedTable:
    return app.panel(name).table


def panel(app: CockpitApp, name: str) -> Panel:
    return app.panel(name)


def cell_text(value: object) -> str:
    return str(getattr(value, "plain", value))


def row_texts(app: CockpitApp, name: str) -> list[str]:
    """Each shown row of a panel's table as its cells' plain text joined by spaces."""
    t = table(app, name)
    out = []
    for row in t.ordered_rows:
        out.append(" ".join(cell_text(c) for c in t.get_row(row.key)))
    return out


async def ready(pilot: Pilot[Any], app: CockpitApp) -> None:
    """Wait until all three sources delivered and every panel has rows."""
    await until(
        pilot,
        lambda: (
            all(table(app, n).row_count for n in ("alerts", "pods", "queues"))
            and all(app.live.freshness[n].last_ok for n in ("alerts", "pods", "queues"))
        ),
        "the first data of every source",
    )


async def settle(pilot: Pilot[Any], seconds: float = 0.2) -> None:
    """A few polls' worth of real time: used only to show that something did NOT happen."""
    await asyncio.sleep(seconds)
    await pilot.pause()


async def modal(pilot: Pilot[Any], app: CockpitApp, cls: type[Screen[Any]]) -> Any:
    """Wait until a screen of that class is on top (and, for a dialog, on screen: it takes
    no key typed before); return it."""
    await until(
        pilot,
        lambda: isinstance(app.screen, cls) and getattr(app.screen, "armed", True),
        cls.__name__,
    )
    await pilot.pause()
    return app.screen


async def home(pilot: Pilot[Any], app: CockpitApp) -> None:
    """Wait until every dialog is closed."""
    await until(pilot, lambda: app.screen is app.default_screen, "the main screen")


def notifications(app: CockpitApp) -> list[str]:
    return [n.message for n in app._notifications]


def select_row(app: CockpitApp, name: str, contains: str) -> str:
    """Focus a panel and put its cursor on the row with that key, else the first row whose
    key contains it."""
    t = table(app, name)
    keys = t.row_keys()
    key = contains if contains in keys else next(k for k in keys if contains in k)
    t.focus()
    assert t.select_key(key)
    return key
