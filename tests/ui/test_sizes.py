"""Readable at every size: the demo's payments-api pods are told apart on screen and no
STATUS word is cut, from 80x24 to 250x70; zooming in and out keeps every column."""

from __future__ import annotations

import pytest

from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from tests.pilot import until
from tests.ui.conftest import ready, screen_lines, table

SIZES = [(80, 24), (100, 30), (120, 40), (160, 45), (200, 50), (250, 70)]


def pods_on_screen(app: CockpitApp) -> str:
    region = app.panel("pods").region
    lines = screen_lines(app)[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_payments_api_pods_are_told_apart(app: CockpitApp, size: tuple[int, int]) -> None:
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        payments = [p for k, p in app.live.pods.items() if k.startswith("payments/payments-api-")]
        assert len(payments) == 3
        await until(
            pilot,
            lambda: all(p.name[-5:] in pods_on_screen(app) for p in payments),
            "every payments-api pod's suffix on screen",
        )
        text = pods_on_screen(app)
        for pod in payments:
            assert pod.status in text  # STATUS whole, never `ContainerCreatin`
        # alert and queue names whole from 120 columns
        if size[0] >= 120:
            screen = "\n".join(screen_lines(app))
            for name in ("CheckoutLatencyHigh", "TLSCertificateExpiring", "checkout.sessions"):
                assert name in screen


async def test_zoom_in_and_out_keeps_every_column(app: CockpitApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        await pilot.press("3")
        pods = table(app, "pods")
        normal = pods.column_keys
        for _ in range(10):
            await pilot.press("z")
            await until(pilot, lambda: "zoomed: z returns" in str(app.panel("pods").border_title))
            await until(pilot, lambda: len(pods.column_keys) == 5, "every column zoomed")
            await pilot.press("z")
            await until(pilot, lambda: pods.column_keys == normal, "the columns back")
            assert "zoomed" not in str(app.panel("pods").border_title)


async def test_critical_rows_stand_out_without_colour(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR turns colours into grey levels (red is the dimmest): a critical row's marker
    cell is bold and reversed, never dimmer than a normal row."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = CockpitApp(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert app.no_color
        lines = app.screen._compositor.render_strips()
        crit = [
            seg.style
            for strip in lines
            for seg in strip
            if seg.text.strip() in {"CRIT", "OOMKilled", "CrashLoopBackOff"} and seg.style
        ]
        assert crit and all(style.reverse and style.bold for style in crit)
