"""Read-only mode: no write key is offered, pressing one changes nothing, the action layer
refuses, and the header says READ-ONLY."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cockpit.clock import FrozenClock
from cockpit.domain import RestartMode
from cockpit.ui.app import CockpitApp
from tests.pilot import until
from tests.ui.conftest import (
    SIZES,
    make_runtime,
    ready,
    screen_lines,
    screen_text,
    select_row,
    settle,
)

WRITE_KEYS = ("a", "A", "i", "n", "u", "e", "r")
WRITE_LABELS = ("Ack", "Unack", "Declare", "Note", "Update", "Escalate", "Restart")


def footer_keys(app: CockpitApp) -> set[str]:
    return {b.key for _, b, enabled, _ in app.active_bindings.values() if enabled and b.show}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_read_only_offers_and_does_nothing(clock: FrozenClock, size: tuple[int, int]) -> None:
    runtime = make_runtime(clock, read_only=True)
    world = runtime.demo.world
    app = CockpitApp(runtime)
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        await until(pilot, lambda: "Quit" in screen_lines(app)[-1], "the footer")
        assert "READ-ONLY" in screen_lines(app)[0]

        for panel in ("alerts", "pods"):
            await pilot.press({"alerts": "1", "pods": "3"}[panel])
            await until(pilot, lambda: "Quit" in screen_lines(app)[-1])
            footer = screen_lines(app)[-1]
            keys = footer_keys(app)
            for key, label in zip(WRITE_KEYS, WRITE_LABELS, strict=True):
                assert key not in keys, f"{key} offered in read-only mode"
                assert f"{key} {label}" not in footer
            assert "Filter" in footer  # reading stays possible
        assert "l" in footer_keys(app)  # logs are offered on the pods panel

        # pressing every write key anywhere changes nothing and opens nothing
        for panel, presses in (("1", ("a", "A", "i", "n", "u", "e")), ("3", ("r",))):
            await pilot.press(panel)
            for key in presses:
                await pilot.press(key)
                assert app.screen is app.default_screen, f"{key} opened a dialog"
        select_row(app, "pods", "catalog/catalog-api-")
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is app.default_screen
        assert world.silences == {}
        assert world.pages == {} and world.status_updates == []
        assert all(w.rollouts == 0 for w in world.workloads.values())
        assert all(r.deleted_s is None for w in world.workloads.values() for r in w.recs)
        assert runtime.store.current_incident() is None
        assert runtime.store.timeline(None) == []

        # the palette offers no write action either
        names = [text for text, _, _ in app.palette_commands()]
        assert not any(n.startswith(("Acknowledge", "Declare", "Restart")) for n in names)
        assert any(n.startswith("Show the selected pod's logs") for n in names)

        # the action layer refuses on its own, whatever the screen does
        group = app.live.groups[0]
        result = await app.actions.ack(group, timedelta(hours=1))
        assert not result.ok and "read-only" in result.message
        pod = next(iter(app.live.pods.values()))
        assert not (await app.actions.restart(pod, RestartMode.DELETE_POD)).ok
        from cockpit.domain import Severity

        assert not (await app.actions.declare("x", Severity.SEV3)).ok
        assert not (await app.actions.note("x")).ok
        assert world.silences == {} and runtime.store.current_incident() is None
        assert "READ-ONLY" in screen_text(app)
