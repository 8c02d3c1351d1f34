"""Durable outbound writes: every customer update and page is recorded first, then sent.

An item is committed as `pending`, marked `sending` (with its attempt counted) just
before the backend is called, and `sent` or `failed_permanent` after. An item found
in `sending` when a sender starts was in flight when the process died: the remote
system may or may not have it. For Statuspage the sender looks at the remote
incident's updates and skips the send when the body is already there; for PagerDuty
the dedup_key `<incident>:<team>` makes a repeat harmless; for a Jira ticket the label
`cockpit-<incident>-<n>` is searched before it is filed again, and a Jira comment is
looked for among the issue's comments before it is posted again.

Customer updates of one incident go out in the order they were enqueued: the first
one opens the remote incident (its id is kept in `remote_ids`) and a later one waits
while an earlier one is still pending.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from cockpit.backends.base import BackendError, Pager, RateLimited, StatusPage, TicketTracker
from cockpit.backends.http import clamp_retry
from cockpit.clock import Clock
from cockpit.domain import (
    ActionResult,
    CustomerUpdate,
    Escalation,
    Incident,
    IncidentStatus,
    Ticket,
    TicketDraft,
    TimelineEvent,
    frozen_map,
)
from cockpit.incident import tickets as ticket_table
from cockpit.incident.store import SQLiteStore

CUSTOMER_UPDATE = "customer_update"
ESCALATION = "escalation"
TICKET = "ticket"  # a bug ticket for the developers (Jira)
TICKET_COMMENT = "ticket_comment"  # a note that goes to the ticket as a comment
KINDS = (CUSTOMER_UPDATE, ESCALATION, TICKET, TICKET_COMMENT)

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed_permanent"

# a ticket whose create may have landed is searched twice, this far apart, before it is
# filed again (Jira's search lags behind a create by seconds)
SEARCH_SETTLE = 30.0
NOT_FOUND_YET = "Jira: no ticket found yet with label"

BACKOFF_FIRST = 5.0
BACKOFF_MAX = 300.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    result_ids TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox(state, next_attempt_at);
CREATE TABLE IF NOT EXISTS remote_ids (
    incident_id TEXT NOT NULL,
    system TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    PRIMARY KEY (incident_id, system)
);
"""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    kind: str
    incident_id: str
    idempotency_key: str
    payload: Mapping[str, Any]
    state: str
    attempts: int
    last_error: str
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None = None
    result_ids: Mapping[str, str] = field(default_factory=dict)
    # the timeline event committed with the final outcome (sent or failed for good), if any
    event: TimelineEvent | None = None

    @property
    def is_pending(self) -> bool:
        return self.state in (PENDING, SENDING)


@runtime_checkable
class UpdateLookup(Protocol):
    """A status page that can tell whether an update already reached it (crash recovery)."""

    async def find_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> str | None:
        """The remote incident id when this update's body is already posted, else None."""
        ...


def _ts(value: datetime) -> str:
    from datetime import UTC

    return value.astimezone(UTC).isoformat()


def customer_update_payload(update: CustomerUpdate) -> dict[str, Any]:
    return {
        "incident_id": update.incident_id,
        "status": update.status.value,
        "title": update.title,
        "body": update.body,
        "components": list(update.components),
        "notify": update.notify,
        "next_update_due": update.next_update_due.isoformat() if update.next_update_due else None,
    }


def customer_update_from(payload: Mapping[str, Any]) -> CustomerUpdate:
    return CustomerUpdate(
        incident_id=str(payload["incident_id"]),
        status=IncidentStatus(payload["status"]),
        title=str(payload.get("title", "")),
        body=str(payload.get("body", "")),
        components=tuple(payload.get("components", ())),
        notify=bool(payload.get("notify", True)),
        next_update_due=(
            datetime.fromisoformat(payload["next_update_due"])
            if payload.get("next_update_due")
            else None
        ),
    )


def escalation_payload(escalation: Escalation) -> dict[str, Any]:
    return {
        "incident_id": escalation.incident_id,
        "team": escalation.team,
        "severity": escalation.severity,
        "summary": escalation.summary,
        "latest_note": escalation.latest_note,
        "escalated_by": escalation.escalated_by,
        "evidence": dict(escalation.evidence),
        "reason": escalation.reason,
    }


def escalation_from(payload: Mapping[str, Any]) -> Escalation:
    return Escalation(
        incident_id=str(payload["incident_id"]),
        team=str(payload["team"]),
        severity=str(payload.get("severity", "")),
        summary=str(payload.get("summary", "")),
        latest_note=str(payload.get("latest_note", "")),
        escalated_by=str(payload.get("escalated_by", "")),
        evidence=dict(payload.get("evidence", {})),
        reason=str(payload.get("reason", "")),
    )


