"""The shift report: the figures a support lead hands to product managers, offline.

Everything comes from the cockpit's own record: the alert history (every firing with
its startsAt), the timeline (acks, restarts, quarantines, escalations with their reason,
customer updates with the promised next update) and the audit log. Nothing is asked of
Alertmanager, PagerDuty or the status page, so a report is reproducible from one file.

Every figure is a `Figure` row that names the records it was computed from ("e12" a
timeline event id, "a7" an alert-history id, "l31" an audit log line); the Markdown,
CSV and JSON forms render the same rows. Percentiles are nearest-rank (p50 of 4 samples
is the 2nd smallest), so each one is a real sample whose events can be looked up.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from cockpit.config import ReportConfig
from cockpit.domain import AlertRecord, EventKind, Incident, TimelineEvent
from cockpit.incident.postmortem import first_alert_at, fmt_duration, incident_alerts
from cockpit.incident.store import IncidentStore

FORMATS = ("markdown", "csv", "json")
PAGING_SEVERITIES = frozenset({"critical", "page"})
FLAP_WINDOW = timedelta(hours=24)
NIGHT_ACTION_WINDOW = timedelta(minutes=30)
SESSION_GAP = timedelta(minutes=30)
SESSION_PAD = timedelta(minutes=5)
MARKDOWN_REFS = 12  # ids shown per figure in Markdown; CSV and JSON carry all of them

# what the engineer does about an alert, beyond looking at it
ACTION_KINDS = frozenset(
    {
        EventKind.ACK,
        EventKind.UNACK,
        EventKind.RESTART,
        EventKind.QUARANTINE,
        EventKind.ESCALATION,
        EventKind.CUSTOMER_UPDATE,
        EventKind.DECLARED,
        EventKind.STATUS,
        EventKind.NOTE,
    }
)
FURTHER_ACTION_KINDS = frozenset(
    {EventKind.RESTART, EventKind.QUARANTINE, EventKind.ESCALATION, EventKind.CUSTOMER_UPDATE}
)
MANUAL_FIX_KINDS = frozenset({EventKind.RESTART, EventKind.QUARANTINE})
DEVELOPER_FREE_KINDS = frozenset(
    {EventKind.ACK, EventKind.RESTART, EventKind.QUARANTINE, EventKind.CUSTOMER_UPDATE}
)


@dataclass(frozen=True)
class Figure:
    """One figure of the report and the records it was computed from."""

    section: str
    metric: str
    group: str  # "", a team, a severity, a day, an alert name, an incident id ...
    value: float
    unit: str  # count / seconds / ratio / hours
    display: str  # the value as the Markdown shows it
    refs: tuple[str, ...] = ()


@dataclass
class Report:
    since: datetime
    until: datetime
    timezone: str
    team: str = ""
    figures: list[Figure] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.figures

    @property
    def empty_line(self) -> str:
        scope = f" for team {self.team}" if self.team else ""
        return (
            f"No alerts, incidents or actions recorded{scope} between "
            f"{_local(self.since, self.tz)} and {_local(self.until, self.tz)}."
        )

    @property
    def tz(self) -> tzinfo:
        return _zone(self.timezone)


# --------------------------------------------------------------------------- helpers


def _zone(name: str) -> tzinfo:
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def zone_name(name: str) -> str:
    return name or str(datetime.now().astimezone().tzinfo)


def _local(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def percentile(values: Sequence[float], p: float) -> int:
    """Index (into sorted values) of the nearest-rank p-th percentile."""
    rank = max(1, math.ceil(p / 100 * len(values)))
    return min(rank, len(values)) - 1


def _ev(event: TimelineEvent) -> str:
    return f"e{event.id}"


def _al(record: AlertRecord) -> str:
    return f"a{record.id}"


def _count(section: str, metric: str, group: str, refs: Iterable[str]) -> Figure:
    ids = tuple(dict.fromkeys(refs))
    return Figure(section, metric, group, len(ids), "count", str(len(ids)), ids)


def _ratio(
    section: str, metric: str, group: str, part: int, whole: int, refs: Iterable[str]
) -> Figure:
    value = part / whole if whole else 0.0
    return Figure(
        section,
        metric,
        group,
        round(value, 4),
        "ratio",
        f"{value:.1%} ({part}/{whole})",
        tuple(dict.fromkeys(refs)),
    )


def _durations(
    section: str, metric: str, group: str, samples: list[tuple[timedelta, tuple[str, ...]]]
) -> list[Figure]:
    """n, p50, p90 and max of duration samples, each naming the sample's records."""
    if not samples:
        return []
    ordered = sorted(samples, key=lambda s: s[0])
    seconds = [s[0].total_seconds() for s in ordered]
    out = [
        Figure(
            section,
            f"{metric} n",
            group,
            len(ordered),
            "count",
            str(len(ordered)),
            tuple(r for s in ordered for r in s[1]),
        )
    ]
    for label, index in (
        ("p50", percentile(seconds, 50)),
        ("p90", percentile(seconds, 90)),
        ("max", len(ordered) - 1),
    ):
        delta, refs = ordered[index]
        out.append(
            Figure(
                section,
                f"{metric} {label}",
                group,
                int(delta.total_seconds()),
                "seconds",
                fmt_duration(delta, seconds=True),
                refs,
            )
        )
    return out


