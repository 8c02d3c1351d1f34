"""The cockpit screen against a REAL Alertmanager: keys pressed through Textual's Pilot,
results checked through Alertmanager's own API, the webhook it pages and the incident store.

The app runs in the test's event loop, so every wait here yields to it (pilot.pause)
instead of sleeping, and slow blocking calls (stopping Alertmanager) run in a thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from cockpit.domain import AlertGroup, EventKind, TimelineEvent
from cockpit.ui.app import CockpitApp
from cockpit.ui.panels.alerts import AlertsPanel
from cockpit.ui.screens.forms import FormScreen
from tests.alertmanager.server import AlertmanagerServer, WebhookReceiver
from tests.pilot import CockpitFactory, header, until

pytestmark = pytest.mark.server

T = TypeVar("T")

OPERATOR = "alice-oncall"
ACK_DURATION = timedelta(minutes=45)  # not the 1h default, so the config is what is used
INCIDENT_ID = re.compile(r"INC-\d{4}-\d{4}")

DISK = {"alertname": "DiskFull", "service": "db", "team": "storage", "severity": "critical"}
LATENCY = {"alertname": "HighLatency", "service": "api", "team": "web", "severity": "warning"}


def post_fixture_alerts(am: AlertmanagerServer) -> None:
    """A warning posted first and a critical group of two: the critical one must come first."""
    am.post_alerts(
        [
            {"labels": LATENCY, "annotations": {"summary": "p99 latency above 2s"}},
            {
                "labels": {**DISK, "instance": "db-1"},
                "annotations": {"summary": "disk above 95% full"},
            },
            {
                "labels": {**DISK, "instance": "db-2"},
                "annotations": {"summary": "disk above 95% full"},
            },
        ]
    )
    am.wait_for_alerts(3)


# ---------------------------------------------------------------------------- helpers


def open_dialog(app: CockpitApp) -> FormScreen | None:
    return app.screen if isinstance(app.screen, FormScreen) and app.screen.armed else None


def alerts_panel(app: CockpitApp) -> AlertsPanel:
    panel = app.panel("alerts")
    assert isinstance(panel, AlertsPanel)
    return panel


def group_named(app: CockpitApp, name: str) -> AlertGroup | None:
    return next((g for g in alerts_panel(app).items.values() if g.name == name), None)


def acked_group(app: CockpitApp, name: str) -> AlertGroup | None:
    group = group_named(app, name)
    return group if group is not None and group.acked else None


def row_names(app: CockpitApp) -> list[str]:
    """The ALERT cell of every row, top to bottom, as the user reads it."""
    table = alerts_panel(app).table
    return [str(table.get_cell(key, "alert")) for key in table.row_keys()]


def flows_running(app: CockpitApp) -> list[Any]:
    """The user flows (dialogs and the actions after them) still running."""
    return [w for w in app.workers if w.group == "flows" and w.is_running]


def stale_header(app: CockpitApp) -> str:
    line = header(app)
    return line if "alerts STALE" in line else ""


def ack_silences(am: AlertmanagerServer, state: str | None = None) -> list[dict[str, Any]]:
    return [s for s in am.silences(state) if s["comment"].startswith("ACK!")]


def events(app: CockpitApp, incident_id: str | None, kind: EventKind) -> list[TimelineEvent]:
    return [e for e in app.actions.store.timeline(incident_id) if e.kind is kind]


def queued_escalations(app: CockpitApp, incident_id: str) -> list[TimelineEvent]:
    """What each press of e recorded (the outbox records the send apart)."""
    return [e for e in events(app, incident_id, EventKind.ESCALATION) if e.source == "cockpit"]


def am_time(value: str) -> datetime:
    """Alertmanager's RFC 3339 time (nanoseconds, Z) as an aware datetime."""
    value = re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00")
    return datetime.fromisoformat(value).astimezone(UTC)


async def press_in_form(pilot: Pilot[Any], app: CockpitApp, *keys: str) -> FormScreen:
    """Wait for the confirmation/form the last key opened, then answer it with keys."""
    screen = await until(pilot, lambda: open_dialog(app), "dialog opens")
    await pilot.press(*keys)
    await until(pilot, lambda: app.screen is not screen, "dialog closes")
    return screen


