"""Fixtures every test area shares. Server fixtures live in each area's own conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.clock import FrozenClock
from tests.pilot import cockpit_factory

__all__ = ["clock", "cockpit_factory"]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
