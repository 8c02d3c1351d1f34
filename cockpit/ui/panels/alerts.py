"""Alerts as Alertmanager groups them: unacknowledged first, critical first; acked apart below."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from rich.text import Text
from textual.binding import Binding

from cockpit.domain import AlertGroup
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


class _GroupEntry:
    """A group's row, sort key and search text, computed once per group object; only the
    FOR and ACK texts move on, when they change (ages.py)."""

    __slots__ = (
        "_times",
        "ack_ends",
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

    def __init__(self, group: AlertGroup, palette: Palette) -> None:
        self.group = group
        started = group.started_at
        rank = group.severity_rank
        severity = group.severity
        self.informational = severity in INFORMATIONAL
        self.started = started.timestamp() if started is not None else None
        self.sort = (self.informational, group.acked, rank, -len(group.firing), self.started or 0.0)
        sev = SEVERITY_LABEL.get(severity, severity[:4].upper() or "-")
        level = "crit" if rank == 0 else "warn" if rank <= 2 else ""
        sev_style = palette.crit_badge if level == "crit" else palette.level(level)
        self.sev = Text(sev, style=palette.dim if group.acked else sev_style, end="")
        count = len(group.alerts)
        name = clean(group.name) + (f" ×{count}" if count > 1 else "")
        if group.cluster:
            name = f"[{clean(group.cluster)}] {name}"
        self.name = plain(name, style="dim" if group.acked else "")
        self.width = len(self.name.plain)
        self.team = plain(group.team)
        self.search = f"{group.name} {group.team} {severity} " + " ".join(
            f"{k}={v}" for k, v in group.labels.items()
        )
        self.ack_ends = group.ack.ends_at.timestamp() if group.ack is not None else None
        self.cells: tuple[Cell, ...] = ()
        self.valid_until = -math.inf  # the FOR and ACK texts are computed on first use
        self._times: tuple[str, str, bool] = ("", "", False)

    def set_times(self, now_ts: float, palette: Palette) -> None:
        group = self.group
        until = math.inf
        since = "-"
        if self.started is not None:
            since = age_text(now_ts - self.started)
            until = next_change(self.started, now_ts)
        ack, soon = "", False
        if self.ack_ends is not None:
            left = max(self.ack_ends - now_ts, 0.0)
            ack = f"✓ {age_text(left)}"
            soon = left <= ACK_ENDING_SOON.total_seconds() and bool(group.firing or group.alerts)
            until = min(until, countdown_change(self.ack_ends, now_ts))
        self.valid_until = until
        if (since, ack, soon) != self._times or not self.cells:
            self._times = (since, ack, soon)
            ack_cell = Text(ack, style=palette.warn if soon else palette.ok, end="")
            self.cells = (self.sev, self.name, self.team, since, ack_cell)


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
        self._rows: list[Row] = []
        self._counts = ""
        self._valid_until = -math.inf  # when the first FOR or ACK text changes with time

    def rows_due(self, now: datetime) -> bool:
        return now.timestamp() >= self._valid_until

    def build_rows(self) -> list[Row]:
        """The same list as last time while nothing changed (refresh_rows then skips the
        diff); otherwise only the entries of new groups and of due ages are rebuilt."""
        now_ts = self.cockpit.clock.now().timestamp()
        palette = self.cockpit.palette
        groups = self.cockpit.live.groups
        if palette is not self._palette:  # theme changed: every style is new
            self._palette, self._entries, self._groups = palette, {}, None
        changed = groups is not self._groups
        if changed:
            old = self._entries
            entries: dict[str, _GroupEntry] = {}
            for group in groups:
                entry = old.get(group.key)
                if entry is None or entry.group is not group:
                    entry = _GroupEntry(group, palette)
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
                entry.set_times(now_ts, palette)
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
