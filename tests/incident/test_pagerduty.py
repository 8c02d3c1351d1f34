"""PagerDutyPager and the outbox against a local server that follows the Events API v2."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cockpit.backends.base import BadResponse, RateLimited
from cockpit.backends.pagerduty import InvalidEvent, PagerDutyPager, UnknownTeam
from cockpit.clock import FrozenClock
from cockpit.config import PagerConfig
from cockpit.domain import Escalation, Incident
from cockpit.incident.outbox import ESCALATION, SENT, Outbox, OutboxSender, escalation_payload
from cockpit.incident.store import SQLiteStore
from tests.incident.fake_pagerduty import FakePagerDuty
from tests.incident.fakehttp import Reply

KEY_DB, KEY_WEB = "A" * 32, "B" * 32


def pager(
    server: FakePagerDuty, clock: FrozenClock, keys: dict[str, str] | None = None
) -> PagerDutyPager:
    config = PagerConfig(
        kind="pagerduty", teams={"db": "pd-db", "web": "pd-web"}, events_url=server.url
    )
    return PagerDutyPager(
        config,
        routing_keys=keys if keys is not None else {"db": KEY_DB, "web": KEY_WEB},
        identity="alice",
        clock=clock,
    )


def escalation(team: str = "db", severity: str = "SEV1") -> Escalation:
    return Escalation(
        incident_id="INC-2026-0001",
        team=team,
        severity=severity,
        summary="Checkout errors",
        latest_note="orders queue stalled",
        escalated_by="bob",
        evidence={"queue": "orders", "ready": 1200},
    )


async def test_trigger_body_follows_events_api_v2(
    fake_pd: FakePagerDuty, clock: FrozenClock
) -> None:
    pd = pager(fake_pd, clock)
    try:
        result = await pd.escalate(escalation())
    finally:
        await pd.close()
    assert result.ok and result.ids["dedup_key"] == "INC-2026-0001:db"
    [request] = fake_pd.requests
    assert (request.method, request.path, request.status) == ("POST", "/v2/enqueue", 202)
    assert request.headers["content-type"] == "application/json"
    assert request.body == {
        "routing_key": KEY_DB,
        "event_action": "trigger",
        "dedup_key": "INC-2026-0001:db",
        "payload": {
            "summary": "[INC-2026-0001] Checkout errors",
            "source": "cockpit",
            "severity": "critical",
            "timestamp": clock.now().isoformat(),
            "custom_details": {
                "incident": "INC-2026-0001",
                "team": "db",
                "latest_note": "orders queue stalled",
                "escalated_by": "bob",
                "evidence": {"queue": "orders", "ready": 1200},
            },
        },
    }


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("SEV1", "critical"), ("SEV2", "error"), ("SEV3", "warning"), ("SEV4", "info")],
)
async def test_severity_mapping(
    fake_pd: FakePagerDuty, clock: FrozenClock, severity: str, expected: str
) -> None:
    pd = pager(fake_pd, clock)
    try:
        await pd.escalate(escalation(severity=severity))
    finally:
        await pd.close()
    assert fake_pd.requests[0].body["payload"]["severity"] == expected


async def test_same_escalation_twice_is_one_pagerduty_alert(
    fake_pd: FakePagerDuty, clock: FrozenClock
) -> None:
    pd = pager(fake_pd, clock)
    try:
        await pd.escalate(escalation())
        await pd.escalate(escalation())
        await pd.escalate(escalation(team="web"))
    finally:
        await pd.close()
    assert [b["dedup_key"] for b in fake_pd.triggers()] == [
        "INC-2026-0001:db",
        "INC-2026-0001:db",
        "INC-2026-0001:web",
    ]
    assert len(fake_pd.alerts) == 2  # db paged once, web once
    assert fake_pd.alerts[(KEY_DB, "INC-2026-0001:db")]["triggers"] == 2


async def test_unknown_team_lists_configured_teams_and_sends_nothing(
    fake_pd: FakePagerDuty, clock: FrozenClock
) -> None:
    pd = pager(fake_pd, clock)
    try:
        with pytest.raises(UnknownTeam) as caught:
            await pd.escalate(escalation(team="payments"))
    finally:
        await pd.close()
    message = str(caught.value)
    assert "'payments'" in message and "db, web" in message
    assert KEY_DB not in message and not caught.value.retryable
    assert fake_pd.requests == []


async def test_refused_routing_key_is_a_clear_non_retryable_error(
    fake_pd: FakePagerDuty, clock: FrozenClock
) -> None:
    secret = "Z" * 32
    pd = pager(fake_pd, clock, keys={"db": secret})
    try:
        with pytest.raises(InvalidEvent) as caught:
            await pd.escalate(escalation())
    finally:
        await pd.close()
    assert "400" in str(caught.value) and not caught.value.retryable
    assert secret not in str(caught.value) and secret not in repr(pd)
    assert fake_pd.alerts == {}


async def test_429_and_5xx_are_retryable(fake_pd: FakePagerDuty, clock: FrozenClock) -> None:
    fake_pd.forced += [Reply(429, {"status": "throttled"}, {"Retry-After": "12"}), Reply(502)]
    pd = pager(fake_pd, clock)
    try:
        with pytest.raises(RateLimited) as limited:
            await pd.escalate(escalation())
        with pytest.raises(BadResponse) as bad:
            await pd.escalate(escalation())
    finally:
        await pd.close()
    assert limited.value.retry_after == 12 and limited.value.retryable
    assert "502" in str(bad.value) and bad.value.retryable


async def test_outbox_pages_once_and_honours_retry_after(
    fake_pd: FakePagerDuty, clock: FrozenClock, store: SQLiteStore, incident: Incident
) -> None:
    outbox = Outbox(store)
    pd = pager(fake_pd, clock)
    sender = OutboxSender(outbox, statuspage=None, pager=pd, clock=clock)
    payload = escalation_payload(escalation())
    # the same key pressed twice is one outbox item
    first = outbox.enqueue(ESCALATION, incident.id, payload, "esc:INC-2026-0001:db:1", clock.now())
    again = outbox.enqueue(ESCALATION, incident.id, payload, "esc:INC-2026-0001:db:1", clock.now())
    assert first.id == again.id and len(outbox.pending()) == 1

    fake_pd.forced.append(Reply(429, {"status": "throttled"}, {"Retry-After": "30"}))
    [(item, result)] = await sender.send_due()
    assert not result.ok and item.state == "pending"
    assert item.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert sender.describe(clock.now()).startswith("1 page pending: PagerDuty: 429")
    assert sender.describe(clock.now()).endswith("retrying in 30s")
    clock.advance(29)
    assert await sender.send_due() == []
    clock.advance(1)
    [(item, result)] = await sender.send_due()
    await pd.close()
    assert result.ok and item.state == SENT and item.result_ids["dedup_key"] == "INC-2026-0001:db"
    assert len(fake_pd.triggers()) == 1 and len(fake_pd.alerts) == 1
