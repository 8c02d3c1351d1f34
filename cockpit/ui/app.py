"""The cockpit screen: a header with every source's health, four panels, a footer.

Data flows one way: the feeds (feeds.py) write LiveState and ask a panel to re-sync;
panels re-render by keyed diff. Every change the engineer makes is a flow, one module per
feature under flows/, started through `start()`: gather input, confirm, then call the
one action layer (cockpit.actions). Panels and flows see this App only as a `Cockpit`
(context.py); this module holds the app-wide things: layout, bindings, the tick, the
header, the palette and starting flows.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.worker import Worker

from cockpit.actions import ACTIONS, Actions, ActionSpec
from cockpit.backends.base import Switchable
from cockpit.domain import ActionResult, AlertGroup, TimelineEvent
from cockpit.live import Freshness, LiveState
from cockpit.pivot import Following
from cockpit.runtime import HINTS, Runtime
from cockpit.ui.collector import IdleCollector
from cockpit.ui.context import Cockpit, Flow
from cockpit.ui.details import help_text
from cockpit.ui.feeds import Feeds
from cockpit.ui.flows import alerts, incident, pods, shift, tickets
from cockpit.ui.footer import KeyFooter
from cockpit.ui.header import StatusBar, header_text
from cockpit.ui.keys import Command, PaletteCommands, app_bindings, help_rows, spec
from cockpit.ui.palette import Palette
from cockpit.ui.panels.alerts import AlertsPanel
from cockpit.ui.panels.base import Panel
from cockpit.ui.panels.incident import IncidentPanel
from cockpit.ui.panels.pods import PodsPanel
from cockpit.ui.panels.queues import QueuesPanel
from cockpit.ui.screens.views import DetailScreen
from cockpit.ui.text import clean
from cockpit.ui.theming import choose_theme, load_themes, terminal_colors

if TYPE_CHECKING:
    from cockpit.queue_trends import QueueTrends

P = ParamSpec("P")
SESSION_HEARTBEAT = 15 * 60  # seconds between "session active" audit lines
FLUSH_GAP = 0.5  # seconds between two syncs of a watch-fed panel (mark_dirty)
THROTTLED = {"pods"}
# the four panels stand side by side only when each gets this many columns (a pod's name,
# READY, STATUS, RESTARTS and AGE); below, a 2x2 grid
PANEL_WIDE = 84
WIDE = 4 * PANEL_WIDE
# the main screen's own actions: off while a dialog is on top (its footer shows its keys);
# Textual's (tab, shift+tab) and ctrl+c / the palette keep working everywhere
MAIN_SCREEN = {b.action.split("(")[0] for b in app_bindings() if isinstance(b, Binding)} - {
    "quit_now",
    "command_palette",
    "redraw",
}


class StoreChanged(Message):
    """The shared store re-read what another cockpit (or this one) changed."""

    def __init__(self, kinds: frozenset[str]) -> None:
        super().__init__()
        self.kinds = kinds


class CockpitScreen(Screen[None]):
    """The main screen. A focus change repaints only what it restyles (the two panels'
    borders and tables, the footer): Screen.focused repaints the whole screen, which
    re-renders and re-sends every line (~200 ms and ~10 KB at 200x50)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def _update_focus_styles(
        self, focused: Widget | None = None, blurred: Widget | None = None
    ) -> None:
        """Textual restyles the whole subtree of the nearest `:focus-within` ancestor; for
        a panel that is its border only (no rule below a panel depends on its focus), and
        the table, the filter line, whatever gained or lost the focus restyles itself.
        Restyling a panel's subtree twice per focus key cost ~4 ms at 200x50."""
        borders: set[Widget] = set()
        if focused is not None and isinstance(focused.parent, Panel):
            borders.add(focused.parent)
            focused = None
        if blurred is not None and isinstance(blurred.parent, Panel):
            borders.add(blurred.parent)
            blurred = None
        if borders:
            self.app.stylesheet.update_nodes(borders, animate=True)
        if focused is not None or blurred is not None:
            super()._update_focus_styles(focused, blurred)


