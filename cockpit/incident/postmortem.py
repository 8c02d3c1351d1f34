"""A post-mortem draft in Markdown, built offline from the local incident record.

The facts (summary, impact, response times, timeline, actions, customer updates) come
from the store; root cause and follow-ups are left empty with prompts for humans.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.domain import EventKind, Incident, TimelineEvent
from cockpit.incident.store import SQLiteStore

ACTION_KINDS = (EventKind.RESTART, EventKind.QUARANTINE, EventKind.ACK, EventKind.ESCALATION)


def fmt_duration(delta: timedelta | None) -> str:
    """'45s', '4m', '1h 2m', '2d 3h': short, the way people say it."""
    if delta is None:
        return "n/a"
    total = int(delta.total_seconds())
    if total < 0:
        return "0s"
    if total < 60:
        return f"{total}s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m")) if v]
    return " ".join(parts) or "0m"


def fmt_time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "n/a"


def _first(events: list[TimelineEvent], *kinds: EventKind) -> TimelineEvent | None:
    return next((e for e in events if e.kind in kinds), None)


def _since(start: datetime, event: TimelineEvent | None) -> str:
    return fmt_duration(event.at - start) if event else "n/a"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _customer_updates(
    store: SQLiteStore, incident_id: str, events: list[TimelineEvent]
) -> list[str]:
    lines: list[str] = []
    try:
        from cockpit.incident.outbox import CUSTOMER_UPDATE, SENT, Outbox

        items = [i for i in Outbox(store).items(incident_id) if i.kind == CUSTOMER_UPDATE]
    except Exception:  # a read-only store has no outbox: use the timeline
        items = []
    for item in items:
        status = str(item.payload.get("status", "?"))
        body = _one_line(str(item.payload.get("body", "")))
        if item.state == SENT:
            when = f"sent {fmt_time(item.sent_at)}"
        elif item.state == "failed_permanent":
            when = f"NOT SENT (failed: {item.last_error})"
        else:
            when = f"not sent yet (queued {fmt_time(item.created_at)})"
        lines.append(f"- {when}, **{status}**: {body}")
    if not lines:
        for event in events:
            if event.kind is EventKind.CUSTOMER_UPDATE:
                body = _one_line(str(event.details.get("body") or event.summary))
                lines.append(f"- {fmt_time(event.at)}: {body}")
    return lines


def render_postmortem(store: SQLiteStore, incident_id: str, now: datetime) -> str:
    incident = store.get_incident(incident_id)
    if incident is None:
        raise LookupError(f"no incident {incident_id}")
    events = list(reversed(store.timeline(incident_id, limit=1_000_000)))  # oldest first
    return _render(store, incident, events, now)


def _render(
    store: SQLiteStore, incident: Incident, events: list[TimelineEvent], now: datetime
) -> str:
    duration = incident.duration(now)
    ongoing = "" if incident.resolved_at else " (ongoing)"
    detection = [e.at for e in events if e.kind in (EventKind.ALERT, EventKind.ACK)]
    first_alert = min([*detection, incident.started_at])
    first_ack = _first(events, EventKind.ACK)
    first_escalation = _first(events, EventKind.ESCALATION)
    resolved_at = incident.resolved_at
    if resolved_at is None:
        resolved_event = _first(events, EventKind.RESOLVED)
        resolved_at = resolved_event.at if resolved_event else None
    components = list(incident.components)
    for event in events:
        for component in event.details.get("components", []) or []:
            if isinstance(component, str) and component not in components:
                components.append(component)

    out = [
        f"# Post-mortem: {incident.id} {_one_line(incident.title)}",
        "",
        f"_Draft generated {fmt_time(now)} from the cockpit's incident record._",
        "",
        "## Summary",
        "",
        f"- **Severity:** {incident.severity.value}",
        f"- **Status:** {incident.status.value}",
        f"- **Incident commander:** {incident.commander or 'n/a'}",
        f"- **Started:** {fmt_time(incident.started_at)}",
        f"- **Resolved:** {fmt_time(incident.resolved_at)}",
        f"- **Duration:** {fmt_duration(duration)}{ongoing}",
        "",
        "## Impact",
        "",
        f"- **Duration:** {fmt_duration(duration)}{ongoing}",
        f"- **Severity:** {incident.severity.value}",
        f"- **Affected components:** {', '.join(components) if components else 'none recorded'}",
        "",
        "### Customer updates",
        "",
    ]
    updates = _customer_updates(store, incident.id, events)
    out.extend(updates or ["- No customer update was sent."])
    out += [
        "",
        "## Detection and response",
        "",
        f"- **First alert:** {fmt_time(first_alert)}",
        f"- **Time to acknowledge:** {_since(first_alert, first_ack)}",
        f"- **Time to escalate:** {_since(first_alert, first_escalation)}",
        "- **Time to resolve:** "
        + (fmt_duration(resolved_at - first_alert) if resolved_at else "n/a (not resolved)"),
        "",
        "## Timeline",
        "",
        "All times UTC, oldest first.",
        "",
    ]
    if not events:
        out.append("- No events recorded.")
    for event in events:
        actor = f" {event.actor}" if event.actor else ""
        out.append(
            f"- {fmt_time(event.at)} [{event.kind.value}]{actor}: {_one_line(event.summary)}"
        )
    out += ["", "## Actions taken", ""]
    actions = [e for e in events if e.kind in ACTION_KINDS]
    if not actions:
        out.append("- No restart, quarantine, ack or escalation was recorded.")
    for event in actions:
        out.append(
            f"- {fmt_time(event.at)} {event.kind.value} by {event.actor or 'n/a'}: "
            f"{_one_line(event.summary)}"
        )
    out += [
        "",
        "## Root cause",
        "",
        "<!-- What failed, and why? Ask 'why' until the answer is a decision or a missing"
        " safeguard, not a person. -->",
        "",
        "## Follow-ups",
        "",
        "<!-- One line each: the action, an owner, a due date. What would have caught this"
        " sooner, or made it smaller? -->",
        "",
    ]
    return "\n".join(out)


def postmortem_filename(incident_id: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in incident_id)
    return f"{safe}-postmortem.md"


def write_postmortem(store: SQLiteStore, incident_id: str, directory: Path, now: datetime) -> Path:
    """Write the draft to directory/<id>-postmortem.md (atomically) and return the path."""
    from cockpit.backends.statuspage_static import atomic_write

    text = render_postmortem(store, incident_id, now)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / postmortem_filename(incident_id)
    atomic_write(path, text.encode("utf-8"))
    return path


def main(argv: list[str], *, store_path: str) -> int:
    """`cockpit postmortem [INCIDENT-ID] [--output FILE]`: the draft on stdout or in FILE."""
    parser = argparse.ArgumentParser(
        prog="cockpit postmortem", description="Draft a post-mortem from the incident record."
    )
    parser.add_argument("incident", nargs="?", help="incident id (default: the latest one)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the draft to FILE")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    if store_path != ":memory:" and not Path(store_path).exists():
        print(f"cockpit postmortem: no incident store at {store_path}", file=sys.stderr)
        return 2
    store = SQLiteStore(store_path)
    try:
        incident_id = args.incident
        if incident_id is None:
            latest = store.incidents(limit=1)
            if not latest:
                print(f"cockpit postmortem: no incidents in {store_path}", file=sys.stderr)
                return 2
            incident_id = latest[0].id
        if store.get_incident(incident_id) is None:
            known = ", ".join(i.id for i in store.incidents(limit=5)) or "none"
            print(
                f"cockpit postmortem: no incident {incident_id!r} (recent: {known})",
                file=sys.stderr,
            )
            return 2
        text = render_postmortem(store, incident_id, datetime.now(UTC))
        if args.output:
            try:
                Path(args.output).write_text(text, encoding="utf-8")
            except OSError as exc:
                print(
                    f"cockpit postmortem: cannot write {args.output}: {exc.strerror or exc}",
                    file=sys.stderr,
                )
                return 1
            print(f"wrote {args.output}")
        else:
            sys.stdout.write(text)
        return 0
    finally:
        store.close()