def interruption_bucket(at: datetime, tz: tzinfo, config: ReportConfig) -> str:
    """working hours / evening / night / weekend, in the engineer's time zone."""
    local = at.astimezone(tz)
    if local.strftime("%a").lower()[:3] in config.weekend:
        return "weekend"
    if config.workday_start <= local.hour < config.workday_end:
        return "working hours"
    if config.workday_end <= local.hour < config.night_start:
        return "evening"
    return "night"


def is_night(at: datetime, tz: tzinfo, config: ReportConfig) -> bool:
    """Between night_start and workday_start, any day of the week."""
    hour = at.astimezone(tz).hour
    return hour >= config.night_start or hour < config.workday_start


def _merge_intervals(
    intervals: list[tuple[datetime, datetime]], since: datetime, until: datetime
) -> timedelta:
    total = timedelta(0)
    end: datetime | None = None
    start: datetime | None = None
    for a, b in sorted((max(a, since), min(b, until)) for a, b in intervals):
        if b <= a:
            continue
        if end is None or a > end:
            if end is not None and start is not None:
                total += end - start
            start, end = a, b
        else:
            end = max(end, b)
    if end is not None and start is not None:
        total += end - start
    return total


# --------------------------------------------------------------------------- the report


@dataclass
class _Record:
    """What the report reads, loaded once."""

    alerts: list[AlertRecord]  # firings that started in the window
    flap_history: list[AlertRecord]  # firings since a day before the window (flaps)
    events: list[TimelineEvent]  # every event in the window, oldest first
    incidents: list[Incident]  # declared in the window
    timelines: dict[str, list[TimelineEvent]]  # each incident's whole timeline, oldest first
    audit: list[tuple[int, dict[str, Any]]]  # (line number, record) in the window


def _load(
    store: IncidentStore,
    since: datetime,
    until: datetime,
    team: str,
    audit_path: Path | None,
) -> _Record:
    history = store.alert_history(since - FLAP_WINDOW, until)
    alerts = [r for r in history if since <= r.starts_at < until]
    events = store.events_between(since, until)
    incidents = [i for i in store.incidents(limit=1_000_000) if since <= i.started_at < until]
    if team:
        alerts = [r for r in alerts if r.team == team]
        history = [r for r in history if r.team == team]
        incidents = [i for i in incidents if i.team == team]
        keys = {r.group_key for r in alerts}
        ids = {i.id for i in incidents}
        events = [
            e
            for e in events
            if e.incident_id in ids
            or e.details.get("group_key") in keys
            or e.details.get("team") == team
        ]
    timelines = {i.id: list(reversed(store.timeline(i.id, limit=1_000_000))) for i in incidents}
    audit: list[tuple[int, dict[str, Any]]] = []
    if audit_path is not None:
        from cockpit.audit import read_audit

        for number, entry in enumerate(read_audit(audit_path), start=1):
            try:
                at = datetime.fromisoformat(str(entry.get("time")))
            except ValueError:
                continue
            if since <= at < until:
                audit.append((number, {**entry, "_at": at}))
    return _Record(alerts, history, events, incidents, timelines, audit)


