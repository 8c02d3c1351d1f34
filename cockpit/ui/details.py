"""Pure renderers: what a detail page, a preview or the help shows (Rich, no widgets).

Everything outside is data here: every string passes clean() (no markup, no control
sequence reaches the terminal). Flows and the App hand the result to a DetailScreen
or a form's preview.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cockpit.domain import (
    AlertGroup,
    Escalation,
    Incident,
    PodDetail,
    TicketDraft,
    TimelineEvent,
)
from cockpit.live import short_duration
from cockpit.pivot import Followed
from cockpit.ui.text import clean


def kv_table(rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for key, value in rows:
        # Text on both sides: Rich reads a str cell as markup (a label named "[/]" crashes)
        table.add_row(Text(clean(key)), value if isinstance(value, Text) else Text(clean(value)))
    return table


def link(url: str) -> Text:
    safe = clean(url)
    if url.startswith(("http://", "https://")):
        return Text(safe, style=f"underline link {safe}")
    return Text(safe)


MATCHED_PODS_SHOWN = 12  # the rest are counted: the workload lines already sum them up


def named_objects(followed: Followed) -> RenderableType:
    """What an alert group names on screen, with status: '3/3 pods of payments/payments-api
    CrashLoopBackOff', then each pod (the first few) and each queue."""
    if followed.empty:
        return Text(clean(followed.nothing_line(), 400), style="dim")
    parts: list[RenderableType] = []
    for line in followed.summary_lines():
        parts.append(Text(clean(line, 300), style="bold"))
    pods = Table.grid(padding=(0, 2))
    for _ in range(4):
        pods.add_column(no_wrap=True)
    for pod in followed.pods[:MATCHED_PODS_SHOWN]:
        restarts = f"{pod.restarts} restarts" if pod.restarts else ""
        pods.add_row(
            Text(clean(pod.key, 120)),
            Text(pod.ready),
            Text(clean(pod.status, 40), style="" if pod.healthy else "bold red"),
            Text(restarts),
        )
    if followed.pods:
        parts.append(pods)
    if len(followed.pods) > MATCHED_PODS_SHOWN:
        parts.append(Text(f"… and {len(followed.pods) - MATCHED_PODS_SHOWN} more", style="dim"))
    if followed.missing:
        missing = ", ".join(str(r) for r in followed.missing[:5])
        parts.append(Text(clean(f"also named, not on screen: {missing}", 300), style="dim"))
    by_rule: dict[str, list[str]] = {}
    for reason in followed.reasons:
        by_rule.setdefault(reason.rule, []).append(reason.value)
    # one alert per pod (KubePodCrashLooping) would list every pod again: count them
    how = [f"{r}={v[0]}" if len(v) == 1 else f"{r} ({len(v)} alerts)" for r, v in by_rule.items()]
    hint = "matched by " + ", ".join(how)
    parts.append(Text(clean(hint, 300) + "  ·  f follows them", style="dim"))
    return Group(*parts)