async def select(pilot: Pilot[Any], app: CockpitApp, name: str) -> AlertGroup:
    """Move the cursor with the arrow keys onto the group named `name`."""
    panel = alerts_panel(app)
    panel.table.focus()
    await pilot.press("home")
    for _ in range(len(panel.items)):
        group = panel.selected_group()
        if group is not None and group.name == name:
            return group
        await pilot.press("down")
    raise AssertionError(f"no row for {name}: {row_names(app)}")


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture
def make_cockpit(cockpit_factory: CockpitFactory) -> Callable[[AlertmanagerServer], CockpitApp]:
    """The cockpit on a real Alertmanager, with a 45m ack (not the 1h default)."""

    def make(am: AlertmanagerServer) -> CockpitApp:
        return cockpit_factory(
            {
                "alertmanager": {
                    "url": am.url,
                    "ack_duration": "45m",
                    "poll_interval": "0.5s",
                    "timeout": "2s",
                },
                "identity": {"name": OPERATOR},
            }
        )

    return make


# ---------------------------------------------------------------------------- alerts panel


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
async def test_posted_alerts_appear_grouped_critical_first(
    am: AlertmanagerServer,
    make_cockpit: Callable[[AlertmanagerServer], CockpitApp],
    size: tuple[int, int],
) -> None:
    post_fixture_alerts(am)
    app = make_cockpit(am)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: len(row_names(app)) == 2, "two groups shown")

        # grouped by alertname+service as Alertmanager groups them; the critical group of two
        # comes first although the warning was posted first
        assert row_names(app) == ["DiskFull ×2", "HighLatency"]
        table = alerts_panel(app).table
        first, second = table.row_keys()
        assert str(table.get_cell(first, "sev")) == "CRIT"
        assert str(table.get_cell(second, "sev")) == "WARN"
        assert '"alertname", "DiskFull"' in first and '"service", "db"' in first
        # the cursor starts on the most urgent group
        selected = alerts_panel(app).selected_group()
        assert selected is not None and selected.name == "DiskFull"
        assert {a.labels["instance"] for a in selected.alerts} == {"db-1", "db-2"}
        if size[0] >= 160:  # wide: the team column is there too
            assert str(table.get_cell(first, "team")) == "storage"
        assert "2 open, 1 critical" in str(alerts_panel(app).border_title)
        assert "alerts ok" in header(app)


# ---------------------------------------------------------------------------- ack


async def test_ack_creates_exactly_one_silence_and_shows_it(
    am: AlertmanagerServer, make_cockpit: Callable[[AlertmanagerServer], CockpitApp]
) -> None:
    post_fixture_alerts(am)
    app = make_cockpit(am)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(row_names(app)) == 2, "two groups shown")
        group = await select(pilot, app, "DiskFull")
        assert am.silences() == []

        before = datetime.now(UTC)
        await pilot.press("a")
        dialog = await until(pilot, lambda: open_dialog(app), "ack dialog")
        # the configured ack_duration is prefilled; Cancel has the focus
        assert dialog.values()["duration"] == "45m"
        await pilot.press("y")
        created = await until(pilot, lambda: ack_silences(am, "active"), "ack silence created")
        after = datetime.now(UTC)

        assert len(am.silences()) == 1, am.silences()
        silence = created[0]
        assert silence["createdBy"] == OPERATOR
        assert silence["comment"] == "ACK!"  # no incident open, no note typed
        assert sorted(silence["matchers"], key=lambda m: m["name"]) == [
            {"name": k, "value": v, "isRegex": False, "isEqual": True}
            for k, v in sorted(group.common_labels.items())
        ]
        # common labels: the instance differs between the two alerts, so it is not matched on
        assert group.common_labels == DISK
        ends = am_time(silence["endsAt"])
        slack = timedelta(seconds=2)
        assert before + ACK_DURATION - slack <= ends <= after + ACK_DURATION + slack

        # the panel shows it acked, with its time left, below the open group
        table = alerts_panel(app).table
        acked = await until(
            pilot,
            lambda: acked_group(app, "DiskFull"),
            "group shown as acked",
        )
        assert acked.ack is not None and acked.ack.id == silence["id"]
        await until(pilot, lambda: row_names(app) == ["HighLatency", "DiskFull ×2"], "acked last")
        ack_cell = str(table.get_cell(acked.key, "ack"))
        assert re.fullmatch(r"✓ 4[45]m", ack_cell), ack_cell
        assert "1 acked" in str(alerts_panel(app).border_title)
        acks = events(app, None, EventKind.ACK)  # no incident: the shift log
        assert [e.details["ids"]["silence_id"] for e in acks] == [silence["id"]]

        # ack again: the ack is extended, never doubled
        await select(pilot, app, "DiskFull")
        await pilot.press("a")
        await press_in_form(pilot, app, "y")
        await until(pilot, lambda: len(events(app, None, EventKind.ACK)) == 2, "second ack done")
        active = ack_silences(am, "active")
        assert len(active) == 1, active
        assert sorted(active[0]["matchers"], key=lambda m: m["name"]) == sorted(
            silence["matchers"], key=lambda m: m["name"]
        )

        # a then n, and a then escape: nothing is created, nothing recorded
        total = len(am.silences())
        for answer in ("n", "escape"):
            await select(pilot, app, "DiskFull")
            await pilot.press("a")
            await press_in_form(pilot, app, answer)
            await until(pilot, lambda: not flows_running(app), "ack flow finished")
            assert len(am.silences()) == total, answer
            assert len(ack_silences(am, "active")) == 1
            assert len(events(app, None, EventKind.ACK)) == 2


