"""Alerts as Alertmanager groups them: unacknowledged first, critical first; acked apart below."""

from __future__ import annotations

import gc
import math
from datetime import datetime, timedelta

from rich.text import Text
from textual.binding import Binding

from cockpit.domain import SEVERITY_RANK, AlertGroup, AlertState
from cockpit.ui.ages import age_text, countdown_change, next_change
from cockpit.ui.flows import alerts
from cockpit.ui.keyed_table import Cell, Column
from cockpit.ui.keys import panel_bindings
from cockpit.ui.palette import Palette
from cockpit.ui.panels.base import Panel, Row
from cockpit.ui.text import clean, plain

ACK_ENDING_SOON = timedelta(minutes=5)
INFORMATIONAL = {"info", "none"}  # Watchdog and friends: shown, never "open", sorted last
SEVERITY_LABEL = {"critical": "CRIT", "page": "PAGE", "error": "ERR", "warning": "WARN"}


class _Shared:
    """Cells many rows show alike (a SEV badge, a team, an empty ACK), made once per
    palette (with the one pass over the alerts below, 1,369 groups' entries went from ~20
    to ~13 ms). A cell is never changed once made (the table copies one to cut it), so
    rows can share it."""

    __slots__ = ("acks", "palette", "sevs", "teams")

    def __init__(self, palette: Palette) -> None:
        self.palette = palette
        self.sevs: dict[tuple[str, int, bool], Text] = {}
        self.teams: dict[str, Text] = {}
        self.acks: dict[tuple[str, bool], Text] = {}

    def sev(self, severity: str, rank: int, acked: bool) -> Text:
        key = (severity, rank, acked)
        text = self.sevs.get(key)
        if text is None:
            if len(self.sevs) >= 4096:  # a severity label is outside text too
                self.sevs.clear()
            palette = self.palette
            label = SEVERITY_LABEL.get(severity, severity[:4].upper() or "-")
            level = "crit" if rank == 0 else "warn" if rank <= 2 else ""
            style = palette.crit_badge if level == "crit" else palette.level(level)
            text = self.sevs[key] = Text(label, style=palette.dim if acked else style, end="")
        return text

    def team(self, team: str) -> Text:
        text = self.teams.get(team)
        if text is None:
            if len(self.teams) >= 4096:  # hostile variety: start again
                self.teams.clear()
            text = self.teams[team] = plain(team)
        return text

    def ack(self, ack: str, soon: bool) -> Text:
        key = (ack, soon)
        text = self.acks.get(key)
        if text is None:
            if len(self.acks) >= 4096:
                self.acks.clear()
            palette = self.palette
            text = self.acks[key] = Text(ack, style=palette.warn if soon else palette.ok, end="")
        return text


class _GroupEntry:
    """A group's row, sort key and search text, computed once per group object; only the
    FOR and ACK texts move on, when they change (ages.py)."""

    __slots__ = (
        "_times",
        "ack_ends",
        "alerting",
        "cells",
        "group",
        "informational",
        "name",
        "search",
        "sev",
        "sort",
        "started",
        "team",
        "valid_until",
        "width",
    )

    def __init__(self, group: AlertGroup, shared: _Shared) -> None:
        self.group = group
        # one pass over the alerts for what the group's properties would each loop for:
        # severity (the first of the best rank), start (the earliest), firing count
        rank, severity, started, firing = 4, "none", None, 0
        best = False
        for alert in group.alerts:
            alert_rank = SEVERITY_RANK.get(alert.severity, 3)
            if not best or alert_rank < rank:
                rank, severity, best = alert_rank, alert.severity, True
            if alert.starts_at is not None and (started is None or alert.starts_at < started):
                started = alert.starts_at
            if alert.state is AlertState.ACTIVE:
                firing += 1
        self.alerting = bool(group.alerts)  # an ack ending soon warns while it has alerts
        acked = group.ack is not None
        self.informational = severity in INFORMATIONAL
        self.started = started.timestamp() if started is not None else None
        self.sort = (self.informational, acked, rank, -firing, self.started or 0.0)
        self.sev = shared.sev(severity, rank, acked)
        count = len(group.alerts)
        group_name = group.name
        name = clean(group_name) + (f" ×{count}" if count > 1 else "")
        if group.cluster:
            name = f"[{clean(group.cluster)}] {name}"
        self.name = plain(name, style="dim" if acked else "")
        self.width = len(self.name)
        team = group.team
        self.team = shared.team(team)
        labels = " ".join([f"{k}={v}" for k, v in group.labels.items()])
        self.search = f"{group_name} {team} {severity} {labels}"
        self.ack_ends = group.ack.ends_at.timestamp() if group.ack is not None else None
        self.cells: tuple[Cell, ...] = ()
        self.valid_until = -math.inf  # the FOR and ACK texts are computed on first use
        self._times: tuple[str, str, bool] = ("", "", False)

    def set_times(self, now_ts: float, shared: _Shared) -> None:
        until = math.inf
        since = "-"
        if self.started is not None:
            since = age_text(now_ts - self.started)
            until = next_change(self.started, now_ts)
        ack, soon = "", False
        if self.ack_ends is not None:
            left = max(self.ack_ends - now_ts, 0.0)
            ack = f"✓ {age_text(left)}"
            soon = left <= ACK_ENDING_SOON.total_seconds() and self.alerting
            until = min(until, countdown_change(self.ack_ends, now_ts))
        self.valid_until = until
        if (since, ack, soon) != self._times or not self.cells:
            self._times = (since, ack, soon)
            self.cells = (self.sev, self.name, self.team, since, shared.ack(ack, soon))


