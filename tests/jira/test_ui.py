"""`b ctrl+s y` end to end against the Jira contract server, at 80x24 and 200x50: one ticket
with the evidence, its progress back on the incident, `n` on its row as a Jira comment."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, TextArea

from cockpit.backends.jira import JiraTracker
from cockpit.clock import FrozenClock
from cockpit.domain import EventKind
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from tests.incident.fakehttp import Reply
from tests.jira.conftest import TOKEN, jira_config
from tests.jira.server import FakeJira, adf_problem, adf_text
from tests.pilot import bound_idle_wait, header
from tests.ui.conftest import (
    SIZES,
    home,
    make_runtime,
    modal,
    notifications,
    ready,
    row_texts,
    screen_text,
    select_row,
    wait_until,
)


@pytest.fixture(autouse=True)
def _screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As tests/ui/ runs the screen: bounded idle waits, no user theme, config or data dir."""
    bound_idle_wait(monkeypatch)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COLORTERM", "truecolor")


def jira_runtime(clock: FrozenClock, fake: FakeJira) -> Runtime:
    """The demo world at t+70 (alerts firing, pods crashing, a queue backing up), with the
    real Jira backend pointed at the contract server, following tickets fast."""
    runtime = make_runtime(clock)
    config = jira_config(fake.url)
    runtime.config = dataclasses.replace(runtime.config, jira=config)
    runtime.tracker = JiraTracker(config, token=TOKEN)
    runtime.tickets_interval = timedelta(seconds=0.3)
    return runtime


async def confirmation(pilot: Pilot[Any], app: CockpitApp, title: str) -> None:
    """Wait until the confirmation with that title is on screen and takes keys."""
    await wait_until(
        pilot,
        lambda: title in screen_text(app) and getattr(app.screen, "armed", True),
        what=title,
    )


def ticket_summary(app: CockpitApp) -> str:
    return str(app.query_one("#incident-summary").render())


