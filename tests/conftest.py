"""Fixtures every test area shares. Server fixtures live in each area's own conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cockpit.clock import FrozenClock
from tests.pilot import cockpit_factory

__all__ = ["clock", "cockpit_factory"]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Issue 10's figures for this run: what the cockpit survived, and nothing lost."""
    from tests.hostile import TALLY

    if not TALLY:
        return  # none of the resilience tests ran
    write = terminalreporter.write_line
    terminalreporter.section("cockpit resilience (issue 10)")
    write(f"dropped links survived:    {TALLY['drops survived']}")
    write(
        f"fuzz examples:             {TALLY['fuzz examples']} (failures: {TALLY['fuzz failures']})"
    )
    write(f"hostile strings rendered:  {TALLY['hostile strings rendered']}")
    write(f"server faults survived:    {TALLY['faults survived']}")
    write(f"SIGKILLs survived:         {TALLY['kills survived']}")
    if TALLY["pages resent in doubt (same dedup_key)"]:
        write(
            "pages resent in doubt:     "
            f"{TALLY['pages resent in doubt (same dedup_key)']} (same dedup_key: one alert)"
        )
    write(f"items lost:                {TALLY['items lost']}")
    write(f"items duplicated:          {TALLY['items duplicated']}")
