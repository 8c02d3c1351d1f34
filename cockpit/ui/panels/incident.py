"""The open incident (or the shift log when none is open) and its timeline, newest first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from cockpit.config import Config
from cockpit.domain import EventKind, Incident, TimelineEvent
from cockpit.incident.handover import ShiftFigures, shift_figures
from cockpit.live import short_duration
from cockpit.ui.ages import time_of_day, zone, zone_name
from cockpit.ui.flows import incident as flows
from cockpit.ui.keyed_table import Column, KeyedTable
from cockpit.ui.keys import panel_bindings
from cockpit.ui.panels.base import Panel, Row
from cockpit.ui.text import clean, plain

SHIFT_FIGURE_EVERY = timedelta(seconds=30)
SHIFT_LINE_MIN_HEIGHT = 16  # panel rows below which an open incident's summary drops it

KIND_LABEL = {
    EventKind.DECLARED: "DECL",
    EventKind.NOTE: "NOTE",
    EventKind.STATUS: "STAT",
    EventKind.SEVERITY: "SEV",
    EventKind.COMMANDER: "IC",
    EventKind.ACK: "ACK",
    EventKind.UNACK: "UNACK",
    EventKind.ESCALATION: "PAGE",
    EventKind.CUSTOMER_UPDATE: "UPD",
    EventKind.RESTART: "RSTRT",
    EventKind.QUARANTINE: "QUAR",
    EventKind.RUNBOOK_STEP: "STEP",
    EventKind.RESOLVED: "RSLV",
    EventKind.ALERT: "ALERT",
    EventKind.ERROR: "ERROR",
    EventKind.TICKET: "JIRA",
    EventKind.OWNER: "OWNER",
    EventKind.CLOSED: "CLOSE",
    EventKind.HANDOVER: "HANDO",
}


def update_line(incident: Incident, now: datetime, config: Config) -> tuple[str, str]:
    """(what customers were promised, level ok / due / overdue) for the panel and header."""
    due = incident.next_update_due
    if due is not None:
        if now >= due:
            return f"update OVERDUE {short_duration(now - due)} (promised {due:%H:%M} UTC)", (
                "overdue"
            )
        return f"next update by {due:%H:%M} UTC (in {short_duration(due - now)})", "due"
    last = incident.last_customer_update_at
    if last is None:
        cadence = config.incident.update_cadence.get(incident.severity.value)
        waited = now - incident.started_at
        late = cadence is not None and incident.is_open and waited > cadence
        return f"no customer update yet ({short_duration(waited)})", "overdue" if late else "ok"
    return f"last update {short_duration(now - last)} ago", "ok"


class IncidentPanel(Panel):
    panel_name = "incident"
    number = 2
    empty_text = "nothing recorded yet: every action you take lands here"
    columns = (
        Column("at", "TIME", 5),
        Column("kind", "WHAT", 5, drop=1),
        Column("summary", "EVENT", 16, flex=True),
    )
    BINDINGS = [*panel_bindings("incident"), Binding("enter", "detail", "Detail")]
    DEFAULT_CSS = """
    IncidentPanel > #incident-summary {
        height: auto; max-height: 5; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    _summary_shown: tuple[str, list[Any]] | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._zone: Any = None

    def compose(self) -> ComposeResult:
        # the TIME column says its zone (local by default, [ui] timezone)
        self._zone = zone(self.cockpit.config.ui.timezone)
        # the column is headed by its zone ("CET" over 03:12), as narrow as the times
        label = zone_name(self.cockpit.clock.now(), self._zone)[:5] or "TIME"
        columns = (Column("at", label, max(5, len(label)), fit=True), *self.columns[1:])
        yield Static("", id="incident-summary")
        yield Input(placeholder="filter (enter keeps, escape clears)", classes="filter")
        yield Static("", classes="empty")
        yield KeyedTable(columns, id="incident-table")

    def incident(self) -> Incident | None:
        """The selected incident ([ / ]), a resolved one until it is closed."""
        return self.cockpit.actions.selected_incident()

    def build_rows(self) -> list[Row]:
        incident = self.incident()
        self.render_summary(incident)
        events = self.cockpit.actions.store.timeline(incident.id if incident else None, limit=300)
        palette = self.cockpit.palette
        me = self.cockpit.actions.actor
        self.items = {str(e.id): e for e in events}
        rows: list[Row] = []
        now = self.cockpit.clock.now()
        tz = self._zone or zone(self.cockpit.config.ui.timezone)
        widest = 5
        for event in events:
            at = time_of_day(event.at, now, tz)
            widest = max(widest, len(at))
            style = (
                palette.crit
                if event.kind is EventKind.ERROR
                else palette.accent
                if event.kind in {EventKind.CUSTOMER_UPDATE, EventKind.ESCALATION, EventKind.TICKET}
                else palette.info
            )
            rows.append(
                (
                    str(event.id),
                    (
                        at,
                        Text(KIND_LABEL.get(event.kind, event.kind.value[:5]), style=style, end=""),
                        plain(_whose(event, me), limit=300),
                    ),
                    f"{event.kind.value} {event.actor} {event.summary}",
                )
            )
        self.table.set_content_widths({"at": widest})
        return rows

    def render_summary(self, incident: Incident | None) -> None:
        summary = self.query_one("#incident-summary", Static)
        palette = self.cockpit.palette
        now = self.cockpit.clock.now()
        if incident is None:
            self._show_summary(
                summary,
                Text("\n").join(
                    [
                        Text.assemble(
                            ("No open incident", palette.ok),
                            ("  shift log below · i declares one", palette.dim),
                        ),
                        self.shift_line(now),
                    ]
                ),
            )
            return
        sev_style = palette.crit if incident.severity.value in {"SEV1", "SEV2"} else palette.warn
        active = self.cockpit.actions.active_incidents()
        line1 = Text.assemble(
            (f"{incident.id} ", palette.dim),
            (incident.severity.value, sev_style),
            " ",
            (clean(incident.title), "bold"),
        )
        if len(active) > 1:
            index = next((n for n, i in enumerate(active, 1) if i.id == incident.id), 1)
            line1.append(f"  ({index}/{len(active)}, [ ] switch)", style=palette.dim)
        owner = f"team {clean(incident.team)}" if incident.team else "no team (o sets it)"
        if incident.service:
            owner += f" · {clean(incident.service)}"
        line2 = Text.assemble(
            (incident.status.value, palette.ok if not incident.is_open else palette.accent),
            f" · {short_duration(incident.duration(now))} · IC {clean(incident.commander)} · ",
            (owner, "" if incident.team else palette.warn),
        )
        update_text, level = update_line(incident, now, self.cockpit.config)
        line3 = Text.assemble(
            (update_text, palette.crit if level == "overdue" else ""),
            (" · customers read ", palette.dim),
            f'"{clean(incident.public_title, 60)}"',
        )
        if not incident.is_open:
            line3 = Text.assemble(("resolved: x closes · ", palette.dim), line3)
        lines = [line1, line2, line3]
        here = self.cockpit.actions.also_here(incident.id)
        if here:  # the shared store: who else has this incident open right now
            seen = ", ".join(f"{who}, {_ago(age)}" for who, age in here[:4])
            lines.append(Text.assemble(("also here: ", palette.dim), (clean(seen), palette.accent)))
        tickets = self.cockpit.actions.tickets_of(incident.id)
        if tickets:  # the developers' side, as the last poll of Jira found it
            lines.append(
                Text.assemble(
                    ("Jira ", palette.dim),
                    (clean(" · ".join(t.describe() for t in tickets[-3:])), palette.accent),
                )
            )
        pending = self.cockpit.outbox_status
        if pending:
            lines.append(Text(pending, style=palette.warn))
        if self.size.height >= SHIFT_LINE_MIN_HEIGHT:  # at 80x24 the timeline's rows win
            lines.append(self.shift_line(now))
        # one screen line each (cut with …): a wrapped title would push the status and the
        # ticket line out of the four rows an 80x24 screen has for them
        self._show_summary(summary, Text("\n").join(lines))

    _shift: tuple[datetime, ShiftFigures] | None = None

    def shift_line(self, now: datetime) -> Text:
        """The shift so far and alert arrivals per hour over the last day (sparkline),
        read from the record at most every 30 seconds."""
        if self._shift is None or now - self._shift[0] >= SHIFT_FIGURE_EVERY:
            try:
                figures = shift_figures(
                    self.cockpit.actions.store, now, self.cockpit.config.report.shift
                )
            except Exception:  # a store that cannot answer now: keep the last figure
                figures = self._shift[1] if self._shift else ShiftFigures(0, 0, 0, 0, ())
            self._shift = (now, figures)
        figures = self._shift[1]
        palette = self.cockpit.palette
        return Text.assemble(
            (figures.line(), palette.dim),
            ("  alerts/h 24h ", palette.dim),
            (figures.sparkline(), palette.info),
        )

    def _show_summary(self, summary: Static, text: Text) -> None:
        """Repaint only on change; a layout pass only when its height may change (it
        repaints every table's scrollbars)."""
        shown = (text.plain, list(text.spans))
        if shown == self._summary_shown:
            return
        before = self._summary_shown
        self._summary_shown = shown
        width = summary.content_size.width
        same_height = (
            before is not None
            and before[0].count("\n") == shown[0].count("\n")
            and all(cell_len(line) <= width for line in shown[0].split("\n"))  # no wrap
            and all(cell_len(line) <= width for line in before[0].split("\n"))
        )
        summary.update(text, layout=not same_height)

    def title_counts(self) -> str:
        incident = self.incident()
        if incident is None:
            return "shift log"
        count = len(self.cockpit.actions.active_incidents())
        return incident.id + (f" 1 of {count}" if count > 1 else "")

    def selected_event(self) -> TimelineEvent | None:
        item = self.selected()
        return item if isinstance(item, TimelineEvent) else None

    def selected_ticket(self) -> str:
        """The Jira key of the selected row when it is a ticket's event, else ''."""
        event = self.selected_event()
        if event is None or event.kind is not EventKind.TICKET:
            return ""
        details = event.details if isinstance(event.details, dict) else {}
        ids = details.get("ids") if isinstance(details.get("ids"), dict) else {}
        key = details.get("key") or (ids.get("key") if isinstance(ids, dict) else "")
        return str(key or "")

    def available(self, action: str) -> bool:
        if action in {"set_status", "set_severity", "set_commander", "set_owner"}:
            return self.incident() is not None
        if action == "close_incident":
            incident = self.incident()
            return incident is not None and not incident.is_open
        if action in {"next_incident", "previous_incident"}:
            return len(self.cockpit.actions.active_incidents()) > 1
        if action == "postmortem":
            return self.incident() is not None or bool(self.cockpit.actions.store.incidents(1))
        if action == "detail":
            return self.selected_event() is not None
        return True

    def on_data_table_row_selected(self) -> None:
        self.action_detail()

    def action_set_status(self) -> None:
        self.cockpit.start(flows.status)

    def action_set_severity(self) -> None:
        self.cockpit.start(flows.severity)

    def action_set_commander(self) -> None:
        self.cockpit.start(flows.commander)

    def action_set_owner(self) -> None:
        self.cockpit.start(flows.owner)

    def action_close_incident(self) -> None:
        self.cockpit.start(flows.close)

    def action_next_incident(self) -> None:
        self.cockpit.start(flows.switch, 1)

    def action_previous_incident(self) -> None:
        self.cockpit.start(flows.switch, -1)

    def action_postmortem(self) -> None:
        self.cockpit.start(flows.postmortem)

    def action_detail(self) -> None:
        event = self.selected_event()
        if event:
            self.cockpit.start(flows.detail, event)


def _ago(seconds: float) -> str:
    """Presence ages in 5 s steps: the line repaints with each heartbeat, not each second."""
    return "just now" if seconds < 5 else f"{int(seconds) // 5 * 5} s ago"


def _whose(event: TimelineEvent, me: str) -> str:
    """On a shared timeline other engineers' events carry their name: who did what (unless
    the text already names them, as a Jira comment's "comment by Dev Bob" does)."""
    if event.actor in (me, "") or event.actor in event.summary:
        return event.summary
    return f"{event.actor}: {event.summary}"
