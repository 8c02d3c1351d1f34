"""Bug tickets of incidents: which were filed (key, URL), and following them by polling.

The cockpit on a jump host cannot receive Jira's webhooks, so every `[jira] poll` the
open tickets of open incidents are re-read. A status change, a new assignee and each
new developer comment land on the incident's timeline once: the events and the
ticket's new state (its status, the comment ids already seen) are committed in one
transaction, so a crash can neither lose nor repeat one. Comments the cockpit wrote
itself (`n` on a ticket row) are marked seen when they are sent.

The table lives in the incident store's SQLite file, next to the outbox.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cockpit.backends import jira_adf
from cockpit.backends.base import AuthError, BackendError, Forbidden, RateLimited, TicketTracker
from cockpit.clock import Clock
from cockpit.domain import (
    EventKind,
    IncidentStatus,
    Ticket,
    TicketState,
    TimelineEvent,
)
from cockpit.incident.store import SQLiteStore, insert_event

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    incident_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    key TEXT NOT NULL,
    remote_id TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL DEFAULT '',
    team TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    status_category TEXT NOT NULL DEFAULT '',
    assignee TEXT NOT NULL DEFAULT '',
    seen_comments TEXT NOT NULL DEFAULT '[]',
    filed_at TEXT NOT NULL,
    polled_at TEXT,
    poll_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, number)
);
CREATE INDEX IF NOT EXISTS tickets_by_key ON tickets(key);
"""


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class TicketRecord:
    incident_id: str
    number: int
    key: str
    url: str
    project: str
    team: str = ""
    status: str = ""
    status_category: str = ""
    assignee: str = ""
    seen_comments: frozenset[str] = field(default_factory=frozenset)
    filed_at: datetime | None = None
    polled_at: datetime | None = None
    poll_error: str = ""

    @property
    def done(self) -> bool:
        return self.status_category == "done"

    def describe(self) -> str:
        """`PAY-123 In Progress (Dev Bob)` for the incident panel."""
        line = self.key + (f" {self.status}" if self.status else " filed")
        if self.assignee:
            line += f" ({self.assignee})"
        if self.poll_error:
            line += f" · not re-read: {self.poll_error}"
        return line


