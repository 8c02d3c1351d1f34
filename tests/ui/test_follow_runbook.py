"""From a firing alert to its cause on the demo world (Pilot, 80x24 and 200x50): `f` narrows
the pods and queues panels to what the alert names and escape widens them; `o` opens the
runbook, `x` checks a step off with one timeline event (checking again writes none), the
steps already done show as done when it opens again; an unfetchable runbook says why."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from cockpit.domain import EventKind, RestartMode, TimelineEvent
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from cockpit.ui.screens.runbook import RunbookScreen
from tests.ui.conftest import (
    SIZES,
    home,
    make_runtime,
    modal,
    notifications,
    ready,
    row_texts,
    screen_text,
    table,
    wait_until,
)


def select_group(app: CockpitApp, name: str) -> None:
    alerts = table(app, "alerts")
    key = next(g.key for g in app.live.groups if g.name == name)
    alerts.focus()
    assert alerts.select_key(key)


def rows(app: CockpitApp, name: str) -> set[str]:
    return set(table(app, name).row_keys())


def steps_on_timeline(app: CockpitApp) -> list[TimelineEvent]:
    incident = app.actions.current_incident()
    events = app.actions.store.timeline(incident.id if incident else None)
    return [e for e in events if e.kind is EventKind.RUNBOOK_STEP]


async def groups_named(pilot: Pilot[Any], app: CockpitApp, *names: str) -> None:
    await wait_until(
        pilot,
        lambda: set(names) <= {g.name for g in app.live.groups},
        what=f"alert groups {names}",
    )


@pytest.mark.parametrize("size", SIZES)
async def test_follow_the_backlog_alert_to_its_queue_and_consumers(
    app: CockpitApp, size: tuple[int, int]
) -> None:
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        await groups_named(pilot, app, "RabbitMQQueueBacklog")
        all_pods, all_queues = rows(app, "pods"), rows(app, "queues")
        consumers = {k for k in all_pods if k.startswith("orders/orders-consumer-")}
        assert len(consumers) == 3
        select_group(app, "RabbitMQQueueBacklog")
        await pilot.press("f")
        await wait_until(pilot, lambda: rows(app, "pods") == consumers, what="the consumers")
        await wait_until(pilot, lambda: rows(app, "queues") == {"//orders"}, what="the queue")
        await wait_until(pilot, lambda: app.focused is table(app, "pods"), what="pods focused")
        text = screen_text(app)
        assert "3 following RabbitMQQueueBack" in text  # cut on a narrow border
        assert f"3 of {len(all_pods)} · esc or f: all rows" in text
        if size[0] >= 200:
            assert "following RabbitMQQueueBacklog: 3 pods" in text
            assert "following RabbitMQQueueBacklog: 1 queue" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: rows(app, "pods") == all_pods, what="every pod back")
        assert rows(app, "queues") == all_queues
        assert "following" not in screen_text(app)


async def test_follow_crash_looping_pods_then_r_y_rolls_payments_api_out(
    runtime: Runtime,
) -> None:
    app = CockpitApp(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await groups_named(pilot, app, "KubePodCrashLooping")
        payments = {k for k in rows(app, "pods") if k.startswith("payments/payments-api-")}
        group = next(g for g in app.live.groups if g.name == "KubePodCrashLooping")
        named = {f"payments/{a.labels['pod']}" for a in group.alerts}
        assert named == payments
        select_group(app, "KubePodCrashLooping")
        await pilot.press("f")
        await wait_until(pilot, lambda: rows(app, "pods") == payments, what="the crashing pods")
        await wait_until(pilot, lambda: app.focused is table(app, "pods"), what="pods focused")
        await pilot.press("r")
        dialog = await modal(pilot, app, FormScreen)
        await wait_until(pilot, lambda: dialog.values()["mode"], what="the restart mode")
        # every pod of the Deployment crash-loops: the rollout is what y confirms
        assert dialog.values()["mode"] == RestartMode.ROLLOUT.value
        await wait_until(pilot, lambda: dialog.armed, what="the confirmation takes keys")
        await pilot.press("y")
        await home(pilot, app)
        await wait_until(
            pilot,
            lambda: any("rollout restart of Deployment payments/payments-api" in n
                        for n in notifications(app)),
            what="the rollout restart's result",
        )  # fmt: skip
        restarts = [e for e in app.actions.store.timeline(None) if e.kind is EventKind.RESTART]
        assert [e.details["mode"] for e in restarts] == [RestartMode.ROLLOUT.value]


async def test_a_group_naming_nothing_says_so_and_narrows_nothing(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await groups_named(pilot, app, "DiskSpaceLow")
        before = rows(app, "pods")
        select_group(app, "DiskSpaceLow")
        await pilot.press("f")
        await wait_until(
            pilot,
            lambda: any(
                n.startswith("DiskSpaceLow names no pod or queue") for n in notifications(app)
            ),
            what="one line saying it names nothing",
        )
        assert rows(app, "pods") == before
        assert app.following is None


@pytest.mark.parametrize("size", SIZES)
async def test_o_then_x_works_through_the_runbook_onto_the_timeline(
    app: CockpitApp, size: tuple[int, int]
) -> None:
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        await groups_named(pilot, app, "CheckoutLatencyHigh")
        select_group(app, "CheckoutLatencyHigh")
        await pilot.press("o")
        screen = await modal(pilot, app, RunbookScreen)
        assert screen.runbook is not None
        steps = screen.runbook.steps
        assert len(steps) == 6
        assert "Runbook · CheckoutLatencyHigh" in screen_text(app)
        assert "Steps 0/6 done" in screen_text(app)
        await pilot.press("x")
        await wait_until(pilot, lambda: len(steps_on_timeline(app)) == 1, what="one event")
        await pilot.press("k", "x")  # the same step again: no second event
        await wait_until(
            pilot,
            lambda: any(n.startswith("already done at") for n in notifications(app)),
            what="already done",
        )
        assert len(steps_on_timeline(app)) == 1
        for _ in steps[1:]:
            await pilot.press("x")
        await wait_until(
            pilot, lambda: len(steps_on_timeline(app)) == len(steps), what="every step"
        )
        summaries = [e.summary for e in reversed(steps_on_timeline(app))]
        assert summaries == [f"runbook step: {s.text}" for s in steps]
        await wait_until(pilot, lambda: "Steps 6/6 done" in screen_text(app), what="all done")
        await pilot.press("escape")
        await home(pilot, app)
        # the shift log panel shows them; opening the runbook again shows them done
        await wait_until(
            pilot,
            lambda: (
                sum("STEP" in row and "runbook step: " in row for row in row_texts(app, "incident"))
                == len(steps)
            ),
            what="every step in the shift log panel",
        )
        select_group(app, "CheckoutLatencyHigh")
        await pilot.press("o")
        again = await modal(pilot, app, RunbookScreen)
        await wait_until(pilot, lambda: "Steps 6/6 done" in screen_text(app), what="done")
        assert set(again.done) == {s.text for s in steps}


async def test_an_unfetchable_runbook_says_why_and_offers_the_url(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await groups_named(pilot, app, "DiskSpaceLow")
        select_group(app, "DiskSpaceLow")
        await pilot.press("o")
        await modal(pilot, app, RunbookScreen)
        text = screen_text(app)
        assert "the demo fetches no runbook URL" in text
        assert "URL: https://runbooks.acme.example/platform/disk-space" in text


async def test_read_only_opens_the_runbook_but_records_nothing(clock: Any) -> None:
    app = CockpitApp(make_runtime(clock, read_only=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await groups_named(pilot, app, "CheckoutLatencyHigh")
        select_group(app, "CheckoutLatencyHigh")
        await pilot.press("o")
        await modal(pilot, app, RunbookScreen)
        await pilot.press("x")
        assert "read-only: steps are not recorded" in screen_text(app)
        assert steps_on_timeline(app) == []
