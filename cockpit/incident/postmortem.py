"""A post-mortem draft in Markdown, built offline from the local incident record.

The facts (summary, impact, response times, timeline, actions, customer updates) come
from the store; root cause and follow-ups are left empty with prompts for humans.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.domain import AlertRecord, EventKind, Incident, TimelineEvent
from cockpit.incident.store import SHIFT_LOG_ADOPTION_WINDOW, IncidentStore, SQLiteStore

ACTION_KINDS = (EventKind.RESTART, EventKind.QUARANTINE, EventKind.ACK, EventKind.ESCALATION)
MITIGATION_KINDS = (EventKind.RESTART, EventKind.QUARANTINE)


def fmt_duration(delta: timedelta | None, *, seconds: bool = False) -> str:
    """'45s', '4m', '1h 2m', '2d 3h': short, the way people say it. With seconds=True the
    seconds are kept ('4m 10s'): response times are compared to the second."""
    if delta is None:
        return "n/a"
    total = int(delta.total_seconds())
    if total < 0:
        return "0s"
    if total < 60:
        return f"{total}s"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "m")] + ([(secs, "s")] if seconds else [])
    parts = [f"{v}{u}" for v, u in units if v]
    return " ".join(parts) or "0m"


def fmt_time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "n/a"


def _first(events: list[TimelineEvent], *kinds: EventKind) -> TimelineEvent | None:
    return next((e for e in events if e.kind in kinds), None)


def _since(start: datetime, event: TimelineEvent | None) -> str:
    if event is None:
        return "n/a"
    return f"{fmt_duration(event.at - start, seconds=True)} ({fmt_time(event.at)})"


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def incident_alerts(
    store: IncidentStore, incident: Incident, events: list[TimelineEvent], now: datetime
) -> list[AlertRecord]:
    """The firings this incident is about: the declaring alert group's and those of the
    groups acked on its timeline, that were firing from an hour before the declaration on."""
    keys = [incident.alert_group] if incident.alert_group else []
    for event in events:
        key = event.details.get("group_key") if event.kind is EventKind.ACK else None
        if isinstance(key, str) and key and key not in keys:
            keys.append(key)
    since = incident.started_at - SHIFT_LOG_ADOPTION_WINDOW
    until = incident.resolved_at or now
    found: dict[int | None, AlertRecord] = {}
    for key in keys:
        for record in store.alert_history(since, until, group_key=key):
            found[record.id] = record
    return sorted(found.values(), key=lambda r: (r.starts_at, r.id or 0))


def first_alert_at(
    incident: Incident, events: list[TimelineEvent], alerts: list[AlertRecord]
) -> tuple[datetime, str]:
    """Where detection and response times count from, and what that moment was: the
    earliest startsAt of the declaring alert group's firings (Alertmanager's time, not
    when the cockpit noticed); without one, the startsAt of the first acked group or an
    alert event; else the first ack; else the declaration itself."""
    candidates: list[tuple[datetime, str]] = []
    if incident.alert_group:
        if incident.detected_at is not None:
            candidates.append((incident.detected_at, "startsAt of the declaring alert"))
        for record in alerts:
            if record.group_key == incident.alert_group:
                candidates.append((record.starts_at, f"startsAt of {record.name}"))
    if not candidates:
        first_ack = _first(events, EventKind.ACK)
        if first_ack is not None:
            started = _parse_time(first_ack.details.get("started_at"))
            if started is not None:
                candidates.append((started, "startsAt of the first acknowledged alert"))
        for event in events:
            if event.kind is EventKind.ALERT:
                candidates.append((event.at, "first alert event"))
    if not candidates:
        first_ack = _first(events, EventKind.ACK)
        if first_ack is not None:
            candidates.append((first_ack.at, "the first ack (no alert was recorded)"))
    if not candidates:
        return incident.started_at, "the declaration (no alert was recorded)"
    return min(candidates, key=lambda c: c[0])


def _alert_events(alerts: list[AlertRecord]) -> list[TimelineEvent]:
    """The alert history as timeline lines: when each firing started and stopped."""
    out: list[TimelineEvent] = []
    for record in alerts:
        who = f" (team {record.team})" if record.team else ""
        out.append(
            TimelineEvent(
                record.starts_at,
                EventKind.ALERT,
                "alertmanager",
                "alertmanager",
                f"{record.name} started firing{who}",
            )
        )
        if record.resolved_at is not None:
            out.append(
                TimelineEvent(
                    record.resolved_at,
                    EventKind.ALERT,
                    "alertmanager",
                    "alertmanager",
                    f"{record.name} resolved",
                )
            )
    return out


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _customer_updates(
    store: IncidentStore, incident_id: str, events: list[TimelineEvent]
) -> list[str]:
    lines: list[str] = []
    try:
        from cockpit.incident.outbox import CUSTOMER_UPDATE, SENT, open_outbox

        items = [i for i in open_outbox(store).items(incident_id) if i.kind == CUSTOMER_UPDATE]
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


def render_postmortem(store: IncidentStore, incident_id: str, now: datetime) -> str:
    incident = store.get_incident(incident_id)
    if incident is None:
        raise LookupError(f"no incident {incident_id}")
    events = list(reversed(store.timeline(incident_id, limit=1_000_000)))  # oldest first
    return _render(store, incident, events, now)


def _render(
    store: IncidentStore, incident: Incident, events: list[TimelineEvent], now: datetime
) -> str:
    duration = incident.duration(now)
    ongoing = "" if incident.resolved_at else " (ongoing)"
    alerts = incident_alerts(store, incident, events, now)
    first_alert, counted_from = first_alert_at(incident, events, alerts)
    first_ack = _first(events, EventKind.ACK)
    first_escalation = _first(events, EventKind.ESCALATION)
    first_mitigation = _first(events, *MITIGATION_KINDS)
    declared = _first(events, EventKind.DECLARED)
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
        f"- **Team:** {incident.team or 'n/a'}",
        f"- **Service:** {incident.service or 'n/a'}",
        f"- **Customer-facing title:** {_one_line(incident.public_title)}",
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
        f"- **First alert:** {fmt_time(first_alert)} ({counted_from})",
        "",
        "Times below count from the first alert's startsAt.",
        "",
        f"- **Time to declare:** {_since(first_alert, declared)}",
        f"- **Time to acknowledge:** {_since(first_alert, first_ack)}",
        f"- **Time to escalate:** {_since(first_alert, first_escalation)}",
        f"- **Time to mitigate:** {_since(first_alert, first_mitigation)}",
        "- **Time to resolve:** "
        + (
            f"{fmt_duration(resolved_at - first_alert, seconds=True)} ({fmt_time(resolved_at)})"
            if resolved_at
            else "n/a (not resolved)"
        ),
        "",
        "## Timeline",
        "",
        "All times UTC, oldest first.",
        "",
    ]
    recorded = {(e.at, e.summary) for e in events if e.kind is EventKind.ALERT}
    merged = events + [e for e in _alert_events(alerts) if (e.at, e.summary) not in recorded]
    merged.sort(key=lambda e: e.at)  # stable: same-second events keep the store's order
    if not merged:
        out.append("- No events recorded.")
    for event in merged:
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


def write_postmortem(
    store: IncidentStore, incident_id: str, directory: Path, now: datetime
) -> Path:
    """Write the draft to directory/<id>-postmortem.md (atomically) and return the path."""
    from cockpit.backends.statuspage_static import atomic_write

    text = render_postmortem(store, incident_id, now)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / postmortem_filename(incident_id)
    atomic_write(path, text.encode("utf-8"))
    return path


def short_path(path: Path, width: int = 0) -> str:
    """The path as the engineer types it (~ for the home directory), shortened in the
    middle when it is wider than `width`, so a notification shows where the file is."""
    text = str(path)
    home = str(Path.home())
    if text == home or text.startswith(home + "/"):
        text = "~" + text[len(home) :]
    if width and len(text) > width:
        keep = max(width - 1, 2)
        text = text[: keep // 3] + "…" + text[-(keep - keep // 3) :]
    return text


def main(
    argv: list[str],
    *,
    store_path: str,
    default_dir: Path | None = None,
    shared: IncidentStore | None = None,
) -> int:
    """`cockpit postmortem [INCIDENT-ID] [--output FILE]`: the draft on stdout or in FILE.
    With default_dir (`cockpit --demo postmortem`) the draft is written there unless
    --output or --stdout says otherwise, and the command says where. shared: the shared
    store (PostgreSQL) when the config names one; else the SQLite file at store_path."""
    parser = argparse.ArgumentParser(
        prog="cockpit postmortem", description="Draft a post-mortem from the incident record."
    )
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    return run(args, store_path=store_path, default_dir=default_dir, shared=shared)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `cockpit postmortem` (also used by the cockpit's own parser)."""
    parser.add_argument("incident", nargs="?", help="incident id (default: the latest one)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the draft to FILE")
    parser.add_argument("--stdout", action="store_true", help="print the draft")


def run(
    args: argparse.Namespace,
    *,
    store_path: str,
    default_dir: Path | None = None,
    shared: IncidentStore | None = None,
) -> int:
    """`cockpit postmortem` with its arguments parsed; shared: the shared store (PostgreSQL)
    when the config names one, else the SQLite file at store_path."""
    if shared is None and store_path != ":memory:" and not Path(store_path).exists():
        print(f"cockpit postmortem: no incident store at {store_path}", file=sys.stderr)
        return 2
    store: IncidentStore = shared if shared is not None else SQLiteStore(store_path)
    if shared is not None:
        store_path = getattr(shared, "describe", lambda: "the shared store")()
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
        now = datetime.now(UTC)
        if default_dir is not None and not args.output and not args.stdout:
            try:
                path = write_postmortem(store, incident_id, default_dir, now)
            except OSError as exc:
                print(
                    f"cockpit postmortem: cannot write to {default_dir}: {exc.strerror or exc}",
                    file=sys.stderr,
                )
                return 1
            print(f"wrote {short_path(path)}")
            return 0
        text = render_postmortem(store, incident_id, now)
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
