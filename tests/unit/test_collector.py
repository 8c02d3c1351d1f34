"""The cycle collector's full passes wait for a moment without keys (their pauses were
20-40 ms at scale, triggered by the allocations of the keys themselves)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cockpit.ui.collector import AUTOMATIC_FULL, FULL_EVERY, FULL_LATEST, IdleCollector

YOUNG = [100]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def full_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    passes: list[float] = []

    def counting(generation: int = 2) -> int:
        passes.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", counting)
    monkeypatch.setattr(gc, "freeze", lambda: None)
    monkeypatch.setattr(gc, "unfreeze", lambda: None)
    # young passes since the last full one: as many as Python's rule asks (due) unless
    # a test says otherwise
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, YOUNG[0]))
    YOUNG[0] = 100
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)  # whatever an app of an earlier test left
    yield passes
    gc.set_threshold(*threshold)
    if enabled:
        gc.enable()


def test_off_while_loading_then_frozen_once(full_passes: list[float]) -> None:
    clock = Clock()
    before = gc.get_threshold()
    collector = IdleCollector(clock)
    assert not gc.isenabled()
    collector.tick(loaded=False)
    assert not collector.frozen and full_passes == []
    collector.tick(loaded=True)
    assert collector.frozen and full_passes == [2]
    assert gc.isenabled() == collector._was_on
    assert gc.get_threshold()[2] == AUTOMATIC_FULL  # automatic full passes: a fallback
    collector.stop()
    assert gc.get_threshold() == before


def test_full_passes_wait_for_a_quiet_moment(full_passes: list[float]) -> None:
    clock = Clock()
    collector = IdleCollector(clock)
    collector.tick(loaded=True)
    full_passes.clear()
    # keys every half second: no pass, however much is due...
    for _ in range(int(FULL_LATEST / 0.5) - 2):
        clock.now += 0.5
        collector.input()
        collector.tick(loaded=True)
    assert full_passes == []
    # ... until FULL_LATEST: then one runs anyway
    for _ in range(4):
        clock.now += 0.5
        collector.input()
        collector.tick(loaded=True)
    assert len(full_passes) == 1
    # quiet: a pass once FULL_EVERY has gone by, not on every tick
    for _ in range(int(FULL_EVERY * 3)):
        clock.now += 1.0
        collector.tick(loaded=True)
    assert 3 <= len(full_passes) <= 4


def test_a_feed_that_never_loads_does_not_keep_the_collector_off(
    full_passes: list[float],
) -> None:
    clock = Clock()
    collector = IdleCollector(clock)
    clock.now += 61
    collector.tick(loaded=False)
    assert collector.frozen


def test_a_cockpit_at_rest_is_not_walked_for_nothing(full_passes: list[float]) -> None:
    """Idle, but hardly anything allocated since the last pass: no pass (each costs
    ~20-30 ms of CPU at scale); once as many young passes as Python's rule asks, one."""
    clock = Clock()
    collector = IdleCollector(clock)
    collector.tick(loaded=True)
    full_passes.clear()
    YOUNG[0] = 2
    for _ in range(60):
        clock.now += 1.0
        collector.tick(loaded=True)
    assert full_passes == []
    YOUNG[0] = 10
    clock.now += 1.0
    collector.tick(loaded=True)
    assert len(full_passes) == 1