# ---------------------------------------------------------------------------- incident flow


async def test_incident_ack_unack_escalate_all_land_in_the_timeline(
    am: AlertmanagerServer,
    webhook: WebhookReceiver,
    make_cockpit: Callable[[AlertmanagerServer], CockpitApp],
) -> None:
    post_fixture_alerts(am)
    app = make_cockpit(am)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: len(row_names(app)) == 2, "two groups shown")
        await select(pilot, app, "DiskFull")

        # declare: the form is prefilled from the selected alert; ctrl+s submits
        await pilot.press("i")
        form = await until(pilot, lambda: open_dialog(app), "form")
        assert form.values()["title"] == "disk above 95% full"
        assert form.values()["severity"] == "SEV1"
        await pilot.press("ctrl+s")
        incident = await until(pilot, app.actions.current_incident, "incident declared")
        assert INCIDENT_ID.fullmatch(incident.id)
        await until(pilot, lambda: incident.id in header(app), "incident in the header")

        # ack: the comment names the incident
        await select(pilot, app, "DiskFull")
        await pilot.press("a")
        await press_in_form(pilot, app, "y")
        active = await until(pilot, lambda: ack_silences(am, "active"), "ack silence")
        assert len(active) == 1
        silence_id = active[0]["id"]
        assert active[0]["comment"] == f"ACK! (incident {incident.id})"
        await until(
            pilot, lambda: (g := group_named(app, "DiskFull")) is not None and g.acked, "acked"
        )

        # unack: A then y expires that silence
        await select(pilot, app, "DiskFull")
        await pilot.press("A")
        await press_in_form(pilot, app, "y")
        await until(
            pilot,
            lambda: [s for s in am.silences("expired") if s["id"] == silence_id],
            "silence expired",
        )
        assert ack_silences(am, "active") == []
        await until(
            pilot,
            lambda: (g := group_named(app, "DiskFull")) is not None and not g.acked,
            "group shown unacked",
        )

        # escalate: the team comes from the alert's team label
        await select(pilot, app, "DiskFull")
        await pilot.press("e")
        dialog = await until(pilot, lambda: open_dialog(app), "escalate")
        assert dialog.values()["team"] == "storage"
        await pilot.press("y")
        await until(pilot, lambda: app.screen is not dialog, "escalate dialog closes")
        wanted = {
            "alertname": "CockpitEscalation",
            "team": "storage",
            "incident": incident.id,
            "severity": "SEV1",
        }
        delivered = await until(
            pilot,
            lambda: [a for a in webhook.alerts() if a["labels"] == wanted],
            "escalation delivered to the webhook",
        )
        assert delivered[0]["status"] == "firing"
        assert delivered[0]["annotations"]["escalated_by"] == OPERATOR

        # again: the outbox holds the same item, Alertmanager the same single alert
        await select(pilot, app, "DiskFull")
        await pilot.press("e")
        await press_in_form(pilot, app, "y")
        await until(
            pilot,
            lambda: len(queued_escalations(app, incident.id)) == 2,
            "second escalation handled",
        )
        assert len(app.runtime.outbox.items(incident.id)) == 1
        escalations = [
            a for a in am.alerts() if a["labels"].get("alertname") == "CockpitEscalation"
        ]
        assert [a["labels"] for a in escalations] == [wanted]
        # a canary page to another team, sent after the repeat: once it has been delivered,
        # a second page for storage would have been too
        await select(pilot, app, "DiskFull")
        await pilot.press("e")
        canary = await until(pilot, lambda: open_dialog(app), "canary")
        canary.query_one("#field-team", Input).value = "canary"
        canary.query_one("#cancel").focus()
        await pilot.press("y")
        await until(
            pilot,
            lambda: [a for a in webhook.alerts() if a["labels"].get("team") == "canary"],
            "canary page delivered",
        )
        storage_pages = [a for a in webhook.alerts() if a["labels"].get("team") == "storage"]
        assert [a["labels"] for a in storage_pages] == [wanted]

        # every one of these is on the incident's timeline, with its ids
        acks = events(app, incident.id, EventKind.ACK)
        assert [e.details["ids"]["silence_id"] for e in acks] == [silence_id]
        assert acks[0].actor == OPERATOR
        assert acks[0].details["matchers"] == DISK
        unacks = events(app, incident.id, EventKind.UNACK)
        assert [e.details["ids"]["silence_id"] for e in unacks] == [silence_id]
        sent = await until(
            pilot,
            lambda: [
                e
                for e in events(app, incident.id, EventKind.ESCALATION)
                if e.source == "outbox" and e.details.get("target") == "storage"
            ],
            "escalation sent recorded",
        )
        assert len(sent) == 1
        alert_labels = sent[0].details["ids"]["alert"]
        for key, value in wanted.items():
            assert f'{key}="{value}"' in alert_labels
        assert events(app, None, EventKind.ACK) == []  # nothing fell into the shift log