def build_report(
    store: IncidentStore,
    since: datetime,
    until: datetime,
    *,
    config: ReportConfig | None = None,
    team: str = "",
    audit_path: Path | None = None,
    timezone: str | None = None,
) -> Report:
    config = config or ReportConfig()
    tz_name = timezone if timezone is not None else config.timezone
    report = Report(since, until, zone_name(tz_name), team)
    tz = _zone(tz_name)
    data = _load(store, since, until, team, audit_path)
    figures = report.figures
    figures += _volume(data, tz)
    figures += _response_times(store, data, until)
    figures += _escalations(data)
    figures += _tickets(data)
    figures += _interruptions(data, tz, config)
    figures += _noisy(data, since, until)
    figures += _updates(data, until)
    figures += _engineers(data)
    return report


def _volume(data: _Record, tz: tzinfo) -> list[Figure]:
    section = "Volume"
    out: list[Figure] = []
    if data.alerts:
        out.append(_count(section, "alert firings", "", map(_al, data.alerts)))
        groups = {(r.group_key or r.fingerprint) for r in data.alerts}
        out.append(Figure(section, "alert groups", "", len(groups), "count", str(len(groups)), ()))
    for label, key in (
        ("alert firings per day", lambda r: r.starts_at.astimezone(tz).strftime("%Y-%m-%d")),
        ("alert firings per week", lambda r: r.starts_at.astimezone(tz).strftime("%G-W%V")),
        ("alert firings by team", lambda r: r.team or "(no team)"),
        ("alert firings by severity", lambda r: r.severity or "none"),
    ):
        by: dict[str, list[str]] = defaultdict(list)
        for record in data.alerts:
            by[key(record)].append(_al(record))
        out += [_count(section, label, group, refs) for group, refs in sorted(by.items())]
    names = Counter(r.name for r in data.alerts)
    for name, _n in sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
        refs = [_al(r) for r in data.alerts if r.name == name]
        out.append(_count(section, "top alerts: firings", name, refs))
    if data.incidents:
        out.append(_count(section, "incidents", "", (i.id for i in data.incidents)))
    for label, ikey in (
        ("incidents per day", lambda i: i.started_at.astimezone(tz).strftime("%Y-%m-%d")),
        ("incidents by team", lambda i: i.team or "(no team)"),
        ("incidents by severity", lambda i: i.severity.value),
    ):
        iby: dict[str, list[str]] = defaultdict(list)
        for incident in data.incidents:
            iby[ikey(incident)].append(incident.id)
        out += [_count(section, label, group, refs) for group, refs in sorted(iby.items())]
    return out


def _acks_for(record: AlertRecord, events: Iterable[TimelineEvent]) -> list[TimelineEvent]:
    """Ack events that answered this firing (its fingerprint or group, after it started)."""
    out = []
    for event in events:
        if event.kind is not EventKind.ACK or event.at < record.starts_at:
            continue
        if record.resolved_at is not None and event.at > record.resolved_at:
            continue
        fps = event.details.get("fingerprints") or ()
        if record.fingerprint in fps or (
            record.group_key and event.details.get("group_key") == record.group_key
        ):
            out.append(event)
    return out


def _response_times(store: IncidentStore, data: _Record, until: datetime) -> list[Figure]:
    section = "Response times"
    samples: list[tuple[timedelta, tuple[str, ...]]] = []
    for record in data.alerts:
        acks = _acks_for(record, data.events)
        if acks:
            samples.append((acks[0].at - record.starts_at, (_al(record), _ev(acks[0]))))
    out = _durations(section, "alert: time to acknowledge", "", samples)
    per: dict[str, list[tuple[timedelta, tuple[str, ...]]]] = defaultdict(list)
    for incident in data.incidents:
        events = data.timelines[incident.id]
        alerts = incident_alerts(store, incident, events, until)
        start, _what = first_alert_at(incident, events, alerts)
        origin = tuple(_al(r) for r in alerts if r.group_key == incident.alert_group)[:1]
        origin = origin or (incident.id,)
        for metric, kinds in (
            ("incident: time to acknowledge", {EventKind.ACK}),
            ("incident: time to first action", set(ACTION_KINDS)),
            ("incident: time to mitigate", set(MANUAL_FIX_KINDS)),
        ):
            first = next((e for e in events if e.kind in kinds), None)
            if first is not None:
                per[metric].append((max(first.at - start, timedelta(0)), (*origin, _ev(first))))
        if incident.resolved_at is not None:
            resolved = next((e for e in events if e.kind is EventKind.RESOLVED), None)
            refs = (*origin, _ev(resolved)) if resolved else origin
            per["incident: time to resolve"].append((incident.resolved_at - start, refs))
    for metric in (
        "incident: time to acknowledge",
        "incident: time to first action",
        "incident: time to mitigate",
        "incident: time to resolve",
    ):
        out += _durations(section, metric, "", per[metric])
    return out


