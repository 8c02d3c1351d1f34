"""What the App does for everything it hosts: starting flows (one at a time per flow) and
the feeds' workers (one pod watch at a time)."""

from __future__ import annotations

from typing import Any

from cockpit.ui.app import CockpitApp
from cockpit.ui.feeds import POD_WATCH
from cockpit.ui.panels.alerts import AlertsPanel
from cockpit.ui.panels.pods import PodsPanel
from cockpit.ui.screens.forms import FormScreen
from tests.pilot import until
from tests.ui.conftest import home, modal, ready, select_row, settle, table


def dialogs(app: CockpitApp) -> int:
    return sum(isinstance(screen, FormScreen) for screen in app.screen_stack)


def pod_watches(app: CockpitApp) -> list[Any]:
    return [w for w in app.workers if w.name == POD_WATCH and w.is_running]


async def test_a_pressed_twice_before_the_dialog_is_up_opens_one_dialog(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        panel = app.panel("alerts")
        assert isinstance(panel, AlertsPanel)
        table(app, "alerts").focus()
        # both keys handled before the flow's worker pushed its dialog (a slow terminal,
        # a held key): the second finds the ack flow running and starts nothing
        panel.action_ack()
        panel.action_ack()
        await modal(pilot, app, FormScreen)
        await settle(pilot)
        assert dialogs(app) == 1
        await pilot.press("n")
        await home(pilot, app)
        # finished: the key starts it again
        await pilot.press("a")
        await modal(pilot, app, FormScreen)
        assert dialogs(app) == 1


async def test_r_twice_while_the_restart_plan_loads_opens_one_dialog(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        panel = app.panel("pods")
        assert isinstance(panel, PodsPanel)
        select_row(app, "pods", "payments")
        panel.action_restart()
        panel.action_restart()
        await modal(pilot, app, FormScreen)
        await settle(pilot)
        assert dialogs(app) == 1


async def test_rewatching_the_pods_leaves_exactly_one_watch(app: CockpitApp) -> None:
    """A context switch restarts the watch: the one it replaces ends (it used to keep
    running beside the new one, two watches feeding one panel)."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert len(pod_watches(app)) == 1
        first = pod_watches(app)[0]
        app.rewatch_pods()
        app.rewatch_pods()
        await until(pilot, lambda: len(pod_watches(app)) == 1 and first.is_cancelled, "one")
        await until(pilot, lambda: table(app, "pods").row_count > 0, "the pods again")
        await settle(pilot)
        assert len(pod_watches(app)) == 1


async def test_what_is_loaded_is_frozen_for_the_collector_and_unfrozen_on_exit(
    app: CockpitApp,
) -> None:
    """Once every feed has loaded the long-lived state leaves the cycle collector's walks
    (full collections stopped the UI thread 250-400 ms at scale); on exit it is handed
    back, or every app a process runs would stay in memory for good."""
    import gc

    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await until(pilot, lambda: gc.get_freeze_count() > 0, "frozen once the feeds loaded")
        assert app.collector.frozen
    assert gc.get_freeze_count() == 0


async def test_ctrl_l_sends_the_whole_screen_again_even_over_a_dialog(app: CockpitApp) -> None:
    """The terminal is sent only what changed: after something wrote over it, ctrl+l
    makes the driver forget what the terminal shows and repaints every line."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        forgotten: list[bool] = []
        app._driver.invalidate_screen = lambda: forgotten.append(True)  # type: ignore[union-attr]
        shown: list[Any] = []
        display = app._display

        def recording(screen: Any, update: Any) -> None:
            shown.append(getattr(update, "region", None))
            display(screen, update)

        app._display = recording  # type: ignore[method-assign]
        await settle(pilot)
        shown.clear()
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert forgotten == [True]
        # one update of the whole 80x24 screen (a partial one has no single region)
        assert any(r is not None and (r.width, r.height) == (80, 24) for r in shown), shown
        # over a dialog too (the main screen's own keys are off there)
        panel = app.panel("alerts")
        assert isinstance(panel, AlertsPanel)
        table(app, "alerts").focus()
        panel.action_ack()
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert forgotten == [True, True]
        await pilot.press("n")
        await home(pilot, app)
