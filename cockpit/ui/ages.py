"""When the text of an age or a countdown changes next, so a panel redraws only then.

Every panel that shows "how long ago" asks these: a refresh that changes no text still
diffs every row, and a key pressed meanwhile waits behind it.
"""

from __future__ import annotations

import math


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