# ---------------------------------------------------------------------------- stale


async def test_stopped_alertmanager_marks_alerts_stale_and_recovers(
    am: AlertmanagerServer, make_cockpit: Callable[[AlertmanagerServer], CockpitApp]
) -> None:
    post_fixture_alerts(am)
    app = make_cockpit(am)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(row_names(app)) == 2, "two groups shown")
        await until(pilot, lambda: "alerts ok" in header(app), "header says ok")
        rows = row_names(app)

        await asyncio.to_thread(am.stop)
        line = await until(pilot, lambda: stale_header(app), "header STALE")
        # the header gives the reason; the panel's border names the unreachable Alertmanager
        assert "connection refused" in line
        assert app.live.freshness["alerts"].error == f"alertmanager {am.url}: connection refused"
        panel_border = str(app.query_one("#alerts").border_subtitle)
        assert f"STALE: alertmanager {am.url}: connection refused" in panel_border
        assert "Traceback" not in line
        # the panel keeps the last rows it had
        assert row_names(app) == rows

        await asyncio.to_thread(am.start)
        await until(pilot, lambda: "alerts ok" in header(app), "header ok again", timeout=30)
        assert "STALE" not in header(app)
        # Alertmanager keeps no alerts across a restart; Prometheus sends them again
        await asyncio.to_thread(post_fixture_alerts, am)
        await until(pilot, lambda: row_names(app) == rows, "rows after the restart")


async def test_stale_reason_is_readable_in_a_wide_header(
    am: AlertmanagerServer, make_cockpit: Callable[[AlertmanagerServer], CockpitApp]
) -> None:
    app = make_cockpit(am)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: "alerts ok" in header(app), "header says ok")
        await asyncio.to_thread(am.stop)
        line = await until(pilot, lambda: stale_header(app), "header STALE")
        assert "connection refused" in line, line


async def test_for_shows_whole_minutes_and_a_quiet_minute_changes_no_cell(
    am: AlertmanagerServer, make_cockpit: Callable[[AlertmanagerServer], CockpitApp]
) -> None:
    """FOR moves as a person needs it (7m, then 8m, not 7m15s, 7m16s, ...): polls of an
    unchanged Alertmanager and ticks inside the minute change no cell; the minute turning
    changes one cell, that FOR, and nothing else of the table."""
    from cockpit.clock import FrozenClock
    from cockpit.ui.keyed_table import SyncStats

    now = datetime.now(UTC).replace(microsecond=0)
    started = now - timedelta(minutes=7, seconds=15)
    am.post_alerts([{"labels": LATENCY, "startsAt": started.isoformat()}])
    am.wait_for_alerts(1)
    app = make_cockpit(am)
    clock = FrozenClock(now)
    app.clock = clock  # the screen's clock: ages move only when the test says so
    async with app.run_test(size=(200, 50)) as pilot:
        panel = alerts_panel(app)
        table = panel.table

        def shown_for() -> str:
            keys = table.row_keys()
            return str(table.get_cell(keys[0], "for")) if keys else ""

        await until(pilot, lambda: shown_for() == "7m", "FOR 7m")
        synced: list[SyncStats] = []
        sync = table.sync

        def spy(rows: Any) -> SyncStats:
            stats = sync(rows)
            synced.append(stats)
            return stats

        table.sync = spy  # type: ignore[method-assign]
        clock.advance(40)  # 7m55s: same text
        await pilot.pause(2.5)  # several polls (0.5 s) and ticks (1 s)
        assert shown_for() == "7m"
        assert sum(s.changed_cells + s.added + s.removed for s in synced) == 0
        clock.advance(5)  # 8m00s
        await until(pilot, lambda: shown_for() == "8m", "FOR 8m")
        assert sum(s.changed_cells for s in synced) == 1
        assert sum(s.added + s.removed for s in synced) == 0
