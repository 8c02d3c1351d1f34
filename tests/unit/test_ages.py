"""The age rules every panel redraws by: the text changes exactly when they say it does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.domain import PodHealth
from cockpit.live import short_duration
from cockpit.ui.ages import kubectl_age, kubectl_change, next_change, restarts_text

SINCE = 1_700_000_000.0


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (kubectl_change, lambda s: kubectl_age(timedelta(seconds=s))),
        (next_change, lambda s: short_duration(timedelta(seconds=s))),
    ],
    ids=["kubectl", "short_duration"],
)
def test_the_text_is_the_same_until_the_next_change_and_differs_there(
    rule: Callable[[float, float], float], text: Callable[[float], str]
) -> None:
    """Over ten years of ages: never a change before the rule says (a stale cell), and
    for kubectl's text a change exactly there (no redraw for nothing)."""
    ages = [*range(0, 1300), *range(1300, 40_000, 7), *range(40_000, 800_000, 301)]
    ages += [*range(800_000, 400_000_000, 86_399)]
    for age in ages:
        now = SINCE + age
        at = rule(SINCE, now)
        assert at > now
        shown = text(age)
        assert text(at - SINCE - 1e-6) == shown, (age, at - SINCE)
        if rule is kubectl_change:
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
