"""The age rules every panel redraws by: the text changes exactly when they say it does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.domain import PodHealth
from cockpit.ui.ages import (
    age_text,
    countdown_change,
    kubectl_age,
    kubectl_change,
    next_change,
    restarts_text,
)

SINCE = 1_700_000_000.0


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (kubectl_change, lambda s: kubectl_age(timedelta(seconds=s))),
        (next_change, age_text),
    ],
    ids=["kubectl", "age_text"],
)
def test_the_text_is_the_same_until_the_next_change_and_differs_there(
    rule: Callable[[float, float], float], text: Callable[[float], str]
) -> None:
    """Over ten years of ages: never a change before the rule says (a stale cell), and
    a change exactly there (no redraw for nothing)."""
    ages = [*range(0, 1300), *range(1300, 40_000, 7), *range(40_000, 800_000, 301)]
    ages += [*range(800_000, 400_000_000, 86_399)]
    for age in ages:
        now = SINCE + age
        at = rule(SINCE, now)
        assert at > now
        shown = text(age)
        assert text(at - SINCE - 1e-6) == shown, (age, at - SINCE)
        assert text(at - SINCE) != shown, (age, at - SINCE)


def test_pods_ages_and_restarts_read_as_kubectl_prints_them() -> None:
    assert [kubectl_age(timedelta(seconds=s)) for s in (65, 119, 185, 3660, 12_000, 200_000)] == [
        "65s",
        "119s",
        "3m5s",
        "61m",
        "3h20m",
        "2d7h",
    ]
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    pod = PodHealth("ns", "p", "0/1", "CrashLoopBackOff", 7, now - timedelta(seconds=65), None)
    assert restarts_text(pod, now) == "7 (65s ago)"
    assert restarts_text(PodHealth("ns", "p", "1/1", "Running", 0, None, None), now) == "0"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m"),
        (435, "7m"),  # not 7m15s: the cell would change every second
        (3599, "59m"),
        (3600, "1h00m"),
        (3 * 3600 + 5 * 60 + 59, "3h05m"),
        (8 * 3600 + 59 * 60, "8h"),  # hours from 8 hours, as kubectl
        (47 * 3600 + 59 * 60, "47h"),
        (2 * 86_400 + 4 * 3600 + 59 * 60, "2d4h"),
        (12 * 86_400, "12d"),
        (-5, "0s"),
    ],
)
def test_age_text(seconds: float, text: str) -> None:
    assert age_text(seconds) == text


def test_next_change_is_when_the_age_text_changes() -> None:
    since = 1000.25
    now = since
    changes = 0
    while now < since + 2 * 86_400:
        after = next_change(since, now)
        assert after > now
        # the text holds until just before `after` and differs from `after` on
        assert age_text(after - 0.01 - since) == age_text(now - since)
        assert age_text(after - since) != age_text(now - since)
        now = after
        changes += 1
    # 59 second steps, one a minute up to 8 hours, then hourly to 2 days
    assert changes == 59 + (8 * 3600 - 60) // 60 + 41


def test_countdown_change_is_when_the_time_left_text_changes() -> None:
    ends = 10_000.5
    now = ends - 4000
    while now < ends - 1:
        after = countdown_change(ends, now)
        assert after > now
        assert age_text(ends - (after - 0.01)) == age_text(ends - now)
        assert age_text(ends - after) != age_text(ends - now)
        now = after
    assert countdown_change(ends, ends + 1) == float("inf")
