"""Queue depth history: sparklines, growth per minute and warn/crit levels. Pure logic, no UI.

Each queue keeps two small deques (seconds since the first sample, depth) trimmed to the
window, so a thousand queues polled every 5 s for 10 minutes stay around 120k ints.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Literal

from cockpit.clock import Clock, SystemClock
from cockpit.config import QueueThreshold
from cockpit.domain import QueueDepth

BARS = "▁▂▃▄▅▆▇█"
DEFAULT_WARN = 1_000
DEFAULT_CRIT = 10_000
MAX_SAMPLES = 2_000  # a hard cap per queue whatever the poll interval

Level = Literal["ok", "warn", "crit"]


class _History:
    __slots__ = ("times", "values")

    def __init__(self) -> None:
        self.times: deque[float] = deque(maxlen=MAX_SAMPLES)
        self.values: deque[int] = deque(maxlen=MAX_SAMPLES)


class QueueTrends:
    """A bounded depth history per queue key (vhost/name)."""

    def __init__(self, window: timedelta = timedelta(minutes=10), clock: Clock | None = None):
        self.window = window
        self.clock: Clock = clock or SystemClock()
        self._epoch: datetime | None = None
        self._queues: dict[str, _History] = {}

    def __len__(self) -> int:
        return len(self._queues)

    def keys(self) -> list[str]:
        return list(self._queues)

    def observe(self, depths: Iterable[QueueDepth], at: datetime | None = None) -> None:
        """Record one poll; queues missing from it are forgotten (they were deleted)."""
        when = at or self.clock.now()
        if self._epoch is None:
            self._epoch = when
        t = (when - self._epoch).total_seconds()
        horizon = t - self.window.total_seconds()
        present: set[str] = set()
        for depth in depths:
            key = depth.key
            present.add(key)
            history = self._queues.get(key)
            if history is None:
                history = self._queues[key] = _History()
            if history.times and t < history.times[-1]:
                continue  # out of order: keep time monotonic
            history.times.append(t)
            history.values.append(depth.total)
            while history.times and history.times[0] < horizon:
                history.times.popleft()
                history.values.popleft()
        for key in [k for k in self._queues if k not in present]:
            del self._queues[key]

    def history(self, key: str) -> list[int]:
        history = self._queues.get(key)
        return list(history.values) if history else []

    def sparkline(self, key: str, width: int = 10) -> str:
        """The last `width` samples, scaled to this queue's own maximum in the window."""
        history = self._queues.get(key)
        if history is None or not history.values or width <= 0:
            return ""
        values = list(history.values)[-width:]
        top = max(history.values)
        if top <= 0:
            return BARS[0] * len(values)
        last = len(BARS) - 1
        return "".join(BARS[min(last, round(v * last / top))] for v in values)

    def growth_per_minute(self, key: str) -> float:
        """Least-squares slope of depth over the window, in messages per minute."""
        history = self._queues.get(key)
        if history is None or len(history.values) < 2:
            return 0.0
        times, values = history.times, history.values
        n = len(times)
        mean_t = sum(times) / n
        mean_v = sum(values) / n
        var = sum((t - mean_t) ** 2 for t in times)
        if var == 0:
            return 0.0
        cov = sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True))
        return cov / var * 60.0

    def level(self, queue: QueueDepth, thresholds: Iterable[QueueThreshold] = ()) -> Level:
        """ok / warn / crit for the queue (see queue_level)."""
        return queue_level(queue, thresholds)


def threshold_for(queue: QueueDepth, thresholds: Iterable[QueueThreshold]) -> tuple[int, int]:
    """(warn, crit) of the first pattern matching the queue's name (or vhost/name when the
    pattern has a '/'), else the defaults."""
    for threshold in thresholds:
        subject = queue.key if "/" in threshold.pattern else queue.name
        if fnmatchcase(subject, threshold.pattern):
            return threshold.warn, threshold.crit
    return DEFAULT_WARN, DEFAULT_CRIT


def queue_level(queue: QueueDepth, thresholds: Iterable[QueueThreshold] = ()) -> Level:
    """ok / warn / crit on the queue's depth (ready + unacked)."""
    warn, crit = threshold_for(queue, thresholds)
    if queue.total >= crit:
        return "crit"
    if queue.total >= warn:
        return "warn"
    return "ok"
