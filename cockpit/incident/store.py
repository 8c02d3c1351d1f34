"""The durable incident record: incidents, their timeline events and the shift log.

SQLite in WAL mode, one file. Every write is committed before it returns, so an
event the screen shows survives a SIGKILL. The IncidentStore protocol is all the
rest of the cockpit sees; a shared PostgreSQL store can implement it later.

Events whose incident_id is NULL form the shift log: what happened while no
incident was open. Declaring an incident adopts the shift log's recent events.

The alert history (table `alerts`) keeps every firing the cockpit saw, because
Alertmanager forgets an alert once it resolves; the post-mortem and the shift report
count detection and response times from its `startsAt`.

Schema versions (PRAGMA user_version): 0/1 = incidents + events only; 2 = incident
owner, customer title, next update due, declaring alert, closed_at, and the alert
history. Older files are migrated in place when opened; a file from a newer cockpit is
refused with one clear line (StoreError).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cockpit.domain import (
    AlertRecord,
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

SCHEMA_VERSION = 2

# columns added to `incidents` after version 1, with their SQL type and default
INCIDENT_COLUMNS_V2 = (
    ("team", "TEXT NOT NULL DEFAULT ''"),
    ("service", "TEXT NOT NULL DEFAULT ''"),
    ("customer_title", "TEXT NOT NULL DEFAULT ''"),
    ("next_update_due", "TEXT"),
    ("alert_group", "TEXT NOT NULL DEFAULT ''"),
    ("detected_at", "TEXT"),
    ("closed_at", "TEXT"),
)
INCIDENT_FIELDS = (
    "id",
    "title",
    "severity",
    "status",
    "commander",
    "started_at",
    "resolved_at",
    "components",
    "last_customer_update_at",
    *(name for name, _ in INCIDENT_COLUMNS_V2),
)

ALERTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    name TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    group_key TEXT NOT NULL DEFAULT '',
    severity TEXT NOT NULL DEFAULT 'none',
    team TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    resolved_at TEXT,
    UNIQUE (cluster, fingerprint, starts_at)
);
CREATE INDEX IF NOT EXISTS alerts_by_start ON alerts(starts_at);
CREATE INDEX IF NOT EXISTS alerts_by_group ON alerts(group_key, starts_at);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts(resolved_at) WHERE resolved_at IS NULL;
"""


class StoreError(Exception):
    """The incident store cannot be used as it is; str() is one clear line."""


class StoreConflict(Exception):
    """A change refused because another engineer changed the same thing first.

    The message says who, to what and how long ago, ready for the screen.
    """

    def __init__(self, message: str, *, field: str = "", by: str = "", value: str = "") -> None:
        super().__init__(message)
        self.field, self.by, self.value = field, by, value


