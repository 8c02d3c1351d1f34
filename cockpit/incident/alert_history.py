"""The alert history: every firing the cockpit sees, kept after Alertmanager forgets it.

The alerts feed hands each successful poll to AlertRecorder.observe(). It compares the
poll with the firings it knows (loaded from the store once) and writes only what changed:
new firings, resolutions, and last_seen at most once a minute per firing, so 2,000
steady alerts cost a few writes per minute, not 2,000 per poll.

A firing that is missing from a poll is resolved. When the cockpit was away for a
while (the last sighting older than AWAY_GAP) nobody knows when it stopped, so the
history says the last moment it was seen firing rather than "now".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cockpit.domain import AlertGroup, AlertRecord, frozen_map
from cockpit.incident.store import IncidentStore

TOUCH_EVERY = timedelta(minutes=1)
AWAY_GAP = timedelta(minutes=5)

FiringKey = tuple[str, str]  # (cluster, fingerprint)


@dataclass
class Observed:
    """What one poll changed in the history."""

    new: list[AlertRecord] = field(default_factory=list)
    resolved: list[AlertRecord] = field(default_factory=list)


class AlertRecorder:
    """Turns successive polls of the alert groups into the stored alert history."""

    def __init__(self, store: IncidentStore) -> None:
        self.store = store
        self._open: dict[FiringKey, AlertRecord] | None = None
        self._last_seen: dict[FiringKey, datetime] = {}  # in memory: exact, written coarsely

    def _load(self) -> dict[FiringKey, AlertRecord]:
        if self._open is None:
            self._open = {(r.cluster, r.fingerprint): r for r in self.store.open_alerts()}
            self._last_seen = {key: r.last_seen for key, r in self._open.items()}
        return self._open

    def observe(self, groups: Iterable[AlertGroup], at: datetime) -> Observed:
        """Record one complete poll (every cluster answered) taken at `at`."""
        known = self._load()
        current: dict[FiringKey, AlertRecord] = {}
        for group in groups:
            for alert in group.alerts:
                key = (alert.cluster or group.cluster, alert.fingerprint)
                if key in current:  # the same alert in two groups (two routes): once
                    continue
                current[key] = AlertRecord(
                    fingerprint=alert.fingerprint,
                    name=alert.name,
                    labels=frozen_map(alert.labels),
                    starts_at=alert.starts_at or at,
                    first_seen=at,
                    last_seen=at,
                    group_key=group.key,
                    cluster=key[0],
                    severity=alert.severity,
                    team=alert.labels.get("team", "") or group.team,
                )
        new: list[AlertRecord] = []
        seen: list[tuple[int, datetime]] = []
        resolved: list[tuple[int, datetime]] = []
        gone: list[AlertRecord] = []
        for key, record in known.items():
            now_firing = current.get(key)
            if now_firing is not None and now_firing.starts_at == record.starts_at:
                self._last_seen[key] = at
                if record.id is not None and at - record.last_seen >= TOUCH_EVERY:
                    seen.append((record.id, at))
                    known[key] = replace(record, last_seen=at)
                continue
            # gone, or fired again with a new startsAt (it resolved in between: a flap)
            last = self._last_seen.get(key, record.last_seen)
            ended = at if at - last <= AWAY_GAP else last
            if now_firing is not None:
                ended = min(ended, now_firing.starts_at)
            if record.id is not None:
                resolved.append((record.id, ended))
            gone.append(replace(record, resolved_at=ended, last_seen=last))
        for record in gone:
            known.pop((record.cluster, record.fingerprint), None)
            self._last_seen.pop((record.cluster, record.fingerprint), None)
        for key, record in current.items():
            if key not in known:
                new.append(record)
        if not (new or seen or resolved):
            return Observed()
        stored = self.store.save_alert_sightings(new, seen, resolved)
        for record in stored:
            key = (record.cluster, record.fingerprint)
            if record.resolved_at is None:
                # the live alert's labels (the same for its fingerprint), not the copy read
                # back from the store: 2,000 label maps fewer held for the process's life
                fresh = current.get(key)
                known[key] = record if fresh is None else replace(record, labels=fresh.labels)
                self._last_seen[key] = at
        return Observed(new=stored, resolved=gone)