@pytest.mark.parametrize("size", SIZES)
async def test_b_ctrl_s_y_files_one_ticket_and_its_progress_comes_back(
    clock: FrozenClock, fake_jira: FakeJira, size: tuple[int, int]
) -> None:
    runtime = jira_runtime(clock, fake_jira)
    app = CockpitApp(runtime)
    store = runtime.store
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        await wait_until(pilot, lambda: app.live.pods and app.live.queues, what="pods, queues")
        await pilot.press("i")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await home(pilot, app)
        incident = store.current_incident()
        assert incident is not None

        # b: prefilled from the incident
        await pilot.press("b")
        dialog = await modal(pilot, app, FormScreen)
        assert dialog.query_one("#field-summary", Input).value == incident.title
        assert dialog.query_one("#field-project", Input).value == "PAY"
        assert dialog.query_one("#field-priority", Select).value == "Highest"  # SEV1
        description = dialog.query_one("#field-description", TextArea).text
        assert description.startswith("## What happened\n")
        assert "CheckoutLatencyHigh" in description and "OOMKilled" in description
        assert f"Bug ticket for {incident.id}" in screen_text(app)

        await pilot.press("ctrl+s")  # Review -> the confirmation names project and type
        await confirmation(pilot, app, "File a Bug in Jira project PAY?")
        assert not fake_jira.requests  # nothing sent before y
        await pilot.press("y")
        await home(pilot, app)
        await wait_until(pilot, lambda: len(fake_jira.created()) == 1, what="the ticket")

        (create,) = fake_jira.creates()
        fields = create.body["fields"]
        assert fields["project"] == {"key": "PAY"} and fields["issuetype"] == {"name": "Bug"}
        assert fields["summary"] == incident.title
        assert fields["priority"] == {"name": "Highest"}
        assert fields["labels"] == ["from-oncall", f"cockpit-{incident.id}-1"]
        assert adf_problem(fields["description"]) == ""
        text = adf_text(fields["description"])
        for part in (
            "What happened",
            incident.id,
            "Firing alerts",
            "labels: alertname=",
            "Unhealthy pods",
            "restarts",
            "last termination:",
            "Deepest queues",
            "Timeline so far",
            "Declared",
        ):
            assert part in text, part

        # key and URL on the timeline and in the incident panel, status from the first poll
        url = f"{fake_jira.url}/browse/PAY-1"
        await wait_until(
            pilot,
            lambda: any(url in e.summary for e in store.timeline(incident.id)),
            what="the filed event",
        )
        await wait_until(
            pilot, lambda: "Jira PAY-1 To Do" in ticket_summary(app), what="the ticket status"
        )

        # the developers move it and comment: once each on the timeline, status in the panel
        fake_jira.transition("PAY-1", "In Progress")
        fake_jira.assign("PAY-1", "Dev Bob")
        fake_jira.developer_comment("PAY-1", "Found it: pool size regressed in 1.4.2")
        await wait_until(
            pilot,
            lambda: "PAY-1 In Progress (Dev Bob)" in ticket_summary(app),
            what="the new status",
        )
        await wait_until(
            pilot,
            lambda: any(
                "PAY-1 comment by Dev Bob: Found it" in r for r in row_texts(app, "incident")
            ),
            what="the comment's row",
        )
        # the row is in the table; the screen shows it at the next paint
        await wait_until(
            pilot, lambda: "PAY-1 comment by Dev" in screen_text(app), what="the row on screen"
        )
        # and said in a notification, in full
        assert any(
            "PAY-1 comment by Dev Bob: Found it: pool size regressed in 1.4.2" in n
            for n in notifications(app)
        )
        assert "Jira PAY-1 In Progress (Dev Bob)" in screen_text(app)
        reads = len([r for r in fake_jira.requests if r.path.endswith("/issue/PAY-1")])
        await wait_until(
            pilot,
            lambda: (
                len([r for r in fake_jira.requests if r.path.endswith("/issue/PAY-1")]) >= reads + 2
            ),
            what="two more polls",
        )
        news = [e.summary for e in store.timeline(incident.id) if e.source == "jira"]
        assert news.count("PAY-1 comment by Dev Bob: Found it: pool size regressed in 1.4.2") == 1
        assert news.count("PAY-1 status: In Progress (was To Do)") == 1

        # n on the ticket's row: the note goes to Jira as an ADF comment too
        comment_event = next(
            e
            for e in store.timeline(incident.id)
            if e.kind is EventKind.TICKET and "comment by" in e.summary
        )
        select_row(app, "incident", str(comment_event.id))
        await pilot.press("n")
        note = await modal(pilot, app, FormScreen)
        assert "and Jira PAY-1" in screen_text(app)
        note.query_one("#field-text", TextArea).insert("rolled back payments-api to 1.4.1")
        await pilot.press("ctrl+s")
        await home(pilot, app)
        issue = fake_jira.issues["PAY-1"]
        await wait_until(pilot, lambda: len(issue.comments) == 2, what="the Jira comment")
        ours = issue.comments[1]["body"]
        assert adf_problem(ours) == ""
        assert adf_text(ours).startswith("rolled back payments-api to 1.4.1\n")
        reads = len([r for r in fake_jira.requests if r.path.endswith("/issue/PAY-1")])
        await wait_until(
            pilot,
            lambda: (
                len([r for r in fake_jira.requests if r.path.endswith("/issue/PAY-1")]) >= reads + 2
            ),
            what="two more polls",
        )
        summaries = [e.summary for e in store.timeline(incident.id)]
        assert not any("comment by On-call Bot" in s for s in summaries)  # ours, not news
        assert "Jira comment sent: comment added to PAY-1" in summaries
        assert len(fake_jira.created()) == 1 and len(fake_jira.creates()) == 1
        assert TOKEN not in screen_text(app)
        stored = " ".join(repr(e) for e in runtime.store.timeline(incident.id))
        assert TOKEN not in stored


