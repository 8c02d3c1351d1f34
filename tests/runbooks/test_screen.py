"""The runbook screen on its own (Pilot, 80x24 and 200x50): Markdown rendered inert, the
checklist, x checks a step once, steps done before show as done, an error offers the URL."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Markdown, OptionList, Static

from cockpit.domain import ActionResult
from cockpit.runbooks import RunbookResult, Step, build_runbook
from cockpit.ui.screens.runbook import RunbookScreen
from tests.pilot import until
from tests.runbooks.test_library import VENDOR
from tests.screen import screen_text

SIZES = [(80, 24), (200, 50)]


class Host(App[None]):
    def __init__(self, screen: RunbookScreen) -> None:
        super().__init__()
        self.runbook_screen = screen
        self.copied: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("behind")

    def on_mount(self) -> None:
        self.push_screen(self.runbook_screen)

    def copy_to_clipboard(self, text: str) -> None:
        self.copied.append(text)


@pytest.mark.parametrize("size", SIZES)
async def test_checking_steps_calls_back_once_each(size: tuple[int, int]) -> None:
    runbook = build_runbook("KycVendorTimeouts", "/rb/vendor.md", "vendor.md", VENDOR, 65536)
    checked: list[str] = []
    asked: list[str] = []

    async def on_check(step: Step) -> ActionResult:  # as the action layer answers
        asked.append(step.text)
        if step.text in checked:
            return ActionResult(True, f"already done: {step.text}", details={"recorded": False})
        checked.append(step.text)
        return ActionResult(True, f"done: {step.text}", details={"recorded": True})

    screen = RunbookScreen(
        RunbookResult("KycVendorTimeouts", runbook, url="/rb/vendor.md"),
        done={"Check the vendor's status page": "03:12 alice"},
        on_check=on_check,
    )
    app = Host(screen)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        steps = screen.query_one(OptionList)
        assert steps.highlighted == 1  # the first step not done yet
        text = screen_text(app)
        assert "Steps 1/4 done" in text
        assert "☑ 1. Check the vendor's status page" in text
        await pilot.press("x")
        await pilot.pause()
        assert checked == ["Look at identity-api's error rate (`f` on the alert)"]
        assert steps.highlighted == 2  # on to the next open step
        await pilot.press("k", "space")  # back up and again: recorded once only
        await pilot.pause()
        assert len(asked) == 2 and len(checked) == 1
        assert steps.highlighted == 2
        await pilot.press("x")
        await pilot.pause()
        assert len(checked) == 2
        text = screen_text(app)
        assert "Steps 3/4 done" in text
        markdown = screen.query_one(Markdown)
        assert "☑ Switch to the fallback vendor" in markdown.source
        await pilot.press("c")
        assert app.copied == ["/rb/vendor.md"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen


async def test_read_only_shows_steps_but_records_nothing() -> None:
    runbook = build_runbook("X", "src", "k", b"- [ ] one\n", 65536)
    screen = RunbookScreen(RunbookResult("X", runbook), on_check=None)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        assert "read-only: steps are not recorded" in screen_text(app)
        assert "☐ 1. one" in screen_text(app)


@pytest.mark.parametrize("size", SIZES)
async def test_an_unfetchable_runbook_says_why_and_offers_the_url(size: tuple[int, int]) -> None:
    url = "https://wiki.example/kyc"
    result = RunbookResult(
        "KycVendorTimeouts",
        error=f"runbook_url is an HTML page (text/html), not Markdown: open it in a browser: {url}",
        url=url,
    )
    app = Host(RunbookScreen(result))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "runbook_url is an HTML page" in text
        assert f"URL: {url}" in text
        await pilot.press("c")
        assert app.copied == [url]


async def test_hostile_markdown_stays_text() -> None:
    body = (
        "# Title [bold]not markup[/bold]\n\n"
        "<script>alert(1)</script>\n\n"
        "<img src=http://evil.example/x.png>\n\n"
        "[click me](http://evil.example/) and \x1b[31mred\n\n"
        "- [ ] step with <b>tags</b>\n"
    )
    runbook = build_runbook("X", "src", "k", body.encode(), 65536)
    app = Host(RunbookScreen(RunbookResult("X", runbook)))
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "[bold]not markup[/bold]" in text
        assert "<script>alert(1)</script>" in text
        assert "<img src=http://evil.example/x.png>" in text
        assert "click me <http://evil.example/>" in text  # shown, never opened
        await pilot.click("Markdown")  # nothing follows a link: no browser, no request
        assert "\x1b" not in text
        assert "step with <b>tags</b>" in text


async def test_x_x_x_checks_three_steps_in_order_even_while_recording() -> None:
    runbook = build_runbook("KycVendorTimeouts", "src", "k", VENDOR, 65536)
    checked: list[str] = []

    async def slow(step: Step) -> ActionResult:  # a busy disk: each write takes a while
        await asyncio.sleep(0.1)
        checked.append(step.text)
        return ActionResult(True, "ok", details={"recorded": True})

    screen = RunbookScreen(RunbookResult("KycVendorTimeouts", runbook), on_check=slow)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("x", "x", "x")
        await until(pilot, lambda: len(checked) == 3, "three steps recorded")
        assert checked == [s.text for s in runbook.steps[:3]]
        await until(pilot, lambda: "Steps 3/4 done" in screen_text(app), "3/4 on screen")
