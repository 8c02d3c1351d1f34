"""Pods and queues keys end to end: restart (and its refusals), logs, messages, quarantine."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Log

from cockpit.domain import EventKind, RestartMode
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import Choices, FormScreen
from cockpit.ui.screens.views import LogsScreen, MessagesScreen
from tests.pilot import until
from tests.ui.conftest import (
    home,
    modal,
    notifications,
    ready,
    screen_text,
    select_row,
    settle,
    table,
)


def payments_api(app: CockpitApp) -> list[str]:
    return [p.status for k, p in app.live.pods.items() if k.startswith("payments/payments-api-")]


async def test_restart_offers_both_modes_and_rollout_fixes_payments(
    app: CockpitApp, runtime: Runtime
) -> None:
    world = runtime.demo.world
    workload = world.workloads[("payments", "payments-api")]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        pod = app.panel("pods").selected()
        assert pod is not None and pod.name.startswith("payments-api-")
        assert pod.status in {"OOMKilled", "CrashLoopBackOff"}

        # r: both modes offered; three payments-api pods are unhealthy, so the rollout
        # restart (the fix for a crashing Deployment) is preselected; Cancel focused
        await pilot.press("r")
        dialog = await modal(pilot, app, FormScreen)
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"
        text = screen_text(app)
        assert "Delete only pod" in text and "Rollout restart Deployment payments-api" in text
        assert "( ) 1 Delete only pod" in text and "(x) 2 Rollout restart" in text
        assert dialog.values()["mode"] == RestartMode.ROLLOUT.value
        # digits and arrows choose from the buttons, without moving the focus there
        await pilot.press("1")
        assert dialog.values()["mode"] == RestartMode.DELETE_POD.value
        assert "(x) 1 Delete only pod" in screen_text(app)
        await pilot.press("down")
        assert dialog.values()["mode"] == RestartMode.ROLLOUT.value
        await pilot.press("escape")
        await home(pilot, app)
        assert workload.rollouts == 0 and all(r.deleted_s is None for r in workload.recs)

        # the choices are reachable with tab too (shift+tab from Cancel), then y
        await pilot.press("r")
        dialog = await modal(pilot, app, FormScreen)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Choices)
        await pilot.press("up", "down")
        assert dialog.values()["mode"] == RestartMode.ROLLOUT.value
        await pilot.press("y")
        await home(pilot, app)
        await until(pilot, lambda: workload.rollouts == 1, "the rollout")
        events = [e for e in runtime.store.timeline(None) if e.kind is EventKind.RESTART]
        assert len(events) == 1 and events[0].details["mode"] == RestartMode.ROLLOUT.value

        # later: the new pods run, the old ones are gone
        runtime.clock.advance(30)  # type: ignore[attr-defined]
        await until(
            pilot,
            lambda: payments_api(app) and set(payments_api(app)) == {"Running"},
            what="payments-api Running",
        )
        assert len(payments_api(app)) == 3
        assert all(p.healthy for k, p in app.live.pods.items() if "payments-api" in k)
        # nothing crashes any more: the panel's first row is a healthy pod
        await until(pilot, lambda: app.live.pods[table(app, "pods").row_keys()[0]].healthy)


async def test_restart_refusal_and_permanent_delete_warning(
    app: CockpitApp, runtime: Runtime
) -> None:
    world = runtime.demo.world
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        # a paused Deployment: refused with kubectl's reason, no dialog
        select_row(app, "pods", "catalog/catalog-indexer-")
        await pilot.press("r")
        await until(pilot, lambda: any("is paused" in n for n in notifications(app)))
        message = next(n for n in notifications(app) if "is paused" in n)
        assert "kubectl rollout resume deployment/catalog-indexer" in message
        await settle(pilot)
        assert app.screen is app.default_screen

        # a bare pod: deleting it is permanent, and the dialog says so
        select_row(app, "pods", "platform/debug-shell")
        await pilot.press("r")
        await modal(pilot, app, FormScreen)
        text = screen_text(app)
        assert "WARNING" in text and "permanent" in text
        assert "Rollout" not in text
        await pilot.press("n")
        await home(pilot, app)
        assert all(r.deleted_s is None for r in world.workloads[("platform", "debug-shell")].recs)
        assert not [e for e in runtime.store.timeline(None) if e.kind is EventKind.RESTART]


async def test_logs_and_previous_container(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        pod = app.panel("pods").selected()
        assert pod is not None and pod.name.startswith("payments-api-")
        await pilot.press("l")
        screen = await modal(pilot, app, LogsScreen)
        log = screen.query_one(Log)
        # crash-looping: the logs open on the previous container, the one that crashed
        await until(
            pilot,
            lambda: any("OutOfMemoryError" in line for line in log.lines),
            what="the previous container's OOM",
        )
        text = screen_text(app)
        assert "the one that crashed" in text.replace("\n", " ")
        assert "OutOfMemoryError" in text
        # p switches to the current container
        await pilot.press("p")
        await until(pilot, lambda: "current container" in screen_text(app), "the current one")
        await pilot.press("escape")
        await home(pilot, app)


async def test_messages_and_quarantine_of_the_poison(app: CockpitApp, runtime: Runtime) -> None:
    world = runtime.demo.world
    invoices = world.queues["//invoices"]
    poison = invoices.poison_seq
    assert poison is not None
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        select_row(app, "queues", "//invoices")
        key = table(app, "queues").selected_key
        assert key is not None and key.endswith("/invoices")
        await pilot.press("m")
        screen = await modal(pilot, app, MessagesScreen)
        await until(pilot, lambda: screen.messages, "the messages")
        text = screen_text(app)
        assert "requeue" in text and "redelivered" in text
        head = screen.messages[0]
        assert head.message_id == f"invoices-{poison}"
        assert screen.query_one(DataTable).row_count == len(screen.messages)

        # d: a confirmation naming the message; n cancels
        await pilot.press("d")
        await modal(pilot, app, FormScreen)
        assert head.message_id in screen_text(app) or head.identity in screen_text(app)
        await pilot.press("n")
        await modal(pilot, app, MessagesScreen)
        assert world.quarantined == []

        # d, y: the poison goes, the rest stays in order
        await pilot.press("d")
        await modal(pilot, app, FormScreen)
        await pilot.press("y")
        await modal(pilot, app, MessagesScreen)
        await until(pilot, lambda: len(world.quarantined) == 1, "the quarantine")
        assert world.quarantined[0]["message_id"] == head.message_id
        assert poison in invoices.removed
        remaining = await runtime.broker.peek(app.panel("queues").items[key], 5)  # type: ignore[union-attr]
        assert head.message_id not in [m.message_id for m in remaining]
        # the screen reloads without it
        await until(
            pilot,
            lambda: screen.messages and screen.messages[0].message_id != head.message_id,
            what="the reloaded head",
        )
        events = [e for e in runtime.store.timeline(None) if e.kind is EventKind.QUARANTINE]
        assert len(events) == 1
        await pilot.press("escape")
        await home(pilot, app)