def alert_detail(
    group: AlertGroup, now: datetime, followed: Followed | None = None
) -> RenderableType:
    parts: list[RenderableType] = []
    parts.append(
        kv_table(
            [
                ("group", ", ".join(f"{k}={v}" for k, v in group.labels.items())),
                ("receiver", group.receiver),
                ("cluster", group.cluster or "-"),
            ]
        )
    )
    if group.ack is not None:
        parts.append(
            Text(
                clean(
                    f"\nACKNOWLEDGED by {group.ack.created_by}: {group.ack.comment} "
                    f"(silence {group.ack.id}, {short_duration(group.ack.time_left(now))} left)"
                ),
                style="bold green",
            )
        )
    if followed is not None:
        parts.append(Text("\nWhat it names", style="bold underline"))
        parts.append(named_objects(followed))
    for alert in group.alerts:
        parts.append(Text(f"\n{clean(alert.name)}  [{alert.state.value}]", style="bold"))
        rows: list[tuple[str, Any]] = []
        if alert.summary:
            rows.append(("summary", alert.annotations.get("summary", "")))
        if alert.annotations.get("description"):
            rows.append(("description", alert.annotations["description"]))
        if alert.starts_at:
            rows.append(
                (
                    "firing for",
                    f"{short_duration(now - alert.starts_at)} "
                    f"(since {alert.starts_at:%Y-%m-%d %H:%M} UTC)",
                )
            )
        if alert.annotations.get("runbook_url"):
            rows.append(("runbook", link(alert.annotations["runbook_url"])))
        if alert.generator_url:
            rows.append(("source", link(alert.generator_url)))
        rows.append(("silenced by", ", ".join(alert.silenced_by) or "-"))
        rows.append(("inhibited by", ", ".join(alert.inhibited_by) or "-"))
        rows.extend((f"label {k}", v) for k, v in sorted(alert.labels.items()))
        rows.extend(
            (f"annotation {k}", v)
            for k, v in sorted(alert.annotations.items())
            if k not in {"summary", "description", "runbook_url"}
        )
        parts.append(kv_table(rows))
    return Group(*parts)


def pod_detail(detail: PodDetail, now: datetime) -> RenderableType:
    pod = detail.pod
    parts: list[RenderableType] = [
        kv_table(
            [
                ("status", pod.status),
                ("ready", pod.ready),
                ("restarts", str(pod.restarts)),
                ("owner", f"{pod.owner_kind} {pod.owner_name}" if pod.owner_kind else "none"),
                ("node", pod.node or "-"),
                ("age", short_duration(pod.age(now)) if pod.created_at else "-"),
            ]
        )
    ]
    for container in detail.containers:
        parts.append(
            Text(
                f"\n{'init ' if container.init else ''}container {clean(container.name)}",
                style="bold",
            )
        )
        rows = [
            ("image", container.image),
            ("state", container.state),
            ("ready", str(container.ready)),
            ("restarts", str(container.restarts)),
        ]
        if container.last_termination_reason:
            rows.append(
                (
                    "last termination",
                    f"{container.last_termination_reason} (exit code {container.last_exit_code})",
                )
            )
        parts.append(kv_table(rows))
    parts.append(Text("\nrecent events", style="bold"))
    parts.append(Text(clean("\n".join(detail.events) or "(none)").replace("\\x0a", "\n")))
    return Group(*parts)


def event_detail(event: TimelineEvent) -> RenderableType:
    rows: list[tuple[str, Any]] = [
        ("at", f"{event.at:%Y-%m-%d %H:%M:%S} UTC"),
        ("kind", event.kind.value),
        ("source", event.source),
        ("who", event.actor),
        ("incident", event.incident_id or "shift log"),
        ("summary", event.summary),
    ]
    details = json.dumps(dict(event.details), indent=2, default=str, sort_keys=True)
    return Group(
        kv_table(rows),
        Text("\ndetails and evidence", style="bold"),
        Text(clean(details).replace("\\x0a", "\n")),
    )


