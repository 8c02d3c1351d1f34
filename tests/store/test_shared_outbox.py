"""The shared outbox: two cockpits' senders on the same items send each exactly once,
counted at contract servers, including when one is SIGKILLed in the middle of a send."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit.domain import (
    CustomerUpdate,
    Escalation,
    EventKind,
    Incident,
    IncidentStatus,
    Severity,
    TimelineEvent,
)
from cockpit.incident.outbox import (
    CUSTOMER_UPDATE,
    ESCALATION,
    SENT,
    customer_update_payload,
    escalation_payload,
)
from cockpit.incident.postgres import PostgresStore
from cockpit.incident.postgres.outbox import SharedOutbox
from tests.incident.fake_pagerduty import FakePagerDuty
from tests.incident.fake_statuspage import FakeStatuspage
from tests.store.conftest import until
from tests.store.outbox_worker import drain, senders

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
INCIDENT = "INC-2026-0042"
Opener = Callable[..., PostgresStore]
SQL = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def servers(
    fake_sp: FakeStatuspage, fake_pd: FakePagerDuty, sp_key: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeStatuspage, FakePagerDuty]:
    for name, value in {
        "SP_URL": fake_sp.url, "SP_KEY": sp_key, "PD_URL": fake_pd.url, "PD_KEY": "A" * 32
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    return fake_sp, fake_pd


def enqueue(store: PostgresStore, updates: int, pages: int) -> SharedOutbox:
    now = datetime.now(UTC)
    store.create_incident(
        Incident(INCIDENT, "Checkout errors", Severity.SEV1, IncidentStatus.INVESTIGATING,
                 "alice", now)
    )  # fmt: skip
    outbox = SharedOutbox(store)
    for i in range(updates):
        update = CustomerUpdate(INCIDENT, IncidentStatus.INVESTIGATING, "Checkout", f"update {i}")
        outbox.enqueue(CUSTOMER_UPDATE, INCIDENT, customer_update_payload(update), f"u{i}", now)
    for i in range(pages):
        page = Escalation(INCIDENT, f"team{i}", "SEV1", "Checkout errors")
        outbox.enqueue(ESCALATION, INCIDENT, escalation_payload(page), f"e{i}", now)
    return outbox


def assert_each_sent_once(sp: FakeStatuspage, pd: FakePagerDuty, updates: int, pages: int) -> None:
    assert sp.bodies() == [f"update {i}" for i in range(updates)]  # once each, in order
    assert len(sp.incidents) == 1
    writes = [r for r in sp.requests if r.method in ("POST", "PATCH") and r.status < 300]
    assert len(writes) == updates
    triggers = sorted(t["dedup_key"] for t in pd.triggers())
    assert triggers == sorted(f"{INCIDENT}:team{i}" for i in range(pages))  # no repeat at all


async def test_two_cockpits_senders_send_each_item_exactly_once(
    open_store: Opener, servers: tuple[FakeStatuspage, FakePagerDuty], sql: SQL
) -> None:
    alice, bob = open_store("alice"), open_store("bob")
    outbox = enqueue(alice, updates=3, pages=4)
    until(lambda: len(SharedOutbox(bob).pending()) == 7)
    teams = [f"team{i}" for i in range(4)]
    a, b = senders(alice, teams), senders(bob, teams)
    for sender in (a, b):  # each result and its timeline event commit together
        sender.timeline = lambda item, result, who=sender.outbox.store.actor: TimelineEvent(
            datetime.now(UTC), EventKind.NOTE, "outbox", who, f"sent {item.idempotency_key}",
            incident_id=item.incident_id,
        )  # fmt: skip
    sent = await asyncio.gather(drain(a), drain(b))
    assert sum(sent) == 7
    assert all(i.state == SENT for i in outbox.items(INCIDENT))
    assert_each_sent_once(*servers, updates=3, pages=4)
    rows = sql("SELECT summary FROM events WHERE source='outbox' ORDER BY summary")
    assert rows == [(f"sent {k}",) for k in sorted(["u0", "u1", "u2", "e0", "e1", "e2", "e3"])]
    for sender in (a, b):
        assert sender.statuspage is not None and sender.pager is not None
        await sender.statuspage.close()
        await sender.pager.close()


async def test_a_sender_killed_mid_send_is_taken_over_after_its_lease(
    open_store: Opener,
    servers: tuple[FakeStatuspage, FakePagerDuty],
    pg_dsn: str,
    tmp_path: Path,
) -> None:
    sp, pd = servers
    alice = open_store("alice", lease=2.0)
    outbox = enqueue(alice, updates=3, pages=2)
    # the worst moment: the page has applied "update 1" but the answer never arrives
    sp.hang_on_body = "update 1"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.store.outbox_worker", pg_dsn, str(tmp_path / "w.sqlite3"),
         "2"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert await asyncio.to_thread(sp.hung.wait, 60), "the worker never sent update 1"
        worker.send_signal(signal.SIGKILL)
        await asyncio.to_thread(worker.communicate, timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGKILL
    sp.hang_on_body = ""
    sp.release.set()
    [held] = until(lambda: [i for i in outbox.pending() if i.state == "sending"])
    assert held.idempotency_key == "u1" and held.attempts == 1  # the dead worker's claim
    mine = senders(alice, ["team0", "team1"])
    await drain(mine)
    items = {i.idempotency_key: i for i in outbox.items(INCIDENT)}
    assert all(i.state == SENT for i in items.values())
    assert items["u1"].attempts == 2  # taken over once its lease expired
    assert any(r.method == "GET" for r in sp.requests)  # the in-doubt update was looked up
    assert_each_sent_once(sp, pd, updates=3, pages=2)
    assert mine.statuspage is not None and mine.pager is not None
    await mine.statuspage.close()
    await mine.pager.close()