def _escalations(data: _Record) -> list[Figure]:
    section = "Escalation"
    out: list[Figure] = []
    escalations = [
        e for e in data.events if e.kind is EventKind.ESCALATION and e.source != "outbox"
    ]
    if not data.incidents and not escalations:
        return out
    by_team: dict[str, list[Incident]] = defaultdict(list)
    for incident in data.incidents:
        by_team[incident.team or "(no team)"].append(incident)
    escalated_ids = {
        i.id
        for i in data.incidents
        if any(
            e.kind is EventKind.ESCALATION and e.source != "outbox" for e in data.timelines[i.id]
        )
    }
    if data.incidents:
        escalated = [i for i in data.incidents if i.id in escalated_ids]
        out.append(
            _ratio(
                section,
                "incidents escalated to developers",
                "",
                len(escalated),
                len(data.incidents),
                (i.id for i in escalated),
            )
        )
        for team, incidents in sorted(by_team.items()):
            hit = [i for i in incidents if i.id in escalated_ids]
            out.append(
                _ratio(
                    section,
                    "incidents escalated by team",
                    team,
                    len(hit),
                    len(incidents),
                    (i.id for i in hit),
                )
            )
        # fixed without developers: resolved, and nothing but ack/restart/quarantine/update
        resolved = [i for i in data.incidents if i.resolved_at is not None]
        alone = [
            i
            for i in resolved
            if i.id not in escalated_ids
            and all(
                e.kind in DEVELOPER_FREE_KINDS
                for e in data.timelines[i.id]
                if e.kind in ACTION_KINDS
                and e.kind not in {EventKind.DECLARED, EventKind.NOTE}
                and e.kind is not EventKind.STATUS
            )
        ]
        out.append(
            _ratio(
                section,
                "resolved without developers",
                "",
                len(alone),
                len(resolved),
                (i.id for i in alone),
            )
        )
    reasons: dict[str, list[str]] = defaultdict(list)
    for event in escalations:
        reasons[str(event.details.get("reason") or "(no reason given)")].append(_ev(event))
    out += [
        _count(section, "escalations by reason", reason, refs)
        for reason, refs in sorted(reasons.items())
    ]
    return out


def _tickets(data: _Record) -> list[Figure]:
    """Bug tickets filed for the developers (Jira), by team: the outbox's "filed" events."""
    teams = {i.id: i.team for i in data.incidents}
    by_team: dict[str, list[str]] = defaultdict(list)
    for event in data.events:
        ids = event.details.get("ids") if isinstance(event.details, dict) else None
        if event.kind is not EventKind.TICKET or event.source != "outbox":
            continue
        if not isinstance(ids, dict) or not ids.get("key"):
            continue  # a comment sent, not a ticket filed
        if "project" not in ids:
            continue
        team = str(ids.get("team") or teams.get(event.incident_id or "", "") or "(no team)")
        by_team[team].append(_ev(event))
    if not by_team:
        return []
    out = [
        _count("Tickets", "bug tickets filed", "", [r for refs in by_team.values() for r in refs])
    ]
    out += [
        _count("Tickets", "bug tickets filed by team", team, refs)
        for team, refs in sorted(by_team.items())
    ]
    return out


