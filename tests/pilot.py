"""What every Pilot-driven test of the cockpit needs: waiting for the screen, reading it."""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.geometry import Region
from textual.pilot import Pilot

from cockpit.config import parse_config
from cockpit.runtime import Runtime, build_runtime
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
    pilot: Pilot[Any], check: Callable[[], T | None], what: str = "", timeout: float = 20.0
) -> T:
    """Let the app run until check() is truthy and return it; fail naming what was awaited
    (`what`, else the check's source line). A check that raises (a widget not mounted yet,
    a screen in transition) counts as no. The one "wait until" of the Pilot tests."""
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
            raise AssertionError(
                f"{what or _source(check)}: not within {timeout}s (last: {result!r})"
            )
        await pilot.pause(0.05)


def _source(check: Callable[[], object]) -> str:
    try:
        return inspect.getsource(check).strip()
    except (OSError, TypeError):
        return repr(check)


def header(app: CockpitApp) -> str:
    """The header line exactly as drawn (cut to the screen width)."""
    bar = app.query_one(StatusBar)
    return "".join(s.text for s in bar.render_lines(Region(0, 0, bar.size.width, 1)))


class CockpitFactory:
    """CockpitApp(build_runtime(config)) on real servers: the store in tmp, no bell and no
    desktop notification written to pytest's terminal, every runtime closed afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.runtimes: list[Runtime] = []

    def __call__(self, sections: dict[str, Any], *, secrets: Any = None) -> CockpitApp:
        config = parse_config(
            {
                "store": {"path": str(self.tmp_path / "incidents.sqlite3")},
                "ui": {"bell": False, "desktop_notify": False},
                **sections,
            },
            self.tmp_path / "config.toml",
        )
        runtime = build_runtime(config, secrets=secrets)
        self.runtimes.append(runtime)
        return CockpitApp(runtime)

    async def close(self) -> None:
        for runtime in self.runtimes:
            await runtime.close()


@pytest.fixture
async def cockpit_factory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CockpitFactory]:
    """Nothing under the real home: data, config and the config file env var are isolated."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    factory = CockpitFactory(tmp_path)
    yield factory
    await factory.close()


async def burst(pilot: Pilot[Any], keys: str | list[str]) -> None:
    """Keys that arrive in one read (keys bunched by a laggy SSH link, a paste without
    bracketed paste): every one is queued on the app's input, through the driver as the
    terminal's reader queues them, before the first is handled."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    driver = app._driver
    assert driver is not None
    for key in list(keys):
        char = key if len(key) == 1 else None
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, char)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()
