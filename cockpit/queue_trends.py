"""Queue depth history: sparklines, growth per minute and warn/crit levels. Pure logic, no UI.

Each queue keeps two small deques (seconds since the first sample, depth) trimmed to the
window, so a thousand queues polled every 5 s for 10 minutes stay around 120k ints.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from itertools import islice
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
    """Samples plus running sums (exact ints: times in ms) and a sliding maximum, so the
    slope and the sparkline's scale cost O(1) per queue however long the window is."""

    __slots__ = ("_first", "_peaks", "run", "s_t", "s_tt", "s_tv", "s_v", "times", "values")

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.values: deque[int] = deque()
        self.s_t = self.s_v = self.s_tt = self.s_tv = 0
        self._first = 0  # sequence number of values[0]
        self._peaks: deque[tuple[int, int]] = deque()  # (seq, value), values decreasing
        self.run = 0  # how many of the last values are equal (a still queue: all of them)

    def append(self, t: float, value: int) -> None:
        if len(self.times) >= MAX_SAMPLES:
            self.popleft()
        self.run = self.run + 1 if self.values and self.values[-1] == value else 1
        seq = self._first + len(self.values)
        self.times.append(t)
        self.values.append(value)
        ms = round(t * 1000)
        self.s_t += ms
        self.s_v += value
        self.s_tt += ms * ms
        self.s_tv += ms * value
        peaks = self._peaks
        while peaks and peaks[-1][1] <= value:
            peaks.pop()
        peaks.append((seq, value))

    def popleft(self) -> None:
        t = self.times.popleft()
        value = self.values.popleft()
        ms = round(t * 1000)
        self.s_t -= ms
        self.s_v -= value
        self.s_tt -= ms * ms
        self.s_tv -= ms * value
        if self._peaks and self._peaks[0][0] == self._first:
            self._peaks.popleft()
        self._first += 1

    @property
    def top(self) -> int:
        return self._peaks[0][1] if self._peaks else 0


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
            history.append(t, depth.total)
            while history.times and history.times[0] < horizon:
                history.popleft()
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
        top = history.top
        last = len(BARS) - 1
        shown = min(width, len(history.values))
        if history.run >= shown:  # a still queue (most of a thousand): one bar, repeated
            value = history.values[-1]
            return BARS[min(last, round(value * last / top)) if top > 0 else 0] * shown
        values = list(islice(reversed(history.values), width))[::-1]
        if top <= 0:
            return BARS[0] * len(values)
        return "".join(BARS[min(last, round(v * last / top))] for v in values)

    def growth_per_minute(self, key: str) -> float:
        """Least-squares slope of depth over the window, in messages per minute."""
        history = self._queues.get(key)
        if history is None or len(history.values) < 2:
            return 0.0
        # least squares on exact integer sums (times in ms): flat is exactly 0
        n = len(history.values)
        var = n * history.s_tt - history.s_t * history.s_t
        if var <= 0:
            return 0.0
        cov = n * history.s_tv - history.s_t * history.s_v
        return cov / var * 60_000.0

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