class CockpitApp(App[None]):
    TITLE = "cockpit"
    COMMANDS = {PaletteCommands}
    CSS = """
    #panels { grid-size: 2 2; grid-gutter: 0; height: 1fr; }
    #panels.-wide { grid-size: 4 1; }
    """
    BINDINGS = app_bindings()

    def __init__(
        self,
        runtime: Runtime,
        *,
        theme: str = "",
        mouse: bool = False,
        driver_class: type[Any] | None = None,
    ) -> None:
        super().__init__(driver_class=driver_class)
        self.runtime = runtime
        self.config = runtime.config
        self.clock = runtime.clock
        self.live = LiveState()
        self.mouse_enabled = mouse
        self.actions = Actions(
            store=runtime.store,
            identity=runtime.config.identity,
            clock=runtime.clock,
            live=self.live,
            alerts=runtime.alerts,
            cluster=runtime.cluster,
            broker=runtime.broker,
            statuspage=runtime.statuspage,
            pager=runtime.pager,
            outbox=runtime.outbox,
            audit=runtime.audit,
            read_only=runtime.read_only,
            tracker=runtime.tracker,
        )
        self.actions.listeners.append(self._on_timeline_event)
        self.palette = Palette()
        self.trends = _make_trends(runtime)
        self.queue_thresholds = (
            runtime.config.rabbitmq.thresholds if runtime.config.rabbitmq else ()
        )
        self.feeds = Feeds(self)
        self._dirty: set[str] = set()
        self.collector = IdleCollector()  # off while the first data loads (see there)
        self._deferred: set[str] = set()  # waiting for FLUSH_GAP since their last sync
        self._flushed: dict[str, float] = {}  # panel -> time.monotonic() of its last sync
        self._flows: dict[object, Worker[None]] = {}  # flow -> its worker while it runs
        self._following: Following | None = None  # the alert group `f` narrowed to
        self.startup_messages: list[str] = list(runtime.warnings)
        for name, backend in (
            ("alerts", runtime.alerts),
            ("pods", runtime.cluster),
            ("queues", runtime.broker),
        ):
            self.live.freshness[name] = Freshness(
                name, configured=backend is not None, hint=HINTS[name]
            )
        themes = load_themes([_user_theme_dir()])
        for loaded in themes.themes.values():
            self.register_theme(loaded)
        self.startup_messages.extend(themes.problems)
        chosen, problem = choose_theme(
            theme or self.config.ui.theme, self.available_themes, terminal_colors()
        )
        if problem:
            self.startup_messages.append(problem)
        self.theme = chosen

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield StatusBar(id="statusbar")
        with Grid(id="panels"):
            yield AlertsPanel()
            yield IncidentPanel()
            yield PodsPanel()
            yield QueuesPanel()
        yield KeyFooter()

    def get_default_screen(self) -> Screen[Any]:
        return CockpitScreen(id="_default")

    def panels(self) -> list[Panel]:
        return list(self.query(Panel))

    def panel(self, name: str) -> Panel:
        return self.query_one(f"#{name}", Panel)

    def on_mount(self) -> None:
        self.actions.session("start")
        # still here: the report counts time in the cockpit from these and the actions
        self.set_interval(SESSION_HEARTBEAT, lambda: self.actions.session("active"))
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, ImportError):
            # SSH dropped: sshd sends SIGHUP; leave within a second (a watchdog makes sure)
            from cockpit.ui.driver import hang_up

            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, hang_up, self)
        self.update_palette()
        self.theme_changed_signal.subscribe(self, lambda _theme: self.update_palette())
        self._layout(self.size.width)
        self.panel("alerts").table.focus()
        for message in self.startup_messages:
            self.notify(clean(message), severity="warning", timeout=10)
        self.refresh_all()
        self.render_status()
        self.set_interval(1.0, self.tick)
        self.feeds.start()
        subscribe = getattr(self.runtime.store, "subscribe", None)
        if subscribe is not None:  # the shared store: another cockpit's change, live
            # called on the store's thread; post_message is thread-safe and the handler
            # runs on the App's own loop
            subscribe(lambda kinds: self.post_message(StoreChanged(frozenset(kinds))))

    @on(StoreChanged)
    def _store_changed(self, message: StoreChanged) -> None:
        if message.kinds & {"incident", "event", "presence"}:
            self.mark_dirty("incident")
        if "outbox" in message.kinds:
            self.wake_outbox()
        self.render_status()

    def on_unmount(self) -> None:
        self.actions.session("end")
        self.collector.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self.collector.input()  # a full collection waits for a quiet moment
        await super().on_event(event)

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: this handler runs before App._on_resize updates self.size
        self._layout(event.size.width, event.size.height)
        self.render_status(event.size.width, event.size.height)

    def _layout(self, width: int, height: int | None = None) -> None:
        """Side by side only when each panel gets PANEL_WIDE columns; else 2x2, where a tall
        terminal gives the pods and queues (long lists) the rows the alerts do not need."""
        grid = self.query_one("#panels")
        grid.set_class(width >= WIDE, "-wide")
        height = self.size.height if height is None else height
        rows = "1fr 1fr"
        if width < WIDE and height >= 40:
            needed = max(len(self.live.groups), 6) + 4  # borders, header, title line
            top = min(needed, (height - 2) // 2)
            rows = f"{top} 1fr"
        if rows != getattr(self, "_grid_rows", None):
            self._grid_rows = rows
            grid.styles.grid_rows = rows

    def update_palette(self) -> None:
        self.palette = Palette.from_theme(self.current_theme)
        self.refresh_all()

    def refresh_all(self) -> None:
        for panel in self.panels():
            panel.refresh_rows()

    def mark_dirty(self, *names: str) -> None:
        """Coalesce re-renders: many watch events in one tick cost one sync, and the pods
        panel (fed by a watch, not a poll) is re-synced at most every FLUSH_GAP seconds.
        The first change after a quiet spell shows at once; a stream of them (50 pod
        events a second under churn) costs two syncs a second, not fifty, and keys are not
        kept waiting behind them. Polled panels change once per poll: at once."""
        now = time.monotonic()
        for name in names:
            if name in self._dirty or name in self._deferred:
                continue
            wait = self._flushed.get(name, -math.inf) + FLUSH_GAP - now
            if wait > 0 and name in THROTTLED:
                self._deferred.add(name)
                self.set_timer(wait, partial(self._undefer, name))
                continue
            if not self._dirty:
                self.call_later(self._flush_dirty)
            self._dirty.add(name)

    def _undefer(self, name: str) -> None:
        self._deferred.discard(name)
        self.mark_dirty(name)

    def _flush_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        now = time.monotonic()
        for name in dirty:
            self._flushed[name] = now
            with contextlib.suppress(Exception):
                self.panel(name).refresh_rows()

    def tick(self) -> None:
        """Once a second: ages in the header, timers on the incident, ages in rows."""
        self.feeds.tick()
        fresh = self.live.freshness.values()
        self.collector.tick(loaded=all(f.last_ok is not None for f in fresh if f.configured))
        self.render_status()
        # only the panels whose text moves with time by now: a refresh that changes nothing
        # still diffs every row, and a key pressed meanwhile waits behind it
        now = self.clock.now()
        due = []
        for name in ("incident", "alerts", "pods"):
            try:
                if self.panel(name).tick_due(now):
                    due.append(name)
            except Exception:
                due.append(name)
        if due:
            self.mark_dirty(*due)

    def write_terminal(self, text: str) -> None:
        """Sequences for the terminal itself (a desktop notification), in order with the
        frames: through the driver's writer thread, as the bell goes."""
        if not self.is_headless and self._driver is not None:
            self._driver.write(text)

    def render_status(self, width: int | None = None, height: int | None = None) -> None:
        bars = self.query(StatusBar)
        if bars:  # shutting down: the screen is gone while a timer or feed still fires
            width = self.size.width if width is None else width
            height = self.size.height if height is None else height
            bars.first().show(header_text(self, width, height))

    # ----------------------------------------------------------------- feeds

    @property
    def outbox_status(self) -> str:
        return self.feeds.outbox_status

    def poll_now(self, source: str) -> None:
        self.feeds.poll_now(source)

    def wake_outbox(self) -> None:
        self.feeds.wake_outbox()

    def rewatch_pods(self) -> None:
        self.feeds.rewatch_pods()

    def _on_timeline_event(self, event: TimelineEvent) -> None:
        self.mark_dirty("incident")
        self.render_status()

    # ----------------------------------------------------------------- navigation

    def focused_panel(self) -> Panel | None:
        node = self.focused
        while node is not None:
            if isinstance(node, Panel):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def action_focus_panel(self, name: str) -> None:
        self.focus_panel(name)

    def focus_panel(self, name: str) -> None:
        # at once: `4/invoices` typed in one burst filters the queues, not the alerts
        self.screen.set_focus(self.panel(name).table)

    # ----------------------------------------------------------------- following an alert

    @property
    def following(self) -> Following | None:
        return self._following

    def set_following(self, following: Following | None) -> None:
        self._following = following
        for name in ("pods", "queues"):
            self.panel(name).refresh_rows()
        self.refresh_bindings()  # escape widens now (or no longer)

    def action_unfollow(self) -> None:
        self.start(alerts.unfollow)

    def action_filter(self) -> None:
        panel = self.focused_panel() or self.panel("alerts")
        panel.open_filter()

    def action_zoom(self) -> None:
        if self.screen.maximized is not None:
            zoomed = self.screen.maximized
            self.screen.minimize()
            if isinstance(zoomed, Panel):
                zoomed.set_zoomed(False)
            return
        panel = self.focused_panel()
        if panel is not None:
            self.screen.maximize(panel, container=False)
            panel.set_zoomed(True)

    def action_redraw(self) -> None:
        """ctrl+l: the whole screen again. The terminal is sent only what changed (see
        ui/terminal_diff.py), so after another program (a wall message, a stray write) or
        a garbled link wrote over it, nothing would repair it by itself."""
        invalidate = getattr(self._driver, "invalidate_screen", None)
        if invalidate is not None:
            invalidate()
        self.screen.refresh()

    async def action_quit_now(self) -> None:
        """ctrl+c: quit from anywhere, as q does on the main screen."""
        self.exit()

    def action_copy(self) -> None:
        """Y: the selected row's name to the terminal's clipboard (OSC 52, over SSH too)."""
        panel = self.focused_panel()
        copied = panel.copy_text() if panel is not None else ""
        if not copied:
            self.notify("nothing selected to copy", severity="warning", timeout=3)
            return
        self.copy_to_clipboard(copied)
        self.notify(f"copied {clean(copied, 120)}", timeout=3)

    def action_help(self) -> None:
        keys = help_rows(self.offers)
        self.push_screen(DetailScreen("Keys", help_text(keys, read_only=self.actions.read_only)))

    def offers(self, action: ActionSpec) -> bool:
        """Whether the help and the palette offer it: allowed (read-only mode) and
        implemented by its panel (or the App)."""
        node: object = self.panel(action.panel) if action.panel else self
        name = action.via or action.id
        return self.actions.allowed(action.id) and hasattr(node, f"action_{name}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.actions.allowed(action):
            return False
        if action in MAIN_SCREEN and self.screen is not self.screen_stack[0]:
            return False  # a dialog is open: its keys, not the main screen's
        if action in {"filter", "focus_panel"}:
            # typed into a field (the filter itself, a form): / is a character
            return not isinstance(self.focused, Input | TextArea)
        # u without an incident is offered: the flow says "declare an incident first (i)"
        # (a key that does nothing at 3 a.m. reads as a broken cockpit)
        if action == "ticket":  # b: only where Jira is configured
            return self.runtime.tracker is not None
        if action == "unfollow":
            return self._following is not None
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def palette_commands(self) -> list[Command]:
        """The command palette: every action offered, plus the things without a key."""
        items: list[Command] = [
            (action.description, partial(self.run_palette_action, action.id), action.key)
            for action in ACTIONS
            if self.offers(action)
        ]
        items.append(
            ("Open a past incident (read-only)", partial(self.start, incident.past_incidents), "")
        )
        items.append(("Zoom the focused panel / back", self.action_zoom, "z"))
        items.append(("Help: every key", self.action_help, "?"))
        for name in sorted(self.available_themes):
            items.append((f"Theme: {name}", partial(setattr, self, "theme", name), ""))
        if isinstance(self.runtime.cluster, Switchable):
            switch = partial(self.start, pods.switch_context)
            items.append(("Kubernetes: switch context / namespaces", switch, ""))
        return items

    def run_palette_action(self, action_id: str) -> None:
        """The palette runs an action on the panel it belongs to (or the screen it opens)."""
        action = spec(action_id)
        if action.panel:
            panel = self.panel(action.panel)
            panel.table.focus()
            self.call_later(panel.run_action, action.via or action.id)
        else:
            self.call_later(self.run_action, action_id)

    # ----------------------------------------------------------------- flows

    def start(self, flow: Flow[P], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run a flow as a worker. One still running (its dialog open, or waiting for its
        backend) is not started again: a fast `a a` opens one dialog, not two."""
        running = self._flows.get(flow)
        if running is not None and not running.is_finished:
            return
        self._flows[flow] = self.run_worker(
            partial(flow, self, *args, **kwargs),
            name=getattr(flow, "__qualname__", "flow"),
            group="flows",
        )

    def acted_on(self, panel: str) -> None:
        """After an action on a panel's selected row: its cursor stays at its position."""
        with contextlib.suppress(Exception):
            self.panel(panel).table.stay_at_row()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text, never markup: messages carry names from outside
        (an alert named "X[/]" used to end the app with a MarkupError)."""
        super().notify(
            clean(message, 600), title=clean(title, 100), severity=severity, timeout=timeout,
            markup=False,
        )  # fmt: skip

    def report(self, result: ActionResult) -> None:
        self.notify(
            clean(result.message, 300),
            severity="information" if result.ok else "error",
            timeout=6 if result.ok else 12,
        )

    def _selected_group(self) -> AlertGroup | None:
        panel = self.panel("alerts")
        return panel.selected_group() if isinstance(panel, AlertsPanel) else None

    def action_declare(self) -> None:
        self.start(incident.declare, self._selected_group())

    def action_note(self) -> None:
        panel = self.focused_panel()
        ticket = panel.selected_ticket() if isinstance(panel, IncidentPanel) else ""
        self.start(incident.note, ticket)

    def action_ticket(self) -> None:
        self.start(tickets.file_ticket)

    def action_customer_update(self) -> None:
        self.start(incident.customer_update)

    def action_escalate(self) -> None:
        self.start(incident.escalate, self._selected_group())

    def action_handover(self) -> None:
        self.start(shift.handover)


def _is_a_cockpit(app: CockpitApp) -> Cockpit:
    """Never called: mypy checks here that the App satisfies the Cockpit protocol."""
    return app


def _user_theme_dir() -> Path:
    from cockpit.config import config_dir

    return config_dir() / "themes"


def _make_trends(runtime: Runtime) -> QueueTrends:
    from cockpit.queue_trends import QueueTrends

    return QueueTrends(clock=runtime.clock)