def ticket_payload(draft: TicketDraft) -> dict[str, Any]:
    return {
        "incident_id": draft.incident_id,
        "number": draft.number,
        "project": draft.project,
        "issue_type": draft.issue_type,
        "summary": draft.summary,
        "description": draft.description,
        "priority": draft.priority,
        "labels": list(draft.labels),
        "team": draft.team,
        "filed_by": draft.filed_by,
    }


def ticket_draft_from(payload: Mapping[str, Any]) -> TicketDraft:
    return TicketDraft(
        incident_id=str(payload["incident_id"]),
        number=int(payload["number"]),
        project=str(payload["project"]),
        issue_type=str(payload.get("issue_type", "Bug")),
        summary=str(payload.get("summary", "")),
        description=str(payload.get("description", "")),
        priority=str(payload.get("priority", "")),
        labels=tuple(payload.get("labels", ())),
        team=str(payload.get("team", "")),
        filed_by=str(payload.get("filed_by", "")),
    )


def ticket_comment_payload(incident_id: str, key: str, text: str) -> dict[str, Any]:
    return {"incident_id": incident_id, "key": key, "text": text}


def backoff(attempts: int) -> float:
    """5 s, 10 s, 20 s ... capped at 5 minutes, for the attempt that just failed (1-based)."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


class Outbox:
    """The outbox table in the incident store's SQLite file."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        with store.transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            ticket_table.ensure_schema(db)

    # ----------------------------------------------------------------- writes

    def enqueue(
        self,
        kind: str,
        incident_id: str,
        payload: Mapping[str, Any],
        idempotency_key: str,
        now: datetime,
    ) -> OutboxItem:
        """Record an outbound write; the same idempotency key returns the existing item."""
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r} (expected one of {', '.join(KINDS)})")
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO outbox (kind, incident_id, idempotency_key, payload, state,"
                " attempts, last_error, next_attempt_at, created_at, result_ids)"
                " VALUES (?,?,?,?,?,0,'',?,?,'{}')",
                (
                    kind,
                    incident_id,
                    idempotency_key,
                    json.dumps(dict(payload), default=str, sort_keys=True),
                    PENDING,
                    _ts(now),
                    _ts(now),
                ),
            )
            row = db.execute(
                "SELECT * FROM outbox WHERE idempotency_key=?", (idempotency_key,)
            ).fetchone()
        return _item(row)

    def claim(self, item: OutboxItem) -> OutboxItem | None:
        """Take the item for sending. One process owns a SQLite file: always granted."""
        return self.mark_sending(item)

    def mark_sending(self, item: OutboxItem) -> OutboxItem:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE outbox SET state=?, attempts=attempts+1 WHERE id=?", (SENDING, item.id)
            )
        return self._must(item.id)

    def mark_sent(
        self,
        item: OutboxItem,
        now: datetime,
        ids: Mapping[str, str],
        event: TimelineEvent | None = None,
    ) -> OutboxItem:
        """Sent; `event` (the timeline's record of it) is committed in the same transaction."""
        stored = None
        with self.store.transaction() as db:
            db.execute(
                "UPDATE outbox SET state=?, sent_at=?, last_error='', result_ids=? WHERE id=?",
                (SENT, _ts(now), json.dumps(dict(ids), sort_keys=True), item.id),
            )
            remote = ids.get("remote_id")
            if item.kind == CUSTOMER_UPDATE and remote:
                db.execute(
                    "INSERT OR REPLACE INTO remote_ids (incident_id, system, remote_id)"
                    " VALUES (?,?,?)",
                    (item.incident_id, "statuspage", remote),
                )
            if item.kind == TICKET and ids.get("key"):
                # the ticket is known (panel, follow) in the same commit as "sent"
                ticket_table.record_filed(
                    db,
                    incident_id=item.incident_id,
                    number=int(item.payload.get("number", 0)),
                    ticket=Ticket(ids["key"], ids.get("ticket_id", ""), ids.get("url", "")),
                    project=str(item.payload.get("project", "")),
                    team=str(item.payload.get("team", "")),
                    now=now,
                )
                db.execute(
                    "INSERT OR REPLACE INTO remote_ids (incident_id, system, remote_id)"
                    " VALUES (?,?,?)",
                    (item.incident_id, "jira", ids["key"]),
                )
            if item.kind == TICKET_COMMENT and ids.get("comment_id"):
                ticket_table.record_own_comment(db, str(item.payload["key"]), ids["comment_id"])
            if event is not None:
                stored = self.store.add_event_in(db, event)
        return dataclasses.replace(self._must(item.id), event=stored)

    def mark_failed(
        self,
        item: OutboxItem,
        error: str,
        *,
        retry_at: datetime | None,
        event: TimelineEvent | None = None,
    ) -> OutboxItem:
        """retry_at None: failed for good (with `event` in the same transaction); else
        pending again from that time."""
        stored = None
        with self.store.transaction() as db:
            if retry_at is None:
                db.execute(
                    "UPDATE outbox SET state=?, last_error=? WHERE id=?", (FAILED, error, item.id)
                )
                if event is not None:
                    stored = self.store.add_event_in(db, event)
            else:
                db.execute(
                    "UPDATE outbox SET state=?, last_error=?, next_attempt_at=? WHERE id=?",
                    (PENDING, error, _ts(retry_at), item.id),
                )
        return dataclasses.replace(self._must(item.id), event=stored)

    def set_remote_id(self, incident_id: str, system: str, remote_id: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO remote_ids (incident_id, system, remote_id) VALUES (?,?,?)",
                (incident_id, system, remote_id),
            )

    # ----------------------------------------------------------------- reads

    def remote_id(self, incident_id: str, system: str = "statuspage") -> str | None:
        rows = self.store.query(
            "SELECT remote_id FROM remote_ids WHERE incident_id=? AND system=?",
            (incident_id, system),
        )
        return str(rows[0]["remote_id"]) if rows else None

    def get(self, item_id: int) -> OutboxItem | None:
        rows = self.store.query("SELECT * FROM outbox WHERE id=?", (item_id,))
        return _item(rows[0]) if rows else None

    def pending(self) -> list[OutboxItem]:
        """Items not yet sent (including any in flight when the process died), oldest first."""
        rows = self.store.query(
            "SELECT * FROM outbox WHERE state IN (?,?) ORDER BY id", (PENDING, SENDING)
        )
        return [_item(r) for r in rows]

    def items(self, incident_id: str) -> list[OutboxItem]:
        rows = self.store.query(
            "SELECT * FROM outbox WHERE incident_id=? ORDER BY id", (incident_id,)
        )
        return [_item(r) for r in rows]

    def _must(self, item_id: int) -> OutboxItem:
        item = self.get(item_id)
        if item is None:  # pragma: no cover - rows are never deleted
            raise LookupError(f"outbox item {item_id} vanished")
        return item


