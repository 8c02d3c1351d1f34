"""Following tickets by polling: each status change and developer comment lands once."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from cockpit.backends.base import AuthError
from cockpit.backends.jira import JiraTracker
from cockpit.clock import FrozenClock
from cockpit.domain import EventKind, Incident, IncidentStatus, Ticket
from cockpit.incident.outbox import Outbox
from cockpit.incident.store import SQLiteStore
from cockpit.incident.tickets import TicketBook, TicketFollower, record_filed
from tests.jira.conftest import draft, jira_config
from tests.jira.server import FakeJira


async def filed(tracker: JiraTracker, store: SQLiteStore, clock: FrozenClock, n: int = 1) -> str:
    ticket = await tracker.create(draft(number=n))
    Outbox(store)  # the schema
    with store.transaction() as db:
        record_filed(
            db,
            incident_id="INC-2026-0001",
            number=n,
            ticket=ticket,
            project="PAY",
            team="payments",
            now=clock.now(),
        )
    return ticket.key


def ticket_events(store: SQLiteStore) -> list[str]:
    return [
        e.summary for e in reversed(store.timeline("INC-2026-0001")) if e.kind is EventKind.TICKET
    ]


async def test_status_assignee_and_comments_land_once(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    key = await filed(tracker, store, clock)
    book = TicketBook(store)
    follower = TicketFollower(tracker, book, clock)
    assert await follower.poll() == []  # the first read learns "To Do": no change yet
    assert book.tickets(incident.id)[0].describe() == "PAY-1 To Do"

    fake_jira.transition(key, "In Progress")
    fake_jira.assign(key, "Dev Bob")
    fake_jira.developer_comment(key, "Looking: the pool size regressed in v1.4.2\nmore soon")
    clock.advance(timedelta(minutes=2))
    events = await follower.poll()
    assert [e.summary for e in events] == [
        "PAY-1 status: In Progress (was To Do)",
        "PAY-1 assigned to Dev Bob",
        "PAY-1 comment by Dev Bob: Looking: the pool size regressed in v1.4.2 …",
    ]
    assert events[2].actor == "Dev Bob" and events[2].source == "jira"
    assert events[2].details["comment"] == "Looking: the pool size regressed in v1.4.2\nmore soon"
    assert all(e.id for e in events)  # committed before anything shows them

    # nothing new: nothing lands again, however often it is polled
    for _ in range(3):
        clock.advance(timedelta(minutes=2))
        assert await follower.poll() == []
    fake_jira.developer_comment(key, "Fix deployed")
    fake_jira.transition(key, "Done")
    assert [e.summary for e in await follower.poll()] == [
        "PAY-1 status: Done (was In Progress)",
        "PAY-1 comment by Dev Bob: Fix deployed",
    ]
    assert book.tickets(incident.id)[0].describe() == "PAY-1 Done (Dev Bob)"
    before = len(fake_jira.requests)
    assert await follower.poll() == []  # done: no longer re-read
    assert len(fake_jira.requests) == before
    assert len(ticket_events(store)) == 5


async def test_a_new_follower_after_a_restart_repeats_nothing(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    key = await filed(tracker, store, clock)
    await TicketFollower(tracker, TicketBook(store), clock).poll()
    fake_jira.developer_comment(key, "on it")
    await TicketFollower(tracker, TicketBook(store), clock).poll()
    again = SQLiteStore(store.path)  # the cockpit started again on the same file
    try:
        assert await TicketFollower(tracker, TicketBook(again), clock).poll() == []
    finally:
        again.close()
    assert ticket_events(store) == ["PAY-1 comment by Dev Bob: on it"]


async def test_tickets_of_resolved_incidents_are_not_polled(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    await filed(tracker, store, clock)
    store.update_incident(dataclasses.replace(incident, status=IncidentStatus.RESOLVED))
    before = len(fake_jira.requests)
    assert await TicketFollower(tracker, TicketBook(store), clock).poll() == []
    assert len(fake_jira.requests) == before


async def test_our_own_comment_in_flight_is_not_taken_for_a_developers(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    key = await filed(tracker, store, clock)
    follower = TicketFollower(
        tracker, TicketBook(store), clock, pending_comments=lambda k: ["rolled back\n\n— alice"]
    )
    await follower.poll()
    await tracker.comment(key, "rolled back\n\n— alice")  # posted; the outbox has not heard yet
    assert await follower.poll() == []


async def test_a_broken_ticket_is_marked_and_the_others_still_followed(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    await filed(tracker, store, clock, 1)
    key = await filed(tracker, store, clock, 2)
    del fake_jira.issues["PAY-1"]  # deleted by someone in Jira
    book = TicketBook(store)
    follower = TicketFollower(tracker, book, clock)
    await follower.poll()
    fake_jira.developer_comment(key, "duplicate of PAY-1?")
    events = await follower.poll()
    assert [e.summary for e in events] == ["PAY-2 comment by Dev Bob: duplicate of PAY-1?"]
    first = book.tickets(incident.id)[0]
    assert first.describe().startswith("PAY-1 filed · not re-read: Jira: 404 Not Found")


async def test_a_refused_token_ends_the_round(
    fake_jira: FakeJira,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
    tracker: JiraTracker,
) -> None:
    await filed(tracker, store, clock, 1)
    await filed(tracker, store, clock, 2)
    revoked = JiraTracker(jira_config(fake_jira.url), token="revoked-token")
    before = len(fake_jira.requests)
    try:
        with pytest.raises(AuthError):
            await TicketFollower(revoked, TicketBook(store), clock).poll()
    finally:
        await revoked.close()
    assert len(fake_jira.requests) == before + 1  # not once per ticket


def test_counts_by_team_for_the_shift_report(store: SQLiteStore, clock: FrozenClock) -> None:
    Outbox(store)
    with store.transaction() as db:
        for n, team in enumerate(["payments", "payments", "platform", ""], start=1):
            record_filed(
                db,
                incident_id="INC-2026-0001",
                number=n,
                ticket=Ticket(f"PAY-{n}", str(n), ""),
                project="PAY",
                team=team,
                now=clock.now(),
            )
    assert TicketBook(store).counts_by_team() == {"": 1, "payments": 2, "platform": 1}
    assert TicketBook(store).counts_by_team(since=clock.now() + timedelta(seconds=1)) == {}


async def test_the_demo_jira_plays_the_developers(
    store: SQLiteStore, clock: FrozenClock, incident: Incident
) -> None:
    from cockpit.backends.demo.jira import DemoJira
    from cockpit.runtime import build_demo_runtime

    assert isinstance(build_demo_runtime(clock).tracker, DemoJira)
    demo = DemoJira(clock)
    ticket = await demo.create(draft())
    assert (ticket.key, ticket.url) == ("PAY-1", "https://acme.atlassian.net/browse/PAY-1")
    assert await demo.find(draft()) == ticket
    Outbox(store)
    with store.transaction() as db:
        record_filed(
            db,
            incident_id=incident.id,
            number=1,
            ticket=ticket,
            project="PAY",
            team="payments",
            now=clock.now(),
        )
    follower = TicketFollower(demo, TicketBook(store), clock)
    seen: list[str] = []
    for _ in range(10):
        seen += [e.summary for e in await follower.poll()]
        clock.advance(timedelta(seconds=30))
    assert seen == [
        "PAY-1 status: In Progress (was To Do)",
        "PAY-1 assigned to Dev Bob",
        "PAY-1 comment by Dev Bob: Looking at it: the heap limit of payments-api was lowered "
        "in 1.4.2. Rolling back.",
        "PAY-1 status: In Review (was In Progress)",
        "PAY-1 comment by Dev Bob: Rolled back to 1.4.1, the fix is in review. Please confirm "
        "from your side.",
    ]
