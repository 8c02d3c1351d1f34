"""PostgreSQL unreachable: the header says so, writes go to the local journal at once, and
are replayed exactly once when the database is back (also after a restart of the cockpit)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.domain import EventKind, Incident, IncidentStatus, Severity, TimelineEvent
from cockpit.incident.postgres import PostgresStore
from cockpit.incident.postgres.journal import Journal, Op
from tests.store.conftest import until
from tests.store.proxy import Proxy

pytestmark = pytest.mark.server

Opener = Callable[..., PostgresStore]
SQL = Callable[..., list[tuple[Any, ...]]]


def note(store: PostgresStore, text: str, incident_id: str | None = None) -> TimelineEvent:
    return store.add_event(
        TimelineEvent(
            datetime.now(UTC), EventKind.NOTE, "cockpit", store.actor, text, incident_id=incident_id
        )
    )


def test_database_down_journals_at_once_and_replays_once(
    open_store: Opener, pg_db: str, sql: SQL
) -> None:
    with Proxy() as proxy:
        store = open_store("alice", dsn=proxy.dsn(pg_db), op_timeout=1.0, connect_timeout=1.0)
        now = datetime.now(UTC)
        incident = store.create_incident(
            Incident("INC-2026-0001", "Checkout", Severity.SEV1, IncidentStatus.INVESTIGATING,
                     "alice", now)
        )  # fmt: skip
        note(store, "before the outage", incident.id)
        proxy.down()
        until(lambda: not store.status().up, timeout=10)
        assert store.status().header().startswith("store DOWN: ")
        timings = []
        for i in range(3):
            started = time.monotonic()
            event = note(store, f"during the outage {i}", incident.id)
            timings.append(time.monotonic() - started)
            assert event.id is not None and event.id < 0  # shown now, confirmed later
        assert max(timings) < 0.2  # never waits on a database known to be down
        assert store.status().journalled == 3
        assert store.status().header().startswith("store DOWN (3 writes journalled): ")
        # the screen shows them already
        assert [e.summary for e in store.timeline(incident.id)][:3] == [
            "during the outage 2", "during the outage 1", "during the outage 0"
        ]  # fmt: skip
        proxy.up()
        until(lambda: store.status().up and store.status().journalled == 0, timeout=15)
        rows = sql("SELECT summary FROM events ORDER BY id")
        assert rows == [
            ("before the outage",),
            ("during the outage 0",),
            ("during the outage 1",),
            ("during the outage 2",),
        ]
        assert store.status().header() == ""
        assert all((e.id or 0) > 0 for e in store.timeline(incident.id))


def test_a_cockpit_started_while_the_database_is_down_replays_after_restart(
    pg_db: str, sql: SQL, tmp_path: Path, open_store: Opener
) -> None:
    open_store("init")  # migrates the database
    journal = tmp_path / "journal.sqlite3"
    proxy = Proxy()  # not listening: the database is unreachable
    started = time.monotonic()
    store = PostgresStore(proxy.dsn(pg_db), actor="alice", journal_path=journal,
                          connect_timeout=1.0)  # fmt: skip
    try:
        assert not store.wait_ready(3)
        assert time.monotonic() - started < 3.5
        assert "store DOWN" in store.status().header()
        note(store, "written with the database down")
    finally:
        store.close()
    assert sql("SELECT count(*) FROM events") == [(0,)]
    # a crash after PostgreSQL committed but before the journal forgot it: replayed, not doubled
    again = open_store("alice", journal_path=journal)
    until(lambda: again.status().journalled == 0, timeout=10)
    assert sql("SELECT summary FROM events") == [("written with the database down",)]
    [op_row] = sql("SELECT uid FROM applied_ops WHERE kind='add_event'")
    again.close()
    leftover = Journal(journal)
    event = again.cache.timeline(None, 1)[0]
    from cockpit.incident.postgres.rows import event_json

    leftover.append(Op(op_row[0], "add_event", {"event": event_json(event)}, ""))
    leftover.close()
    third = open_store("alice", journal_path=journal)
    until(lambda: third.status().journalled == 0, timeout=10)
    assert sql("SELECT count(*) FROM events") == [(1,)]
