"""Tickets and Jira comments through the outbox: recorded first, filed once, then timelined."""

from __future__ import annotations

from datetime import timedelta

from cockpit.actions import Actions
from cockpit.backends.jira import JiraTracker
from cockpit.clock import FrozenClock
from cockpit.config import Identity
from cockpit.domain import ActionResult, EventKind, Incident, TicketComment
from cockpit.incident.outbox import FAILED, PENDING, SENT, TICKET, Outbox, OutboxItem, OutboxSender
from cockpit.incident.store import SQLiteStore
from cockpit.incident.tickets import TicketBook
from cockpit.live import LiveState
from tests.incident.fakehttp import Reply
from tests.jira.conftest import TOKEN, draft, jira_config
from tests.jira.server import FakeJira, adf_text


class Cockpit:
    """The action layer and the outbox sender wired as the screen wires them."""

    def __init__(self, store: SQLiteStore, clock: FrozenClock, tracker: JiraTracker) -> None:
        self.outbox = Outbox(store)
        self.actions = Actions(
            store=store,
            identity=Identity("alice", "alice@acme.example"),
            clock=clock,
            live=LiveState(),
            outbox=self.outbox,
            tracker=tracker,
        )
        self.sender = OutboxSender(
            self.outbox,
            statuspage=None,
            pager=None,
            clock=clock,
            tracker=tracker,
            on_result=self.on_result,
        )

    def on_result(self, item: OutboxItem, result: ActionResult) -> None:
        if item.state in (SENT, FAILED):
            target = str(item.payload.get("project") or item.payload.get("key") or "")
            self.actions.outbox_result(item.kind, item.incident_id, target, result)


