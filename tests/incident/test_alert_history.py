"""The alert history: every firing the cockpit saw, and stores from older versions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.clock import FrozenClock
from cockpit.domain import Alert, AlertGroup, Incident, IncidentStatus, Severity, frozen_map
from cockpit.incident.alert_history import AlertRecorder
from cockpit.incident.store import SCHEMA_VERSION, SQLiteStore, StoreError


def alert(fp: str, name: str, started: datetime, **labels: str) -> Alert:
    return Alert(
        fingerprint=fp,
        labels=frozen_map({"alertname": name, **labels}),
        severity=labels.get("severity", "warning"),
        starts_at=started,
    )


def group(key: str, *alerts: Alert) -> AlertGroup:
    return AlertGroup(key=key, labels=frozen_map({"alertname": alerts[0].name}), alerts=alerts)


def test_firing_seen_touched_coarsely_and_resolved(store: SQLiteStore, clock: FrozenClock) -> None:
    started = clock.now() - timedelta(minutes=7)
    checkout = alert("fp1", "CheckoutLatencyHigh", started, team="payments", severity="critical")
    recorder = AlertRecorder(store)
    observed = recorder.observe([group("g1", checkout)], clock.now())
    assert [r.name for r in observed.new] == ["CheckoutLatencyHigh"]
    [record] = store.open_alerts()
    assert record.starts_at == started and record.first_seen == clock.now()
    assert record.team == "payments" and record.group_key == "g1"
    assert record.labels["severity"] == "critical"

    # polls every 10 s: last_seen is written once a minute, not on every poll
    for _ in range(5):
        clock.advance(10)
        assert recorder.observe([group("g1", checkout)], clock.now()).new == []
    assert store.open_alerts()[0].last_seen == record.first_seen
    clock.advance(10)
    recorder.observe([group("g1", checkout)], clock.now())
    assert store.open_alerts()[0].last_seen == clock.now()

    clock.advance(10)
    observed = recorder.observe([], clock.now())
    assert [r.fingerprint for r in observed.resolved] == ["fp1"]
    assert store.open_alerts() == []
    [history] = store.alert_history(started - timedelta(hours=1))
    assert history.resolved_at == clock.now() and history.starts_at == started


def test_flap_is_a_second_firing_and_restart_keeps_the_open_ones(
    tmp_path: Path, clock: FrozenClock
) -> None:
    store = SQLiteStore(tmp_path / "h.db")
    first = clock.now() - timedelta(minutes=2)
    AlertRecorder(store).observe([group("g", alert("fp", "DiskFull", first))], clock.now())
    store.close()

    # a new cockpit process: it knows fp is firing, and sees it fire again with a new startsAt
    store = SQLiteStore(tmp_path / "h.db")
    recorder = AlertRecorder(store)
    clock.advance(30)
    again = clock.now() - timedelta(seconds=5)
    observed = recorder.observe([group("g", alert("fp", "DiskFull", again))], clock.now())
    assert [r.starts_at for r in observed.new] == [again]
    history = store.alert_history(first - timedelta(hours=1))
    assert [(r.starts_at, r.resolved_at) for r in history] == [(first, again), (again, None)]
    store.close()


def test_away_gap_resolves_at_last_sighting_and_one_alert_in_two_groups_counts_once(
    store: SQLiteStore, clock: FrozenClock
) -> None:
    a = alert("fp", "QueueBacklog", clock.now(), team="orders")
    recorder = AlertRecorder(store)
    recorder.observe([group("g1", a), group("g2", a)], clock.now())
    assert len(store.open_alerts()) == 1
    seen = clock.now()
    clock.advance(timedelta(hours=3))  # the laptop slept; nobody knows when it stopped
    recorder.observe([], clock.now())
    [record] = store.alert_history(seen - timedelta(hours=1))
    assert record.resolved_at == seen


def test_a_missed_poll_does_not_make_a_second_firing(
    store: SQLiteStore, clock: FrozenClock
) -> None:
    a = alert("fp", "X", clock.now())
    recorder = AlertRecorder(store)
    recorder.observe([group("g", a)], clock.now())
    clock.advance(10)
    recorder.observe([], clock.now())
    clock.advance(10)
    AlertRecorder(store).observe([group("g", a)], clock.now())  # same startsAt: same firing
    [record] = store.alert_history(clock.now() - timedelta(hours=1))
    assert record.resolved_at is None and record.last_seen == clock.now()


def test_history_window_and_group_filter(store: SQLiteStore, clock: FrozenClock) -> None:
    t0 = clock.now()
    recorder = AlertRecorder(store)
    recorder.observe([group("a", alert("1", "A", t0)), group("b", alert("2", "B", t0))], t0)
    clock.advance(timedelta(hours=1))
    recorder.observe([group("b", alert("2", "B", t0))], clock.now())
    later = clock.now() + timedelta(minutes=1)
    assert [r.name for r in store.alert_history(later)] == ["B"]  # A resolved before
    assert [r.name for r in store.alert_history(t0, group_key="a")] == ["A"]
    assert store.alert_history(t0 - timedelta(hours=2), t0 - timedelta(hours=1)) == []


OLD_SCHEMA = """
CREATE TABLE incidents (id TEXT PRIMARY KEY, title TEXT NOT NULL, severity TEXT NOT NULL,
  status TEXT NOT NULL, commander TEXT NOT NULL, started_at TEXT NOT NULL, resolved_at TEXT,
  components TEXT NOT NULL DEFAULT '[]', last_customer_update_at TEXT);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT REFERENCES
  incidents(id), at TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, actor TEXT NOT NULL,
  summary TEXT NOT NULL, details TEXT NOT NULL DEFAULT '{}', pinned INTEGER NOT NULL DEFAULT 0);
INSERT INTO incidents VALUES ('INC-2026-0001', 'Old one', 'SEV2', 'resolved', 'alice',
  '2026-11-01T03:00:00+00:00', '2026-11-01T04:00:00+00:00', '["api"]', NULL);
INSERT INTO incidents VALUES ('INC-2026-0002', 'Still open', 'SEV1', 'investigating', 'bob',
  '2026-11-02T03:00:00+00:00', NULL, '[]', NULL);
"""


def test_store_from_an_older_version_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    store = SQLiteStore(path)
    old, still_open = store.get_incident("INC-2026-0001"), store.get_incident("INC-2026-0002")
    assert old is not None and still_open is not None
    assert old.closed_at == old.resolved_at == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert still_open.closed_at is None and still_open.team == "" and old.components == ("api",)
    assert [i.id for i in store.active_incidents()] == ["INC-2026-0002"]
    assert store.open_alerts() == []
    store.update_incident(
        Incident(
            "INC-2026-0002",
            "Still open",
            Severity.SEV1,
            IncidentStatus.INVESTIGATING,
            "bob",
            still_open.started_at,
            team="payments",
            service="checkout-api",
            customer_title="Payments are slow",
            next_update_due=datetime(2026, 11, 2, 3, 30, tzinfo=UTC),
        )
    )
    store.close()
    again = SQLiteStore(path)  # opening a migrated file again changes nothing
    reloaded = again.get_incident("INC-2026-0002")
    assert reloaded is not None and reloaded.team == "payments"
    assert reloaded.customer_title == "Payments are slow"
    assert reloaded.next_update_due == datetime(2026, 11, 2, 3, 30, tzinfo=UTC)
    assert again.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION
    again.close()


def test_store_from_a_newer_version_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError) as err:
        SQLiteStore(path)
    assert "newer cockpit" in str(err.value) and "\n" not in str(err.value)
