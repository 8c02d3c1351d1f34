"""The outbox's own rules: idempotent enqueue, backoff, the send loop, and surviving bugs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.backends.statuspage import StaticStatusPage
from cockpit.clock import FrozenClock
from cockpit.config import StatusPageConfig
from cockpit.domain import (
    ActionResult,
    CustomerUpdate,
    Escalation,
    EventKind,
    Incident,
    IncidentStatus,
    TimelineEvent,
)
from cockpit.incident.outbox import (
    CUSTOMER_UPDATE,
    ESCALATION,
    SENT,
    Outbox,
    OutboxSender,
    backoff,
    customer_update_payload,
    escalation_payload,
)
from cockpit.incident.store import SQLiteStore


def test_backoff_doubles_from_5s_to_a_5_minute_cap() -> None:
    assert [backoff(n) for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 300, 300]


def test_enqueue_same_key_is_one_item_and_survives_reopening(
    tmp_path: Path, clock: FrozenClock, incident: Incident, store: SQLiteStore
) -> None:
    outbox = Outbox(store)
    payload = escalation_payload(Escalation(incident.id, "db", "SEV1", "x"))
    first = outbox.enqueue(ESCALATION, incident.id, payload, "esc-1", clock.now())
    assert outbox.enqueue(ESCALATION, incident.id, {"other": 1}, "esc-1", clock.now()) == first
    again = SQLiteStore(store.path)  # another process opening the same file
    try:
        assert Outbox(again).pending() == [first]
        assert Outbox(again).get(first.id) == first
    finally:
        again.close()


class Broken:
    """A pager with a bug: the item must come back for a retry, not stay in flight."""

    name = "pager"

    def __init__(self) -> None:
        self.calls = 0

    async def escalate(self, escalation: Escalation) -> ActionResult:
        self.calls += 1
        if self.calls == 1:
            raise KeyError("oops")
        return ActionResult.success("paged", dedup_key=escalation.dedup_key)

    async def close(self) -> None:
        return None


async def test_a_backend_bug_is_retried_with_backoff(
    clock: FrozenClock, incident: Incident, store: SQLiteStore
) -> None:
    outbox = Outbox(store)
    pager = Broken()
    sender = OutboxSender(outbox, statuspage=None, pager=pager, clock=clock)
    payload = escalation_payload(Escalation(incident.id, "db", "SEV1", "x"))
    outbox.enqueue(ESCALATION, incident.id, payload, "esc-1", clock.now())
    [(item, result)] = await sender.send_due()
    assert not result.ok and item.state == "pending" and "unexpected KeyError" in item.last_error
    assert (
        sender.describe(clock.now())
        == "1 page pending: unexpected KeyError: 'oops', retrying in 5s"
    )
    clock.advance(timedelta(seconds=5))
    [(item, result)] = await sender.send_due()
    assert result.ok and item.state == SENT and pager.calls == 2


async def test_run_loop_sends_on_wake_and_stops(
    tmp_path: Path, clock: FrozenClock, incident: Incident, store: SQLiteStore
) -> None:
    page = StaticStatusPage(StatusPageConfig(), directory=tmp_path / "page", clock=clock)
    outbox = Outbox(store)
    results: list[ActionResult] = []
    sender = OutboxSender(
        outbox, statuspage=page, pager=None, clock=clock, on_result=lambda i, r: results.append(r)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await asyncio.sleep(0.1)  # the loop is now waiting (5 s when idle)
    update = CustomerUpdate(incident.id, IncidentStatus.INVESTIGATING, incident.title, "Hello.")
    outbox.enqueue(CUSTOMER_UPDATE, incident.id, customer_update_payload(update), "u", clock.now())
    sender.wake()
    async with asyncio.timeout(4):  # well before the idle poll: wake() did it
        while not results:
            await asyncio.sleep(0.02)
    assert results[0].ok and "Hello." in page.index_path.read_text()
    stop.set()
    async with asyncio.timeout(5):
        await task


class Pager:
    name = "pager"

    async def escalate(self, escalation: Escalation) -> ActionResult:
        return ActionResult.success("paged", dedup_key=escalation.dedup_key)

    async def close(self) -> None:
        return None


def _outcome(item: object, result: ActionResult) -> TimelineEvent:
    return TimelineEvent(
        FROZEN_AT,
        EventKind.ESCALATION,
        "outbox",
        "alice",
        f"sent: {result.message}",
        details={"outbox_id": item.id},  # type: ignore[attr-defined]
        incident_id="INC-2026-0001",
    )


async def test_the_outcome_and_its_timeline_event_commit_together(
    clock: FrozenClock, incident: Incident, store: SQLiteStore
) -> None:
    outbox = Outbox(store)
    payload = escalation_payload(Escalation(incident.id, "db", "SEV1", "x"))
    outbox.enqueue(ESCALATION, incident.id, payload, "esc-1", clock.now())
    seen: list[object] = []
    sender = OutboxSender(
        outbox,
        statuspage=None,
        pager=Pager(),
        clock=clock,
        timeline=_outcome,
        on_result=lambda item, _r: seen.append(item.event),
    )
    [(done, result)] = await sender.send_due()
    assert done.state == SENT and result.ok
    assert done.event is not None and done.event.id and seen == [done.event]
    assert [e.summary for e in store.timeline(incident.id)] == ["sent: paged"]


async def test_an_event_that_cannot_be_written_leaves_the_item_unsent(
    clock: FrozenClock, incident: Incident, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction: no "sent" without its event (the send is retried, and a pager's
    dedup_key makes the retry the same page)."""
    outbox = Outbox(store)
    payload = escalation_payload(Escalation(incident.id, "db", "SEV1", "x"))
    item = outbox.enqueue(ESCALATION, incident.id, payload, "esc-1", clock.now())

    def disk_full(db: object, event: TimelineEvent) -> TimelineEvent:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "add_event_in", disk_full)
    sending = outbox.mark_sending(item)
    with pytest.raises(OSError):
        outbox.mark_sent(sending, clock.now(), {"dedup_key": "k"}, event=_outcome(item, OK))
    assert outbox._must(item.id).state == "sending"  # rolled back: still in doubt, not lost
    assert store.timeline(incident.id) == []


OK = ActionResult.success("paged")
FROZEN_AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
