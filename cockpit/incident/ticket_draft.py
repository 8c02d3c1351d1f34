"""The first draft of a bug ticket: what the engineer saw, written for the developers.

The description is light Markdown (see backends/jira_adf.py) the engineer can edit
before it becomes ADF: what happened, the incident id and times, the evidence snapshot
(firing alerts with their labels, unhealthy pods with restarts and last termination
reasons, the deepest queues), the timeline so far and the links (runbook, source).
Pod termination reasons come from one detail read per unhealthy pod, bounded in time:
a slow cluster leaves "unknown" rather than a form that never opens.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from cockpit.backends.base import Cluster
from cockpit.config import JiraConfig
from cockpit.domain import (
    AlertGroup,
    EventKind,
    Incident,
    PodHealth,
    QueueDepth,
    TicketDraft,
    TimelineEvent,
)
from cockpit.live import LiveState, short_duration
from cockpit.text import one_line

MAX_ALERTS = 10
MAX_PODS = 8
MAX_QUEUES = 5
MAX_EVENTS = 40
DETAIL_DEADLINE = 3.0  # seconds for all pod detail reads together
SUMMARY_LIMIT = 255  # Jira's summary field
DESCRIPTION_LIMIT = 32_000  # Jira refuses descriptions over 32,767 characters


@dataclass(frozen=True)
class PodEvidence:
    pod: PodHealth
    terminations: tuple[str, ...] = ()  # "api: OOMKilled (exit 137)"
    unknown: str = ""  # why the reasons could not be read


@dataclass(frozen=True)
class TicketEvidence:
    groups: tuple[AlertGroup, ...] = ()
    pods: tuple[PodEvidence, ...] = ()
    queues: tuple[QueueDepth, ...] = ()
    taken_at: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


async def gather_evidence(
    live: LiveState, cluster: Cluster | None, now: datetime
) -> TicketEvidence:
    # the always-firing heartbeats (severity none, e.g. Watchdog) are no evidence
    firing = sorted(
        (g for g in live.groups if g.firing and g.severity != "none"),
        key=lambda g: g.severity_rank,
    )
    unhealthy = sorted((p for p in live.pods.values() if not p.healthy), key=lambda p: -p.restarts)
    deepest = [q for q in sorted(live.queues, key=lambda q: -q.total) if q.total][:MAX_QUEUES]
    pods = tuple(await _terminations(cluster, unhealthy[:MAX_PODS]))
    return TicketEvidence(tuple(firing), pods, tuple(deepest), now)


async def _terminations(cluster: Cluster | None, pods: list[PodHealth]) -> list[PodEvidence]:
    if cluster is None or not pods:
        return [PodEvidence(p) for p in pods]

    async def one(pod: PodHealth) -> PodEvidence:
        try:
            detail = await cluster.detail(pod)
        except Exception as exc:  # a detail that fails leaves the pod in, reason unknown
            return PodEvidence(pod, unknown=str(exc).splitlines()[0][:120] if str(exc) else "")
        reasons = tuple(
            f"{c.name}: {c.last_termination_reason}"
            + (f" (exit {c.last_exit_code})" if c.last_exit_code is not None else "")
            for c in detail.containers
            if c.last_termination_reason
        )
        return PodEvidence(pod, reasons)

    tasks = [asyncio.ensure_future(one(p)) for p in pods]
    done, pending = await asyncio.wait(tasks, timeout=DETAIL_DEADLINE)
    for task in pending:
        task.cancel()
    return [
        t.result() if t in done else PodEvidence(p, unknown="no answer in time")
        for t, p in zip(tasks, pods, strict=True)
    ]


def incident_team(incident: Incident, timeline: list[TimelineEvent], live: LiveState) -> str:
    """The team the incident belongs to: its owner, else its last escalation's, else its
    top firing alert's."""
    if incident.team:
        return incident.team
    for event in timeline:  # newest first
        if event.kind is EventKind.ESCALATION:
            team = event.details.get("target") if isinstance(event.details, dict) else None
            if isinstance(team, str) and team and team != incident.id:
                return team
    for group in sorted((g for g in live.groups if g.firing), key=lambda g: g.severity_rank):
        if group.team:
            return group.team
    return ""


def _one(value: object, limit: int = 300) -> str:
    """Outside text (labels, reasons, names) as one inert line: it goes to the engineer's
    editor and then to Jira, so no escape sequence or bidi trick survives."""
    return one_line(value, limit)