def _item(row: sqlite3.Row) -> OutboxItem:
    sent = row["sent_at"]
    return OutboxItem(
        id=int(row["id"]),
        kind=row["kind"],
        incident_id=row["incident_id"],
        idempotency_key=row["idempotency_key"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=int(row["attempts"]),
        last_error=row["last_error"] or "",
        next_attempt_at=datetime.fromisoformat(row["next_attempt_at"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        sent_at=datetime.fromisoformat(sent) if sent else None,
        result_ids=frozen_map(json.loads(row["result_ids"] or "{}")),
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _seconds(delta: timedelta) -> str:
    total = max(int(delta.total_seconds() + 0.999), 0)
    if total < 60:
        return f"{total}s"
    minutes, seconds = divmod(total, 60)
    return f"{minutes}m{seconds:02d}s" if seconds else f"{minutes}m"


def open_outbox(store: Any) -> Any:
    """The outbox that lives with this store: the shared one on PostgreSQL, else SQLite's."""
    if getattr(store, "kind", "") == "postgresql":
        from cockpit.incident.postgres.outbox import SharedOutbox

        return SharedOutbox(store)
    return Outbox(store)


class OutboxSender:
    """Sends due outbox items; one send_due at a time per sender."""

    def __init__(
        self,
        outbox: Any,  # Outbox, or the shared one (cockpit.incident.postgres.outbox)
        *,
        statuspage: StatusPage | None,
        pager: Pager | None,
        clock: Clock,
        on_result: Callable[[OutboxItem, ActionResult], None] | None = None,
        tracker: TicketTracker | None = None,
        timeline: Callable[[OutboxItem, ActionResult], TimelineEvent | None] | None = None,
    ) -> None:
        self.outbox = outbox
        # builds the timeline event of a final outcome; it is committed with the outcome
        self.timeline = timeline
        self.statuspage = statuspage
        self.pager = pager
        self.tracker = tracker
        self.clock = clock
        self.on_result = on_result
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self.loop_error = ""  # why the last send_due itself failed (e.g. the disk is full)

    def wake(self) -> None:
        """Send now rather than at the next poll (call after enqueue)."""
        self._wake.set()

    async def send_due(self) -> list[tuple[OutboxItem, ActionResult]]:
        async with self._lock:
            results: list[tuple[OutboxItem, ActionResult]] = []
            blocked: set[str] = set()  # incidents whose earlier customer update is not sent
            for item in self.outbox.pending():
                if item.kind == CUSTOMER_UPDATE:
                    if item.incident_id in blocked:
                        continue
                    blocked.add(item.incident_id)  # cleared below once this one is sent
                if item.state == PENDING and item.next_attempt_at > self.clock.now():
                    continue
                sent = await self._send(item)
                if sent is None:  # another cockpit holds it: it is theirs to send
                    continue
                done, result = sent
                if done.state == SENT:
                    blocked.discard(item.incident_id)
                results.append((done, result))
                if self.on_result is not None:
                    self.on_result(done, result)
            return results

    async def _send(self, item: OutboxItem) -> tuple[OutboxItem, ActionResult] | None:
        claimed = self.outbox.claim(item)
        if claimed is None:
            return None
        # an earlier attempt (here, or by a cockpit whose lease expired) may have gone out
        in_doubt = item.state == SENDING or item.attempts > 0 or claimed.attempts > 1
        item = claimed
        try:
            if item.kind == CUSTOMER_UPDATE:
                result = await self._send_update(item, in_doubt=in_doubt)
            elif item.kind == ESCALATION:
                result = await self._send_escalation(item)
            elif item.kind == TICKET:
                result = await self._send_ticket(item, in_doubt=in_doubt)
            elif item.kind == TICKET_COMMENT:
                result = await self._send_ticket_comment(item, in_doubt=in_doubt)
            else:  # pragma: no cover - enqueue refuses other kinds
                raise _Permanent(f"unknown outbox kind {item.kind!r}")
            if not result.ok:  # a backend that reports failure instead of raising
                raise BackendError(result.message)
        except _Permanent as exc:
            failed = ActionResult.failure(str(exc))
            done = self.outbox.mark_failed(
                item, str(exc), retry_at=None, event=self._event(item, failed)
            )
            return done, failed
        except Exception as exc:  # whatever broke, the item must not stay in flight
            message = str(exc) or type(exc).__name__
            if not isinstance(exc, BackendError):
                message = f"unexpected {type(exc).__name__}: {message}"[:200]
            elif not exc.retryable:
                failed = ActionResult.failure(f"{_what(item)} failed: {message}")
                done = self.outbox.mark_failed(
                    item, message, retry_at=None, event=self._event(item, failed)
                )
                return done, failed
            delay = backoff(item.attempts)
            if isinstance(exc, RateLimited):
                delay = clamp_retry(float(exc.retry_after))
            retry_at = self.clock.now() + timedelta(seconds=delay)
            done = self.outbox.mark_failed(item, message, retry_at=retry_at)
            wait = _seconds(retry_at - self.clock.now())
            return done, ActionResult.failure(
                f"{_what(item)} not sent yet: {message}, retrying in {wait}"
            )
        done = self.outbox.mark_sent(
            item, self.clock.now(), result.ids, event=self._event(item, result)
        )
        return done, result

    def _event(self, item: OutboxItem, result: ActionResult) -> TimelineEvent | None:
        return self.timeline(item, result) if self.timeline is not None else None

    async def _send_update(self, item: OutboxItem, *, in_doubt: bool) -> ActionResult:
        if self.statuspage is None:
            raise BackendError("no status page is configured")
        incident = self.outbox.store.get_incident(item.incident_id)
        if incident is None:
            raise _Permanent(f"customer update for unknown incident {item.incident_id}")
        update = customer_update_from(item.payload)
        remote_id = self.outbox.remote_id(item.incident_id)
        if in_doubt and isinstance(self.statuspage, UpdateLookup):
            # The last attempt may have reached the page before we lost the answer.
            found = await self.statuspage.find_update(incident, update, remote_id=remote_id)
            if found:
                return ActionResult.success(
                    f"customer update was already on the status page ({found})", remote_id=found
                )
        return await self.statuspage.post_update(incident, update, remote_id=remote_id)

    async def _send_escalation(self, item: OutboxItem) -> ActionResult:
        if self.pager is None:
            raise BackendError("no pager is configured")
        return await self.pager.escalate(escalation_from(item.payload))

    async def _send_ticket(self, item: OutboxItem, *, in_doubt: bool) -> ActionResult:
        if self.tracker is None:
            raise BackendError("Jira is not configured ([jira])")
        draft = ticket_draft_from(item.payload)
        if in_doubt and not item.last_error.startswith("Jira: 429"):  # a 429 filed nothing
            # The last attempt may have filed it before the answer was lost: its label says.
            found = await self.tracker.find(draft)
            if found is not None:
                return _filed(found, draft, f"{found.key} was already filed: {found.url}")
            if not item.last_error.startswith(NOT_FOUND_YET):
                # Jira's search/jql is eventually consistent: a ticket filed seconds ago may
                # not show yet. Look once more after a while before filing it again.
                raise RateLimited(
                    f"{NOT_FOUND_YET} {draft.label}; searching again before filing it",
                    SEARCH_SETTLE,
                )
        ticket = await self.tracker.create(draft)
        what = f"{draft.issue_type} in {draft.project}"
        return _filed(ticket, draft, f"filed {ticket.key} ({what}): {ticket.url}")

    async def _send_ticket_comment(self, item: OutboxItem, *, in_doubt: bool) -> ActionResult:
        if self.tracker is None:
            raise BackendError("Jira is not configured ([jira])")
        key, body = str(item.payload["key"]), str(item.payload["text"])
        if in_doubt:
            state = await self.tracker.read(key)
            for comment in state.comments:
                if ticket_table.same_comment(body, comment.body):
                    return ActionResult.success(
                        f"the comment was already on {key}", key=key, comment_id=comment.id
                    )
        posted = await self.tracker.comment(key, body)
        return ActionResult.success(f"comment added to {key}", key=key, comment_id=posted.id)

    def pending_comments(self, key: str) -> list[str]:
        """Comment bodies for this ticket still in the outbox (the follower skips them)."""
        return [
            str(i.payload.get("text", ""))
            for i in self.outbox.pending()
            if i.kind == TICKET_COMMENT and i.payload.get("key") == key
        ]

    async def run(self, stop: asyncio.Event) -> None:
        """Send due items until stop is set; errors stay in the outbox, never escape."""
        while not stop.is_set():
            try:
                await self.send_due()
                self.loop_error = ""
            except Exception as exc:  # a store hiccup must not end the loop
                self.loop_error = f"outbox: {exc}"
            timeout = self._next_wait()
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    def _next_wait(self) -> float:
        pending = [i for i in self.outbox.pending() if i.state == PENDING]
        if not pending:
            return 5.0
        soonest = min(i.next_attempt_at for i in pending)
        return min(max((soonest - self.clock.now()).total_seconds(), 0.05), 5.0)

    def describe(self, now: datetime) -> str:
        """One line for the screen: '' when nothing is waiting."""
        pending = self.outbox.pending()
        if not pending:
            return self.loop_error
        updates = sum(1 for i in pending if i.kind == CUSTOMER_UPDATE)
        pages = sum(1 for i in pending if i.kind == ESCALATION)
        tickets = sum(1 for i in pending if i.kind == TICKET)
        comments = sum(1 for i in pending if i.kind == TICKET_COMMENT)
        parts = []
        if updates:
            parts.append(_plural(updates, "update"))
        if pages:
            parts.append(_plural(pages, "page"))
        if tickets:
            parts.append(_plural(tickets, "ticket"))
        if comments:
            parts.append(_plural(comments, "Jira comment"))
        line = " and ".join(parts) + " pending"
        failing = [i for i in pending if i.last_error]
        if failing:
            first = min(failing, key=lambda i: i.next_attempt_at)
            wait = first.next_attempt_at - now
            when = f"retrying in {_seconds(wait)}" if wait.total_seconds() > 0 else "retrying now"
            line += f": {first.last_error}, {when}"
        return line


class _Permanent(BackendError):
    retryable = False


def _filed(ticket: Ticket, draft: TicketDraft, message: str) -> ActionResult:
    return ActionResult.success(
        message,
        key=ticket.key,
        url=ticket.url,
        ticket_id=ticket.id,
        project=draft.project,
        team=draft.team,
    )


def _what(item: OutboxItem) -> str:
    if item.kind == CUSTOMER_UPDATE:
        return "customer update"
    if item.kind == TICKET:
        return f"Jira ticket for {item.payload.get('project', '?')}"
    if item.kind == TICKET_COMMENT:
        return f"Jira comment on {item.payload.get('key', '?')}"
    return f"page to {item.payload.get('team', '?')}"
