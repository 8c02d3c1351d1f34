"""The cockpit screen on the simulated world: what an engineer sees at a glance."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from cockpit.clock import FrozenClock
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp, StatusBar
from tests.pilot import until
from tests.ui.conftest import (
    SIZES,
    make_runtime,
    panel,
    raw_segments,
    ready,
    row_texts,
    screen_lines,
    screen_text,
    table,
)


def header(app: CockpitApp) -> str:
    return str(app.query_one(StatusBar).render())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_four_panels_show_the_world_unhealthy_first(
    app: CockpitApp, runtime: Runtime, size: tuple[int, int]
) -> None:
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        await until(pilot, lambda: "Quit" in screen_lines(app)[-1], "the footer")
        text = screen_text(app)
        lines = screen_lines(app)

        # the header: environment and every source fresh
        assert "DEMO" in lines[0]
        for name in ("alerts ok", "pods ok", "queues ok"):
            assert name in lines[0]
        assert "READ-ONLY" not in lines[0]

        # alerts: the critical group first, then the rest; names on screen
        alerts = row_texts(app, "alerts")
        assert alerts[0].startswith("CRIT CheckoutLatencyHigh")
        assert [r.split()[0] for r in alerts[:2]] == ["CRIT", "CRIT"]
        assert any("DiskSpaceLow" in r for r in alerts[2:])
        assert "CheckoutLat" in text and "DiskSpaceLow" in text
        assert "1 Alerts" in text and "2 critical" in text

        # pods: the OOMing payments-api pods first, with kubectl's words
        pods = row_texts(app, "pods")
        assert all(r.startswith("payments/payments-api-") for r in pods[:3])
        assert {"OOMKilled", "CrashLoopBackOff"} & set(pods[0].split())
        world_crashing = {
            p.key
            for p in runtime.demo.world.pods()
            if p.status in {"OOMKilled", "CrashLoopBackOff"}
        }
        assert world_crashing and set(table(app, "pods").row_keys()[: len(world_crashing)]) == (
            world_crashing
        )
        assert "payments/payments" in text
        assert "3 Pods" in text and "unhealthy" in text

        # queues: orders lost its consumers and is the deepest: first
        queues = row_texts(app, "queues")
        assert queues[0].split()[0] == "orders"
        assert queues[0].split()[2] == "0"  # consumers
        assert "orders" in text and "invoices" in text
        assert "4 Queues" in text

        # incident: none open, the shift log is empty
        assert "No open incident" in text
        assert "shift log" in text

        # layout: side by side only when each panel gets room for its names (336 columns);
        # 200x50 is a 2x2 grid whose bottom row (pods, queues) has the rows
        grid = app.query_one("#panels")
        assert not grid.has_class("-wide")
        if size[1] >= 40:
            assert panel(app, "pods").region.height > panel(app, "alerts").region.height
        for name in ("alerts", "incident", "pods", "queues"):
            region = panel(app, name).region
            assert region.width > 20 and region.height > 5
            assert region.right <= size[0] and region.bottom <= size[1] - 1
        assert app.query_one(Footer).region.y == size[1] - 1


async def test_resize_switches_between_grid_and_columns(app: CockpitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        grid = app.query_one("#panels")
        assert not grid.has_class("-wide")
        await pilot.resize_terminal(340, 50)
        await until(pilot, lambda: grid.has_class("-wide"), "the wide layout")
        await until(
            pilot,
            lambda: (
                panel(app, "queues").region.x > panel(app, "pods").region.x
                and panel(app, "queues").region.y == panel(app, "alerts").region.y
            ),
            what="four columns",
        )
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not grid.has_class("-wide"), "the 2x2 grid")


async def test_stale_source_keeps_rows_and_says_why(app: CockpitApp, runtime: Runtime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        rows_before = table(app, "alerts").row_keys()
        runtime.demo.world.fail("alerts", "connection refused")
        await until(pilot, lambda: "alerts STALE" in header(app), "alerts STALE")
        assert "connection refused" in header(app)
        assert "alerts STALE" in screen_lines(app)[0]
        # the panel keeps what it last knew
        assert table(app, "alerts").row_keys() == rows_before
        assert "CheckoutLat" in screen_text(app)
        # the others stay fresh
        assert "pods ok" in header(app) and "queues ok" in header(app)

        runtime.demo.world.recover("alerts")
        app.poll_now("alerts")  # the feed backs off while failing: do not wait for it
        await until(pilot, lambda: "alerts ok" in header(app), "alerts ok again")
        assert "STALE" not in header(app)


async def test_pod_watch_stale_and_back(app: CockpitApp, runtime: Runtime) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        count = table(app, "pods").row_count
        runtime.demo.world.fail("pods", "watch closed by the API server")
        await until(pilot, lambda: "pods STALE" in header(app), "pods STALE")
        assert "watch closed" in header(app)
        assert table(app, "pods").row_count == count
        runtime.demo.world.recover("pods")
        await until(pilot, lambda: "pods ok" in header(app), "pods ok", timeout=15)


async def test_hostile_label_values_render_literally(app: CockpitApp) -> None:
    """TLSCertificateExpiring carries `[bold]db-1[/bold]` and an ESC in a label value."""
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        alerts = table(app, "alerts")
        key = next(k for k in alerts.row_keys() if "TLSCertificateExpiring" in k)
        assert alerts.select_key(key)
        await pilot.press("enter")
        await until(pilot, lambda: "Alert group" in screen_text(app), "the detail")
        text = screen_text(app)
        assert "[bold]db-1[/bold]" in text  # shown, not interpreted
        assert "\\x1b[31m" in text  # the escape shown as a visible escape
        assert "\x1b" not in raw_segments(app)  # and never sent to the terminal
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.default_screen, "detail closed")
        assert "\x1b" not in raw_segments(app)


async def test_help_lists_every_key(app: CockpitApp) -> None:
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot, app)
        await pilot.press("question_mark")
        await until(pilot, lambda: "KEY" in screen_text(app), "the help")
        text = screen_text(app)
        for what in ("Acknowledge the selected alert", "Declare an incident", "ctrl+p", "quit"):
            assert what in text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.default_screen, "help closed")


async def test_quit_with_a_dialog_open_exits_cleanly(clock: FrozenClock) -> None:
    """The 1 s header tick used to crash the exit (a traceback on quit) when it fired
    while the screens were being torn down: it must find no header and do nothing."""
    app = CockpitApp(make_runtime(clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("a")
        await until(pilot, lambda: app.screen is not app.default_screen)
        await pilot.press("ctrl+q")
    # what a timer or feed that fires during the tear-down runs
    app.tick()
    app.render_status()
