"""The shift handover: what the next engineer needs, as Markdown they can trust.

Open incidents with their status, commander, the last customer update (time and text) and
the next one due; alerts still firing with their acks; acks ending during the next shift
and those outliving it (with creator and comment); pending outbox items; quarantined
messages kept on disk; tickets opened this shift; the shift's numbers; the engineer's notes.

Built from the record alone (`cockpit handover`), or with the live alert groups when the
screen has them (`h`): then acks come from Alertmanager itself, not from the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cockpit.domain import AlertGroup, EventKind, Incident, TimelineEvent
from cockpit.incident.postmortem import fmt_duration
from cockpit.incident.store import IncidentStore

NOTES_HEADING = "## Notes from the outgoing engineer"
NOTES_PROMPT = "<!-- What is the next engineer likely to face? What did you try? -->"


@dataclass(frozen=True)
class AckInfo:
    """An ack (a silence) as the handover lists it."""

    target: str
    created_by: str
    comment: str
    ends_at: datetime


def _t(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "n/a"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _last_update(store: IncidentStore, incident: Incident) -> TimelineEvent | None:
    for event in store.timeline(incident.id, limit=500):
        if event.kind is EventKind.CUSTOMER_UPDATE and "status" in event.details:
            return event
    return None


def _acks_from_record(
    store: IncidentStore, now: datetime, lookback: timedelta
) -> dict[str, AckInfo]:
    """The latest ack per alert group from the timeline (offline: nothing is asked)."""
    acks: dict[str, AckInfo] = {}
    for event in store.events_between(now - lookback, now + timedelta(seconds=1)):
        if event.kind is not EventKind.ACK:
            continue
        key = str(event.details.get("group_key") or event.details.get("target") or "")
        duration = float(event.details.get("duration_s") or 0)
        acks[key] = AckInfo(
            target=str(event.details.get("target") or key),
            created_by=event.actor,
            comment=_one_line(event.summary),
            ends_at=event.at + timedelta(seconds=duration),
        )
    for event in store.events_between(now - lookback, now + timedelta(seconds=1)):
        if event.kind is EventKind.UNACK:
            acks.pop(str(event.details.get("group_key") or event.details.get("target")), None)
    return acks


def render_handover(
    store: IncidentStore,
    now: datetime,
    *,
    shift: timedelta = timedelta(hours=12),
    author: str = "",
    groups: Sequence[AlertGroup] | None = None,
    quarantine_dir: Path | None = None,
    notes: str = "",
) -> str:
    """The handover Markdown at `now`, for a next shift of length `shift`."""
    next_end = now + shift
    out = [
        f"# Handover {_t(now)}" + (f" from {author}" if author else ""),
        "",
        f"_Next shift: until {_t(next_end)}._",
        "",
        "## Open incidents",
        "",
    ]
    active = store.active_incidents()
    if not active:
        out.append("- None.")
    for incident in active:
        owner = f", team {incident.team}" if incident.team else ""
        out.append(
            f"- **{incident.id}** {incident.severity.value} {incident.status.value}: "
            f"{_one_line(incident.title)} (IC {incident.commander}{owner}; customers see "
            f'"{_one_line(incident.public_title)}")'
        )
        last = _last_update(store, incident)
        if last is None:
            out.append("  - Customers have not been told anything yet.")
        else:
            body = _one_line(last.details.get("body") or last.summary)
            status = last.details.get("status", "?")
            out.append(f"  - Last customer update {_t(last.at)} ({status}): {body}")
        due = incident.next_update_due
        if due is not None and not incident.is_closed:
            late = " (OVERDUE)" if due <= now else f" (in {fmt_duration(due - now)})"
            out.append(f"  - Next customer update due {_t(due)}{late}")
    out += ["", "## Alerts still firing", ""]
    acks = _acks_from_record(store, now, timedelta(days=2))
    live_acks: list[AckInfo] = []
    if groups is not None:
        firing = [g for g in groups if g.firing or g.acked]
        for group in sorted(firing, key=lambda g: (g.severity_rank, g.name)):
            line = f"- {group.name} ({group.severity}, {len(group.alerts)} alerts"
            line += f", team {group.team})" if group.team else ")"
            if group.ack is not None:
                ack = AckInfo(
                    group.name,
                    group.ack.created_by,
                    _one_line(group.ack.comment),
                    group.ack.ends_at,
                )
                live_acks.append(ack)
                line += f", acked by {ack.created_by} until {_t(ack.ends_at)}"
            started = group.started_at
            if started is not None:
                line += f", firing since {_t(started)}"
            out.append(line)
        if not firing:
            out.append("- None.")
    else:
        open_alerts = store.open_alerts()
        by_group: dict[str, list[Any]] = {}
        for record in open_alerts:
            by_group.setdefault(record.group_key or record.fingerprint, []).append(record)
        for key, records in sorted(by_group.items(), key=lambda kv: kv[1][0].name):
            first = min(records, key=lambda r: r.starts_at)
            line = f"- {first.name} ({first.severity}, {len(records)} alerts"
            line += f", team {first.team})" if first.team else ")"
            recorded = acks.get(key)
            if recorded is not None and recorded.ends_at > now:
                live_acks.append(recorded)
                line += f", acked by {recorded.created_by} until {_t(recorded.ends_at)}"
            line += f", firing since {_t(first.starts_at)} (last seen {_t(first.last_seen)})"
            out.append(line)
        if not by_group:
            out.append("- None recorded.")
    ending = [a for a in live_acks if now < a.ends_at <= next_end]
    outliving = [a for a in live_acks if a.ends_at > next_end]
    out += ["", "## Acks ending during the next shift", ""]
    out += [
        f"- {a.target}: ends {_t(a.ends_at)}, by {a.created_by}: {a.comment}"
        for a in sorted(ending, key=lambda a: a.ends_at)
    ] or ["- None."]
    out += ["", "## Acks and silences outliving the next shift", ""]
    out += [
        f"- {a.target}: ends {_t(a.ends_at)}, by {a.created_by}: {a.comment}"
        for a in sorted(outliving, key=lambda a: a.ends_at)
    ] or ["- None."]
    out += ["", "## Waiting in the outbox", ""]
    out += _outbox_lines(store, now) or ["- Nothing: every update and page was sent."]
    out += ["", "## Quarantined messages kept on disk", ""]
    out += _quarantine_lines(quarantine_dir) or ["- None."]
    since = now - shift
    events = store.events_between(since, now + timedelta(seconds=1))
    out += ["", "## Tickets opened this shift", ""]
    tickets = [e for e in events if e.kind.value == "ticket" and e.source != "outbox"]
    out += [f"- {_t(e.at)} {_one_line(e.summary)} (e{e.id})" for e in tickets] or ["- None."]
    out += ["", "## This shift in numbers", ""]
    out += _numbers(store, events, since, now)
    out += ["", NOTES_HEADING, "", notes.strip() or NOTES_PROMPT, ""]
    return "\n".join(out)


def _outbox_lines(store: IncidentStore, now: datetime) -> list[str]:
    try:
        from cockpit.incident.outbox import open_outbox

        items = open_outbox(store).pending()
    except Exception:  # a store without an outbox table has nothing waiting
        return []
    lines = []
    for item in items:
        what = "customer update" if item.kind == "customer_update" else f"page {item.kind}"
        team = item.payload.get("team")
        target = f" to team {team}" if team else ""
        error = f"; last error: {_one_line(item.last_error)}" if item.last_error else ""
        lines.append(
            f"- {what}{target} for {item.incident_id}, queued {_t(item.created_at)}, "
            f"{item.attempts} attempts{error}"
        )
    return lines


def _quarantine_lines(directory: Path | None) -> list[str]:
    if directory is None or not directory.is_dir():
        return []
    files = sorted(directory.rglob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    files = [f for f in files if not f.name.startswith(".tmp-")]
    if not files:
        return []
    lines = [f"- {len(files)} message(s) in {directory}"]
    lines += [f"  - {f.relative_to(directory)}" for f in files[:5]]
    if len(files) > 5:
        lines.append(f"  - ... and {len(files) - 5} more")
    return lines


def _numbers(
    store: IncidentStore, events: list[TimelineEvent], since: datetime, now: datetime
) -> list[str]:
    def count(kind: EventKind) -> int:
        return sum(1 for e in events if e.kind is kind and e.source != "outbox")

    firings = [r for r in store.alert_history(since, now) if r.starts_at >= since]
    declared = count(EventKind.DECLARED)
    return [
        f"- {len(firings)} alert firings, {count(EventKind.ACK)} acks, "
        f"{count(EventKind.ESCALATION)} escalations, {count(EventKind.CUSTOMER_UPDATE)} customer "
        f"updates, {declared} incidents declared, {count(EventKind.RESTART)} restarts, "
        f"{count(EventKind.QUARANTINE)} quarantines",
        f"- Details: `cockpit report --since {since.astimezone(UTC):%Y-%m-%dT%H:%M}Z`",
    ]


def main(
    argv: list[str],
    *,
    store_path: str,
    shift: timedelta,
    quarantine_dir: Path | None,
    shared: IncidentStore | None = None,
) -> int:
    """`cockpit handover [--format markdown]`: the handover from the record, on stdout;
    shared: the shared store (PostgreSQL) when the config names one, else the SQLite file."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="cockpit handover", description="The shift handover from the incident record."
    )
    parser.add_argument("--format", default="markdown", choices=("markdown",))
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    if shared is None and store_path != ":memory:" and not Path(store_path).exists():
        print(f"cockpit handover: no incident store at {store_path}", file=sys.stderr)
        return 2
    from cockpit.incident.store import SQLiteStore, StoreError

    try:
        store = shared if shared is not None else SQLiteStore(store_path)
    except (StoreError, OSError) as exc:
        print(f"cockpit handover: {exc}", file=sys.stderr)
        return 2
    try:
        text = render_handover(store, datetime.now(UTC), shift=shift, quarantine_dir=quarantine_dir)
    finally:
        store.close()
    sys.stdout.write(text)
    return 0