def ensure_schema(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def record_filed(
    db: sqlite3.Connection,
    *,
    incident_id: str,
    number: int,
    ticket: Ticket,
    project: str,
    team: str,
    now: datetime,
) -> None:
    """Inside the outbox's mark-sent transaction: the ticket is known from then on."""
    db.execute(
        "INSERT OR IGNORE INTO tickets (incident_id, number, key, remote_id, url, project, team,"
        " filed_at) VALUES (?,?,?,?,?,?,?,?)",
        (incident_id, number, ticket.key, ticket.id, ticket.url, project, team, _ts(now)),
    )


def record_own_comment(db: sqlite3.Connection, key: str, comment_id: str) -> None:
    """A comment the cockpit wrote is no developer's news: mark it seen."""
    for row in db.execute(
        "SELECT incident_id, number, seen_comments FROM tickets WHERE key=?", (key,)
    ):
        seen = set(json.loads(row["seen_comments"] or "[]")) | {comment_id}
        db.execute(
            "UPDATE tickets SET seen_comments=? WHERE incident_id=? AND number=?",
            (json.dumps(sorted(seen)), row["incident_id"], row["number"]),
        )


class TicketBook:
    """The tickets table: read, and apply what a poll found."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        with store.transaction() as db:
            ensure_schema(db)

    def tickets(self, incident_id: str) -> list[TicketRecord]:
        rows = self.store.query(
            "SELECT * FROM tickets WHERE incident_id=? ORDER BY number", (incident_id,)
        )
        return [_record(r) for r in rows]

    def by_key(self, key: str) -> TicketRecord | None:
        rows = self.store.query("SELECT * FROM tickets WHERE key=? LIMIT 1", (key,))
        return _record(rows[0]) if rows else None

    def open_tickets(self) -> list[TicketRecord]:
        """Tickets not done, of incidents not resolved: what a poll re-reads."""
        rows = self.store.query(
            "SELECT t.* FROM tickets t JOIN incidents i ON i.id = t.incident_id"
            " WHERE i.status != ? AND t.status_category != 'done' ORDER BY t.filed_at",
            (IncidentStatus.RESOLVED.value,),
        )
        return [_record(r) for r in rows]

    def counts_by_team(self, since: datetime | None = None) -> dict[str, int]:
        """Tickets filed per team (the shift report's line), '' for no team."""
        sql = "SELECT team, COUNT(*) AS n FROM tickets"
        params: tuple[Any, ...] = ()
        if since is not None:
            sql += " WHERE filed_at >= ?"
            params = (_ts(since),)
        rows = self.store.query(sql + " GROUP BY team ORDER BY team", params)
        return {str(r["team"]): int(r["n"]) for r in rows}

    def mark_poll_error(self, ticket: TicketRecord, error: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE tickets SET poll_error=? WHERE incident_id=? AND number=?",
                (error[:200], ticket.incident_id, ticket.number),
            )

    def apply(
        self,
        ticket: TicketRecord,
        state: TicketState,
        now: datetime,
        *,
        skip_comment: Callable[[str], bool] = lambda body: False,
    ) -> list[TimelineEvent]:
        """What changed since the last poll, as timeline events, committed with the new state.

        The ticket's row is read again inside the transaction: the outbox may have marked
        one of our comments seen while Jira was being read, and that must not be lost."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT * FROM tickets WHERE incident_id=? AND number=?",
                (ticket.incident_id, ticket.number),
            ).fetchone()
            current = _record(row) if row is not None else ticket
            events, seen = self._changes(current, state, now, skip_comment)
            committed = [insert_event(db, item) for item in events]
            db.execute(
                "UPDATE tickets SET status=?, status_category=?, assignee=?, seen_comments=?,"
                " polled_at=?, poll_error='' WHERE incident_id=? AND number=?",
                (
                    state.status or current.status,
                    state.status_category or current.status_category,
                    state.assignee,
                    json.dumps(sorted(seen)),
                    _ts(now),
                    ticket.incident_id,
                    ticket.number,
                ),
            )
        return committed

    @staticmethod
    def _changes(
        ticket: TicketRecord,
        state: TicketState,
        now: datetime,
        skip_comment: Callable[[str], bool],
    ) -> tuple[list[TimelineEvent], set[str]]:
        events: list[TimelineEvent] = []

        def event(summary: str, actor: str, **details: Any) -> None:
            events.append(
                TimelineEvent(
                    at=now,
                    kind=EventKind.TICKET,
                    source="jira",
                    actor=actor,
                    summary=summary,
                    details={"key": ticket.key, "url": ticket.url, **details},
                    incident_id=ticket.incident_id,
                )
            )

        first_read = not ticket.status
        if state.status and state.status != ticket.status and not first_read:
            event(
                f"{ticket.key} status: {state.status} (was {ticket.status})",
                "jira",
                status=state.status,
                previous=ticket.status,
            )
        if state.assignee and state.assignee != ticket.assignee:
            event(f"{ticket.key} assigned to {state.assignee}", "jira", assignee=state.assignee)
        seen = set(ticket.seen_comments)
        for comment in state.comments:
            if comment.id in seen:
                continue
            if skip_comment(comment.body):
                continue  # ours, still in the outbox: marked seen when it is marked sent
            seen.add(comment.id)
            lines = comment.body.strip().splitlines()
            first = lines[0] if lines else ""
            more = " …" if len(lines) > 1 else ""
            event(
                f"{ticket.key} comment by {comment.author}: {first[:200]}{more}",
                comment.author,
                comment_id=comment.id,
                comment=comment.body,
                created=comment.created,
            )
        return events, seen


class TicketFollower:
    """One poll round over the open tickets; the feed calls poll() every `[jira] poll`."""

    def __init__(
        self,
        tracker: TicketTracker,
        book: TicketBook,
        clock: Clock,
        *,
        pending_comments: Callable[[str], Iterable[str]] = lambda key: (),
    ) -> None:
        self.tracker = tracker
        self.book = book
        self.clock = clock
        self.pending_comments = pending_comments  # key -> bodies the outbox has in flight

    async def poll(self) -> list[TimelineEvent]:
        """Re-read every open ticket. A ticket that fails is marked and skipped; a refused
        token or a rate limit ends the round (the next ones would fail the same way)."""
        events: list[TimelineEvent] = []
        for ticket in self.book.open_tickets():
            try:
                state = await self.tracker.read(ticket.key)
            except (AuthError, Forbidden, RateLimited) as exc:
                self.book.mark_poll_error(ticket, str(exc))
                raise
            except BackendError as exc:
                self.book.mark_poll_error(ticket, str(exc))
                continue
            key = ticket.key

            def ours_in_flight(body: str, key: str = key) -> bool:
                # asked at commit time: the outbox may have sent it during the read
                return any(same_comment(sent, body) for sent in self.pending_comments(key))

            events.extend(
                self.book.apply(ticket, state, self.clock.now(), skip_comment=ours_in_flight)
            )
        return events


def _norm(text: str) -> str:
    return " ".join(text.split())


def read_back(markdown: str) -> set[str]:
    """How a comment we sent reads back (Cloud: ADF as text; Data Center: wiki), normalised."""
    document = jira_adf.from_text(markdown)
    return {_norm(jira_adf.to_plain(document)), _norm(jira_adf.to_wiki(document))}


def same_comment(markdown: str, body: str) -> bool:
    return _norm(body) in read_back(markdown)


def _record(row: sqlite3.Row) -> TicketRecord:
    polled = row["polled_at"]
    return TicketRecord(
        incident_id=row["incident_id"],
        number=int(row["number"]),
        key=row["key"],
        url=row["url"],
        project=row["project"],
        team=row["team"],
        status=row["status"],
        status_category=row["status_category"],
        assignee=row["assignee"],
        seen_comments=frozenset(json.loads(row["seen_comments"] or "[]")),
        filed_at=datetime.fromisoformat(row["filed_at"]),
        polled_at=datetime.fromisoformat(polled) if polled else None,
        poll_error=row["poll_error"],
    )
