"""The ticket's first draft: the evidence the engineer saw, the timeline and the links."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from cockpit.backends import jira_adf
from cockpit.clock import FrozenClock
from cockpit.config import JiraConfig
from cockpit.domain import (
    Alert,
    AlertGroup,
    ContainerDetail,
    EventKind,
    Incident,
    PodDetail,
    PodHealth,
    QueueDepth,
    TimelineEvent,
)
from cockpit.incident.store import SQLiteStore
from cockpit.incident.ticket_draft import (
    describe,
    draft_for,
    gather_evidence,
    incident_team,
    problems,
)
from cockpit.live import LiveState
from tests.jira.server import adf_problem


def pod(name: str, restarts: int, healthy: bool = False) -> PodHealth:
    return PodHealth(
        "payments",
        name,
        "0/1",
        "CrashLoopBackOff" if not healthy else "Running",
        restarts,
        None,
        None,
        healthy=healthy,
        containers=("api",),
    )


class Cluster:
    """detail() as the Kubernetes backend gives it; one pod never answers."""

    async def detail(self, p: PodHealth) -> PodDetail:
        if p.name == "payments-api-slow":
            await asyncio.sleep(30)
        return PodDetail(
            p,
            (
                ContainerDetail(
                    "api", "acme/api:1.4.2", False, p.restarts, "waiting", "OOMKilled", 137
                ),
            ),
        )


def live_state(clock: FrozenClock) -> LiveState:
    alert = Alert(
        "fp1",
        {"alertname": "CheckoutLatencyHigh", "team": "payments", "severity": "critical"},
        {"summary": "Checkout p99 above 2s", "runbook_url": "https://runbooks.acme.example/co"},
        severity="critical",
        starts_at=clock.now() - timedelta(minutes=25),
        generator_url="http://prometheus.acme.example/graph?g0.expr=p99",
    )
    return LiveState(
        groups=[AlertGroup("g1", {"alertname": "CheckoutLatencyHigh"}, (alert,))],
        pods={
            p.key: p
            for p in (
                pod("payments-api-1", 14),
                pod("payments-api-slow", 3),
                pod("payments-api-ok", 0, healthy=True),
            )
        },
        queues=[QueueDepth("/", "orders", 4200, 10, 0), QueueDepth("/", "empty", 0, 0, 1)],
    )


async def test_the_description_holds_the_evidence_timeline_and_links(
    clock: FrozenClock, store: SQLiteStore, incident: Incident
) -> None:
    store.add_event(
        TimelineEvent(
            clock.now() - timedelta(minutes=10),
            EventKind.NOTE,
            "cockpit",
            "alice",
            "payments-api OOMKilled after the 1.4.2 deploy",
            incident_id=incident.id,
        )
    )
    live = live_state(clock)
    started = asyncio.get_running_loop().time()
    evidence = await gather_evidence(live, Cluster(), clock.now())  # type: ignore[arg-type]
    assert asyncio.get_running_loop().time() - started < 5  # the slow pod does not hold it
    text = describe(incident, evidence, store.timeline(incident.id), clock.now(), filed_by="alice")
    assert text.startswith(
        "## What happened\nCheckout p99 latency above 2s. SEV1, investigating, incident "
        "commander alice.\n\nIncident INC-2026-0001, started 2026-11-25 02:40 UTC, open for 20m;"
        " ticket written 2026-11-25 03:00 UTC by alice from the on-call cockpit.\n"
    )
    assert (
        "- CheckoutLatencyHigh (critical, firing since 02:35 UTC): Checkout p99 above 2s\n"
        "  labels: alertname=CheckoutLatencyHigh, severity=critical, team=payments\n"
    ) in text
    assert (
        "- payments/payments-api-1: CrashLoopBackOff, ready 0/1, 14 restarts\n"
        "  last termination: api: OOMKilled (exit 137)\n"
        "- payments/payments-api-slow: CrashLoopBackOff, ready 0/1, 3 restarts\n"
        "  last termination: unknown (no answer in time)\n"
    ) in text
    assert "payments-api-ok" not in text
    assert "- //orders: 4200 ready, 10 unacked, 0 consumers, no consumers\n" in text
    assert "empty" not in text
    assert "- 02:50 alice note: payments-api OOMKilled after the 1.4.2 deploy\n" in text
    assert text.endswith(
        "## Links\n- Runbook for CheckoutLatencyHigh: https://runbooks.acme.example/co\n"
        "- Source of CheckoutLatencyHigh: http://prometheus.acme.example/graph?g0.expr=p99\n"
    )
    document = jira_adf.from_text(text)
    assert adf_problem(document) == ""
    links = [
        m["attrs"]["href"]
        for block in document["content"]
        for item in block.get("content", [])
        for para in item.get("content", [])
        for node in para.get("content", [])
        if isinstance(node, dict)
        for m in node.get("marks", [])
    ]
    assert "https://runbooks.acme.example/co" in links


def test_project_from_the_team_priority_from_the_severity(
    clock: FrozenClock, store: SQLiteStore, incident: Incident
) -> None:
    config = JiraConfig(
        url="https://acme.atlassian.net",
        api_token_secret="jira",
        project="OPS",
        email="a@b.c",
        teams={"payments": "PAY"},
        labels=("from-oncall",),
    )
    live = live_state(clock)
    team = incident_team(incident, [], live)
    assert team == "payments"  # the top firing alert's team label
    draft = draft_for(config, incident, number=2, team=team, description="d", filed_by="alice")
    assert (draft.project, draft.priority, draft.summary, draft.label) == (
        "PAY",
        "Highest",
        "Checkout p99 latency above 2s",
        "cockpit-INC-2026-0001-2",
    )
    assert (
        draft_for(config, incident, number=1, team="web", description="", filed_by="").project
        == "OPS"
    )
    escalated = [
        TimelineEvent(
            clock.now(),
            EventKind.ESCALATION,
            "cockpit",
            "alice",
            "paged",
            {"target": "platform"},
            incident_id=incident.id,
        )
    ]
    assert incident_team(incident, escalated, live) == "platform"
    assert problems(draft) == ""
    import dataclasses

    assert problems(dataclasses.replace(draft, summary="x" * 256)).startswith(
        "summary: at most 255"
    )
    assert problems(dataclasses.replace(draft, project=" ")).startswith("project:")
