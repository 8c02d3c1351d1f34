"""The cockpit screen: a header with every source's health, four panels, a footer.

Data flows one way: a feed per source (a poll loop that arms the next poll only after
the last one finished, or a watch) writes LiveState and asks its panel to re-sync;
panels re-render by keyed diff. Every change the engineer makes is a "flow" here:
gather input, confirm, then call the one action layer (cockpit.actions).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Grid
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from cockpit.actions import ACTIONS, Actions
from cockpit.backends.base import BackendError
from cockpit.domain import (
    ActionResult,
    AlertGroup,
    IncidentStatus,
    PodHealth,
    QueueDepth,
    QueueMessage,
    RestartMode,
    Severity,
    TimelineEvent,
)
from cockpit.incident.alert_history import AlertRecorder
from cockpit.live import Freshness, LiveState, short_duration
from cockpit.runtime import HINTS, Runtime
from cockpit.ui.footer import KeyFooter
from cockpit.ui.panels.alerts import AlertsPanel
from cockpit.ui.panels.base import Palette, Panel
from cockpit.ui.panels.incident import IncidentPanel
from cockpit.ui.panels.pods import PodsPanel
from cockpit.ui.panels.queues import QueuesPanel
from cockpit.ui.screens.forms import Field, confirm, form
from cockpit.ui.screens.views import DetailScreen, LogsScreen, MessagesScreen, PickScreen
from cockpit.ui.text import clean
from cockpit.ui.theming import choose_theme, load_themes, terminal_colors

log = logging.getLogger(__name__)

WIDE = 160  # at and above this width the four panels stand side by side
MAX_BACKOFF = 60.0

DEFAULT_TEMPLATES = {
    "investigating": "We are investigating reports of problems with {title}. "
    "We will post an update within 30 minutes.",
    "identified": "We have identified the cause of the problems with {title} and are "
    "working on a fix.",
    "monitoring": "A fix has been applied and we are monitoring the results.",
    "resolved": "This incident has been resolved. {title} is operating normally.",
}


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


class CockpitScreen(Screen[None]):
    """The main screen. A focus change repaints only what it restyles (the two panels'
    borders and tables, the footer): Screen.focused repaints the whole screen, which
    re-renders and re-sends every line (~200 ms and ~10 KB at 200x50)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


class CockpitCommands(Provider):
    """Every action in the command palette, plus the things without a key."""

    @property
    def cockpit(self) -> CockpitApp:
        return self.app  # type: ignore[return-value]

    def commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = self.cockpit
        items: list[tuple[str, Callable[[], Any], str]] = []
        for spec in ACTIONS:
            if not app.actions.allowed(spec.id):
                continue
            items.append((spec.description, partial(app.run_palette_action, spec.id), spec.key))
        items.append(("Open a past incident (read-only)", app.past_incidents_flow, ""))
        items.append(("Zoom the focused panel / back", app.action_zoom, "z"))
        items.append(("Help: every key", app.action_help, "?"))
        for name in sorted(app.available_themes):
            items.append((f"Theme: {name}", partial(setattr, app, "theme", name), ""))
        contexts = getattr(app.runtime.cluster, "contexts", None)
        if callable(contexts):
            items.append(("Kubernetes: switch context / namespaces", app.kube_switch_flow, ""))
        return items

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


