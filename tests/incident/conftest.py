"""Fixtures for the incident area: the fake Statuspage / PagerDuty servers and a store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.clock import FrozenClock
from cockpit.domain import Incident, IncidentStatus, Severity
from cockpit.incident.store import SQLiteStore
from tests.incident.fake_pagerduty import FakePagerDuty
from tests.incident.fake_statuspage import FakeStatuspage

START = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def sp_key() -> str:
    # a fresh key per test: the client-side limiter is per key and process-wide
    return "sp-" + uuid.uuid4().hex


@pytest.fixture
def fake_sp(sp_key: str) -> Iterator[FakeStatuspage]:
    with FakeStatuspage(page_id="pg1", keys={sp_key}) as server:
        yield server


@pytest.fixture
def fake_pd() -> Iterator[FakePagerDuty]:
    with FakePagerDuty(routing_keys={"A" * 32, "B" * 32}) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "cockpit.db")
    yield db
    db.close()


@pytest.fixture
def incident(store: SQLiteStore, clock: FrozenClock) -> Incident:
    return store.create_incident(
        Incident(
            id="INC-2026-0001",
            title="Checkout errors",
            severity=Severity.SEV1,
            status=IncidentStatus.INVESTIGATING,
            commander="alice",
            started_at=clock.now(),
            components=("api",),
        )
    )
