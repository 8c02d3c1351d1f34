"""The durable incident record: incidents, their timeline events and the shift log.

SQLite in WAL mode, one file. Every write is committed before it returns, so an
event the screen shows survives a SIGKILL. The IncidentStore protocol is all the
rest of the cockpit sees; a shared PostgreSQL store can implement it later.

Events whose incident_id is NULL form the shift log: what happened while no
incident was open. Declaring an incident adopts the shift log's recent events.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cockpit.domain import (
    EventKind,
    Incident,
    IncidentStatus,
    Severity,
    TimelineEvent,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    commander TEXT NOT NULL,
    started_at TEXT NOT NULL,
    resolved_at TEXT,
    components TEXT NOT NULL DEFAULT '[]',
    last_customer_update_at TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT REFERENCES incidents(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    summary TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    pinned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_by_incident ON events(incident_id, at);
"""


def _ts(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class IncidentStore(Protocol):
    """What the action layer and the UI need from the incident record."""

    def next_incident_id(self, now: datetime) -> str: ...

    def create_incident(self, incident: Incident) -> Incident: ...

    def update_incident(self, incident: Incident) -> Incident: ...

    def get_incident(self, incident_id: str) -> Incident | None: ...

    def current_incident(self) -> Incident | None: ...

    def incidents(self, limit: int = 50) -> list[Incident]: ...

    def add_event(self, event: TimelineEvent) -> TimelineEvent: ...

    def timeline(self, incident_id: str | None, limit: int = 500) -> list[TimelineEvent]: ...

    def adopt_shift_log(self, incident_id: str, since: datetime) -> int: ...

    def close(self) -> None: ...


class SQLiteStore:
    """IncidentStore on SQLite (WAL). Safe to call from several threads."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed event is on disk before add_event returns (SIGKILL-safe).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, params))

    # ----------------------------------------------------------------- incidents

    def next_incident_id(self, now: datetime) -> str:
        prefix = f"INC-{now.year}-"
        rows = self.query(
            "SELECT id FROM incidents WHERE id LIKE ? ORDER BY id DESC LIMIT 1", (prefix + "%",)
        )
        number = int(rows[0]["id"].rsplit("-", 1)[1]) + 1 if rows else 1
        return f"{prefix}{number:04d}"

    def create_incident(self, incident: Incident) -> Incident:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO incidents VALUES (?,?,?,?,?,?,?,?,?)",
                self._incident_row(incident),
            )
        return incident

    def update_incident(self, incident: Incident) -> Incident:
        with self.transaction() as db:
            row = self._incident_row(incident)
            db.execute(
                "UPDATE incidents SET title=?, severity=?, status=?, commander=?, started_at=?,"
                " resolved_at=?, components=?, last_customer_update_at=? WHERE id=?",
                (*row[1:], row[0]),
            )
        return incident

    def get_incident(self, incident_id: str) -> Incident | None:
        rows = self.query("SELECT * FROM incidents WHERE id=?", (incident_id,))
        return self._incident(rows[0]) if rows else None

    def current_incident(self) -> Incident | None:
        rows = self.query(
            "SELECT * FROM incidents WHERE status != ? ORDER BY started_at DESC LIMIT 1",
            (IncidentStatus.RESOLVED.value,),
        )
        return self._incident(rows[0]) if rows else None

    def incidents(self, limit: int = 50) -> list[Incident]:
        rows = self.query("SELECT * FROM incidents ORDER BY started_at DESC LIMIT ?", (limit,))
        return [self._incident(r) for r in rows]

    # ----------------------------------------------------------------- timeline

    def add_event(self, event: TimelineEvent) -> TimelineEvent:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO events (incident_id, at, kind, source, actor, summary, details,"
                " pinned) VALUES (?,?,?,?,?,?,?,?)",
                (
                    event.incident_id,
                    _ts(event.at),
                    event.kind.value,
                    event.source,
                    event.actor,
                    event.summary,
                    json.dumps(dict(event.details), default=str, sort_keys=True),
                    int(event.pinned),
                ),
            )
        return _replace_id(event, int(cursor.lastrowid or 0))

    def timeline(self, incident_id: str | None, limit: int = 500) -> list[TimelineEvent]:
        """Newest first."""
        if incident_id is None:
            rows = self.query(
                "SELECT * FROM events WHERE incident_id IS NULL ORDER BY at DESC, id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = self.query(
                "SELECT * FROM events WHERE incident_id=? ORDER BY at DESC, id DESC LIMIT ?",
                (incident_id, limit),
            )
        return [self._event(r) for r in rows]

    def adopt_shift_log(self, incident_id: str, since: datetime) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE events SET incident_id=? WHERE incident_id IS NULL AND at >= ?",
                (incident_id, _ts(since)),
            )
        return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------- rows

    @staticmethod
    def _incident_row(incident: Incident) -> tuple[Any, ...]:
        return (
            incident.id,
            incident.title,
            incident.severity.value,
            incident.status.value,
            incident.commander,
            _ts(incident.started_at),
            _ts(incident.resolved_at),
            json.dumps(list(incident.components)),
            _ts(incident.last_customer_update_at),
        )

    @staticmethod
    def _incident(row: sqlite3.Row) -> Incident:
        started = _dt(row["started_at"])
        assert started is not None
        return Incident(
            id=row["id"],
            title=row["title"],
            severity=Severity(row["severity"]),
            status=IncidentStatus(row["status"]),
            commander=row["commander"],
            started_at=started,
            resolved_at=_dt(row["resolved_at"]),
            components=tuple(json.loads(row["components"])),
            last_customer_update_at=_dt(row["last_customer_update_at"]),
        )

    @staticmethod
    def _event(row: sqlite3.Row) -> TimelineEvent:
        at = _dt(row["at"])
        assert at is not None
        return TimelineEvent(
            at=at,
            kind=EventKind(row["kind"]),
            source=row["source"],
            actor=row["actor"],
            summary=row["summary"],
            details=json.loads(row["details"]),
            incident_id=row["incident_id"],
            id=row["id"],
            pinned=bool(row["pinned"]),
        )


def _replace_id(event: TimelineEvent, event_id: int) -> TimelineEvent:
    from dataclasses import replace

    return replace(event, id=event_id)


SHIFT_LOG_ADOPTION_WINDOW = timedelta(hours=1)