class CockpitApp(App[None]):
    TITLE = "cockpit"
    COMMANDS = {CockpitCommands}
    CSS = """
    #panels { grid-size: 2 2; grid-gutter: 0; height: 1fr; }
    #panels.-wide { grid-size: 4 1; }
    """
    BINDINGS = [
        Binding("1", "focus_panel('alerts')", "Alerts", show=False),
        Binding("2", "focus_panel('incident')", "Incident", show=False),
        Binding("3", "focus_panel('pods')", "Pods", show=False),
        Binding("4", "focus_panel('queues')", "Queues", show=False),
        Binding("/", "filter", "Filter"),
        Binding("i", "declare", "Declare"),
        Binding("n", "note", "Note"),
        Binding("u", "customer_update", "Update"),
        Binding("e", "escalate", "Escalate"),
        Binding("z", "zoom", "Zoom", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+p", "command_palette", "Palette", show=False),
        Binding("q", "quit", "Quit"),
    ]

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
        )
        self.actions.listeners.append(self._on_timeline_event)
        self.alert_recorder = AlertRecorder(runtime.store)
        self.palette = Palette()
        self.trends = _make_trends(runtime)
        self.queue_thresholds = (
            runtime.config.rabbitmq.thresholds if runtime.config.rabbitmq else ()
        )
        self.outbox_status = ""
        self.outbox_sender: Any = None
        self._poll_now: dict[str, asyncio.Event] = {}
        self._stop_outbox = asyncio.Event()
        self._dirty: set[str] = set()
        self._seen_critical: set[str] | None = None
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
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # SSH dropped: sshd sends SIGHUP; leave within a second, no busy loop
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)
        self.update_palette()
        self.theme_changed_signal.subscribe(self, lambda _theme: self.update_palette())
        self._layout(self.size.width)
        self.panel("alerts").table.focus()
        for message in self.startup_messages:
            self.notify(clean(message), severity="warning", timeout=10)
        self.refresh_all()
        self.render_status()
        self.set_interval(1.0, self.tick)
        if self.runtime.alerts is not None:
            self.poll_loop("alerts", self._load_alerts, self.runtime.alerts_interval)
        if self.runtime.broker is not None:
            self.poll_loop("queues", self._load_queues, self.runtime.queues_interval)
        if self.runtime.cluster is not None:
            self.pod_watch()
        if self.runtime.outbox is not None:
            self.outbox_loop()

    def on_resize(self, event: events.Resize) -> None:
        # the event's size: this handler runs before App._on_resize updates self.size
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        grid = self.query_one("#panels")
        grid.set_class(width >= WIDE, "-wide")

    def update_palette(self) -> None:
        theme = self.current_theme
        self.palette = Palette(
            {
                "error": theme.error or "",
                "warning": theme.warning or "",
                "success": theme.success or "",
                "accent": theme.accent or "",
                "primary": theme.primary or "",
            }
        )
        self.refresh_all()

    def refresh_all(self) -> None:
        for panel in self.panels():
            panel.refresh_rows()

    def mark_dirty(self, *names: str) -> None:
        """Coalesce re-renders: many watch events in one tick cost one sync."""
        if not self._dirty:
            self.call_later(self._flush_dirty)
        self._dirty.update(names)

    def _flush_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for name in dirty:
            with contextlib.suppress(Exception):
                self.panel(name).refresh_rows()

    def tick(self) -> None:
        """Once a second: ages in the header, timers on the incident, ages in rows."""
        fresh = self.live.freshness.get("pods")
        if fresh is not None and getattr(self, "_watch_connected", False):
            fresh.mark_ok(self.clock.now())
        self.render_status()
        if self.outbox_sender is not None:
            with contextlib.suppress(Exception):
                self.outbox_status = self.outbox_sender.describe(self.clock.now())
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

    def render_status(self) -> None:
        bars = self.query(StatusBar)
        if not bars:  # shutting down: the screen is gone while a timer or feed still fires
            return
        now = self.clock.now()
        palette = self.palette
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        env = self.config.env.upper()
        env_style = "bold reverse red" if self.config.is_prod else "bold reverse"
        text.append(f" {clean(env)} ", style=env_style)
        if self.actions.read_only:
            text.append(" READ-ONLY ", style="bold reverse yellow")
        for name in ("alerts", "pods", "queues"):
            described, level = self.live.freshness[name].describe(now)
            style = {
                "ok": palette.ok,
                "stale": palette.crit,
                "off": palette.dim,
                "wait": palette.dim,
            }[level]
            text.append("  ")
            # room for three sources and the incident: the reason is cut only when it must be
            text.append(clean(described, max(40, self.size.width // 3)), style=style)
        incident = self.actions.current_incident()
        if incident is not None:
            text.append("  ")
            text.append(
                f"{incident.id} {incident.severity.value} {incident.status.value}",
                style=palette.accent,
            )
        if self.outbox_status:
            text.append("  ")
            text.append(clean(self.outbox_status, 60), style=palette.warn)
        bars.first().show(text)

    # ----------------------------------------------------------------- feeds

    @work(group="feeds", exit_on_error=False)
    async def poll_loop(self, name: str, load: Callable[[], Any], interval: timedelta) -> None:
        """Poll one source; the next poll is armed only after the last one finished."""
        backoff = interval.total_seconds()
        event = self._poll_now.setdefault(name, asyncio.Event())
        fresh = self.live.freshness[name]
        while True:
            try:
                await load()
                fresh.mark_ok(self.clock.now())
                wait = interval.total_seconds()
                backoff = wait
            except BackendError as exc:
                fresh.mark_error(str(exc))
                backoff = min(max(backoff, 1.0) * 2, MAX_BACKOFF)
                wait = backoff
            except Exception as exc:  # never let a bug kill the feed or reach the screen
                log.exception("%s feed failed", name)
                fresh.mark_error(f"internal error: {type(exc).__name__}")
                backoff = min(max(backoff, 1.0) * 2, MAX_BACKOFF)
                wait = backoff
            self.render_status()
            self.mark_dirty(name)
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=wait)

    def poll_now(self, name: str) -> None:
        event = self._poll_now.get(name)
        if event is not None:
            event.set()

    async def _load_alerts(self) -> None:
        assert self.runtime.alerts is not None
        groups = await self.runtime.alerts.groups()
        self.live.groups = groups
        # the alert history Alertmanager does not keep (post-mortem and shift report);
        # a store that cannot write must not make the alerts look stale
        try:
            await asyncio.to_thread(self.alert_recorder.observe, groups, self.clock.now())
        except Exception:
            log.exception("recording the alert history failed")
        self._bell_on_new_critical(groups)

    async def _load_queues(self) -> None:
        assert self.runtime.broker is not None
        queues = await self.runtime.broker.queues()
        self.live.queues = queues
        self.trends.observe(queues, self.clock.now())

    @work(group="feeds", exit_on_error=False)
    async def pod_watch(self) -> None:
        """List + watch; reconnect with backoff; the panel keeps its rows meanwhile."""
        cluster = self.runtime.cluster
        assert cluster is not None
        fresh = self.live.freshness["pods"]
        backoff = 1.0
        while True:
            try:
                async for event in cluster.watch():
                    self.live.apply_pod_event(event)
                    connected = getattr(self, "_watch_connected", False)
                    self._watch_connected = True
                    fresh.mark_ok(self.clock.now())
                    backoff = 1.0
                    self.mark_dirty("pods")
                    if not connected:
                        self.render_status()  # "pods ok" now, not at the next tick
                raise BackendError("watch ended")
            except BackendError as exc:
                fresh.mark_error(str(exc))
            except Exception as exc:
                log.exception("pod watch failed")
                fresh.mark_error(f"internal error: {type(exc).__name__}")
            self._watch_connected = False
            self.render_status()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    @work(group="feeds", exit_on_error=False)
    async def outbox_loop(self) -> None:
        """Send what the outbox holds: retried with backoff, never twice (incident/outbox.py)."""
        from cockpit.incident.outbox import OutboxSender

        self.outbox_sender = OutboxSender(
            self.runtime.outbox,
            statuspage=self.runtime.statuspage,
            pager=self.runtime.pager,
            clock=self.clock,
            on_result=self._on_outbox_result,
        )
        await self.outbox_sender.run(self._stop_outbox)

    def _on_outbox_result(self, item: Any, result: ActionResult) -> None:
        self.outbox_status = self.outbox_sender.describe(self.clock.now())
        if item.state not in {"sent", "failed_permanent"}:
            return  # a retry: the header says when; the timeline gets the final outcome
        target = str(item.payload.get("team") or item.incident_id)
        self.actions.outbox_result(item.kind, item.incident_id, target, result)
        self.notify(clean(result.message), severity="information" if result.ok else "error")

    def wake_outbox(self) -> None:
        if self.outbox_sender is not None:
            self.outbox_sender.wake()

    def _bell_on_new_critical(self, groups: Iterable[AlertGroup]) -> None:
        critical = {g.key for g in groups if g.severity_rank == 0 and g.firing and not g.acked}
        if self._seen_critical is not None:
            new = critical - self._seen_critical
            if new and self.config.ui.bell:
                self.bell()
                if self.config.ui.desktop_notify:
                    names = ", ".join(sorted({g.name for g in groups if g.key in new}))
                    _desktop_notify(f"cockpit: critical alert {names}")
        self._seen_critical = (
            critical if self._seen_critical is None else self._seen_critical | critical
        )

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
        self.panel(name).table.focus()

    def action_filter(self) -> None:
        panel = self.focused_panel() or self.panel("alerts")
        panel.open_filter()

    def action_zoom(self) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        panel = self.focused_panel()
        if panel is not None:
            self.screen.maximize(panel, container=False)

    def action_help(self) -> None:
        self.push_screen(DetailScreen("Keys", help_text(self.actions)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        ids = {
            "declare": "declare",
            "note": "note",
            "customer_update": "customer_update",
            "escalate": "escalate",
        }
        if action in ids:
            if not self.actions.allowed(ids[action]):
                return False
            if action == "customer_update":
                return self.actions.current_incident() is not None
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def run_palette_action(self, action_id: str) -> None:
        """The palette runs an action on the panel it belongs to."""
        spec = next(s for s in ACTIONS if s.id == action_id)
        if spec.panel:
            panel = self.panel(spec.panel)
            panel.table.focus()
            name = {
                "set_status": "status",
                "set_severity": "severity",
                "set_commander": "commander",
                "quarantine": "messages",
            }.get(spec.id, spec.id)
            self.call_later(panel.run_action, name)
        else:
            self.call_later(self.run_action, action_id)

    # ----------------------------------------------------------------- flows: alerts

    def report(self, result: ActionResult) -> None:
        self.notify(
            clean(result.message, 300),
            severity="information" if result.ok else "error",
            timeout=6 if result.ok else 12,
        )

    @work(group="flows")
    async def ack_flow(self, group: AlertGroup) -> None:
        if self.runtime.alerts is None:
            return
        default = (
            self.config.alertmanager.ack_duration
            if self.config.alertmanager
            else timedelta(hours=1)
        )
        matchers = ", ".join(f"{k}={v!r}" for k, v in sorted(group.common_labels.items()))
        verb = "Extends the existing ack" if group.acked else "Creates a silence"
        body = Text.assemble(
            f"{verb} in Alertmanager{' ' + group.cluster if group.cluster else ''} matching ",
            (clean(matchers), "bold"),
            f"\nCovers {len(group.alerts)} alert(s) of {clean(group.name)}. "
            f"createdBy {clean(self.actions.actor)}. Notifications for them stop until it ends.",
        )

        def preview(values: dict[str, Any]) -> RenderableType:
            return Text(f"comment: {self.actions.ack_comment(values.get('note', ''))}")

        values = await self.push_screen_wait(
            confirm(
                f"Acknowledge {clean(group.name)}?",
                body,
                confirm_label="Acknowledge",
                fields=[
                    Field("duration", "Duration (e.g. 30m, 1h, 2h)", _fmt_duration(default)),
                    Field("note", "Note (optional)", ""),
                ],
                validate=_validate_duration,
                preview=preview,
            )
        )
        if values is None:
            return
        from cockpit.config import parse_duration

        duration = parse_duration(values["duration"])
        result = await self.actions.ack(group, duration, values.get("note", ""))
        self.report(result)
        self.poll_now("alerts")

    @work(group="flows")
    async def unack_flow(self, group: AlertGroup) -> None:
        if group.ack is None:
            self.notify(f"{clean(group.name)} is not acknowledged")
            return
        left = short_duration(group.ack.time_left(self.clock.now()))
        values = await self.push_screen_wait(
            confirm(
                f"Remove the ack of {clean(group.name)}?",
                Text(
                    f"Expires silence {clean(group.ack.id)} (by {clean(group.ack.created_by)}, "
                    f"{left} left). Its alerts notify again."
                ),
                confirm_label="Expire silence",
            )
        )
        if values is None:
            return
        self.report(await self.actions.unack(group))
        self.poll_now("alerts")

    def show_alert_detail(self, group: AlertGroup) -> None:
        self.push_screen(
            DetailScreen(f"Alert group {clean(group.name)}", alert_detail(group, self.clock.now()))
        )

    # ----------------------------------------------------------------- flows: incident

    def _selected_group(self) -> AlertGroup | None:
        panel = self.panel("alerts")
        return panel.selected_group() if isinstance(panel, AlertsPanel) else None

    @work(group="flows")
    async def action_declare(self) -> None:
        existing = self.actions.current_incident()
        if existing is not None:
            self.notify(
                f"{existing.id} is open: resolve it first (s in the incident panel)",
                severity="warning",
            )
            return
        group = self._selected_group()
        title = ""
        severity = Severity.SEV3
        if group is not None:
            title = (
                group.firing[0].summary if group.firing and group.firing[0].summary else group.name
            )
            severity = Severity.from_alert_severity(group.severity)
        values = await self.push_screen_wait(
            form(
                "Declare an incident",
                [
                    Field("title", "Title", clean(title, 120)),
                    Field(
                        "severity",
                        "Severity",
                        severity.value,
                        kind="select",
                        options=[(s.value, s.value) for s in Severity],
                    ),
                    Field("commander", "Incident commander", self.actions.actor),
                ],
                body="Opens an incident; the shift log's last hour joins its timeline.",
                submit_label="Declare",
                validate=lambda v: "" if v["title"].strip() else "the incident needs a title",
            )
        )
        if values is None:
            return
        result = await self.actions.declare(
            values["title"], Severity(values["severity"]), values.get("commander", "")
        )
        self.report(result)
        self.refresh_all()

    @work(group="flows")
    async def action_note(self) -> None:
        incident = self.actions.current_incident()
        where = incident.id if incident else "the shift log"
        values = await self.push_screen_wait(
            form(
                f"Note on {where}",
                [Field("text", "Note", kind="text")],
                submit_label="Add note",
                validate=lambda v: "" if v["text"].strip() else "the note is empty",
            )
        )
        if values is None:
            return
        self.report(await self.actions.note(values["text"]))

    @work(group="flows")
    async def status_flow(self) -> None:
        incident = self.actions.current_incident()
        if incident is None:
            return
        values = await self.push_screen_wait(
            form(
                f"Status of {incident.id}",
                [
                    Field(
                        "status",
                        "Status",
                        incident.status.next().value,
                        kind="radio",
                        options=[(s.value, s.value) for s in IncidentStatus],
                    )
                ],
                body="Resolving closes the incident; customers hear it only through an update (u).",
                submit_label="Set status",
            )
        )
        if values is None:
            return
        self.report(await self.actions.set_status(IncidentStatus(values["status"])))
        self.refresh_all()

    @work(group="flows")
    async def severity_flow(self) -> None:
        incident = self.actions.current_incident()
        if incident is None:
            return
        values = await self.push_screen_wait(
            form(
                f"Severity of {incident.id}",
                [
                    Field(
                        "severity",
                        "Severity",
                        incident.severity.value,
                        kind="radio",
                        options=[(s.value, s.value) for s in Severity],
                    )
                ],
                submit_label="Set severity",
            )
        )
        if values is None:
            return
        self.report(await self.actions.set_severity(Severity(values["severity"])))

    @work(group="flows")
    async def commander_flow(self) -> None:
        incident = self.actions.current_incident()
        if incident is None:
            return
        values = await self.push_screen_wait(
            form(
                f"Commander of {incident.id}",
                [Field("commander", "Incident commander", incident.commander)],
                submit_label="Set commander",
            )
        )
        if values is None:
            return
        self.report(await self.actions.set_commander(values["commander"]))

    @work(group="flows")
    async def action_customer_update(self) -> None:
        incident = self.actions.current_incident()
        if incident is None:
            self.notify("declare an incident first (i)", severity="warning")
            return
        templates = {**DEFAULT_TEMPLATES, **self.config.statuspage.templates}
        status = incident.status.value

        def template(for_status: str) -> str:
            return templates.get(for_status, "").format(title=incident.title)

        components = ", ".join(incident.components or self.config.statuspage.components)

        def preview(values: dict[str, Any]) -> RenderableType:
            return customer_preview(
                incident.title,
                values.get("status", status),
                values.get("body", ""),
                values.get("components", ""),
                self.clock.now(),
            )

        values = await self.push_screen_wait(
            form(
                f"Customer update for {incident.id}",
                [
                    Field(
                        "status",
                        "Status customers see",
                        status,
                        kind="select",
                        options=[(s.value, s.value) for s in IncidentStatus],
                    ),
                    Field("body", "Message", template(status), kind="text"),
                    Field("components", "Affected components (comma separated)", components),
                ],
                submit_label="Review",
                preview=preview,
                validate=lambda v: "" if v["body"].strip() else "the message is empty",
            )
        )
        if values is None:
            return
        comps = tuple(c.strip() for c in values["components"].split(",") if c.strip())
        update = self.actions.customer_update_for(
            IncidentStatus(values["status"]), values["body"], comps
        )
        if update is None:
            return
        where = self.runtime.statuspage.name if self.runtime.statuspage else "status page"
        kind = self.config.statuspage.kind
        target = (
            f"Statuspage page {self.config.statuspage.page_id}"
            if kind == "statuspage"
            else f"the static status page ({where})"
        )
        sure = await self.push_screen_wait(
            confirm(
                f"Post this update to {target}?",
                Group(
                    Text("Customers will see exactly this:\n"),
                    customer_preview(
                        update.title,
                        update.status.value,
                        update.body,
                        ", ".join(update.components),
                        self.clock.now(),
                    ),
                ),
                confirm_label="Post update",
            )
        )
        if sure is None:
            return
        self.report(await self.actions.customer_update(update))
        self.wake_outbox()
        self.refresh_all()

    @work(group="flows")
    async def action_escalate(self) -> None:
        if self.runtime.pager is None:
            self.notify("no pager configured: add [pager] or [alertmanager]", severity="warning")
            return
        group = self._selected_group()
        team = group.team if group else ""
        incident = self.actions.current_incident()
        summary = incident.title if incident else (group.name if group else "")
        pager_name = self.config.pager.kind if self.config.pager else self.runtime.pager.name

        def preview(values: dict[str, Any]) -> RenderableType:
            esc = self.actions.escalation_for(values.get("team", ""), values.get("summary", ""))
            return escalation_preview(esc, pager_name)

        values = await self.push_screen_wait(
            confirm(
                "Escalate to a developer team?",
                Text(
                    f"Pages the team through {pager_name}. Pressing it again for the same "
                    "incident and team does not page twice."
                ),
                confirm_label="Page team",
                fields=[
                    Field("team", "Team", team),
                    Field("summary", "Summary", clean(summary, 200)),
                ],
                preview=preview,
                validate=lambda v: "" if v["team"].strip() else "name the team to page",
            )
        )
        if values is None:
            return
        escalation = self.actions.escalation_for(values["team"], values["summary"])
        self.report(await self.actions.escalate(escalation))
        self.wake_outbox()

    @work(group="flows")
    async def postmortem_flow(self) -> None:
        incident = self.actions.current_incident() or next(
            iter(self.actions.store.incidents(1)), None
        )
        if incident is None:
            return
        try:
            from cockpit.incident.postmortem import write_postmortem

            path = await asyncio.to_thread(
                write_postmortem,
                self.actions.store,
                incident.id,
                self.runtime.postmortem_dir,
                self.clock.now(),
            )
        except Exception as exc:
            self.notify(f"could not write the post-mortem: {clean(exc)}", severity="error")
            return
        self.notify(f"post-mortem draft written to {clean(path)}")

    @work(group="flows")
    async def past_incidents_flow(self) -> None:
        incidents = self.actions.store.incidents(50)
        if not incidents:
            self.notify("no incident recorded yet")
            return
        chosen = await self.push_screen_wait(
            PickScreen(
                "Open a past incident (read-only)",
                [
                    (
                        f"{i.id} {i.severity.value} {i.status.value} "
                        f"{i.started_at:%Y-%m-%d %H:%M} {i.title}",
                        i.id,
                    )
                    for i in incidents
                ],
            )
        )
        if chosen:
            incident = self.actions.store.get_incident(chosen)
            if incident is not None:
                events = self.actions.store.timeline(incident.id, limit=1000)
                self.push_screen(
                    DetailScreen(f"{incident.id} (read-only)", incident_record(incident, events))
                )

    def show_event_detail(self, event: TimelineEvent) -> None:
        self.push_screen(DetailScreen(f"Timeline event {event.id}", event_detail(event)))

    # ----------------------------------------------------------------- flows: pods

    @work(group="flows")
    async def restart_flow(self, pod: PodHealth) -> None:
        cluster = self.runtime.cluster
        if cluster is None:
            return
        try:
            plan = await cluster.plan_restart(pod)
        except BackendError as exc:
            self.notify(f"cannot restart {clean(pod.key)}: {clean(exc)}", severity="error")
            return
        if plan.refusal:
            self.notify(clean(plan.refusal), severity="error", timeout=12)
            return
        options = []
        for mode in plan.modes:
            if mode is RestartMode.DELETE_POD:
                label = (
                    f"Delete only pod {pod.name}; "
                    f"its {plan.workload_kind or pod.owner_kind} recreates it"
                    if plan.workload_kind or pod.owner_kind
                    else f"Delete pod {pod.name} (nothing recreates it)"
                )
            else:
                label = (
                    f"Rollout restart {plan.workload_kind} {plan.workload_name}: "
                    "replaces every pod, one by one"
                )
            options.append((clean(label), mode.value))
        body = Text(
            f"Pod {clean(pod.key)}: {clean(pod.status)}, {pod.restarts} restarts, "
            f"on {clean(pod.node) or '?'}."
        )
        if plan.warning:
            body.append(f"\nWARNING: {clean(plan.warning)}", style="bold red")
        values = await self.push_screen_wait(
            confirm(
                f"Restart {clean(pod.key)}?",
                body,
                confirm_label="Restart",
                fields=[
                    Field("mode", "What to do", plan.modes[0].value, kind="radio", options=options)
                ],
            )
        )
        if values is None:
            return
        result = await self.actions.restart(pod, RestartMode(values["mode"]))
        self.report(result)

    def show_logs(self, pod: PodHealth) -> None:
        container = pod.containers[0] if pod.containers else ""
        tail = self.config.kubernetes.log_lines if self.config.kubernetes else 200
        self.push_screen(LogsScreen(pod, container, tail))

    @work(group="flows")
    async def show_pod_detail(self, pod: PodHealth) -> None:
        cluster = self.runtime.cluster
        if cluster is None:
            return
        try:
            detail = await cluster.detail(pod)
        except BackendError as exc:
            self.notify(f"{clean(pod.key)}: {clean(exc)}", severity="error")
            return
        self.push_screen(
            DetailScreen(f"Pod {clean(pod.key)}", pod_detail(detail, self.clock.now()))
        )

    async def kube_switch_flow(self) -> None:
        self._kube_switch()

    @work(group="flows")
    async def _kube_switch(self) -> None:
        cluster: Any = self.runtime.cluster
        try:
            contexts = await asyncio.to_thread(cluster.contexts)
        except Exception as exc:
            self.notify(f"cannot list contexts: {clean(exc)}", severity="error")
            return
        chosen = await self.push_screen_wait(
            PickScreen("Kubernetes context", [(c, c) for c in contexts])
        )
        if chosen is None:
            return
        values = await self.push_screen_wait(
            form(
                f"Namespaces in {chosen}",
                [Field("namespaces", "Namespaces (comma separated, empty: all)", "")],
                submit_label="Switch",
            )
        )
        if values is None:
            return
        namespaces = tuple(n.strip() for n in values["namespaces"].split(",") if n.strip())
        try:
            await cluster.switch(chosen, namespaces)
        except Exception as exc:
            self.notify(f"cannot switch: {clean(exc)}", severity="error")
            return
        self.live.pods.clear()
        self.workers.cancel_group(self, "pods")
        self.pod_watch()
        self.notify(f"watching {clean(chosen)} {', '.join(namespaces) or 'all namespaces'}")

    # ----------------------------------------------------------------- flows: queues

    def show_messages(self, queue: QueueDepth) -> None:
        count = self.config.rabbitmq.peek_count if self.config.rabbitmq else 10
        self.push_screen(MessagesScreen(queue, count))

    @work(group="flows")
    async def quarantine_flow(
        self, queue: QueueDepth, message: QueueMessage, after: Callable[[], Any] | None = None
    ) -> None:
        dlx = queue.dead_letter_exchange
        target = f"dead-letter exchange {dlx!r}" if dlx else f"queue {queue.name}.quarantine"
        body = Text.assemble(
            "Removes ONE message from ",
            (clean(queue.key), "bold"),
            f": message {clean(message.identity)} at position {message.position}.\n"
            f"First a copy goes to the {clean(target)} (with publisher confirms) and to a JSON "
            "file in the quarantine folder; only then is the original acknowledged. Every other "
            "message stays, in order. Nothing is removed if the copy fails.",
        )
        values = await self.push_screen_wait(
            confirm(
                f"Quarantine a message from {clean(queue.name)}?", body, confirm_label="Quarantine"
            )
        )
        if values is None:
            return
        self.notify(f"quarantining {clean(message.identity)}…", timeout=3)
        result = await self.actions.quarantine(queue, message)
        self.report(result)
        self.poll_now("queues")
        if after is not None:
            after()


# ----------------------------------------------------------------- renderers


def _fmt_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _validate_duration(values: dict[str, Any]) -> str:
    from cockpit.config import ConfigError, parse_duration

    try:
        duration = parse_duration(values.get("duration", ""))
    except ConfigError:
        return "duration: write it like 30m, 1h or 2h"
    if duration <= timedelta(0):
        return "duration must be positive"
    if duration > timedelta(days=7):
        return "an ack longer than 7 days is a silence: use Alertmanager for that"
    return ""


def _user_theme_dir() -> Any:
    from cockpit.config import config_dir

    return config_dir() / "themes"


def _make_trends(runtime: Runtime) -> Any:
    from cockpit.queue_trends import QueueTrends

    return QueueTrends(clock=runtime.clock)


def _desktop_notify(message: str) -> None:
    """OSC 9 (iTerm2, kitty, WezTerm) and OSC 777 (rxvt, foot): ignored where unsupported."""
    safe = clean(message, 120).replace("\x07", "")
    with contextlib.suppress(Exception):
        sys.__stdout__.write(f"\x1b]9;{safe}\x07\x1b]777;notify;cockpit;{safe}\x07")  # type: ignore[union-attr]
        sys.__stdout__.flush()  # type: ignore[union-attr]


def kv_table(rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for key, value in rows:
        table.add_row(clean(key), value if isinstance(value, Text) else Text(clean(value)))
    return table


def link(url: str) -> Text:
    safe = clean(url)
    if url.startswith(("http://", "https://")):
        return Text(safe, style=f"underline link {safe}")
    return Text(safe)


def alert_detail(group: AlertGroup, now: Any) -> RenderableType:
    parts: list[RenderableType] = []
    parts.append(
        kv_table(
            [
                ("group", ", ".join(f"{k}={v}" for k, v in group.labels.items())),
                ("receiver", group.receiver),
                ("cluster", group.cluster or "-"),
            ]
        )
    )
    if group.ack is not None:
        parts.append(
            Text(
                clean(
                    f"\nACKNOWLEDGED by {group.ack.created_by}: {group.ack.comment} "
                    f"(silence {group.ack.id}, {short_duration(group.ack.time_left(now))} left)"
                ),
                style="bold green",
            )
        )
    for alert in group.alerts:
        parts.append(Text(f"\n{clean(alert.name)}  [{alert.state.value}]", style="bold"))
        rows: list[tuple[str, Any]] = []
        if alert.summary:
            rows.append(("summary", alert.annotations.get("summary", "")))
        if alert.annotations.get("description"):
            rows.append(("description", alert.annotations["description"]))
        if alert.starts_at:
            rows.append(
                (
                    "firing for",
                    f"{short_duration(now - alert.starts_at)} "
                    f"(since {alert.starts_at:%Y-%m-%d %H:%M} UTC)",
                )
            )
        if alert.annotations.get("runbook_url"):
            rows.append(("runbook", link(alert.annotations["runbook_url"])))
        if alert.generator_url:
            rows.append(("source", link(alert.generator_url)))
        rows.append(("silenced by", ", ".join(alert.silenced_by) or "-"))
        rows.append(("inhibited by", ", ".join(alert.inhibited_by) or "-"))
        rows.extend((f"label {k}", v) for k, v in sorted(alert.labels.items()))
        rows.extend(
            (f"annotation {k}", v)
            for k, v in sorted(alert.annotations.items())
            if k not in {"summary", "description", "runbook_url"}
        )
        parts.append(kv_table(rows))
    return Group(*parts)


def pod_detail(detail: Any, now: Any) -> RenderableType:
    pod = detail.pod
    parts: list[RenderableType] = [
        kv_table(
            [
                ("status", pod.status),
                ("ready", pod.ready),
                ("restarts", str(pod.restarts)),
                ("owner", f"{pod.owner_kind} {pod.owner_name}" if pod.owner_kind else "none"),
                ("node", pod.node or "-"),
                ("age", short_duration(pod.age(now)) if pod.created_at else "-"),
            ]
        )
    ]
    for container in detail.containers:
        parts.append(
            Text(
                f"\n{'init ' if container.init else ''}container {clean(container.name)}",
                style="bold",
            )
        )
        rows = [
            ("image", container.image),
            ("state", container.state),
            ("ready", str(container.ready)),
            ("restarts", str(container.restarts)),
        ]
        if container.last_termination_reason:
            rows.append(
                (
                    "last termination",
                    f"{container.last_termination_reason} (exit code {container.last_exit_code})",
                )
            )
        parts.append(kv_table(rows))
    parts.append(Text("\nrecent events", style="bold"))
    parts.append(Text(clean("\n".join(detail.events) or "(none)").replace("\\x0a", "\n")))
    return Group(*parts)


def event_detail(event: TimelineEvent) -> RenderableType:
    import json

    rows: list[tuple[str, Any]] = [
        ("at", f"{event.at:%Y-%m-%d %H:%M:%S} UTC"),
        ("kind", event.kind.value),
        ("source", event.source),
        ("who", event.actor),
        ("incident", event.incident_id or "shift log"),
        ("summary", event.summary),
    ]
    details = json.dumps(dict(event.details), indent=2, default=str, sort_keys=True)
    return Group(
        kv_table(rows),
        Text("\ndetails and evidence", style="bold"),
        Text(clean(details).replace("\\x0a", "\n")),
    )


def incident_record(incident: Any, events: list[TimelineEvent]) -> RenderableType:
    rows = [
        ("title", incident.title),
        ("severity", incident.severity.value),
        ("status", incident.status.value),
        ("commander", incident.commander),
        ("started", f"{incident.started_at:%Y-%m-%d %H:%M} UTC"),
        ("resolved", f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC" if incident.resolved_at else "-"),
    ]
    timeline = Table(show_header=True, header_style="bold", box=None)
    timeline.add_column("TIME", no_wrap=True)
    timeline.add_column("WHO", no_wrap=True)
    timeline.add_column("EVENT")
    for event in events:
        timeline.add_row(
            f"{event.at:%H:%M:%S}", Text(clean(event.actor)), Text(clean(event.summary))
        )
    return Group(kv_table(rows), Text(""), timeline)


def customer_preview(
    title: str, status: str, body: str, components: str, now: Any
) -> RenderableType:
    text = Text()
    text.append(clean(title), style="bold")
    text.append(f"\n{status.capitalize()}", style="bold")
    text.append(f" - {clean(body.strip())}".replace("\\x0a", "\n"))
    text.append(f"\nPosted {now:%b %d, %H:%M} UTC", style="dim")
    if components.strip():
        text.append(f"\nThis incident affects: {clean(components)}", style="dim")
    return text


def escalation_preview(escalation: Any, pager: str) -> RenderableType:
    rows = [
        ("pager", pager),
        ("team", escalation.team or "(none)"),
        ("incident", escalation.incident_id),
        ("severity", escalation.severity),
        ("summary", escalation.summary),
        ("latest note", escalation.latest_note or "-"),
        ("escalated by", escalation.escalated_by),
    ]
    return kv_table(rows)


def help_text(actions: Actions) -> RenderableType:
    nav = [
        ("tab / shift+tab", "move between panels"),
        ("1 2 3 4", "alerts, incident, pods, queues"),
        ("/", "filter the focused panel (escape clears)"),
        ("enter", "details of the selected row"),
        ("z", "zoom the focused panel (again: back)"),
        ("ctrl+p", "command palette: every action"),
        ("?", "this help"),
        ("q", "quit"),
    ]
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("KEY", no_wrap=True)
    table.add_column("WHERE", no_wrap=True)
    table.add_column("WHAT")
    for key, what in nav:
        table.add_row(key, "anywhere", what)
    for spec in ACTIONS:
        if actions.allowed(spec.id):
            where = spec.panel or "anywhere"
            if spec.id == "quarantine":
                where = "messages (m)"
            table.add_row(spec.key, where, spec.description)
    footer = Text(
        "\nIn a confirmation: y confirms, n or escape cancels; Cancel is focused.\n"
        "In a form: ctrl+s submits from any field, escape cancels.\n"
        "In logs: p previous container, f follow, c container.",
        style="dim",
    )
    if actions.read_only:
        footer.append(
            "\nREAD-ONLY: actions that change anything are disabled.", style="bold yellow"
        )
    return Group(table, footer)
