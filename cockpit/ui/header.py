"""The header: the environment, read-only mode, each source's health and data age, the
open incident and what the outbox still has to send, on one line."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from cockpit.ui.context import Cockpit
from cockpit.ui.text import clean

SOURCES = ("alerts", "pods", "queues")


def header_text(cockpit: Cockpit, width: int) -> Text:
    """The header line for a screen `width` columns wide."""
    now = cockpit.clock.now()
    palette = cockpit.palette
    config = cockpit.config
    text = Text(no_wrap=True, overflow="ellipsis", end="")
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
            text.append(f" {label} {due:%H:%M}", style=palette.dim)
    if cockpit.outbox_status:
        text.append("  ")
        text.append(clean(cockpit.outbox_status, 60), style=palette.warn)
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
