"""Every HTTP client is bounded: size limit, total deadline, clamped Retry-After, deep JSON.

The same hostile servers (tests/hostile.py) against RabbitMQ, Statuspage and PagerDuty
(Alertmanager: tests/alertmanager/test_hostile.py)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit.backends import http as bounded
from cockpit.backends.base import BackendError, BadResponse, RateLimited, Unreachable
from cockpit.backends.pagerduty import PagerDutyPager
from cockpit.backends.rabbitmq import RabbitMQBroker
from cockpit.backends.statuspage import StatuspageIO
from cockpit.clock import SystemClock
from cockpit.config import PagerConfig, RabbitMQConfig, StatusPageConfig
from cockpit.domain import (
    CustomerUpdate,
    Escalation,
    Incident,
    IncidentStatus,
    Severity,
)
from tests.hostile import TALLY, Stopwatch, deep_json, hostile_server

Call = Callable[[str], Awaitable[Any]]


async def rabbitmq(url: str) -> Any:
    broker = RabbitMQBroker(
        RabbitMQConfig(management_url=url, timeout=timedelta(seconds=1)),
        password="pw",
        clock=SystemClock(),
        quarantine_dir=Path("/nonexistent"),
    )
    try:
        return await broker.queues()
    finally:
        await broker.close()


def _incident() -> Incident:
    from datetime import UTC, datetime

    return Incident(
        id="INC-1",
        title="t",
        severity=Severity.SEV2,
        status=IncidentStatus.INVESTIGATING,
        commander="alice",
        started_at=datetime.now(UTC),
    )


async def statuspage(url: str) -> Any:
    page = StatuspageIO(
        StatusPageConfig(kind="statuspage", page_id="p", api_url=url),
        api_key="k",
        clock=SystemClock(),
        min_interval=0,
    )
    page._http.deadline = 1.0
    update = CustomerUpdate("INC-1", IncidentStatus.INVESTIGATING, "t", "b")
    try:
        return await page.post_update(_incident(), update, remote_id="r1")
    finally:
        await page.close()


async def pagerduty(url: str) -> Any:
    pager = PagerDutyPager(
        PagerConfig(kind="pagerduty", events_url=url),
        routing_keys={"db": "k"},
        identity="a",
        clock=SystemClock(),
    )
    pager._http.deadline = 1.0
    try:
        return await pager.escalate(Escalation("INC-1", "db", "critical", "s"))
    finally:
        await pager.close()


BACKENDS = {"rabbitmq": rabbitmq, "statuspage": statuspage, "pagerduty": pagerduty}


async def failure(call: Call, url: str) -> BackendError:
    with pytest.raises(BackendError) as err:
        await call(url)
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text, text
    return err.value


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("mode", ["trickle", "silent"])
async def test_no_answer_or_a_trickle_fails_within_the_deadline(name: str, mode: str) -> None:
    with hostile_server(mode, interval=0.1) as server, Stopwatch() as took:
        exc = await failure(BACKENDS[name], server.url)
    assert isinstance(exc, Unreachable), exc
    assert took.elapsed < 3.0, f"{name} took {took.elapsed:.1f}s against a {mode} server"
    TALLY["faults survived"] += 1


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("mode", ["endless", "huge"])
async def test_a_body_past_the_limit_is_refused(
    name: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(bounded._defaults, "max_bytes", bounded.MB)
    with hostile_server(mode, size=200 * bounded.MB) as server:
        exc = await failure(BACKENDS[name], server.url)
    assert isinstance(exc, BadResponse), exc
    assert "limits.max_response_mb" in str(exc)
    TALLY["faults survived"] += 1


@pytest.mark.parametrize("name", ["rabbitmq", "statuspage"])
async def test_deep_json_is_a_bad_response(name: str) -> None:
    with hostile_server("body", body=deep_json()) as server:
        exc = await failure(BACKENDS[name], server.url)
    assert isinstance(exc, BadResponse) and "too deep" in str(exc)


async def test_pagerduty_accepting_with_deep_json_is_still_accepted() -> None:
    with hostile_server("body", status=202, body=deep_json()) as server:
        result = await pagerduty(server.url)
    assert result.ok and result.ids["dedup_key"]


@pytest.mark.parametrize("name", ["statuspage", "pagerduty"])
@pytest.mark.parametrize(
    ("header", "expected"), [("inf", 900), ("nan", None), ("1e12", 900), ("99999999999", 900)]
)
async def test_retry_after_is_clamped_to_15_minutes(
    name: str, header: str, expected: float | None
) -> None:
    with hostile_server("body", status=429, body=b"{}", headers={"Retry-After": header}) as s:
        exc = await failure(BACKENDS[name], s.url)
    assert isinstance(exc, RateLimited)
    assert math.isfinite(exc.retry_after) and 1 <= exc.retry_after <= 900
    if expected is not None:
        assert exc.retry_after == expected
    assert f"{exc.retry_after:g}s" in str(exc)


def test_the_clamp_itself() -> None:
    for raw, want in [("inf", 900), ("-inf", 1), ("1e308", 900), ("0.2", 1), ("30", 30)]:
        assert bounded.retry_after({"retry-after": raw}, 5) == want
    assert bounded.retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 5) == 5
    assert bounded.clamp_retry(float("nan")) == 1
