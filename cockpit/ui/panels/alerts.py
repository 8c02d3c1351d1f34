"""Alerts as Alertmanager groups them: unacknowledged first, critical first; acked apart below."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from rich.text import Text
from textual.binding import Binding

from cockpit.domain import AlertGroup
from cockpit.live import short_duration
from cockpit.ui.ages import countdown_change, next_change
from cockpit.ui.flows import alerts
from cockpit.ui.keyed_table import Column
from cockpit.ui.keys import panel_bindings
from cockpit.ui.panels.base import Panel, Row
from cockpit.ui.text import clean, plain

ACK_ENDING_SOON = timedelta(minutes=5)
INFORMATIONAL = {"info", "none"}  # Watchdog and friends: shown, never "open", sorted last
SEVERITY_LABEL = {"critical": "CRIT", "page": "PAGE", "error": "ERR", "warning": "WARN"}


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
        self._valid_until = -math.inf  # when the first FOR or ACK text changes with time

    def rows_due(self, now: datetime) -> bool:
        return now.timestamp() >= self._valid_until

    def sort_key(self, group: AlertGroup) -> tuple[bool, bool, int, int, float]:
        started = group.started_at
        return (
            group.severity in INFORMATIONAL,
            group.acked,
            group.severity_rank,
            -len(group.firing),
            started.timestamp() if started else 0.0,
        )

    def build_rows(self) -> list[Row]:
        now = self.cockpit.clock.now()
        palette = self.cockpit.palette
        groups = sorted(self.cockpit.live.groups, key=self.sort_key)
        self.items = {g.key: g for g in groups}
        rows: list[Row] = []
        now_ts = now.timestamp()
        until = math.inf
        for group in groups:
            sev = SEVERITY_LABEL.get(group.severity, group.severity[:4].upper() or "-")
            level = (
                "crit" if group.severity_rank == 0 else "warn" if group.severity_rank <= 2 else ""
            )
            style = palette.dim if group.acked else palette.level(level)
            count = len(group.alerts)
            name = clean(group.name) + (f" ×{count}" if count > 1 else "")
            if group.cluster:
                name = f"[{clean(group.cluster)}] {name}"
            started = group.started_at
            if started is not None:
                until = min(until, next_change(started.timestamp(), now_ts))
            ack_cell = Text("", end="")
            if group.ack is not None:
                left = group.ack.time_left(now)
                until = min(until, countdown_change(group.ack.ends_at.timestamp(), now_ts))
                soon = left <= ACK_ENDING_SOON and bool(group.firing or group.alerts)
                ack_cell = Text(
                    f"✓ {short_duration(left)}",
                    style=palette.warn if soon else palette.ok,
                    end="",
                )
            rows.append(
                (
                    group.key,
                    (
                        Text(sev, style=style, end=""),
                        plain(name, style="dim" if group.acked else ""),
                        plain(group.team),
                        short_duration(now - started) if started else "-",
                        ack_cell,
                    ),
                    f"{group.name} {group.team} {group.severity} "
                    + " ".join(f"{k}={v}" for k, v in group.labels.items()),
                )
            )
        self._valid_until = until
        widest = max((len(str(getattr(row[1][1], "plain", row[1][1]))) for row in rows), default=0)
        self.table.set_content_widths({"alert": widest})
        return rows

    def is_bad(self, key: str) -> bool:
        group = self.items.get(key)
        return (
            isinstance(group, AlertGroup)
            and not group.acked
            and group.severity not in INFORMATIONAL
            and bool(group.firing)
        )

    def title_counts(self) -> str:
        groups = [g for g in self.cockpit.live.groups if g.severity not in INFORMATIONAL]
        unacked = sum(1 for g in groups if not g.acked)
        acked = len(groups) - unacked
        crit = sum(1 for g in groups if not g.acked and g.severity_rank == 0)
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