def _interruptions(data: _Record, tz: tzinfo, config: ReportConfig) -> list[Figure]:
    section = "Interruptions"
    pages = [r for r in data.alerts if r.severity in PAGING_SEVERITIES]
    if not pages:
        return []
    out: list[Figure] = []
    buckets: dict[str, list[str]] = {
        b: [] for b in ("working hours", "evening", "night", "weekend")
    }
    for record in pages:
        buckets[interruption_bucket(record.starts_at, tz, config)].append(_al(record))
    out += [_count(section, "pages", bucket, refs) for bucket, refs in buckets.items()]
    night = [r for r in pages if is_night(r.starts_at, tz, config)]
    acted: list[str] = []
    for record in night:
        window_end = record.starts_at + NIGHT_ACTION_WINDOW
        action = next(
            (
                e
                for e in data.events
                if e.kind in ACTION_KINDS and record.starts_at <= e.at <= window_end
            ),
            None,
        )
        if action is not None:
            acted += [_al(record), _ev(action)]
    if night:
        acted_count = len([r for r in acted if r.startswith("a")])
        out.append(
            _ratio(
                section,
                "night pages acted on within 30 minutes",
                "",
                acted_count,
                len(night),
                acted,
            )
        )
    return out


def _noisy(data: _Record, since: datetime, until: datetime) -> list[Figure]:
    section = "Noisy alerts"
    out: list[Figure] = []
    by_name: dict[str, list[AlertRecord]] = defaultdict(list)
    for record in data.alerts:
        by_name[record.name].append(record)
    previous: dict[tuple[str, str], list[AlertRecord]] = defaultdict(list)
    for record in data.flap_history:
        previous[(record.cluster, record.fingerprint)].append(record)
    acks = [e for e in data.events if e.kind is EventKind.ACK]
    for name, records in sorted(by_name.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        flaps = []
        for record in records:
            earlier = [
                p
                for p in previous[(record.cluster, record.fingerprint)]
                if p.starts_at < record.starts_at
                and p.resolved_at is not None
                and record.starts_at - p.resolved_at <= FLAP_WINDOW
            ]
            if earlier:
                flaps.append(_al(record))
        silenced: list[tuple[datetime, datetime]] = []
        silence_refs: list[str] = []
        for event in acks:
            matchers = event.details.get("matchers") or {}
            if (isinstance(matchers, dict) and matchers.get("alertname") == name) or (
                event.details.get("target") == name
            ):
                duration = float(event.details.get("duration_s") or 0)
                silenced.append((event.at, event.at + timedelta(seconds=duration)))
                silence_refs.append(_ev(event))
        hours = _merge_intervals(silenced, since, until).total_seconds() / 3600
        acked_only: list[str] = []
        manual: list[tuple[str, str]] = []  # (kind, target) of the fix of each firing
        manual_refs: list[str] = []
        for record in records:
            end = record.resolved_at or until
            ack = next(iter(_acks_for(record, data.events)), None)
            scope = ack.incident_id if ack is not None else None
            during = [
                e for e in data.events if record.starts_at <= e.at <= end and e.incident_id == scope
            ]
            if ack is not None and not any(e.kind in FURTHER_ACTION_KINDS for e in during):
                acked_only += [_al(record), _ev(ack)]
            fix = next((e for e in during if e.kind in MANUAL_FIX_KINDS), None)
            if fix is not None:
                manual.append((fix.kind.value, str(fix.details.get("target") or "")))
                manual_refs += [_al(record), _ev(fix)]
        interesting = len(records) > 1 or flaps or acked_only or hours
        if not interesting:
            continue
        out.append(_count(section, "firings", name, map(_al, records)))
        out.append(_count(section, "flaps (fired again within 24 h)", name, flaps))
        out.append(
            Figure(
                section,
                "hours silenced",
                name,
                round(hours, 2),
                "hours",
                f"{hours:.1f} h",
                tuple(silence_refs),
            )
        )
        acked_n = len([r for r in acked_only if r.startswith("a")])
        out.append(
            Figure(
                section,
                "acked, nothing else done (tuning candidate)",
                name,
                acked_n,
                "count",
                str(acked_n),
                tuple(acked_only),
            )
        )
        # every firing fixed by hand the same way, by separate actions (one restart that
        # cleared two alerts of one group is one fix, not a habit)
        fixes = {r for r in manual_refs if r.startswith("e")}
        same_kind = len({k for k, _ in manual}) == 1
        if len(records) > 1 and len(manual) == len(records) and same_kind and len(fixes) > 1:
            kind = manual[0][0]
            targets = {t for _, t in manual}
            what = kind + (f" {next(iter(targets))}" if len(targets) == 1 else "")
            out.append(
                Figure(
                    section,
                    "same manual fix every time (automation candidate)",
                    name,
                    len(manual),
                    "count",
                    f"{what} ({len(manual)}/{len(records)})",
                    tuple(manual_refs),
                )
            )
    return out


def _updates(data: _Record, until: datetime) -> list[Figure]:
    section = "Customer updates"
    out: list[Figure] = []
    for incident in data.incidents:
        updates = [
            e
            for e in data.timelines[incident.id]
            if e.kind is EventKind.CUSTOMER_UPDATE and "status" in e.details
        ]
        out.append(_count(section, "updates", incident.id, map(_ev, updates)))
        gaps: list[tuple[timedelta, tuple[str, ...]]] = []
        before = incident.started_at
        before_ref = incident.id
        for update in updates:
            gaps.append((update.at - before, (before_ref, _ev(update))))
            before, before_ref = update.at, _ev(update)
        if gaps:
            ordered = sorted(gaps, key=lambda g: g[0])
            median = ordered[percentile([g[0].total_seconds() for g in ordered], 50)]
            for label, (delta, refs) in (("median gap", median), ("max gap", ordered[-1])):
                out.append(
                    Figure(
                        section,
                        label,
                        incident.id,
                        int(delta.total_seconds()),
                        "seconds",
                        fmt_duration(delta, seconds=True),
                        refs,
                    )
                )
        late = []
        for update in updates:
            promised = update.details.get("promised_by")
            if isinstance(promised, str) and update.at > datetime.fromisoformat(promised):
                late.append(_ev(update))
        overdue = (
            incident.next_update_due is not None
            and incident.next_update_due < until
            and incident.closed_at is None
        )
        label = "updates later than promised" + (" (next one overdue now)" if overdue else "")
        out.append(_count(section, label, incident.id, late))
    return out


def _engineers(data: _Record) -> list[Figure]:
    section = "Engineers"
    by_actor: dict[str, list[tuple[int, datetime, str]]] = defaultdict(list)
    done: set[int] = set()  # lines that record an action done (not its attempt or refusal)
    for number, entry in data.audit:
        by_actor[str(entry.get("actor") or "?")].append(
            (number, entry["_at"], str(entry.get("action") or ""))
        )
        if entry.get("outcome") in {"ok", "queued"} and entry.get("action") != "session":
            done.add(number)
    out: list[Figure] = []
    for actor, lines in sorted(by_actor.items()):
        lines.sort(key=lambda x: x[1])
        actions = [line for line in lines if line[0] in done]
        total = timedelta(0)
        start = end = lines[0][1]
        for _number, at, _action in lines[1:]:
            if at - end > SESSION_GAP:
                total += end - start + SESSION_PAD
                start = at
            end = at
        total += end - start + SESSION_PAD
        refs = tuple(f"l{n}" for n, _, _ in lines)
        out.append(_count(section, "actions", actor, (f"l{n}" for n, _, _ in actions)))
        out.append(
            Figure(
                section,
                "time in the cockpit",
                actor,
                int(total.total_seconds()),
                "seconds",
                fmt_duration(total),
                refs,
            )
        )
    return out


# --------------------------------------------------------------------------- forms


def _refs_markdown(refs: Sequence[str]) -> str:
    shown = " ".join(refs[:MARKDOWN_REFS])
    more = len(refs) - MARKDOWN_REFS
    return shown + (f" (+{more} more, see --format csv)" if more > 0 else "")


def render_markdown(report: Report) -> str:
    tz = report.tz
    scope = f", team {report.team}" if report.team else ""
    out = [
        f"# Shift report {_local(report.since, tz)} to {_local(report.until, tz)}{scope}",
        "",
    ]
    if report.empty:
        return "\n".join([*out, report.empty_line, ""])
    out += [
        f"Times of day in {report.timezone}. Percentiles are nearest-rank. Records: e = "
        "timeline event id, a = alert history id, l = audit log line, INC-… an incident.",
    ]
    section = ""
    for figure in report.figures:
        if figure.section != section:
            section = figure.section
            out += [
                "",
                f"## {section}",
                "",
                "| Figure | For | Value | Records |",
                "|---|---|---|---|",
            ]
        cells = [figure.metric, figure.group, figure.display, _refs_markdown(figure.refs)]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


CSV_COLUMNS = ("section", "metric", "group", "value", "unit", "display", "refs")


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for figure in report.figures:
        row = asdict(figure)
        row["refs"] = " ".join(figure.refs)
        writer.writerow([row[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


def render_json(report: Report) -> str:
    data = {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "timezone": report.timezone,
        "team": report.team,
        "empty": report.empty,
        "message": report.empty_line if report.empty else "",
        "figures": [{**asdict(f), "refs": list(f.refs)} for f in report.figures],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(report: Report, form: str) -> str:
    return {"markdown": render_markdown, "csv": render_csv, "json": render_json}[form](report)


# --------------------------------------------------------------------------- command line


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime:
    """'24h' / '7d' / '90m' ago, a date (midnight in the engineer's zone) or an ISO time."""
    from cockpit.config import ConfigError, parse_duration

    text = text.strip()
    try:
        return now - parse_duration(text)
    except ConfigError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected 24h, 7d, a date (2026-11-25) or a time, got {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def main(
    argv: list[str],
    *,
    store_path: str,
    audit_path: Path | None,
    config: ReportConfig,
    now: datetime | None = None,
) -> int:
    """`cockpit report [--since 24h|7d|DATE] [--until ...] [--team T] [--format F] [--tz Z]`."""

    parser = argparse.ArgumentParser(
        prog="cockpit report",
        description="Shift figures from the cockpit's record: volume, response times, "
        "escalations, interruptions, noisy alerts, update cadence, time per engineer.",
    )
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    return run(args, store_path=store_path, audit_path=audit_path, config=config, now=now)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `cockpit report` (also used by the cockpit's own parser)."""
    parser.add_argument("--since", default="24h", help="24h, 7d, a date or a time (default 24h)")
    parser.add_argument("--until", default="", help="a date or a time (default: now)")
    parser.add_argument("--team", default="", help="only this team's alerts and incidents")
    parser.add_argument("--format", default="markdown", choices=FORMATS)
    parser.add_argument("--tz", default=None, help="time zone for times of day ([report])")


def run(
    args: argparse.Namespace,
    *,
    store_path: str,
    audit_path: Path | None,
    config: ReportConfig,
    now: datetime | None = None,
    shared: IncidentStore | None = None,
) -> int:
    """`cockpit report` with its arguments parsed; shared: the shared store (PostgreSQL)
    when the config names one, else the SQLite file at store_path."""
    import sys
    from datetime import UTC

    try:
        tz = _zone(args.tz if args.tz is not None else config.timezone)
    except Exception:
        print(f"cockpit report: unknown time zone {args.tz!r}", file=sys.stderr)
        return 2
    now = now or datetime.now(UTC)
    try:
        until = parse_when(args.until, now, tz) if args.until else now
        since = parse_when(args.since, until if args.until else now, tz)
    except ValueError as exc:
        print(f"cockpit report: {exc}", file=sys.stderr)
        return 2
    if since >= until:
        print("cockpit report: --since must be before --until", file=sys.stderr)
        return 2
    if shared is None and store_path != ":memory:" and not Path(store_path).exists():
        print(f"cockpit report: no incident store at {store_path}", file=sys.stderr)
        return 2
    from cockpit.incident.store import SQLiteStore, StoreError

    try:
        store: IncidentStore = shared if shared is not None else SQLiteStore(store_path)
    except (StoreError, OSError) as exc:
        print(f"cockpit report: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a damaged file: say so, no traceback
        print(f"cockpit report: cannot read {store_path}: {exc}", file=sys.stderr)
        return 2
    try:
        report = build_report(
            store,
            since,
            until,
            config=config,
            team=args.team,
            audit_path=audit_path,
            timezone=args.tz,
        )
    finally:
        store.close()
    sys.stdout.write(render(report, args.format))
    return 0
