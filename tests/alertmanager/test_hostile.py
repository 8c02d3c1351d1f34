"""Issue 10 on Alertmanager: no body, value, regex or trickle can freeze or blank the panel."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.backends import http as bounded
from cockpit.backends.alertmanager import AlertmanagerSource
from cockpit.backends.alertmanager_parse import format_time
from cockpit.backends.base import BackendError, BadResponse, RateLimited, Unreachable
from cockpit.clock import SystemClock
from tests.alertmanager.conftest import config_for
from tests.alertmanager.server import AlertmanagerServer
from tests.hostile import TALLY, Stopwatch, deep_json, hostile_server

pytestmark = pytest.mark.server


def now_plus(minutes: float) -> str:
    return format_time(datetime.now(UTC) + timedelta(minutes=minutes))


async def test_a_catastrophic_regex_silence_does_not_freeze_the_poll(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    # Python's backtracking takes ~2^n steps for (a+)+b on "aaa...c"; Go's RE2 is linear.
    name = "a" * 40 + "c"
    am.post_alerts([{"labels": {"alertname": name, "severity": "critical"}}])
    am.post_alerts([{"labels": {"alertname": "aab", "severity": "warning"}}])
    am.wait_for_alerts(2)
    am.api(
        "POST",
        "/api/v2/silences",
        {
            "matchers": [{"name": "alertname", "value": "(a+)+b", "isRegex": True}],
            "startsAt": now_plus(-1),
            "endsAt": now_plus(60),
            "createdBy": "mallory",
            "comment": "ACK! evil",
        },
    )
    with Stopwatch() as took:
        groups = await source.groups()
    assert took.elapsed < 1.0, f"one poll took {took.elapsed:.1f}s"
    by_name = {g.name: g for g in groups}
    # the ack comes from Alertmanager's own matching (silencedBy), not from Python's regex
    assert by_name["aab"].acked and not by_name[name].acked
    TALLY["hostile strings rendered"] += 1


async def test_an_alert_from_year_zero_is_unknown_age_not_a_dead_panel(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    am.post_alerts(
        [
            {"labels": {"alertname": "Ancient"}, "startsAt": "0001-01-01T00:00:00+01:00"},
            {"labels": {"alertname": "Normal"}},
        ]
    )
    am.wait_for_alerts(2)
    groups = await source.groups()
    by_name = {g.name: g for g in groups}
    assert set(by_name) == {"Ancient", "Normal"}
    assert by_name["Ancient"].alerts[0].starts_at is None  # shown as unknown
    assert by_name["Normal"].alerts[0].starts_at is not None


async def failure(url: str, timeout: float = 1.0) -> BackendError:
    src = AlertmanagerSource(config_for(("", (url,)), timeout=timeout), clock=SystemClock())
    try:
        with pytest.raises(BackendError) as err:
            await src.groups()
        return err.value
    finally:
        await src.close()


async def test_a_trickling_body_fails_at_the_deadline() -> None:
    with hostile_server("trickle", interval=0.1) as server, Stopwatch() as took:
        exc = await failure(server.url, timeout=1.0)
    assert isinstance(exc, Unreachable)
    assert "no complete answer within 1s" in str(exc)
    assert took.elapsed < 2.5
    TALLY["faults survived"] += 1


async def test_a_server_that_accepts_and_never_answers_is_reported() -> None:
    with hostile_server("silent") as server, Stopwatch() as took:
        exc = await failure(server.url, timeout=1.0)
    assert isinstance(exc, Unreachable) and "no answer within 1s" in str(exc)
    assert took.elapsed < 2.5
    TALLY["faults survived"] += 1


@pytest.mark.parametrize("mode", ["endless", "huge"])
async def test_a_body_past_the_size_limit_is_refused(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(bounded._defaults, "max_bytes", 2 * bounded.MB)
    with hostile_server(mode, size=200 * bounded.MB) as server:
        exc = await failure(server.url, timeout=5.0)
    assert isinstance(exc, BadResponse)
    assert "larger than the 2 MB limit" in str(exc) or "200 MB response" in str(exc)
    assert "limits.max_response_mb" in str(exc)
    TALLY["faults survived"] += 1


async def test_an_endless_body_is_cut_at_the_default_50_mb() -> None:
    with hostile_server("endless") as server, Stopwatch() as took:
        exc = await failure(server.url, timeout=20.0)
    assert isinstance(exc, BadResponse) and "50 MB limit" in str(exc)
    assert took.elapsed < 20


async def test_deep_json_is_a_bad_response() -> None:
    with hostile_server("body", body=deep_json()) as server:
        exc = await failure(server.url)
    assert isinstance(exc, BadResponse) and "nested too deep" in str(exc)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("inf", 900), ("nan", 5), ("1e12", 900), ("99999999999", 900), ("-5", 1), ("0", 1)],
)
async def test_retry_after_is_clamped_and_shown(header: str, expected: float) -> None:
    with hostile_server(
        "body", status=429, body=b'"slow down"', headers={"Retry-After": header}
    ) as s:
        exc = await failure(s.url)
    assert isinstance(exc, RateLimited)
    assert math.isfinite(exc.retry_after) and exc.retry_after == expected
    assert f"retry in {expected:g}s" in str(exc)