def incident_record(incident: Incident, events: list[TimelineEvent]) -> RenderableType:
    rows = [
        ("title", incident.title),
        ("severity", incident.severity.value),
        ("status", incident.status.value),
        ("commander", incident.commander),
        ("started", f"{incident.started_at:%Y-%m-%d %H:%M} UTC"),
        ("resolved", f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC" if incident.resolved_at else "-"),
    ]
    timeline = Table(show_header=True, header_style="bold", box=None)
    timeline.add_column("TIME", no_wrap=True)
    timeline.add_column("WHO", no_wrap=True)
    timeline.add_column("EVENT")
    for event in events:
        timeline.add_row(
            f"{event.at:%H:%M:%S}", Text(clean(event.actor)), Text(clean(event.summary))
        )
    return Group(kv_table(rows), Text(""), timeline)


def customer_preview(
    title: str,
    status: str,
    body: str,
    components: str,
    now: datetime,
    warnings: Iterable[str] = (),
) -> RenderableType:
    """What customers read on the status page; first (red, so a short preview still shows
    them) the words they should not read."""
    text = Text()
    for warning in warnings:
        text.append(f"! {clean(warning)}\n", style="bold red")
    text.append(clean(title), style="bold")
    text.append(f"\n{status.capitalize()}", style="bold")
    text.append(f" - {clean(body.strip())}".replace("\\x0a", "\n"))
    text.append(f"\nPosted {now:%b %d, %H:%M} UTC", style="dim")
    if components.strip():
        text.append(f"\nThis incident affects: {clean(components)}", style="dim")
    return text


def escalation_preview(escalation: Escalation, pager: str) -> RenderableType:
    rows = [
        ("pager", pager),
        ("team", escalation.team or "(none)"),
        ("incident", escalation.incident_id),
        ("severity", escalation.severity),
        ("summary", escalation.summary),
        ("latest note", escalation.latest_note or "-"),
        ("escalated by", escalation.escalated_by),
    ]
    return kv_table(rows)


def help_text(keys: Iterable[tuple[str, str, str]], *, read_only: bool) -> RenderableType:
    """The help page: every key as (key, where it works, what it does)."""
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("KEY", no_wrap=True)
    table.add_column("WHERE", no_wrap=True)
    table.add_column("WHAT")
    for key, where, what in keys:
        table.add_row(key, where, what)
    footer = Text(
        "\nIn a confirmation: y confirms, n or escape cancels; Cancel is focused.\n"
        "In a form: ctrl+s submits from any field, escape cancels.\n"
        "In logs: p previous container, f follow, c container.",
        style="dim",
    )
    if read_only:
        footer.append(
            "\nREAD-ONLY: actions that change anything are disabled.", style="bold yellow"
        )
    return Group(table, footer)


def ticket_preview(draft: TicketDraft, document: dict[str, Any], where: str) -> RenderableType:
    """The ticket as Jira will show it: its fields, then the description's ADF rendered."""
    head = Text()
    head.append(clean(draft.summary) or "(no summary)", style="bold")
    fields = [where, draft.project or "?", draft.issue_type or "?"]
    if draft.priority:
        fields.append(f"priority {draft.priority}")
    head.append("\n" + clean(" · ".join(fields)), style="dim")
    head.append("\n" + clean("labels: " + ", ".join([*draft.labels, draft.label])), style="dim")
    return Group(head, adf_text(document))


def adf_text(document: dict[str, Any]) -> Text:
    """An ADF document as terminal text: headings bold, bullets, links underlined."""
    out = Text()
    for block in document.get("content", []):
        kind = block.get("type")
        if out:
            out.append("\n")
        if kind == "heading":
            out.append(_adf_inline(block.get("content", [])).plain, style="bold")
        elif kind == "bulletList":
            items = []
            for item in block.get("content", []):
                for para in item.get("content", []):
                    line = Text("• ")
                    line.append_text(_adf_inline(para.get("content", []), indent="  "))
                    items.append(line)
            out.append_text(Text("\n").join(items))
        elif kind == "codeBlock":
            code = "".join(t.get("text", "") for t in block.get("content", []))
            out.append(clean(code).replace("\\x0a", "\n"), style="dim")
        else:
            out.append_text(_adf_inline(block.get("content", [])))
    return out


def _adf_inline(nodes: list[dict[str, Any]], indent: str = "") -> Text:
    line = Text()
    for node in nodes:
        if node.get("type") == "hardBreak":
            line.append("\n" + indent)
        elif any(m.get("type") == "link" for m in node.get("marks", [])):
            line.append(clean(node.get("text", "")), style="underline")
        else:
            line.append(clean(node.get("text", "")))
    return line
