"""The header: the environment, read-only mode, each source's health and data age, the
open incident and what the outbox still has to send, on one line."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from cockpit.ui.ages import clock_text, time_of_day, zone
from cockpit.ui.context import Cockpit
from cockpit.ui.text import clean

SOURCES = ("alerts", "pods", "queues")
MIN_SIZE = (80, 24)  # below, a one-line notice says what is hidden


def header_text(cockpit: Cockpit, width: int, height: int = 24) -> Text:
    """The header line for a screen `width` columns wide: the clock with its zone on the
    right ([ui] timezone, default this machine's), a notice first when the terminal is
    smaller than the cockpit is made for."""
    now = cockpit.clock.now()
    palette = cockpit.palette
    config = cockpit.config
    tz = zone(config.ui.timezone)
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        text.append(
            f" terminal {width}x{height} is below {MIN_SIZE[0]}x{MIN_SIZE[1]}: "
            "rows, columns and keys are hidden ",
            style="bold reverse",
        )
        text.append(" ")
    env_style = "bold reverse red" if config.is_prod else "bold reverse"
    text.append(f" {clean(config.env.upper())} ", style=env_style)
    if cockpit.actions.read_only:
        text.append(" READ-ONLY ", style="bold reverse yellow")
    store = cockpit.actions.store_health()
    if store:  # the shared store down: first, as what you do now is only journalled
        text.append("  ")
        text.append(clean(store, max(40, width // 3)), style=palette.crit)
    for name in SOURCES:
        described, level = cockpit.live.freshness[name].describe(now)
        style = {"ok": palette.ok, "stale": palette.crit, "off": palette.dim, "wait": palette.dim}
        text.append("  ")
        # room for three sources and the incident: the reason is cut only when it must be
        text.append(clean(described, max(40, width // 3)), style=style[level])
    incident = cockpit.actions.selected_incident()
    if incident is not None:
        text.append("  ")
        due = incident.next_update_due
        overdue = due is not None and now >= due
        text.append(f"{incident.id} {incident.severity.value} ", style=palette.accent)
        if overdue:  # in place of the status: at 80 columns it must not be cut off
            text.append("UPDATE OVERDUE", style=palette.crit)
        else:
            text.append(incident.status.value, style=palette.accent)
        others = len(cockpit.actions.active_incidents()) - 1
        if others > 0:
            text.append(f" +{others}", style=palette.dim)
        if due is not None:
            label = "promised" if overdue else "next update"
            text.append(f" {label} {time_of_day(due, now, tz)}", style=palette.dim)
    if cockpit.outbox_status:
        text.append("  ")
        text.append(clean(cockpit.outbox_status, 60), style=palette.warn)
    clock = clock_text(now, tz)
    gap = width - 2 - text.cell_len - len(clock) - 1  # 2: the bar's padding
    if gap >= 2:  # on the right, only where nothing else has to be cut for it
        text.append(" " * gap)
        text.append(clock, style="bold")
    return text


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; padding: 0 1; }
    """

    _shown: tuple[str, list[Any]] | None = None

    def show(self, text: Text) -> None:
        """Repaint only when the text changed, and without a layout pass: the bar is
        one line high whatever it says (a layout pass repaints every table's scrollbars)."""
        shown = (text.plain, list(text.spans))
        if shown != self._shown:
            self._shown = shown
            self.update(text, layout=False)
