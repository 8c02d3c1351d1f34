"""Fixtures for the simulated world: a FrozenClock-driven Acme Shop."""

from __future__ import annotations

import pytest

from cockpit.backends.demo import DemoBackends, build_demo
from cockpit.clock import FrozenClock


@pytest.fixture
def demo(clock: FrozenClock) -> DemoBackends:
    return build_demo(clock, seed=7, poll=0.01)
