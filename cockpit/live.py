"""What the cockpit currently knows about the world: the latest data of every source
and how fresh it is. Feeds write it, panels render it, the action layer snapshots it
as evidence. No UI imports: the action layer and tests use it without a screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.domain import AlertGroup, PodEvent, PodEventType, PodHealth, QueueDepth

FRESH_SECONDS = 10  # below this age the header shows no age for a healthy source

_SOURCE_PREFIX = re.compile(r"^[\w.-]+ https?://\S+?: ")
_WHILE_TRYING = re.compile(r" while trying to [^:]+:")


@dataclass
class Freshness:
    """One source's health as the header shows it: `pods STALE 40s: connection refused`."""

    name: str
    configured: bool = True
    last_ok: datetime | None = None
    error: str = ""
    hint: str = ""  # how to configure it, when it is not

    def mark_ok(self, at: datetime) -> None:
        self.last_ok, self.error = at, ""

    def mark_error(self, message: str) -> None:
        self.error = message

    @property
    def reason(self) -> str:
        """The error without the "<system> <url>: " prefix backends put first, for the header:
        `connection refused` says it all once the header has named the source."""
        reason = _SOURCE_PREFIX.sub("", self.error, count=1)
        # "cluster unreachable while trying to watch pods: connection lost" is too long for
        # an 80-column header; "cluster unreachable: connection lost" says the same
        return _WHILE_TRYING.sub(":", reason, count=1)

    def age(self, now: datetime) -> timedelta | None:
        return now - self.last_ok if self.last_ok else None

    def describe(self, now: datetime) -> tuple[str, str]:
        """(text, level) with level ok / stale / off / wait."""
        if not self.configured:
            return f"{self.name} not configured", "off"
        age = self.age(now)
        age_text = short_duration(age) if age is not None else "-"
        if self.error and age is None:
            return f"{self.name} DOWN: {self.reason}", "stale"
        if self.error:
            return f"{self.name} STALE {age_text}: {self.reason}", "stale"
        if age is None:
            return f"{self.name} loading", "wait"
        # a fresh source says only "ok": a header ticking 0s/1s/2s is repainted every
        # second for nothing (bytes over SSH); the age shows once it means something
        seconds = age.total_seconds()
        if seconds < FRESH_SECONDS:
            return f"{self.name} ok", "ok"
        if seconds < 60:
            return f"{self.name} ok {int(seconds) // 10 * 10}s", "ok"
        return f"{self.name} ok {age_text}", "ok"


def short_duration(delta: timedelta | None) -> str:
    """3s, 4m, 2h05m, 3d: short enough for a header or a table cell."""
    if delta is None:
        return "-"
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m" if minutes >= 10 or not seconds else f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if days < 10 else f"{days}d"


@dataclass
class LiveState:
    groups: list[AlertGroup] = field(default_factory=list)
    pods: dict[str, PodHealth] = field(default_factory=dict)
    queues: list[QueueDepth] = field(default_factory=list)
    freshness: dict[str, Freshness] = field(default_factory=dict)

    def apply_pod_event(self, event: PodEvent) -> list[str]:
        """Apply a watch event; returns the keys that changed."""
        if event.type is PodEventType.SYNC:
            self.pods = {p.key: p for p in event.pods}
            return list(self.pods)
        for pod in event.pods:
            if event.type is PodEventType.DELETED:
                self.pods.pop(pod.key, None)
            else:
                self.pods[pod.key] = pod
        return [p.key for p in event.pods]

    def evidence(self, limit: int = 10) -> dict[str, Any]:
        """A snapshot of what the engineer saw, attached to every action's timeline event."""
        firing = sorted(
            (g for g in self.groups if g.firing and not g.acked), key=lambda g: g.severity_rank
        )
        unhealthy = sorted(
            (p for p in self.pods.values() if not p.healthy), key=lambda p: -p.restarts
        )
        deepest = sorted(self.queues, key=lambda q: -q.total)
        return {
            "firing_alerts": [f"{g.name} ({g.severity}, {len(g.firing)})" for g in firing][:limit],
            "unhealthy_pods": [
                f"{p.key} {p.status} restarts={p.restarts}" for p in unhealthy[:limit]
            ],
            "deepest_queues": [
                f"{q.key} ready={q.ready} consumers={q.consumers}" for q in deepest[:5] if q.total
            ],
        }
