"""StatuspageIO and the outbox against a local server that follows Statuspage's contract."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from cockpit.backends.base import AuthError, RateLimited
from cockpit.backends.statuspage import Rejected, StatuspageIO
from cockpit.clock import FrozenClock
from cockpit.config import StatusPageConfig
from cockpit.domain import CustomerUpdate, Incident, IncidentStatus
from cockpit.incident.outbox import (
    CUSTOMER_UPDATE,
    FAILED,
    SENT,
    Outbox,
    OutboxSender,
    customer_update_payload,
)
from cockpit.incident.store import SQLiteStore
from tests.incident.fake_statuspage import FakeStatuspage
from tests.incident.fakehttp import Reply


def backend(server: FakeStatuspage, key: str, clock: FrozenClock) -> StatuspageIO:
    config = StatusPageConfig(
        kind="statuspage", page_id="pg1", api_url=server.url, components=("api=cmp123",)
    )
    return StatuspageIO(config, api_key=key, clock=clock)


def update(body: str, status: IncidentStatus = IncidentStatus.INVESTIGATING) -> CustomerUpdate:
    return CustomerUpdate(
        incident_id="INC-2026-0001",
        status=status,
        title="Checkout errors",
        body=body,
        components=("api",),
    )


def gaps(server: FakeStatuspage) -> list[float]:
    times = [r.at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(times)]


async def test_open_then_update_sends_documented_bodies(
    fake_sp: FakeStatuspage, sp_key: str, clock: FrozenClock, incident: Incident
) -> None:
    sp = backend(fake_sp, sp_key, clock)
    try:
        opened = await sp.post_update(incident, update("We are looking into it."), remote_id=None)
        remote = opened.ids["remote_id"]
        fixed = update("Fixed.", IncidentStatus.RESOLVED)
        updated = await sp.post_update(incident, fixed, remote_id=remote)
    finally:
        await sp.close()
    assert opened.ok and updated.ok and updated.ids["remote_id"] == remote
    create, patch = fake_sp.requests
    assert (create.method, create.path) == ("POST", "/v1/pages/pg1/incidents")
    assert create.headers["authorization"] == f"OAuth {sp_key}"
    assert create.headers["content-type"] == "application/json"
    assert create.body == {
        "incident": {
            "name": "Checkout errors",
            "status": "investigating",
            "body": "We are looking into it.",
            "deliver_notifications": True,
            "component_ids": ["cmp123"],
            "components": {"cmp123": "major_outage"},
            "impact_override": "critical",
        }
    }
    assert (patch.method, patch.path) == ("PATCH", f"/v1/pages/pg1/incidents/{remote}")
    assert patch.body["incident"]["status"] == "resolved"
    assert patch.body["incident"]["components"] == {"cmp123": "operational"}
    assert fake_sp.incidents[remote]["status"] == "resolved"
    assert fake_sp.bodies() == ["We are looking into it.", "Fixed."]


async def test_one_request_per_second_per_key(
    fake_sp: FakeStatuspage, sp_key: str, clock: FrozenClock, incident: Incident
) -> None:
    # two clients sharing one key, four concurrent writes: the server must never see two
    # requests from the key within a second (it would answer 429)
    first, second = backend(fake_sp, sp_key, clock), backend(fake_sp, sp_key, clock)
    try:
        opened = await first.post_update(incident, update("one"), remote_id=None)
        remote = opened.ids["remote_id"]
        await asyncio.gather(
            first.post_update(incident, update("two"), remote_id=remote),
            second.post_update(incident, update("three"), remote_id=remote),
            second.post_update(incident, update("four"), remote_id=remote),
        )
    finally:
        await first.close()
        await second.close()
    assert [r.status for r in fake_sp.requests] == [201, 200, 200, 200]
    assert all(gap >= 1.0 for gap in gaps(fake_sp)), gaps(fake_sp)


async def test_429_retry_after_is_waited_then_retried(
    fake_sp: FakeStatuspage, sp_key: str, clock: FrozenClock, incident: Incident
) -> None:
    fake_sp.forced.append(Reply(429, {"error": "slow down"}, {"Retry-After": "2"}))
    sp = backend(fake_sp, sp_key, clock)
    try:
        result = await sp.post_update(incident, update("hello"), remote_id=None)
    finally:
        await sp.close()
    assert result.ok
    assert [r.status for r in fake_sp.requests] == [429, 201]
    assert gaps(fake_sp)[0] >= 2.0


async def test_420_with_long_retry_after_raises_rate_limited(
    fake_sp: FakeStatuspage, sp_key: str, clock: FrozenClock, incident: Incident
) -> None:
    fake_sp.forced.append(Reply(420, {"error": "enhance your calm"}, {"Retry-After": "30"}))
    sp = backend(fake_sp, sp_key, clock)
    try:
        with pytest.raises(RateLimited) as caught:
            await sp.post_update(incident, update("hello"), remote_id=None)
    finally:
        await sp.close()
    assert caught.value.retry_after == 30
    assert len(fake_sp.requests) == 1


async def test_bad_key_is_a_clear_auth_error_without_the_key(
    fake_sp: FakeStatuspage, clock: FrozenClock, incident: Incident
) -> None:
    secret = "not-the-right-key-0123456789"
    sp = backend(fake_sp, secret, clock)
    try:
        with pytest.raises(AuthError) as caught:
            await sp.post_update(incident, update("hello"), remote_id=None)
    finally:
        await sp.close()
    assert "401" in str(caught.value) and "refused" in str(caught.value)
    assert secret not in str(caught.value) and secret not in repr(sp)
    assert not caught.value.retryable


async def test_missing_name_is_rejected_not_retried(
    fake_sp: FakeStatuspage, sp_key: str, clock: FrozenClock, incident: Incident
) -> None:
    nameless = replace(incident, title="")
    sp = backend(fake_sp, sp_key, clock)
    try:
        with pytest.raises(Rejected) as caught:
            await sp.post_update(
                nameless, CustomerUpdate(incident.id, incident.status, "", "x"), remote_id=None
            )
    finally:
        await sp.close()
    assert "422" in str(caught.value) and not caught.value.retryable
    assert fake_sp.incidents == {}


# ----------------------------------------------------------------- outbox over real HTTP


async def test_outbox_retry_after_503_sends_exactly_once(
    fake_sp: FakeStatuspage,
    sp_key: str,
    clock: FrozenClock,
    incident: Incident,
    store: SQLiteStore,
) -> None:
    outbox = Outbox(store)
    seen = []
    sender = OutboxSender(
        outbox,
        statuspage=backend(fake_sp, sp_key, clock),
        pager=None,
        clock=clock,
        on_result=lambda item, result: seen.append(result),
    )
    payload = customer_update_payload(update("Investigating checkout errors."))
    item = outbox.enqueue(CUSTOMER_UPDATE, incident.id, payload, "upd-1", clock.now())
    assert outbox.enqueue(CUSTOMER_UPDATE, incident.id, payload, "upd-1", clock.now()).id == item.id
    assert len(outbox.pending()) == 1

    fake_sp.forced.append(Reply(503, {"error": "unavailable"}))
    [(failed, result)] = await sender.send_due()
    assert not result.ok and failed.state == "pending" and failed.attempts == 1
    assert "503" in failed.last_error
    assert failed.next_attempt_at == clock.now() + timedelta(seconds=5)
    assert sender.describe(clock.now()) == (
        "1 update pending: Statuspage: 503 Service Unavailable, retrying in 5s"
    )
    assert await sender.send_due() == []  # not due yet: nothing goes out
    assert len(fake_sp.requests) == 1

    clock.advance(5)
    [(done, result)] = await sender.send_due()
    assert result.ok and done.state == SENT and done.attempts == 2
    assert fake_sp.bodies() == ["Investigating checkout errors."]
    remote = outbox.remote_id(incident.id)
    assert remote in fake_sp.incidents and done.result_ids["remote_id"] == remote
    assert sender.describe(clock.now()) == ""

    # the next update goes to the same remote incident, by PATCH
    second = customer_update_payload(update("Fix deployed.", IncidentStatus.MONITORING))
    outbox.enqueue(CUSTOMER_UPDATE, incident.id, second, "upd-2", clock.now())
    await sender.send_due()
    assert fake_sp.requests[-1].method == "PATCH"
    assert fake_sp.requests[-1].path.endswith(f"/incidents/{remote}")
    assert fake_sp.bodies() == ["Investigating checkout errors.", "Fix deployed."]
    assert len(fake_sp.incidents) == 1 and len(seen) == 3
    await sender.statuspage.close()  # type: ignore[union-attr]


async def test_outbox_update_in_flight_at_crash_is_not_sent_again(
    fake_sp: FakeStatuspage,
    sp_key: str,
    clock: FrozenClock,
    incident: Incident,
    store: SQLiteStore,
) -> None:
    outbox = Outbox(store)
    sp = backend(fake_sp, sp_key, clock)
    sender = OutboxSender(outbox, statuspage=sp, pager=None, clock=clock)
    body = update("Posted just before the crash.")
    item = outbox.enqueue(
        CUSTOMER_UPDATE, incident.id, customer_update_payload(body), "k", clock.now()
    )
    # the previous process marked it sending, the page got it, then the process died
    outbox.mark_sending(item)
    await sp.post_update(incident, body, remote_id=None)
    [(done, result)] = await sender.send_due()
    await sp.close()
    assert result.ok and done.state == SENT
    assert fake_sp.bodies() == ["Posted just before the crash."]
    assert [r.method for r in fake_sp.requests] == ["POST", "GET"]
    assert outbox.remote_id(incident.id) in fake_sp.incidents


async def test_outbox_keeps_update_order_and_gives_up_on_auth_errors(
    fake_sp: FakeStatuspage, clock: FrozenClock, incident: Incident, store: SQLiteStore
) -> None:
    outbox = Outbox(store)
    sp = backend(fake_sp, "wrong-key", clock)
    sender = OutboxSender(outbox, statuspage=sp, pager=None, clock=clock)
    for n in (1, 2):
        payload = customer_update_payload(update(f"update {n}"))
        outbox.enqueue(CUSTOMER_UPDATE, incident.id, payload, f"k{n}", clock.now())
    results = await sender.send_due()
    await sp.close()
    # the first failed for good; the second was not sent out of order in the same pass
    assert len(results) == 1
    assert results[0][0].state == FAILED and "401" in results[0][0].last_error
    assert [i.state for i in outbox.items(incident.id)] == [FAILED, "pending"]
