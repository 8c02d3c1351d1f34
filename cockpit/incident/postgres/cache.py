"""What the screen reads: an in-memory copy of the shared store, kept live by the listener.

Reads never touch the network, so a slow or unreachable database can never freeze the
screen. Rows confirmed by PostgreSQL replace local (journalled, not yet confirmed) ones,
matched by the event's uid or the outbox item's idempotency key; a local row never
replaces a confirmed one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from cockpit.domain import Incident, IncidentStatus, TimelineEvent


@dataclass(frozen=True, slots=True)
class Presence:
    session: str
    who: str
    host: str
    incident_id: str | None
    seconds_ago: float


class Cache:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.incidents: dict[str, Incident] = {}
        # (incident id, version) -> that version, as this cockpit saw it: the base of a change
        self.history: dict[tuple[str, int], Incident] = {}
        self.events: dict[str, TimelineEvent] = {}  # by uid
        self.confirmed: set[str] = set()  # uids PostgreSQL has committed
        self.loaded: set[str | None] = set()  # incidents whose whole timeline is here
        self.outbox: dict[str, Any] = {}  # OutboxItem by idempotency key
        self.remote_ids: dict[tuple[str, str], str] = {}
        self.presence: list[Presence] = []
        self.last_seq = 0
        self._local_id = 0
        self._sorted: dict[str | None, list[TimelineEvent]] = {}

    def local_id(self) -> int:
        """A temporary negative id for a row not yet confirmed by PostgreSQL."""
        with self.lock:
            self._local_id -= 1
            return self._local_id

    # ----------------------------------------------------------------- incidents

    def put_incident(self, incident: Incident, *, confirmed: bool = True) -> None:
        with self.lock:
            known = self.incidents.get(incident.id)
            if not confirmed and known is not None and known.version >= incident.version:
                return
            if confirmed and known is not None and known.version > incident.version:
                return  # an older read arriving late
            self.incidents[incident.id] = incident
            self.history[(incident.id, incident.version)] = incident

    def base(self, incident: Incident) -> Incident:
        """The incident as it was when the caller read it (what its change is measured from)."""
        with self.lock:
            return self.history.get((incident.id, incident.version)) or self.incidents.get(
                incident.id, incident
            )

    def current(self) -> Incident | None:
        with self.lock:
            open_ = [i for i in self.incidents.values() if i.status is not IncidentStatus.RESOLVED]
        return max(open_, key=lambda i: i.started_at) if open_ else None

    def active(self) -> list[Incident]:
        """Not closed yet, oldest first (the incident panel's list)."""
        with self.lock:
            found = [i for i in self.incidents.values() if i.closed_at is None]
        return sorted(found, key=lambda i: (i.started_at, i.id))

    def recent(self, limit: int) -> list[Incident]:
        with self.lock:
            ordered = sorted(self.incidents.values(), key=lambda i: i.started_at, reverse=True)
        return ordered[:limit]

    # ----------------------------------------------------------------- events

    def put_events(self, events: Iterable[TimelineEvent], *, confirmed: bool = True) -> int:
        """Adds or replaces events; returns how many were new to this cockpit."""
        new = 0
        with self.lock:
            for event in events:
                if not confirmed and event.uid in self.confirmed:
                    continue
                old = self.events.get(event.uid)
                if old is None:
                    new += 1
                else:
                    self._sorted.pop(old.incident_id, None)
                self.events[event.uid] = event
                if confirmed:
                    self.confirmed.add(event.uid)
                self._sorted.pop(event.incident_id, None)
        return new

    def timeline(self, incident_id: str | None, limit: int) -> list[TimelineEvent]:
        with self.lock:
            ordered = self._sorted.get(incident_id)
            if ordered is None:
                ordered = sorted(
                    (e for e in self.events.values() if e.incident_id == incident_id),
                    key=lambda e: (e.at, e.id or 0),
                    reverse=True,
                )
                self._sorted[incident_id] = ordered
            return ordered[:limit]

    def adopt(self, incident_id: str, since: Any) -> int:
        with self.lock:
            moved = [e for e in self.events.values() if e.incident_id is None and e.at >= since]
            for event in moved:
                self.events[event.uid] = replace(event, incident_id=incident_id)
            self._sorted.clear()
        return len(moved)

    # ----------------------------------------------------------------- outbox

    def put_outbox(self, item: Any, *, confirmed: bool = True) -> None:
        with self.lock:
            known = self.outbox.get(item.idempotency_key)
            if not confirmed and known is not None:
                return
            self.outbox[item.idempotency_key] = item

    def outbox_items(self) -> list[Any]:
        with self.lock:
            return sorted(self.outbox.values(), key=lambda i: (i.id < 0, abs(i.id)))