async def test_jira_errors_on_screen_in_one_line_and_without_the_token(
    clock: FrozenClock, fake_jira: FakeJira
) -> None:
    runtime = jira_runtime(clock, fake_jira)
    runtime.config = dataclasses.replace(
        runtime.config, jira=jira_config(fake_jira.url, project="OPS", teams={})
    )
    app = CockpitApp(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        await pilot.press("i")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await home(pilot, app)
        await pilot.press("b")
        dialog = await modal(pilot, app, FormScreen)
        assert dialog.query_one("#field-project", Input).value == "OPS"
        await pilot.press("ctrl+s")
        await confirmation(pilot, app, "File a Bug in Jira project OPS?")
        # a proxy in front of Jira answers first, quoting the credentials it was sent
        fake_jira.forced.append(
            Reply(502, {"errorMessages": [f"upstream refused token {TOKEN}"], "errors": {}})
        )
        await pilot.press("y")
        await home(pilot, app)
        pending = "1 ticket pending: Jira: 502 Bad Gateway: upstream refused token •••"
        await wait_until(
            pilot, lambda: pending in ticket_summary(app), what="the retry on the panel"
        )
        assert TOKEN not in screen_text(app) and TOKEN not in header(app)
        assert not any(TOKEN in n for n in notifications(app))
        # a 502 may come after Jira filed it: the retry searches its label first, and once
        # more 30 s later (search lags behind a create), before filing it again
        clock.advance(timedelta(seconds=6))
        await wait_until(
            pilot,
            lambda: "no ticket found yet with label" in ticket_summary(app),
            what="the first search",
            timeout=20,
        )
        clock.advance(timedelta(seconds=31))
        incident = runtime.store.current_incident()
        assert incident is not None
        await wait_until(
            pilot,
            lambda: any(e.kind is EventKind.ERROR for e in runtime.store.timeline(incident.id)),
            what="the refusal on the timeline",
            timeout=20,
        )
        error = next(e for e in runtime.store.timeline(incident.id) if e.kind is EventKind.ERROR)
        assert "issuetype: Specify a valid issue type" in error.summary
        assert "priority: Field 'priority' cannot be set" in error.summary
        await wait_until(
            pilot, lambda: "ERROR  Jira ticket FAILED" in screen_text(app), what="the error row"
        )
        (said,) = [n for n in notifications(app) if "400" in n]
        assert "\n" not in said
        assert said.startswith("Jira ticket for OPS failed: Jira: 400 Bad Request: cannot create")
        assert "issuetype: Specify a valid issue type" in said
        assert TOKEN not in screen_text(app)
        stored = " ".join(repr(e) for e in runtime.store.timeline(incident.id))
        assert TOKEN not in stored


async def test_the_palette_files_a_ticket_in_the_demo_and_read_only_hides_it(
    clock: FrozenClock,
) -> None:
    runtime = make_runtime(clock)  # the demo's own simulated Jira
    app = CockpitApp(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert "b Bug" in screen_text(app)
        await pilot.press("b")  # no incident yet: says what to do, opens nothing
        await wait_until(pilot, lambda: any("declare one first" in n for n in notifications(app)))
        assert app.screen is app.default_screen
        await pilot.press("i")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await home(pilot, app)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: app.screen is not app.default_screen, what="palette")
        await pilot.press(*"bug ticket")
        await wait_until(pilot, lambda: "File a bug ticket in Jira" in screen_text(app))
        await pilot.press("enter")
        await modal(pilot, app, FormScreen)
        await pilot.press("ctrl+s")
        await confirmation(pilot, app, "File a Bug in Jira project")
        await pilot.press("y")
        await home(pilot, app)
        incident = runtime.store.current_incident()
        assert incident is not None
        await wait_until(
            pilot,
            lambda: (
                "Jira PAY-1 To Do" in screen_text(app) or "Jira SHOP-1 To Do" in screen_text(app)
            ),
            what="the demo ticket's status",
        )

    read_only = make_runtime(FrozenClock(clock.now()), read_only=True)
    app = CockpitApp(read_only)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, app)
        assert "b Bug" not in screen_text(app)
        await pilot.press("b")
        await pilot.pause(0.2)
        assert app.screen is app.default_screen