# --------------------------------------------------------------------------- shift figure


@dataclass(frozen=True)
class ShiftFigures:
    """The shift so far, small enough for one line: what the header / panel shows."""

    alerts: int
    acks: int
    escalations: int
    updates: int
    arrivals: tuple[int, ...]  # alert firings per hour over the last day, oldest first

    def line(self) -> str:
        return (
            f"shift: {self.alerts} alerts · {self.acks} acks · {self.escalations} esc · "
            f"{self.updates} upd"
        )

    def sparkline(self) -> str:
        """Arrivals per hour, scaled to the busiest hour (one character per hour)."""
        from cockpit.queue_trends import BARS

        top = max(self.arrivals, default=0)
        if top <= 0:
            return BARS[0] * len(self.arrivals)
        last = len(BARS) - 1
        return "".join(BARS[min(last, round(v * last / top))] for v in self.arrivals)


def shift_figures(
    store: IncidentStore, now: datetime, shift: timedelta, hours: int = 24
) -> ShiftFigures:
    """Alerts fired, acks, escalations and customer updates since the shift began
    (`shift` ago), and alert arrivals per hour over the last `hours` hours."""
    since = now - shift
    events = store.events_between(since, now + timedelta(seconds=1))

    def count(kind: EventKind) -> int:
        return sum(1 for e in events if e.kind is kind and e.source != "outbox")

    start = now - timedelta(hours=hours)
    arrivals = [0] * hours
    alerts = 0
    for record in store.alert_history(start, now + timedelta(seconds=1)):
        if record.starts_at >= since:
            alerts += 1
        if record.starts_at >= start:
            index = min(int((record.starts_at - start).total_seconds() // 3600), hours - 1)
            arrivals[index] += 1
    return ShiftFigures(
        alerts=alerts,
        acks=count(EventKind.ACK),
        escalations=count(EventKind.ESCALATION),
        updates=count(EventKind.CUSTOMER_UPDATE),
        arrivals=tuple(arrivals),
    )