class AlertsPanel(Panel):
    panel_name = "alerts"
    number = 1
    empty_text = "no alert is firing"
    columns = (
        Column("sev", "SEV", 4),
        Column("alert", "ALERT", 12, flex=True, keep=40),
        Column("team", "TEAM", 9, drop=2),
        Column("for", "FOR", 5, drop=1),
        Column("ack", "ACK", 7),
    )
    BINDINGS = [
        *panel_bindings("alerts"),
        Binding("enter", "detail", "Detail", show=True, priority=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        # one entry per group object (frozen; the feed hands back the same object for a
        # group that did not change): at 2,000 alerts a tick must cost nothing
        self._entries: dict[str, _GroupEntry] = {}
        self._sorted: list[_GroupEntry] = []
        self._groups: object = None  # the live list the entries were made from
        self._palette: object = None
        self._shared: _Shared | None = None
        self._rows: list[Row] = []
        self._counts = ""
        self._valid_until = -math.inf  # when the first FOR or ACK text changes with time

    def rows_due(self, now: datetime) -> bool:
        return now.timestamp() >= self._valid_until

    def refresh_rows(self) -> None:
        # 2,000 alerts make tens of thousands of objects that all live on (entries, cells,
        # the table's rows): the collections they trigger on the way free nothing. Paused
        # meanwhile, as the pod list's parse does; a tick that changes nothing allocates
        # nothing, so pausing costs nothing then.
        pause = len(self.cockpit.live.groups) > 200 and gc.isenabled()
        if pause:
            gc.disable()
        try:
            super().refresh_rows()
        finally:
            if pause:
                gc.enable()

    def build_rows(self) -> list[Row]:
        """The same list as last time while nothing changed (refresh_rows then skips the
        diff); otherwise only the entries of new groups and of due ages are rebuilt."""
        now_ts = self.cockpit.clock.now().timestamp()
        palette = self.cockpit.palette
        groups = self.cockpit.live.groups
        if palette is not self._palette or self._shared is None:  # a theme: new styles
            self._palette, self._entries, self._groups = palette, {}, None
            self._shared = _Shared(palette)
        shared = self._shared
        changed = groups is not self._groups
        if changed:
            old = self._entries
            entries: dict[str, _GroupEntry] = {}
            for group in groups:
                entry = old.get(group.key)
                if entry is None or entry.group is not group:
                    entry = _GroupEntry(group, shared)
                entries[group.key] = entry
            self._entries, self._groups = entries, groups
            self._sorted = sorted(entries.values(), key=lambda e: e.sort)
            self.items = {e.group.key: e.group for e in self._sorted}
            self._counts = self._title_counts()
            widest = max((e.width for e in self._sorted), default=0)
            self.table.set_content_widths({"alert": widest})
        elif now_ts < self._valid_until:
            return self._rows
        until = math.inf
        for entry in self._sorted:
            if now_ts >= entry.valid_until:
                entry.set_times(now_ts, shared)
                changed = True
            until = min(until, entry.valid_until)
        self._valid_until = until
        if changed:
            self._rows = [(e.group.key, e.cells, e.search) for e in self._sorted]
        return self._rows

    def is_bad(self, key: str) -> bool:
        group = self.items.get(key)
        return (
            isinstance(group, AlertGroup)
            and not group.acked
            and group.severity not in INFORMATIONAL
            and bool(group.firing)
        )

    def copy_text(self) -> str:
        item = self.selected()
        return item.name if isinstance(item, AlertGroup) else ""

    def title_counts(self) -> str:
        return self._counts

    def _title_counts(self) -> str:
        unacked = crit = acked = 0
        for entry in self._sorted:
            if entry.informational:
                continue
            if entry.sort[1]:
                acked += 1
            else:
                unacked += 1
                crit += int(entry.sort[2] == 0)
        parts = [f"{unacked} open"]
        if crit:
            parts.append(f"{crit} critical")
        if acked:
            parts.append(f"{acked} acked")
        return ", ".join(parts)

    def selected_group(self) -> AlertGroup | None:
        item = self.selected()
        return item if isinstance(item, AlertGroup) else None

    def available(self, action: str) -> bool:
        group = self.selected_group()
        if action == "unack":
            return group is not None and group.acked
        if action in {"ack", "follow", "runbook"}:
            return group is not None
        return True

    def on_data_table_row_selected(self) -> None:
        self.action_detail()

    def action_ack(self) -> None:
        group = self.selected_group()
        if group:
            self.cockpit.start(alerts.ack, group)

    def action_unack(self) -> None:
        group = self.selected_group()
        if group:
            self.cockpit.start(alerts.unack, group)

    def action_follow(self) -> None:
        group = self.selected_group()
        if group:
            self.cockpit.start(alerts.follow, group)

    def action_runbook(self) -> None:
        group = self.selected_group()
        if group:
            self.cockpit.start(alerts.runbook, group)

    def action_detail(self) -> None:
        group = self.selected_group()
        if group:
            self.cockpit.start(alerts.detail, group)