async def test_a_ticket_is_stored_then_filed_once_and_lands_on_the_timeline(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    cockpit = Cockpit(store, clock, tracker)
    assert cockpit.actions.next_ticket_number(incident.id) == 1
    queued = await cockpit.actions.file_ticket(draft())
    assert queued.ok and "queued" in queued.message
    assert not fake_jira.requests  # nothing is sent before it is recorded
    (item,) = cockpit.outbox.pending()
    assert item.kind == TICKET and item.idempotency_key == "ticket:INC-2026-0001:1"

    await cockpit.sender.send_due()
    await cockpit.sender.send_due()  # nothing left: no second create
    assert len(fake_jira.creates()) == 1
    assert [i.key for i in fake_jira.created()] == ["PAY-1"]
    (done,) = cockpit.outbox.items(incident.id)
    assert done.state == SENT and done.result_ids["key"] == "PAY-1"
    assert cockpit.outbox.remote_id(incident.id, "jira") == "PAY-1"
    (ticket,) = TicketBook(store).tickets(incident.id)
    assert (ticket.key, ticket.url, ticket.project, ticket.team) == (
        "PAY-1",
        f"{fake_jira.url}/browse/PAY-1",
        "PAY",
        "payments",
    )
    events = store.timeline(incident.id)
    filed = events[0]
    assert filed.kind is EventKind.TICKET and filed.source == "outbox"
    assert filed.summary == (f"Jira ticket filed PAY-1 (Bug in PAY): {fake_jira.url}/browse/PAY-1")
    assert filed.details["ids"]["url"] == f"{fake_jira.url}/browse/PAY-1"
    assert events[1].summary.startswith("Jira Bug for PAY queued: ")
    assert cockpit.actions.next_ticket_number(incident.id) == 2


async def test_an_answer_lost_in_flight_is_searched_for_and_not_filed_twice(
    fake_jira: FakeJira, store: SQLiteStore, clock: FrozenClock, incident: Incident
) -> None:
    # Jira files the ticket, then its answer never arrives before the deadline
    slow = JiraTracker(jira_config(fake_jira.url, timeout=timedelta(seconds=0.5)), token=TOKEN)
    cockpit = Cockpit(store, clock, slow)
    fake_jira.hang_on_summary = "Checkout"
    try:
        await cockpit.actions.file_ticket(draft())
        (result,) = await cockpit.sender.send_due()
        assert not result[1].ok and "no answer" in result[1].message
        assert result[0].state == PENDING and result[0].attempts == 1
        fake_jira.hang_on_summary = ""
        fake_jira.release.set()
        clock.advance(timedelta(seconds=6))
        (again,) = await cockpit.sender.send_due()
    finally:
        await slow.close()
    assert again[0].state == SENT
    assert again[1].message == f"PAY-1 was already filed: {fake_jira.url}/browse/PAY-1"
    assert len(fake_jira.created()) == 1 and len(fake_jira.creates()) == 1
    assert fake_jira.requests[-1].path == "/rest/api/3/search/jql"
    assert TicketBook(store).tickets(incident.id)[0].key == "PAY-1"


async def test_a_search_that_lags_behind_the_create_is_asked_again_before_refiling(
    fake_jira: FakeJira, store: SQLiteStore, clock: FrozenClock, incident: Incident
) -> None:
    slow = JiraTracker(jira_config(fake_jira.url, timeout=timedelta(seconds=0.5)), token=TOKEN)
    cockpit = Cockpit(store, clock, slow)
    fake_jira.hang_on_summary = "Checkout"
    fake_jira.search_lag = True  # the new ticket is not searchable yet
    try:
        await cockpit.actions.file_ticket(draft())
        await cockpit.sender.send_due()  # filed, the answer lost
        fake_jira.hang_on_summary = ""
        fake_jira.release.set()
        clock.advance(timedelta(seconds=6))
        ((waiting, result),) = await cockpit.sender.send_due()
        assert waiting.state == PENDING and len(fake_jira.creates()) == 1
        assert "no ticket found yet with label cockpit-INC-2026-0001-1" in result.message
        assert waiting.next_attempt_at == clock.now() + timedelta(seconds=30)
        fake_jira.index()  # Jira's search caught up
        clock.advance(timedelta(seconds=30))
        ((done, _),) = await cockpit.sender.send_due()
    finally:
        await slow.close()
    assert done.state == SENT and done.result_ids["key"] == "PAY-1"
    assert len(fake_jira.created()) == 1 and len(fake_jira.creates()) == 1


async def test_a_refused_ticket_fails_once_naming_the_field(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    cockpit = Cockpit(store, clock, tracker)
    await cockpit.actions.file_ticket(draft(project="OPS", issue_type="Task"))
    (result,) = await cockpit.sender.send_due()
    assert result[0].state == FAILED
    clock.advance(timedelta(minutes=10))
    assert await cockpit.sender.send_due() == []  # never retried: it would fail the same way
    assert len(fake_jira.creates()) == 1
    error = store.timeline(incident.id)[0]
    assert error.kind is EventKind.ERROR
    assert error.summary == (
        "Jira ticket FAILED, not sent: Jira ticket for OPS failed: Jira: 400 Bad Request: "
        "cannot create a Task in OPS: priority: Field 'priority' cannot be set. It is not on "
        "the appropriate screen, or unknown."
    )


async def test_429_waits_for_retry_after(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    cockpit = Cockpit(store, clock, tracker)
    fake_jira.forced.append(Reply(429, {"errorMessages": []}, {"Retry-After": "42"}))
    await cockpit.actions.file_ticket(draft())
    (first,) = await cockpit.sender.send_due()
    assert first[0].next_attempt_at == clock.now() + timedelta(seconds=42)
    assert "1 ticket pending: Jira: 429" in cockpit.sender.describe(clock.now())
    clock.advance(timedelta(seconds=41))
    assert await cockpit.sender.send_due() == []
    clock.advance(timedelta(seconds=1))
    (second,) = await cockpit.sender.send_due()
    assert second[0].state == SENT and len(fake_jira.created()) == 1


async def test_a_note_on_a_ticket_becomes_one_adf_comment(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    cockpit = Cockpit(store, clock, tracker)
    await cockpit.actions.file_ticket(draft())
    await cockpit.sender.send_due()
    result = await cockpit.actions.note("restarted payments-api, errors down", ticket_key="PAY-1")
    assert result.ok and "Jira comment on PAY-1 queued" in result.message
    await cockpit.sender.send_due()
    await cockpit.sender.send_due()
    (issue,) = fake_jira.created()
    assert len(issue.comments) == 1
    assert adf_text(issue.comments[0]["body"]) == (
        "restarted payments-api, errors down\n"
        "— alice <alice@acme.example> via the on-call cockpit (INC-2026-0001)\n"
    )
    (ticket,) = TicketBook(store).tickets(incident.id)
    assert ticket.seen_comments == {issue.comments[0]["id"]}  # ours: never echoed back
    summaries = [e.summary for e in store.timeline(incident.id)]
    assert summaries[0] == "Jira comment sent: comment added to PAY-1"
    assert "restarted payments-api, errors down" in summaries


class LosesTheAnswer:
    """Posts the comment, then the connection drops before the answer (the in-doubt case)."""

    def __init__(self, tracker: JiraTracker) -> None:
        self.tracker = tracker
        self.name = "jira"
        self.lost = False

    def __getattr__(self, name: str) -> object:
        return getattr(self.tracker, name)

    async def comment(self, key: str, text: str) -> TicketComment:
        posted = await self.tracker.comment(key, text)
        if not self.lost:
            self.lost = True
            from cockpit.backends.base import Unreachable

            raise Unreachable("Jira: connection reset")
        return posted


async def test_a_comment_whose_answer_was_lost_is_not_posted_twice(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    cockpit = Cockpit(store, clock, tracker)
    await cockpit.actions.file_ticket(draft())
    await cockpit.sender.send_due()
    cockpit.sender.tracker = LosesTheAnswer(tracker)  # type: ignore[assignment]
    cockpit.actions.tracker = cockpit.sender.tracker  # type: ignore[assignment]
    await cockpit.actions.note("rolled back to v1.4.1", ticket_key="PAY-1")
    (lost,) = await cockpit.sender.send_due()
    assert lost[0].state == PENDING
    clock.advance(timedelta(seconds=6))
    (found,) = await cockpit.sender.send_due()
    assert found[0].state == SENT and found[1].message == "the comment was already on PAY-1"
    assert len(fake_jira.created()[0].comments) == 1


async def test_the_shift_report_counts_tickets_by_team(
    fake_jira: FakeJira,
    tracker: JiraTracker,
    store: SQLiteStore,
    clock: FrozenClock,
    incident: Incident,
) -> None:
    from cockpit.incident.report import build_report

    cockpit = Cockpit(store, clock, tracker)
    await cockpit.actions.file_ticket(draft())
    await cockpit.actions.file_ticket(draft(number=2))
    await cockpit.actions.file_ticket(draft(number=3, team="platform", project="PLAT"))
    await cockpit.sender.send_due()
    await cockpit.actions.note("a comment, not a ticket", ticket_key="PAY-1")
    await cockpit.sender.send_due()
    report = build_report(
        store, clock.now() - timedelta(hours=12), clock.now() + timedelta(minutes=1)
    )
    rows = [(f.metric, f.group, f.value) for f in report.figures if f.section == "Tickets"]
    assert rows == [
        ("bug tickets filed", "", 3),
        ("bug tickets filed by team", "payments", 2),
        ("bug tickets filed by team", "platform", 1),
    ]
