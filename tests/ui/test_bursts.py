"""Keys mean what the engineer meant: a burst of keys (one read from the terminal) or a
pasted text never acts. Everything typed after / goes to the filter; a dialog takes no key
that was queued before it was on screen; y acts once; a flow with its dialog open is not
started again. The audit log says whether anything was attempted outside the cockpit."""

from __future__ import annotations

from typing import Any

from textual import events

from cockpit.audit import read_audit
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from tests.pilot import burst, until
from tests.ui.conftest import home, modal, ready, settle, table


def attempts(runtime: Runtime) -> list[dict[str, Any]]:
    assert runtime.audit is not None
    if not runtime.audit.path.exists():
        return []
    # the session's own start line is not an action on anything
    return [e for e in read_audit(runtime.audit.path) if e["action"] != "session"]


async def test_a_burst_after_slash_goes_to_the_filter(app: CockpitApp, runtime: Runtime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        # pods: `/registry` used to restart a pod (r opened the dialog, y confirmed it)
        await pilot.press("3")
        await burst(pilot, "/registry")
        await settle(pilot)
        pods = app.panel("pods")
        assert app.screen is app.default_screen
        assert pods.filter_text == "registry"
        # `/invoices` used to open the escalate dialog (the e)
        await pilot.press("escape")
        await burst(pilot, "/invoices")
        await settle(pilot)
        assert app.screen is app.default_screen and pods.filter_text == "invoices"
        await pilot.press("escape")
        # alerts: `/payments` used to ack DiskSpaceLow (the a and the y)
        await burst(pilot, "1/payments")
        await settle(pilot)
        assert app.screen is app.default_screen
        assert app.panel("alerts").filter_text == "payments"
        assert attempts(runtime) == []


async def test_a_burst_typed_after_enter_acts_on_the_filtered_row(
    app: CockpitApp, runtime: Runtime
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        # 4 /invoices enter in one go: the queues filtered, the exact name on top, selected
        await burst(pilot, ["4", "/", *"invoices", "enter"])
        await settle(pilot)
        queues = table(app, "queues")
        assert app.panel("queues").filter_text == "invoices"
        assert queues.has_focus and str(queues.selected_key).endswith("/invoices")


async def test_a_dialog_ignores_keys_queued_before_it_was_on_screen(
    app: CockpitApp, runtime: Runtime
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        # r and y in one read: the dialog opens, the y (typed before it showed) is dropped
        await burst(pilot, "ry")
        dialog = await modal(pilot, app, FormScreen)
        await settle(pilot)
        assert app.screen is dialog
        assert attempts(runtime) == []
        # on screen, two y in one read: one restart
        await burst(pilot, "yy")
        await home(pilot, app)
        await until(pilot, lambda: [e for e in attempts(runtime) if e["outcome"] == "ok"])
        await settle(pilot)
        restarts = [e for e in attempts(runtime) if e["action"] == "restart"]
        assert [e["outcome"] for e in restarts] == ["attempt", "ok"]


async def test_a_fast_a_a_opens_one_dialog(app: CockpitApp, runtime: Runtime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await burst(pilot, "aa")
        first = await modal(pilot, app, FormScreen)
        await settle(pilot)
        assert app.screen is first
        await pilot.press("n")
        await home(pilot, app)
        await settle(pilot)
        assert app.screen is app.default_screen  # no second dialog behind the first
        assert attempts(runtime) == []


async def test_a_paste_is_text_never_keys(app: CockpitApp, runtime: Runtime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        # bracketed paste: the terminal marks it, the driver hands it over as one Paste
        app.post_message(events.Paste("ry registry\ny"))
        await settle(pilot)
        assert app.screen is app.default_screen
        assert app.panel("pods").filter_text == "ry registry y"
        assert attempts(runtime) == []
