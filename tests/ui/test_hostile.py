"""Issue 10 through the screen: hostile alerts, pods, queues and messages are shown, opened
and acted on at 80x24 and 200x50; nothing is read as markup, no control character reaches
the screen, and the app keeps running (an alert named "X[/]" used to end it)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from cockpit.clock import FrozenClock
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from cockpit.ui.screens.views import MessagesScreen
from tests.hostile import TALLY
from tests.hostile_world import make_hostile
from tests.ui.conftest import (
    home,
    make_runtime,
    modal,
    notifications,
    raw_segments,
    ready,
    select_row,
    wait_until,
)

UNSAFE = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]
UNSAFE += ["\u202e", "\u202c", "\u200b"]


def assert_inert(app: CockpitApp, where: str) -> None:
    shown = raw_segments(app)
    found = sorted({repr(c) for c in UNSAFE if c in shown})
    assert not found, f"{where}: {found} reached the screen"
    TALLY["hostile strings rendered"] += 1


async def submit(pilot: Pilot[Any], app: CockpitApp) -> None:
    await modal(pilot, app, FormScreen)
    await pilot.press("ctrl+s")
    if isinstance(app.screen, FormScreen):  # a confirmation after the form
        await pilot.press("y")
    await home(pilot, app)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_hostile_items_are_shown_opened_and_acted_on(
    clock: FrozenClock, size: tuple[int, int]
) -> None:
    app = CockpitApp(make_hostile(make_runtime(clock)))
    async with app.run_test(size=size, notifications=True) as pilot:  # toasts rendered
        await ready(pilot, app)
        assert_inert(app, "first screen")

        select_row(app, "alerts", "hostile-group")
        await pilot.press("enter")  # alert details: labels, annotations, links
        await pilot.pause(0.2)
        assert_inert(app, "alert details")
        await pilot.press("escape")
        await home(pilot, app)
        select_row(app, "alerts", "hostile-group")
        await pilot.press("a")  # ack: the confirmation names the group
        await submit(pilot, app)
        await wait_until(
            pilot,
            lambda: any("acknowledged" in n.lower() for n in notifications(app)),
            "the ack's notification",
        )
        assert_inert(app, "after the ack")
        select_row(app, "alerts", "hostile-group")
        await pilot.press("i")  # declare, prefilled with the hostile summary
        await submit(pilot, app)
        await wait_until(pilot, lambda: app.actions.current_incident() is not None, "incident")
        assert_inert(app, "after declaring")

        select_row(app, "pods", "hostile")
        await pilot.press("enter")  # pod details with hostile events
        await pilot.pause(0.2)
        assert_inert(app, "pod details")
        await pilot.press("escape")
        await home(pilot, app)
        select_row(app, "pods", "hostile")
        await pilot.press("l")  # logs
        await pilot.pause(0.3)
        assert_inert(app, "pod logs")
        await pilot.press("escape")
        await home(pilot, app)

        select_row(app, "queues", "zz-hostile")
        await pilot.press("m")  # peek: message id "[/]", headers 1,500 deep
        screen = await modal(pilot, app, MessagesScreen)
        await wait_until(pilot, lambda: bool(screen.messages), "the peeked messages")
        await pilot.pause(0.2)
        assert_inert(app, "messages")
        await pilot.press("escape")
        await home(pilot, app)
        assert app.is_running
        assert app.return_code is None
