"""Ages in table cells, and when their text changes next, so a panel redraws only then.

Two texts of an age exist. Alerts' FOR and ack countdowns (age_text) change no more often
than a person needs, as karma does: seconds below a minute (45s), whole minutes below an
hour (7m, not 7m15s), hours and minutes below 8 hours (3h05m), hours below 2 days (14h),
then days and hours (3d4h) and days (12d); a FOR cell then changes once a minute at most
after its first minute, and once an hour after 8 hours: over SSH a screen of ages ticking
every second is a screen rewritten every second. Pods' AGE and RESTARTS are exactly what
`kubectl get pods` prints (kubectl_age: 65s, 3m5s, 61m), moved on in the pods panel's own
15-second steps.

Every panel that shows "how long ago" asks these: a refresh that changes no text still
diffs every row, and a key pressed meanwhile waits behind it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo

from cockpit.backends.podstatus import kubectl_age, restarts_text
from cockpit.live import short_duration

__all__ = [
    "age_text",
    "clock_text",
    "countdown_change",
    "kubectl_age",
    "kubectl_change",
    "kubectl_step",
    "next_change",
    "restarts_text",
    "text_step",
    "time_of_day",
    "zone",
    "zone_name",
]

MINUTE = 60.0
HOUR = 3600.0
DAY = 86_400.0
COUNTDOWN_SLACK = 0.001  # a countdown's text changes just after a whole step is left


def age_text(seconds: float) -> str:
    """45s, 7m, 3h05m, 14h, 3d4h, 12d."""
    seconds = max(int(seconds), 0)
    if 60 <= seconds < 3600:
        return f"{seconds // 60}m"
    if 8 * 3600 <= seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    return short_duration(timedelta(seconds=seconds))


def text_step(seconds: float) -> float:
    """How long age_text's text of an age stays the same: 1 s below a minute, a minute
    below 8 hours, an hour below 10 days, a day beyond."""
    if seconds < MINUTE:
        return 1.0
    if seconds < 8 * HOUR:
        return MINUTE
    if seconds < 10 * DAY:
        return HOUR
    return DAY


def next_change(since: float, now_ts: float) -> float:
    """When age_text's text of the age of `since` (a timestamp) changes next."""
    age = max(now_ts - since, 0.0)
    step = text_step(age)
    return since + (age // step + 1) * step


def countdown_change(ends: float, now_ts: float) -> float:
    """When age_text's text of the time left until `ends` changes next: the time left is
    cut to whole steps, so the text changes just after a whole number of steps is left
    (at exactly 7m left it still says 7m)."""
    left = ends - now_ts
    if left <= 0:
        return math.inf  # stays at 0s
    step = text_step(left)
    return ends - (left // step) * step + COUNTDOWN_SLACK


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


# ----------------------------------------------------------------- times of day
# The header's clock and the timeline's times are in the engineer's zone ([ui] timezone,
# default this machine's), always with the zone's name: at 3 a.m. nobody converts from UTC.


def zone(name: str = "") -> tzinfo:
    """The zone named in the config, else this machine's."""
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    return datetime.now().astimezone().tzinfo or UTC


def zone_name(now: datetime, tz: tzinfo) -> str:
    return now.astimezone(tz).tzname() or ""


def clock_text(now: datetime, tz: tzinfo) -> str:
    """`03:12 CET` for the header."""
    local = now.astimezone(tz)
    return f"{local:%H:%M} {local.tzname() or ''}".rstrip()


def time_of_day(at: datetime, now: datetime, tz: tzinfo) -> str:
    """`03:12` today, `Nov 24 23:50` on another day (in the same zone)."""
    local, today = at.astimezone(tz), now.astimezone(tz)
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%b %d %H:%M}"
