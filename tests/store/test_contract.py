"""The IncidentStore contract on PostgreSQL: the SQLite store's own tests of the alert
history, run unchanged against the shared store, and every incident field round-tripped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.clock import FrozenClock
from cockpit.domain import EventKind, Incident, IncidentStatus, Severity, TimelineEvent
from cockpit.incident.postgres import PostgresStore
from tests.incident.test_alert_history import (
    test_a_missed_poll_does_not_make_a_second_firing,
    test_away_gap_resolves_at_last_sighting_and_one_alert_in_two_groups_counts_once,
    test_firing_seen_touched_coarsely_and_resolved,
    test_history_window_and_group_filter,
)
from tests.store.conftest import until

pytestmark = pytest.mark.server

__all__ = [
    "test_a_missed_poll_does_not_make_a_second_firing",
    "test_away_gap_resolves_at_last_sighting_and_one_alert_in_two_groups_counts_once",
    "test_firing_seen_touched_coarsely_and_resolved",
    "test_history_window_and_group_filter",
]


@pytest.fixture
def store(open_store: Callable[..., PostgresStore]) -> PostgresStore:
    """What the SQLite tests above call `store`, on PostgreSQL."""
    return open_store("alice")


def full_incident(clock: FrozenClock) -> Incident:
    now = clock.now()
    return Incident(
        "INC-2026-0001",
        "Checkout latency p99 > 2 s",
        Severity.SEV1,
        IncidentStatus.INVESTIGATING,
        "alice",
        now,
        components=("api", "checkout"),
        team="payments",
        service="checkout-api",
        customer_title="Payments are slow",
        next_update_due=now + timedelta(minutes=30),
        alert_group="g1",
        detected_at=now - timedelta(minutes=4),
    )


def test_every_incident_field_round_trips_to_the_other_cockpit(
    open_store: Callable[..., PostgresStore], clock: FrozenClock
) -> None:
    alice, bob = open_store("alice"), open_store("bob")
    created = alice.create_incident(full_incident(clock))
    seen = until(lambda: bob.get_incident(created.id))
    assert replace(seen, version=0) == replace(full_incident(clock), version=0)
    closed = alice.update_incident(
        replace(
            alice.get_incident(created.id),
            status=IncidentStatus.RESOLVED,
            resolved_at=clock.now() + timedelta(hours=1),
            closed_at=clock.now() + timedelta(hours=2),
        )
    )
    until(lambda: bob.get_incident(created.id).closed_at == closed.closed_at)
    assert bob.active_incidents() == [] and bob.current_incident() is None
    later = open_store("carol")  # a cockpit started afterwards reads it from the database
    assert later.get_incident(created.id) == bob.get_incident(created.id)


def test_active_incidents_oldest_first_and_events_between(
    store: PostgresStore, clock: FrozenClock
) -> None:
    first = store.create_incident(full_incident(clock))
    second = store.create_incident(
        replace(full_incident(clock), id="INC-2026-0002", started_at=clock.now() + timedelta(1))
    )
    assert [i.id for i in store.active_incidents()] == [first.id, second.id]
    for minutes, incident_id in ((1, first.id), (2, None), (3, second.id)):
        store.add_event(
            TimelineEvent(
                clock.now() + timedelta(minutes=minutes),
                EventKind.NOTE,
                "cockpit",
                "alice",
                f"at +{minutes}m",
                incident_id=incident_id,
            )
        )
    found = store.events_between(clock.now(), clock.now() + timedelta(minutes=3))
    assert [e.summary for e in found] == ["at +1m", "at +2m"]
    assert all(e.at.tzinfo is not None for e in found)
    assert store.events_between(datetime(2020, 1, 1, tzinfo=UTC), clock.now()) == []
