"""The shared store on the real PostgreSQL: migrations, live between two cockpits'
stores, version conflicts, idempotent writes, and the LISTEN connection killed."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cockpit.domain import EventKind, Incident, IncidentStatus, Severity, TimelineEvent
from cockpit.incident.postgres import PostgresStore
from cockpit.incident.postgres.connection import Target, connect
from cockpit.incident.postgres.migrations import LATEST, migrate
from cockpit.incident.store import StoreConflict
from tests.store.conftest import until

pytestmark = pytest.mark.server

Opener = Callable[..., PostgresStore]
SQL = Callable[..., list[tuple[Any, ...]]]


def declare(store: PostgresStore, title: str = "Checkout errors") -> Incident:
    now = datetime.now(UTC)
    return store.create_incident(
        Incident(
            store.next_incident_id(now),
            title,
            Severity.SEV1,
            IncidentStatus.INVESTIGATING,
            store.actor,
            now,
        )
    )


def note(store: PostgresStore, text: str, incident_id: str | None, **kw: Any) -> TimelineEvent:
    event = TimelineEvent(
        datetime.now(UTC), EventKind.NOTE, "cockpit", store.actor, text, incident_id=incident_id
    )
    return store.add_event(replace(event, **kw))


def summaries(store: PostgresStore, incident_id: str | None) -> list[str]:
    return [e.summary for e in store.timeline(incident_id)]


def test_cockpits_starting_at_once_migrate_once(pg_dsn: str, sql: SQL) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def one() -> None:
        async def run() -> list[int]:
            conn = await connect(Target(pg_dsn))
            try:
                return await migrate(conn)
            finally:
                await conn.close()

        try:
            results.append(asyncio.run(run()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(results, key=len) == [[]] * 5 + [list(range(1, LATEST + 1))]
    assert sql("SELECT version FROM schema_migrations") == [(v,) for v in range(1, LATEST + 1)]


def test_a_declaration_and_notes_show_in_the_other_store_within_a_second(
    open_store: Opener,
) -> None:
    alice, bob = open_store("alice"), open_store("bob")
    incident = declare(alice)
    started = time.monotonic()
    until(lambda: bob.current_incident(), timeout=1.0)
    assert bob.current_incident() == alice.current_incident()
    note(alice, "db primary is at 100% CPU", incident.id)
    until(lambda: "db primary is at 100% CPU" in summaries(bob, incident.id), timeout=1.0)
    note(bob, "failing over to the replica", incident.id)
    until(lambda: "failing over to the replica" in summaries(alice, incident.id), timeout=1.0)
    assert time.monotonic() - started < 3
    # both see one timeline, the same ids, in the same order
    assert [e.uid for e in alice.timeline(incident.id)] == [
        e.uid for e in bob.timeline(incident.id)
    ]
    assert {e.actor for e in bob.timeline(incident.id)} == {"alice", "bob"}


def test_notification_latency(open_store: Opener, capsys: pytest.CaptureFixture[str]) -> None:
    """From one store's committed write to the other store's screen copy, 200 events."""
    alice, bob = open_store("alice"), open_store("bob")
    incident = declare(alice)
    until(lambda: bob.get_incident(incident.id))
    seen: dict[str, float] = {}

    def on_change(kinds: set[str]) -> None:
        now = time.perf_counter()
        for event in bob.cache.timeline(incident.id, 1000):
            seen.setdefault(event.uid, now)

    bob.subscribe(on_change)
    sent: dict[str, float] = {}
    for i in range(200):
        started = time.perf_counter()
        event = note(alice, f"note {i}", incident.id)
        sent[event.uid] = started
        time.sleep(0.005)
    until(lambda: all(uid in seen for uid in sent), timeout=5)
    latencies = sorted((seen[uid] - sent[uid]) * 1000 for uid in sent)
    p50 = statistics.median(latencies)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    with capsys.disabled():
        print(f"\nnotification latency over 200 events: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    assert p95 < 1000


def test_a_version_conflict_names_who_changed_what(open_store: Opener) -> None:
    alice, bob = open_store("alice"), open_store("bob")
    declare(alice)
    seen_by_bob = until(lambda: bob.current_incident())  # what bob's screen showed
    alice.update_incident(replace(alice.current_incident(), status=IncidentStatus.MONITORING))
    until(lambda: bob.current_incident().status is IncidentStatus.MONITORING)
    with pytest.raises(StoreConflict) as caught:
        bob.update_incident(replace(seen_by_bob, status=IncidentStatus.IDENTIFIED))
    message = str(caught.value)
    assert "alice changed status of INC-" in message and "to monitoring" in message
    assert caught.value.by == "alice" and caught.value.value == "monitoring"
    assert alice.current_incident().status is IncidentStatus.MONITORING  # not overwritten
    # another field from the same stale copy is no conflict, and keeps alice's status
    changed = bob.update_incident(replace(seen_by_bob, severity=Severity.SEV2))
    assert changed.severity is Severity.SEV2 and changed.status is IncidentStatus.MONITORING
    until(lambda: alice.current_incident().severity is Severity.SEV2)


def test_two_declarations_at_once_the_second_is_told(open_store: Opener) -> None:
    alice, bob = open_store("alice"), open_store("bob")
    now = datetime.now(UTC)
    same_id = alice.next_incident_id(now)
    assert bob.next_incident_id(now) == same_id
    alice.create_incident(
        Incident(same_id, "Checkout errors", Severity.SEV1, IncidentStatus.INVESTIGATING, "a", now)
    )
    with pytest.raises(StoreConflict, match=r"alice declared INC-\d+-0001 \(Checkout errors\)"):
        bob.create_incident(
            Incident(same_id, "Login slow", Severity.SEV2, IncidentStatus.INVESTIGATING, "b", now)
        )


def test_a_retried_event_is_stored_once(open_store: Opener, sql: SQL) -> None:
    alice = open_store("alice")
    incident = declare(alice)
    first = note(alice, "once", incident.id, uid="fixed-uid-1")
    again = note(alice, "once", incident.id, uid="fixed-uid-1")
    assert first.id == again.id
    assert sql("SELECT count(*) FROM events WHERE uid='fixed-uid-1'") == [(1,)]
    ids = [e.id or 0 for e in reversed(alice.timeline(incident.id))]
    assert ids == sorted(ids)  # a monotonic sequence


def test_the_shift_log_is_adopted_by_a_declaration(open_store: Opener) -> None:
    alice, bob = open_store("alice"), open_store("bob")
    note(alice, "pods restarting in payments", None)
    until(lambda: summaries(bob, None))
    incident = declare(alice)
    assert alice.adopt_shift_log(incident.id, datetime.now(UTC) - timedelta(hours=1)) == 1
    until(lambda: "pods restarting in payments" in summaries(bob, incident.id))
    assert summaries(bob, None) == []


def test_listen_killed_by_the_server_catches_up_on_what_it_missed(
    open_store: Opener, sql: SQL, capsys: pytest.CaptureFixture[str]
) -> None:
    # bob waits a second before reconnecting: what alice writes meanwhile he does not hear
    alice, bob = open_store("alice"), open_store("bob", reconnect_delay=1.0)
    incident = declare(alice)
    until(lambda: bob.get_incident(incident.id) and bob.live)
    killed = sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name='cockpit-listen bob' AND datname=current_database()"
    )
    assert killed == [(True,)]
    for i in range(5):  # written while bob hears nothing
        note(alice, f"missed {i}", incident.id)
    until(lambda: bob.reconnects >= 1, timeout=10)
    until(lambda: all(f"missed {i}" in summaries(bob, incident.id) for i in range(5)), timeout=5)
    assert bob.replayed_after_reconnect == 5
    assert bob.status().up
    # and it is live again afterwards
    note(alice, "after", incident.id)
    until(lambda: "after" in summaries(bob, incident.id), timeout=1)
    with capsys.disabled():
        print(f"\nevents re-read after the LISTEN reconnect: {bob.replayed_after_reconnect}")


def test_a_past_incident_is_read_from_the_database(open_store: Opener) -> None:
    alice = open_store("alice")
    incident = declare(alice)
    note(alice, "root cause: a bad deploy", incident.id)
    alice.update_incident(
        replace(
            alice.current_incident(),
            status=IncidentStatus.RESOLVED,
            resolved_at=datetime.now(UTC),
        )
    )
    later = open_store("carol")  # starts after it was resolved: not in its first read
    assert later.current_incident() is None
    assert later.get_incident(incident.id) is not None
    assert "root cause: a bad deploy" in summaries(later, incident.id)


def test_the_password_never_shows(pg_dsn: str, tmp_path: Any) -> None:
    store = PostgresStore(
        pg_dsn.replace("postgres@", "nobody@"),
        password="hunter2-secret",
        journal_path=tmp_path / "j.sqlite3",
    )
    try:
        store.wait_ready(5)
        text = f"{store.status()} {store.describe()} {store.target!r} {store!r}"
        assert "hunter2" not in text
        assert "nobody@127.0.0.1" in store.describe()
    finally:
        store.close()
