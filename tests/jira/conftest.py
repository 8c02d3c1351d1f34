"""Fixtures for the Jira area: the contract server, a config pointing at it, an incident."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.backends.jira import JiraTracker
from cockpit.clock import FrozenClock
from cockpit.config import JiraConfig
from cockpit.domain import Incident, IncidentStatus, Severity, TicketDraft
from cockpit.incident.store import SQLiteStore
from tests.jira.server import FakeJira

EMAIL = "oncall@acme.example"
# planted: a value no test output may ever contain
TOKEN = "ATATT3xFfGF0-planted-jira-token-7c1e"
PAT = "NjM2-planted-data-center-pat-91b2"


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira(tokens={EMAIL: TOKEN}, pats={PAT: EMAIL}) as server:
        yield server


def jira_config(url: str, **overrides: object) -> JiraConfig:
    values: dict[str, object] = {
        "url": url,
        "api_token_secret": "jira",
        "project": "PAY",
        "email": EMAIL,
        "teams": {"payments": "PAY", "platform": "PLAT"},
        "labels": ("from-oncall",),
        "timeout": timedelta(seconds=3),
    }
    values.update(overrides)
    return JiraConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def tracker(fake_jira: FakeJira) -> AsyncIterator[JiraTracker]:
    client = JiraTracker(jira_config(fake_jira.url), token=TOKEN)
    yield client
    await client.close()


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
            title="Checkout p99 latency above 2s",
            severity=Severity.SEV1,
            status=IncidentStatus.INVESTIGATING,
            commander="alice",
            started_at=clock.now() - timedelta(minutes=20),
        )
    )


def draft(number: int = 1, **overrides: object) -> TicketDraft:
    values: dict[str, object] = {
        "incident_id": "INC-2026-0001",
        "number": number,
        "project": "PAY",
        "issue_type": "Bug",
        "summary": "Checkout p99 latency above 2s",
        "description": "## What happened\nCheckout is slow: https://grafana.acme.example/d/1\n",
        "priority": "Highest",
        "labels": ("from-oncall",),
        "team": "payments",
    }
    values.update(overrides)
    return TicketDraft(**values)  # type: ignore[arg-type]