def _at(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "unknown"


def describe(
    incident: Incident,
    evidence: TicketEvidence,
    timeline: list[TimelineEvent],
    now: datetime,
    *,
    filed_by: str,
) -> str:
    """The description's first draft, light Markdown."""
    out: list[str] = ["## What happened"]
    out.append(
        f"{_one(incident.title)}. {incident.severity.value}, {incident.status.value}, "
        f"incident commander {_one(incident.commander, 80)}."
    )
    out.append("")
    out.append(
        f"Incident {incident.id}, started {_at(incident.started_at)}, open for "
        f"{short_duration(incident.duration(now))}; ticket written {_at(now)} by "
        f"{_one(filed_by, 80)} from the on-call cockpit."
    )
    links: list[str] = []
    out += ["", "## Firing alerts"]
    alerts = [(g, a) for g in evidence.groups for a in g.firing][:MAX_ALERTS]
    if not alerts:
        out.append("None firing when this was written.")
    for group, alert in alerts:
        since = f", firing since {alert.starts_at:%H:%M} UTC" if alert.starts_at else ""
        acked = ", acknowledged" if group.acked else ""
        line = f"- {_one(alert.name, 120)} ({alert.severity}{since}{acked})"
        if alert.summary:
            line += f": {_one(alert.summary, 200)}"
        out.append(line)
        labels = ", ".join(f"{k}={_one(v, 80)}" for k, v in sorted(alert.labels.items()))
        out.append(f"  labels: {labels}")
        runbook = alert.annotations.get("runbook_url", "")
        if runbook:
            links.append(f"- Runbook for {_one(alert.name, 120)}: {_one(runbook, 500)}")
        if alert.generator_url:
            links.append(f"- Source of {_one(alert.name, 120)}: {_one(alert.generator_url, 500)}")
    links = list(dict.fromkeys(links))  # alerts of one rule share their runbook and source
    out += ["", "## Unhealthy pods"]
    if not evidence.pods:
        out.append("None unhealthy when this was written.")
    for item in evidence.pods:
        pod = item.pod
        line = f"- {_one(pod.key, 160)}: {_one(pod.status, 60)}, ready {pod.ready}, "
        line += f"{pod.restarts} restart{'s' if pod.restarts != 1 else ''}"
        if pod.last_restart:
            line += f" (last {pod.last_restart:%H:%M} UTC)"
        out.append(line)
        if item.terminations:
            out.append("  last termination: " + "; ".join(_one(t, 120) for t in item.terminations))
        elif item.unknown:
            out.append(f"  last termination: unknown ({_one(item.unknown, 120)})")
    out += ["", "## Deepest queues"]
    if not evidence.queues:
        out.append("No queue holds messages.")
    for queue in evidence.queues:
        stalled = ", no consumers" if queue.stalled else ""
        out.append(
            f"- {_one(queue.key, 160)}: {queue.ready} ready, {queue.unacked} unacked, "
            f"{queue.consumers} consumer{'s' if queue.consumers != 1 else ''}{stalled}"
        )
    out += ["", "## Timeline so far (UTC)"]
    events = list(reversed(timeline))[-MAX_EVENTS:]  # oldest first, the latest ones
    if len(timeline) > MAX_EVENTS:
        out.append(f"(the last {MAX_EVENTS} of {len(timeline)} events)")
    for event in events:
        out.append(
            f"- {event.at:%H:%M} {_one(event.actor, 40)} {event.kind.value}: "
            f"{_one(event.summary, 240)}"
        )
    if links:
        out += ["", "## Links", *links]
    text = "\n".join(out) + "\n"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 2] + "…\n"


def draft_for(
    config: JiraConfig,
    incident: Incident,
    *,
    number: int,
    team: str,
    description: str,
    filed_by: str,
) -> TicketDraft:
    """Summary from the incident's internal title, project from its team, priority from
    its severity; the flow lets the engineer change each before it is sent."""
    return TicketDraft(
        incident_id=incident.id,
        number=number,
        project=config.project_for(team),
        issue_type=config.issue_type,
        summary=_one(incident.title, SUMMARY_LIMIT),
        description=description,
        priority=config.priorities.get(incident.severity.value, ""),
        labels=config.labels,
        team=team,
        filed_by=filed_by,
    )


def problems(draft: TicketDraft) -> str:
    """'' when the draft can be sent, else one line naming the field."""
    if not draft.summary.strip():
        return "summary: the ticket needs a summary"
    if len(draft.summary) > SUMMARY_LIMIT:
        return f"summary: at most {SUMMARY_LIMIT} characters ({len(draft.summary)} now)"
    if "\n" in draft.summary:
        return "summary: one line"
    if not draft.project.strip():
        return "project: name the Jira project (a key such as PAY)"
    if len(draft.description) > DESCRIPTION_LIMIT:
        return f"description: at most {DESCRIPTION_LIMIT} characters ({len(draft.description)} now)"
    return ""
