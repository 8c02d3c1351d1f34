"""Queue trends: sparklines, growth and levels (pure logic, frozen clock)."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.clock import FrozenClock
from cockpit.config import QueueThreshold
from cockpit.domain import QueueDepth
from cockpit.queue_trends import BARS, QueueTrends, queue_level


def d(name: str, ready: int, unacked: int = 0, vhost: str = "/") -> QueueDepth:
    return QueueDepth(vhost, name, ready, unacked, 0)


def feed(trends: QueueTrends, clock: FrozenClock, values: list[int], name: str = "q") -> None:
    for v in values:
        trends.observe([d(name, v)], clock.now())
        clock.advance(timedelta(seconds=5))


def test_sparkline_is_scaled_to_the_queues_own_max(clock: FrozenClock) -> None:
    trends = QueueTrends(clock=clock)
    assert trends.sparkline("//q", 10) == ""
    feed(trends, clock, [0, 10, 20, 30, 40, 50, 60, 70])
    assert trends.sparkline("//q", 8) == BARS
    assert trends.sparkline("//q", 3) == BARS[-3:]  # the most recent samples
    assert trends.sparkline("//missing", 8) == ""
    # a small queue fills the same height as a big one: each has its own scale
    small = QueueTrends(clock=clock)
    feed(small, clock, [1, 2], "s")
    assert small.sparkline("//s", 5) == BARS[4] + BARS[-1]
    flat = QueueTrends(clock=clock)
    feed(flat, clock, [0, 0, 0], "f")
    assert flat.sparkline("//f", 5) == BARS[0] * 3


def test_growth_per_minute_and_window(clock: FrozenClock) -> None:
    trends = QueueTrends(window=timedelta(minutes=1), clock=clock)
    assert trends.growth_per_minute("//q") == 0.0
    feed(trends, clock, [100])
    assert trends.growth_per_minute("//q") == 0.0  # one sample says nothing
    feed(trends, clock, [110, 120, 130])  # +10 every 5 s
    assert trends.growth_per_minute("//q") == pytest.approx(120.0)
    feed(trends, clock, [130] * 20)  # flat for 100 s: the rise left the 1-minute window
    assert trends.growth_per_minute("//q") == pytest.approx(0.0)
    assert len(trends.history("//q")) <= 13  # 60 s / 5 s + 1
    feed(trends, clock, [100, 70, 40])
    assert trends.growth_per_minute("//q") < 0


def test_units_are_ready_plus_unacked_and_vanished_queues_are_forgotten(
    clock: FrozenClock,
) -> None:
    trends = QueueTrends(clock=clock)
    trends.observe([d("a", 3, 2), d("b", 1), d("a", 7, vhost="other")], clock.now())
    assert trends.history("//a") == [5] and trends.history("other/a") == [7]
    clock.advance(5)
    trends.observe([d("a", 4, 0)], clock.now())
    assert trends.keys() == ["//a"]
    assert trends.sparkline("//b", 5) == ""


def test_levels_first_matching_pattern_wins_with_defaults() -> None:
    rules = (
        QueueThreshold("orders.dlq", 1, 10),
        QueueThreshold("orders*", 100, 500),
        QueueThreshold("billing/*", 5, 50),  # vhost/name when the pattern has a '/'
    )
    assert queue_level(d("orders.dlq", 1), rules) == "warn"
    assert queue_level(d("orders.dlq", 0), rules) == "ok"
    assert queue_level(d("orders.in", 99), rules) == "ok"
    assert queue_level(d("orders.in", 60, 40), rules) == "warn"
    assert queue_level(d("orders.in", 500), rules) == "crit"
    assert queue_level(d("x", 5, vhost="billing"), rules) == "warn"
    assert queue_level(d("x", 5), rules) == "ok"  # defaults: warn 1000, crit 10000
    assert queue_level(d("x", 1000)) == "warn"
    assert queue_level(d("x", 10_000)) == "crit"
    assert QueueTrends().level(d("orders.in", 500), rules) == "crit"


def test_a_thousand_queues_stay_cheap(clock: FrozenClock) -> None:
    trends = QueueTrends(window=timedelta(minutes=10), clock=clock)
    polls = [[d(f"q{i}", (i * t) % 5000) for i in range(1000)] for t in range(10)]
    started = time.perf_counter()
    for t in range(130):  # 130 polls 5 s apart: more than the 10-minute window
        trends.observe(polls[t % 10], clock.now())
        clock.advance(5)
    elapsed = time.perf_counter() - started
    assert len(trends) == 1000
    assert len(trends.history("//q7")) == 121  # 600 s / 5 s + 1: bounded by the window
    assert len(trends.sparkline("//q7", 20)) == 20
    size = sum(sys.getsizeof(h.values) + sys.getsizeof(h.times) for h in trends._queues.values())
    assert size < 8_000_000, size
    assert elapsed < 5.0, elapsed  # generous for a loaded 2-core machine


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.sampled_from([0, 0, 5, 5, 5, 40, 1000]), min_size=1, max_size=60),
    width=st.integers(min_value=1, max_value=12),
)
def test_a_still_queue_draws_the_same_sparkline_as_a_moving_one(
    values: list[int], width: int
) -> None:
    """The fast path for a queue whose last samples are equal (most of a thousand) draws
    exactly what drawing every sample would; the 2-minute window trims old samples."""
    clock = FrozenClock()
    trends = QueueTrends(window=timedelta(minutes=2), clock=clock)
    feed(trends, clock, values)
    history = trends.history("//q")
    shown = history[-width:]
    top = max(history)
    last = len(BARS) - 1
    expected = "".join(BARS[min(last, round(v * last / top)) if top > 0 else 0] for v in shown)
    assert trends.sparkline("//q", width) == expected
