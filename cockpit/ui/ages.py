"""When the text of an age or a countdown changes next, so a panel redraws only then.

Every panel that shows "how long ago" asks these: a refresh that changes no text still
diffs every row, and a key pressed meanwhile waits behind it. Two texts of an age exist:
short_duration (cockpit.live: alerts' FOR, ack countdowns, the incident's timers) and
kubectl's (pods' AGE and RESTARTS, exactly as `kubectl get pods` prints them: 65s, 61m).
"""

from __future__ import annotations

import math

from cockpit.backends.podstatus import kubectl_age, restarts_text

__all__ = [
    "countdown_change",
    "kubectl_age",
    "kubectl_change",
    "kubectl_step",
    "next_change",
    "restarts_text",
    "text_step",
]

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0


def text_step(seconds: float) -> float:
    """How long short_duration's text of an age stays the same (at most): 1 s below
    10 minutes (3m05s), a minute below a day (2h05m), an hour beyond."""
    if seconds < 600:
        return 1.0
    if seconds < 86_400:
        return 60.0
    return 3600.0


def next_change(since: float, now_ts: float) -> float:
    """When the text of the age of `since` (a timestamp) changes next."""
    age = max(now_ts - since, 0.0)
    step = text_step(age)
    return since + (age // step + 1) * step


def countdown_change(ends: float, now_ts: float) -> float:
    """When short_duration's text of the time left until `ends` changes next: its steps
    fall on whole steps before `ends`."""
    left = ends - now_ts
    if left <= 0:
        return math.inf  # stays at 0s
    step = text_step(left)
    at = ends - (left // step) * step
    return at if at > now_ts else now_ts + step


def kubectl_step(seconds: float) -> float:
    """How long kubectl_age's text of an age stays the same: seconds up to 10 minutes
    (119s, 3m5s), minutes up to 8 hours (61m, 3h20m), hours up to 8 days (47h, 3d4h),
    days up to 8 years, years beyond."""
    if seconds < 10 * MINUTE:
        return 1.0
    if seconds < 8 * HOUR:
        return MINUTE
    if seconds < 8 * DAY:
        return HOUR
    if seconds < 8 * 365 * DAY:
        return DAY
    return 365 * DAY


def kubectl_change(since: float, now_ts: float) -> float:
    """When kubectl_age's text of the age of `since` changes next (it truncates, so every
    change falls on a whole step after `since`)."""
    age = max(now_ts - since, 0.0)
    step = kubectl_step(age)
    return since + (age // step + 1) * step
