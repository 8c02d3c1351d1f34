"""Key bindings, help rows and palette entries, all from the one table (cockpit.actions.ACTIONS).

A panel's bindings are `panel_bindings("pods")`: each action's key runs the panel's
`action_<id>`; the App's are the actions without a panel plus NAVIGATION. The footer shows
the bindings, the help lists NAVIGATION and the table, the palette runs the table's ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

from cockpit.actions import ACTIONS, ActionSpec

# keys that move around rather than change anything: (key, what), for the help
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("tab / shift+tab", "move between panels"),
    ("1 2 3 4", "alerts, incident, pods, queues"),
    ("/", "filter the focused panel (escape clears)"),
    ("enter", "details of the selected row"),
    ("z", "zoom the focused panel (again: back)"),
    ("ctrl+p", "command palette: every action"),
    ("g / G", "first / last row (Home / End)"),
    ("Y", "copy the selected row's name (OSC 52: works over SSH)"),
    ("?", "this help"),
    ("ctrl+l", "redraw the whole screen (something wrote over it)"),
    ("q / ctrl+c", "quit"),
)


def spec(action_id: str) -> ActionSpec:
    return next(s for s in ACTIONS if s.id == action_id)


def panel_bindings(panel: str) -> list[Binding]:
    """The keys of one panel's actions, in the table's order (the footer's order)."""
    return [
        Binding(s.key, s.id, s.label, show=bool(s.label))
        for s in ACTIONS
        if s.panel == panel and not s.via
    ]


def app_bindings() -> list[BindingType]:
    """The keys that work anywhere: panel numbers, filter, the actions without a panel,
    zoom, help, palette, quit."""
    bindings: list[BindingType] = [
        # priority like /, so `1/payments` in one burst keeps its order
        Binding(str(n), f"focus_panel('{name}')", name.title(), show=False, priority=True)
        for n, name in enumerate(("alerts", "incident", "pods", "queues"), start=1)
    ]
    # priority: the filter takes focus before the next key of a burst is delivered, so
    # everything typed after / (a paste, keys bunched by a laggy link) goes to the filter
    bindings.append(Binding("/", "filter", "Filter", priority=True))
    bindings += [Binding(s.key, s.id, s.label, show=bool(s.label)) for s in ACTIONS if not s.panel]
    bindings += [
        Binding("z", "zoom", "Zoom", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+p", "command_palette", "Palette", show=False),
        Binding("Y", "copy", "Copy", show=False),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit_now", "Quit", show=False, priority=True),
        # as in less, vim and top: the whole screen again after something wrote over it
        Binding("ctrl+l", "redraw", "Redraw", show=False, priority=True),
    ]
    return bindings


def help_rows(offered: Callable[[ActionSpec], bool]) -> list[tuple[str, str, str]]:
    """(key, where, what) for the help page: navigation, then every action offered."""
    rows = [(key, "anywhere", what) for key, what in NAVIGATION]
    for s in ACTIONS:
        if offered(s):
            where = s.panel or "anywhere"
            if s.via:
                where = f"{s.via} ({spec(s.via).key})"
            rows.append((s.key, where, s.description))
    return rows


Command = tuple[str, Callable[[], Any], str]  # what the palette shows, what it runs, its key


class HasCommands(Protocol):
    def palette_commands(self) -> list[Command]: ...


class PaletteCommands(Provider):
    """The command palette over the App's palette_commands()."""

    def commands(self) -> list[Command]:
        app: HasCommands = self.app  # type: ignore[assignment]
        return app.palette_commands()

    async def discover(self) -> Hits:
        for text, callback, key in self.commands():
            yield DiscoveryHit(text, callback, help=f"key {key}" if key else None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, key in self.commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(text), callback, help=f"key {key}" if key else None
                )