def _ts(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class IncidentStore(Protocol):
    """What the action layer and the UI need from the incident record.

    Every write is durable when the method returns. Times go in and come out as
    timezone-aware UTC datetimes. Incident rows carry every field of domain.Incident
    (team, service, customer_title, next_update_due, alert_group, detected_at, closed_at
    included); a store must round-trip all of them.
    """

    def next_incident_id(self, now: datetime) -> str:
        """INC-<year>-<4 digits>, one more than the highest id of that year."""
        ...

    def create_incident(self, incident: Incident) -> Incident: ...

    def update_incident(self, incident: Incident) -> Incident:
        """Overwrite every field of the incident with this id."""
        ...

    def get_incident(self, incident_id: str) -> Incident | None: ...

    def current_incident(self) -> Incident | None:
        """The newest incident that is not resolved, or None."""
        ...

    def active_incidents(self) -> list[Incident]:
        """Incidents not closed yet (closed_at is None), oldest first: the open ones and
        the resolved ones the engineer has not closed, which stay on the incident panel
        (a resolved incident still gets its final customer update there)."""
        ...

    def incidents(self, limit: int = 50) -> list[Incident]:
        """All incidents, newest started first."""
        ...

    def add_event(self, event: TimelineEvent) -> TimelineEvent:
        """Store the event; returns it with its id."""
        ...

    def add_event_in(self, transaction: Any, event: TimelineEvent) -> TimelineEvent:
        """add_event inside a transaction the caller holds open (the connection that the
        store's transaction() yields): the outbox commits a send's result and its timeline
        event together, so a crash can never keep one without the other."""
        ...

    def timeline(self, incident_id: str | None, limit: int = 500) -> list[TimelineEvent]:
        """The incident's events (None: the shift log), newest first."""
        ...

    def events_between(self, since: datetime, until: datetime) -> list[TimelineEvent]:
        """Every event (incidents and the shift log) with since <= at < until, oldest
        first (ties by id): what the shift report and the handover are computed from."""
        ...

    def adopt_shift_log(self, incident_id: str, since: datetime) -> int:
        """Move the shift log's events at or after `since` onto the incident; the count."""
        ...

    # ----------------------------------------------------------------- alert history

    def open_alerts(self) -> list[AlertRecord]:
        """Alert firings not resolved yet (resolved_at is None), with their ids."""
        ...

    def save_alert_sightings(
        self,
        new: Sequence[AlertRecord],
        seen: Sequence[tuple[int, datetime]],
        resolved: Sequence[tuple[int, datetime]],
    ) -> list[AlertRecord]:
        """One poll's changes to the alert history, in one transaction:
        `new` firings are inserted; one already stored under the same (cluster,
        fingerprint, starts_at) is firing again with its resolved_at cleared and last_seen
        updated (Alertmanager still reports the same startsAt, so it never stopped: the
        resolution was a poll that missed it); `seen` sets last_seen of (id, at);
        `resolved` sets resolved_at of (id, at). Returns `new` with their ids (the stored
        record when it already existed). The diffing lives in incident/alert_history.py,
        so every store shares it."""
        ...

    def alert_history(
        self, since: datetime, until: datetime | None = None, *, group_key: str | None = None
    ) -> list[AlertRecord]:
        """Firings that overlap [since, until): started before `until` (None: now or
        later) and not resolved before `since`; only the group's when group_key is given.
        Ordered by starts_at, then id."""
        ...

    def close(self) -> None: ...


class SQLiteStore:
    """IncidentStore on SQLite (WAL). Safe to call from several threads.

    Reads go through a connection of their own: under WAL a reader sees the last commit
    and never waits for a writer, so the screen (which reads the store on the UI thread
    for its header and incident panel) never stalls behind a long write such as the first
    poll's 2,000 alert sightings (~250 ms at scale). A read inside a transaction uses the
    writing connection, so it sees what that transaction wrote."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._writing = threading.local()  # .depth: transactions open in this thread
        self._read_lock = threading.Lock()
        self._reader: sqlite3.Connection | None = None
        self._commits = 0  # this store's commits (what cached reads are checked against)
        self._active: tuple[object, list[Incident]] | None = None  # (version, incidents)
        # FULL: a committed event is on disk before add_event returns (SIGKILL-safe).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        if self.path != ":memory:":  # a second :memory: connection would be another store
            self._reader = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._reader.row_factory = sqlite3.Row
            self._reader.execute("PRAGMA query_only=ON")

    def _migrate(self) -> None:
        """Create the schema, or bring a file from an older cockpit up to SCHEMA_VERSION."""
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer cockpit (store schema {version}, "
                    f"this one knows up to {SCHEMA_VERSION}): upgrade cockpit or use another "
                    "store_path"
                )
            self._db.executescript(SCHEMA)
            if version == SCHEMA_VERSION:
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                have = {row["name"] for row in self._db.execute("PRAGMA table_info(incidents)")}
                for name, sql_type in INCIDENT_COLUMNS_V2:
                    if name not in have:
                        self._db.execute(f"ALTER TABLE incidents ADD COLUMN {name} {sql_type}")
                # incidents resolved before there was a "close" are done with: closed
                self._db.execute(
                    "UPDATE incidents SET closed_at = resolved_at"
                    " WHERE status = ? AND closed_at IS NULL",
                    (IncidentStatus.RESOLVED.value,),
                )
                for statement in ALERTS_SCHEMA.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._writing.depth = getattr(self._writing, "depth", 0) + 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._writing.depth -= 1
            self._db.execute("COMMIT")
            self._commits += 1

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        if self._reader is not None and not getattr(self._writing, "depth", 0):
            with self._read_lock:
                return list(self._reader.execute(sql, params))
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
                f"INSERT INTO incidents ({', '.join(INCIDENT_FIELDS)})"
                f" VALUES ({', '.join('?' for _ in INCIDENT_FIELDS)})",
                self._incident_row(incident),
            )
        return incident

    def update_incident(self, incident: Incident) -> Incident:
        with self.transaction() as db:
            row = self._incident_row(incident)
            assignments = ", ".join(f"{name}=?" for name in INCIDENT_FIELDS[1:])
            db.execute(f"UPDATE incidents SET {assignments} WHERE id=?", (*row[1:], row[0]))
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

    def active_incidents(self) -> list[Incident]:
        """Cached until something is committed: the header asks on every repaint, on the UI
        thread, and an uncached read of a :memory: store waits for any write in progress."""
        writing = bool(getattr(self._writing, "depth", 0))
        version = None if writing else self._version()
        cached = self._active
        if cached is not None and version is not None and cached[0] == version:
            return list(cached[1])
        rows = self.query("SELECT * FROM incidents WHERE closed_at IS NULL ORDER BY started_at, id")
        incidents = [self._incident(r) for r in rows]
        if version is not None:  # a commit since `version` was read only makes it stale
            self._active = (version, incidents)
        return list(incidents)

    def _version(self) -> object:
        """Changes whenever anything is committed: this store's commits, and for a file
        the reader's data_version (a commit by any other connection, any process)."""
        if self._reader is None:
            return self._commits
        with self._read_lock:
            row = self._reader.execute("PRAGMA data_version").fetchone()
        return (self._commits, row[0])

    def incidents(self, limit: int = 50) -> list[Incident]:
        rows = self.query("SELECT * FROM incidents ORDER BY started_at DESC LIMIT ?", (limit,))
        return [self._incident(r) for r in rows]

    # ----------------------------------------------------------------- timeline

    def add_event(self, event: TimelineEvent) -> TimelineEvent:
        with self.transaction() as db:
            return insert_event(db, event)

    def add_event_in(self, transaction: Any, event: TimelineEvent) -> TimelineEvent:
        return insert_event(transaction, event)

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

    def events_between(self, since: datetime, until: datetime) -> list[TimelineEvent]:
        rows = self.query(
            "SELECT * FROM events WHERE at >= ? AND at < ? ORDER BY at, id",
            (_ts(since), _ts(until)),
        )
        return [self._event(r) for r in rows]

    def adopt_shift_log(self, incident_id: str, since: datetime) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE events SET incident_id=? WHERE incident_id IS NULL AND at >= ?",
                (incident_id, _ts(since)),
            )
        return cursor.rowcount

    # ----------------------------------------------------------------- alert history

    def open_alerts(self) -> list[AlertRecord]:
        rows = self.query("SELECT * FROM alerts WHERE resolved_at IS NULL ORDER BY id")
        return [self._alert(r) for r in rows]

    def save_alert_sightings(
        self,
        new: Sequence[AlertRecord],
        seen: Sequence[tuple[int, datetime]],
        resolved: Sequence[tuple[int, datetime]],
    ) -> list[AlertRecord]:
        stored: list[AlertRecord] = []
        with self.transaction() as db:
            for record in new:
                db.execute(
                    "INSERT INTO alerts (cluster, fingerprint, starts_at, name, labels,"
                    " group_key, severity, team, first_seen, last_seen, resolved_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (cluster, fingerprint, starts_at) DO UPDATE SET"
                    " resolved_at = NULL, last_seen = excluded.last_seen",
                    (
                        record.cluster,
                        record.fingerprint,
                        _ts(record.starts_at),
                        record.name,
                        json.dumps(dict(record.labels), sort_keys=True),
                        record.group_key,
                        record.severity,
                        record.team,
                        _ts(record.first_seen),
                        _ts(record.last_seen),
                        _ts(record.resolved_at),
                    ),
                )
                row = db.execute(
                    "SELECT * FROM alerts WHERE cluster=? AND fingerprint=? AND starts_at=?",
                    (record.cluster, record.fingerprint, _ts(record.starts_at)),
                ).fetchone()
                stored.append(self._alert(row))
            db.executemany(
                "UPDATE alerts SET last_seen=? WHERE id=?", [(_ts(at), i) for i, at in seen]
            )
            db.executemany(
                "UPDATE alerts SET resolved_at=? WHERE id=? AND resolved_at IS NULL",
                [(_ts(at), i) for i, at in resolved],
            )
        return stored

    def alert_history(
        self, since: datetime, until: datetime | None = None, *, group_key: str | None = None
    ) -> list[AlertRecord]:
        sql = "SELECT * FROM alerts WHERE (resolved_at IS NULL OR resolved_at >= ?)"
        params: list[Any] = [_ts(since)]
        if until is not None:
            sql += " AND starts_at < ?"
            params.append(_ts(until))
        if group_key is not None:
            sql += " AND group_key = ?"
            params.append(group_key)
        rows = self.query(sql + " ORDER BY starts_at, id", tuple(params))
        return [self._alert(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self._reader is not None:
            with self._read_lock:
                self._reader.close()

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
            incident.team,
            incident.service,
            incident.customer_title,
            _ts(incident.next_update_due),
            incident.alert_group,
            _ts(incident.detected_at),
            _ts(incident.closed_at),
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
            team=row["team"],
            service=row["service"],
            customer_title=row["customer_title"],
            next_update_due=_dt(row["next_update_due"]),
            alert_group=row["alert_group"],
            detected_at=_dt(row["detected_at"]),
            closed_at=_dt(row["closed_at"]),
        )

    @staticmethod
    def _alert(row: sqlite3.Row) -> AlertRecord:
        starts, first, last = _dt(row["starts_at"]), _dt(row["first_seen"]), _dt(row["last_seen"])
        assert starts is not None and first is not None and last is not None
        return AlertRecord(
            fingerprint=row["fingerprint"],
            name=row["name"],
            labels=json.loads(row["labels"]),
            starts_at=starts,
            first_seen=first,
            last_seen=last,
            resolved_at=_dt(row["resolved_at"]),
            group_key=row["group_key"],
            cluster=row["cluster"],
            severity=row["severity"],
            team=row["team"],
            id=row["id"],
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


def insert_event(db: sqlite3.Connection, event: TimelineEvent) -> TimelineEvent:
    """Write one event inside the caller's transaction (with what it commits alongside)."""
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


def _replace_id(event: TimelineEvent, event_id: int) -> TimelineEvent:
    from dataclasses import replace

    return replace(event, id=event_id)


SHIFT_LOG_ADOPTION_WINDOW = timedelta(hours=1)
