"""The shift report from a recorded night with known events: exact counts and percentiles.

The night (UTC), seen by an engineer in New York (UTC-5):
  13:00 Watchdog fires (and keeps firing; severity none)
  14:00 DiskSpaceLow fires, 14:10 resolves, 14:30 fires again (a flap), 14:31 acked, 14:35 ok
  15:00 RabbitMQQueueBacklog (critical, 10:00 in New York: working hours), 15:05 resolves
  03:00 CheckoutLatencyHigh (critical, 22:00 in New York: night), 03:04:10 acked,
  03:05 incident declared from it, 03:06 customer update (next by 03:36), 03:10 payments paged
  (reason: bug), 03:20 a pod restarted, 03:40 resolved and the resolved update posted (late).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.actions import Actions
from cockpit.audit import AuditLog
from cockpit.clock import FrozenClock
from cockpit.config import Identity, ReportConfig
from cockpit.domain import (
    ActionResult,
    Alert,
    AlertGroup,
    IncidentStatus,
    PodHealth,
    RestartMode,
    Severity,
    Silence,
    frozen_map,
)
from cockpit.incident.alert_history import AlertRecorder
from cockpit.incident.report import build_report, main, render_csv, render_json, render_markdown
from cockpit.incident.store import SQLiteStore
from cockpit.live import LiveState

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NY = "America/New_York"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def group(key: str, name: str, fp: str, started: datetime, **labels: str) -> AlertGroup:
    alert = Alert(
        fp,
        frozen_map({"alertname": name, **labels}),
        severity=labels.get("severity", "none"),
        starts_at=started,
    )
    return AlertGroup(key, frozen_map({"alertname": name}), (alert,))


class FakeAlerts:
    async def ack(self, group: AlertGroup, *, duration: timedelta, author: str, comment: str):  # type: ignore[no-untyped-def]
        return Silence("s1", (), datetime.now(UTC), datetime.now(UTC) + duration, author, comment)


class FakeCluster:
    async def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult:
        return ActionResult.success(f"restarted {pod.key}")


class FakePage:
    name = "statuspage"

    async def post_update(self, incident, update, *, remote_id):  # type: ignore[no-untyped-def]
        return ActionResult.success("posted")


class FakePager:
    name = "pager"

    async def escalate(self, escalation):  # type: ignore[no-untyped-def]
        return ActionResult.success(f"paged {escalation.team}")


WATCHDOG = group("g-watchdog", "Watchdog", "w1", at(24, 13), team="platform")
QUEUE = group(
    "g-orders", "RabbitMQQueueBacklog", "q1", at(24, 15), team="orders", severity="critical"
)


def disk(started: datetime) -> AlertGroup:
    return group("g-disk", "DiskSpaceLow", "d1", started, team="platform", severity="warning")


CHECKOUT = group(
    "g-checkout",
    "CheckoutLatencyHigh",
    "c1",
    at(25, 3),
    team="payments",
    service="checkout-api",
    severity="critical",
)


@pytest.fixture
async def recorded(tmp_path: Path) -> tuple[SQLiteStore, Path]:
    clock = FrozenClock(at(24, 13))
    store = SQLiteStore(tmp_path / "night.db")
    audit_path = tmp_path / "audit.jsonl"
    audit = AuditLog(audit_path, env="test", redact=lambda s: s, now=clock.now)
    actions = Actions(
        store=store,
        identity=Identity("alice"),
        clock=clock,
        live=LiveState(),
        alerts=FakeAlerts(),  # type: ignore[arg-type]
        cluster=FakeCluster(),  # type: ignore[arg-type]
        statuspage=FakePage(),  # type: ignore[arg-type]
        pager=FakePager(),  # type: ignore[arg-type]
        audit=audit,
    )
    recorder = AlertRecorder(store)
    firing: list[AlertGroup] = []

    def until(when: datetime, groups: Iterable[AlertGroup]) -> None:
        """Poll every 3 minutes up to `when`, then switch to the new set of groups."""
        while clock.now() < when:
            recorder.observe(firing, clock.now())
            clock.advance(180)
        clock.set(when)
        firing[:] = list(groups)
        recorder.observe(firing, clock.now())

    until(at(24, 13), [WATCHDOG])
    until(at(24, 14), [WATCHDOG, disk(at(24, 14))])
    until(at(24, 14, 10), [WATCHDOG])
    until(at(24, 14, 30), [WATCHDOG, disk(at(24, 14, 30))])
    until(at(24, 14, 31), firing)
    assert (await actions.ack(disk(at(24, 14, 30)), timedelta(hours=1))).ok
    until(at(24, 14, 35), [WATCHDOG])
    until(at(24, 15), [WATCHDOG, QUEUE])
    until(at(24, 15, 5), [WATCHDOG])
    until(at(25, 3), [WATCHDOG, CHECKOUT])
    until(at(25, 3, 4, 10), firing)
    assert (await actions.ack(CHECKOUT, timedelta(hours=1))).ok
    until(at(25, 3, 5), firing)
    declared = await actions.declare("Checkout latency", Severity.SEV1, group=CHECKOUT)
    assert declared.ok
    until(at(25, 3, 6), firing)
    update = actions.customer_update_for(
        IncidentStatus.INVESTIGATING, "We are on it.", next_update_in=timedelta(minutes=30)
    )
    assert update is not None and (await actions.customer_update(update)).ok
    until(at(25, 3, 10), firing)
    assert (await actions.escalate(actions.escalation_for("payments", reason="bug"))).ok
    until(at(25, 3, 20), firing)
    pod = PodHealth("payments", "payments-api-1", "0/1", "CrashLoopBackOff", 5, None, None)
    assert (await actions.restart(pod, RestartMode.DELETE_POD)).ok
    until(at(25, 3, 40), [WATCHDOG])
    assert (await actions.set_status(IncidentStatus.RESOLVED)).ok
    final = actions.customer_update_for(IncidentStatus.RESOLVED, "Fixed.")
    assert final is not None and (await actions.customer_update(final)).ok
    until(at(25, 4), [WATCHDOG])
    audit.close()
    return store, audit_path


def figures(report: Any) -> dict[tuple[str, str, str], str]:
    return {(f.section, f.metric, f.group): f.display for f in report.figures}


async def test_report_of_a_recorded_night_gives_exact_figures(
    recorded: tuple[SQLiteStore, Path],
) -> None:
    store, audit = recorded
    report = build_report(store, T0, UNTIL, audit_path=audit, timezone=NY)
    got = figures(report)
    incident = store.incidents()[0].id
    expected = {
        ("Volume", "alert firings", ""): "5",
        ("Volume", "alert groups", ""): "4",
        ("Volume", "alert firings per day", "2026-11-24"): "5",  # all before midnight in NY
        ("Volume", "alert firings by team", "platform"): "3",
        ("Volume", "alert firings by severity", "critical"): "2",
        ("Volume", "top alerts: firings", "DiskSpaceLow"): "2",
        ("Volume", "incidents", ""): "1",
        ("Volume", "incidents by team", "payments"): "1",
        ("Response times", "alert: time to acknowledge n", ""): "2",
        ("Response times", "alert: time to acknowledge p50", ""): "1m",
        ("Response times", "alert: time to acknowledge p90", ""): "4m 10s",
        ("Response times", "alert: time to acknowledge max", ""): "4m 10s",
        ("Response times", "incident: time to acknowledge p50", ""): "4m 10s",
        ("Response times", "incident: time to first action p50", ""): "4m 10s",
        ("Response times", "incident: time to mitigate max", ""): "20m",
        ("Response times", "incident: time to resolve max", ""): "40m",
        ("Escalation", "incidents escalated to developers", ""): "100.0% (1/1)",
        ("Escalation", "incidents escalated by team", "payments"): "100.0% (1/1)",
        ("Escalation", "resolved without developers", ""): "0.0% (0/1)",
        ("Escalation", "escalations by reason", "bug"): "1",
        ("Interruptions", "pages", "working hours"): "1",
        ("Interruptions", "pages", "night"): "1",
        ("Interruptions", "pages", "evening"): "0",
        ("Interruptions", "night pages acted on within 30 minutes", ""): "100.0% (1/1)",
        ("Noisy alerts", "firings", "DiskSpaceLow"): "2",
        ("Noisy alerts", "flaps (fired again within 24 h)", "DiskSpaceLow"): "1",
        ("Noisy alerts", "hours silenced", "DiskSpaceLow"): "1.0 h",
        ("Noisy alerts", "acked, nothing else done (tuning candidate)", "DiskSpaceLow"): "1",
        ("Noisy alerts", "acked, nothing else done (tuning candidate)", "CheckoutLatencyHigh"): (
            "0"
        ),
        ("Customer updates", "updates", incident): "2",
        ("Customer updates", "median gap", incident): "1m",
        ("Customer updates", "max gap", incident): "34m",
        ("Customer updates", "updates later than promised", incident): "1",
        ("Engineers", "actions", "alice"): "8",
        ("Engineers", "time in the cockpit", "alice"): "45m",
    }
    for key, display in expected.items():
        assert got.get(key) == display, (key, got.get(key))
    assert ("Noisy alerts", "firings", "Watchdog") not in got  # one quiet firing is not noise

    # every figure names its records; the p90 of the alert TTA is the checkout ack
    by_key = {(f.section, f.metric, f.group): f for f in report.figures}
    p90 = by_key[("Response times", "alert: time to acknowledge p90", "")]
    [checkout] = [r for r in store.alert_history(T0) if r.name == "CheckoutLatencyHigh"]
    ack = next(e for e in store.timeline(incident) if e.kind.value == "ack")
    assert p90.refs == (f"a{checkout.id}", f"e{ack.id}")
    assert all(f.refs for f in report.figures if f.value and f.metric != "alert groups")


async def test_the_same_night_in_utc_moves_the_checkout_page_out_of_the_night(
    recorded: tuple[SQLiteStore, Path],
) -> None:
    store, _ = recorded
    config = ReportConfig(workday_start=8, workday_end=18, night_start=23)
    got = figures(build_report(store, T0, UNTIL, config=config, timezone="UTC"))
    assert got[("Interruptions", "pages", "night")] == "1"  # 03:00 UTC
    assert got[("Interruptions", "pages", "working hours")] == "1"  # 15:00 UTC
    assert got[("Volume", "alert firings per day", "2026-11-25")] == "1"


async def test_markdown_csv_and_json_carry_the_same_figures(
    recorded: tuple[SQLiteStore, Path],
) -> None:
    store, audit = recorded
    report = build_report(store, T0, UNTIL, audit_path=audit, timezone=NY)
    markdown = render_markdown(report)
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    data = json.loads(render_json(report))
    assert len(rows) == len(data["figures"]) == len(report.figures) > 30
    for row, item in zip(rows, data["figures"], strict=True):
        assert (row["section"], row["metric"], row["group"], row["display"]) == (
            item["section"],
            item["metric"],
            item["group"],
            item["display"],
        )
        assert float(row["value"]) == float(item["value"])
        assert row["refs"].split() == item["refs"]
        refs = " ".join(item["refs"][:12])
        line = f"| {item['metric']} | {item['group']} | {item['display']} | {refs}"
        assert line in markdown, line
    assert markdown.startswith("# Shift report 2026-11-24 07:00 EST to 2026-11-25 07:00 EST")


def test_an_empty_record_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SQLiteStore(tmp_path / "empty.db")
    store.close()
    argv = ["--since", "2026-11-24", "--until", "2026-11-25", "--tz", "UTC"]
    assert (
        main(argv, store_path=str(tmp_path / "empty.db"), audit_path=None, config=ReportConfig())
        == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (
        "No alerts, incidents or actions recorded between 2026-11-24 00:00 UTC and "
        "2026-11-25 00:00 UTC."
    )
    assert len(out) == 3
    assert (
        main(
            [*argv, "--format", "json"],
            store_path=str(tmp_path / "empty.db"),
            audit_path=None,
            config=ReportConfig(),
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["empty"] is True and data["figures"] == []
    assert (
        main(
            ["--since", "yesterday-ish"],
            store_path=str(tmp_path / "empty.db"),
            audit_path=None,
            config=ReportConfig(),
        )
        == 2
    )
    assert "expected 24h, 7d" in capsys.readouterr().err
    assert (
        main([], store_path=str(tmp_path / "missing.db"), audit_path=None, config=ReportConfig())
        == 2
    )
    assert "no incident store" in capsys.readouterr().err


async def test_the_same_manual_fix_every_time_is_an_automation_candidate(tmp_path: Path) -> None:
    clock = FrozenClock(at(24, 13))
    store = SQLiteStore(tmp_path / "fix.db")
    actions = Actions(
        store=store,
        identity=Identity("alice"),
        clock=clock,
        live=LiveState(),
        cluster=FakeCluster(),  # type: ignore[arg-type]
    )
    recorder = AlertRecorder(store)
    pod = PodHealth("shop", "indexer-1", "0/1", "Error", 3, None, None)
    for hour in (13, 17):
        clock.set(at(24, hour))
        firing = group("g-idx", "IndexerStuck", "x1", clock.now(), team="search")
        recorder.observe([firing], clock.now())
        clock.advance(120)
        recorder.observe([firing], clock.now())
        assert (await actions.restart(pod, RestartMode.DELETE_POD)).ok
        clock.advance(60)
        recorder.observe([], clock.now())
    got = figures(build_report(store, T0, UNTIL, timezone="UTC"))
    key = ("Noisy alerts", "same manual fix every time (automation candidate)", "IndexerStuck")
    assert got[key] == "restart shop/indexer-1 (2/2)"
    assert got[("Noisy alerts", "flaps (fired again within 24 h)", "IndexerStuck")] == "1"
    store.close()
