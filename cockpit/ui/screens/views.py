"""Read-only views: details, help, pickers, logs and the messages at the head of a queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Log, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.backends.base import BackendError, Broker, Cluster
from cockpit.domain import PodHealth, QueueDepth, QueueMessage
from cockpit.ui.text import clean


class DetailScreen(ModalScreen[None]):
    """A scrollable page of text: alert, pod, event details, help, a past incident."""

    DEFAULT_CSS = """
    DetailScreen { align: center middle; }
    DetailScreen > Vertical {
        width: 95%; height: 95%; border: thick $primary; background: $surface;
    }
    DetailScreen #detail-title { text-style: bold; padding: 0 1; background: $panel; }
    DetailScreen VerticalScroll { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), id="detail-title")
            with VerticalScroll():
                yield Static(self.body, id="detail-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)


class PickScreen(ModalScreen[str | None]):
    """Pick one of a list (past incidents, a container, a kube context)."""

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen > Vertical { width: 80%; max-width: 90; height: auto; max-height: 80%;
        border: thick $primary; background: $surface; }
    PickScreen #pick-title { text-style: bold; padding: 0 1; }
    PickScreen OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)  # (label, value)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), id="pick-title")
            yield OptionList(
                *[Option(Text(clean(label)), id=value) for label, value in self.options]
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LogsScreen(ModalScreen[None]):
    """The last lines of a container's log: p previous container, f follow, c container."""

    DEFAULT_CSS = """
    LogsScreen { align: center middle; }
    LogsScreen > Vertical { width: 100%; height: 100%; background: $surface; }
    LogsScreen #logs-title { background: $panel; padding: 0 1; text-style: bold; }
    LogsScreen Log { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("p", "previous", "Previous container"),
        Binding("f", "follow", "Follow"),
        Binding("c", "container", "Container"),
    ]

    def __init__(
        self, cluster: Cluster, pod: PodHealth, container: str, tail: int, previous: bool = False
    ) -> None:
        super().__init__()
        self.cluster = cluster
        self.pod = pod
        self.container = container
        self.tail = tail
        self.previous = previous
        self.opened_on_previous = previous
        self.following = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="logs-title")
            yield Log(id="log", highlight=False, max_lines=20_000)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.load()

    def render_title(self, state: str = "") -> None:
        which = "previous container" if self.previous else "current container"
        if self.previous and self.opened_on_previous:
            which += ", the one that crashed (p: current)"
        follow = " · following" if self.following else ""
        text = f"logs {self.pod.key} [{self.container}] · {which}{follow}"
        self.query_one("#logs-title", Static).update(
            Text(clean(text + (f" · {state}" if state else "")))
        )

    @work(exclusive=True, group="logs")
    async def load(self) -> None:
        cluster = self.cluster
        log = self.query_one(Log)
        log.clear()
        self.render_title("loading…")
        try:
            lines = await cluster.logs(
                self.pod, self.container, previous=self.previous, tail=self.tail
            )
        except BackendError as exc:
            self.render_title(f"error: {exc}")
            log.write_line(clean(f"could not read the logs: {exc}"))
            return
        log.write_lines([clean(line) for line in lines] or ["(no log lines)"])
        self.render_title(f"{len(lines)} lines")
        if self.following and not self.previous:
            async for line in cluster.follow_logs(self.pod, self.container):
                log.write_line(clean(line))

    def action_previous(self) -> None:
        self.previous = not self.previous
        self.following = False
        self.load()

    def action_follow(self) -> None:
        self.following = not self.following
        if self.following:
            self.previous = False
        self.load()

    def action_container(self) -> None:
        containers = list(self.pod.containers) or [self.container]
        if len(containers) < 2:
            self.notify("this pod has one container")
            return

        def chosen(value: str | None) -> None:
            if value:
                self.container = value
                self.load()

        self.app.push_screen(PickScreen("Container", [(c, c) for c in containers]), chosen)

    def action_close(self) -> None:
        self.workers.cancel_group(self, "logs")
        self.dismiss(None)


def render_message(message: QueueMessage, limit: int = 4000) -> RenderableType:
    props = Table.grid(padding=(0, 2))
    props.add_column(style="dim")
    props.add_column()
    for name, value in (
        ("position", str(message.position)),
        ("message_id", message.message_id or "(none)"),
        ("correlation_id", message.correlation_id or "(none)"),
        ("content_type", message.content_type or "(none)"),
        ("redelivered", str(message.redelivered)),
        ("routing_key", message.routing_key),
        ("exchange", message.exchange or "(default)"),
        ("identity", message.identity),
    ):
        props.add_row(Text(name), Text(clean(value)))
    for name, value in message.headers.items():
        props.add_row(Text(f"header {clean(name, 100)}"), Text(clean(value, 300)))
    return Group(
        props, Text(""), Text("payload", style="bold"), payload_text(message.payload, limit)
    )


def payload_text(payload: bytes, limit: int = 4000) -> Text:
    """The payload as text when it decodes as UTF-8, else as hex; truncated safely."""
    shown = payload[:limit]
    suffix = f"\n… {len(payload) - limit} more bytes" if len(payload) > limit else ""
    try:
        text = shown.decode("utf-8")
        return Text(clean(text).replace("\\x0a", "\n") + suffix)
    except UnicodeDecodeError:
        rows = [f"{i:06x}  {shown[i : i + 16].hex(' ')}" for i in range(0, len(shown), 16)]
        return Text("(binary, shown as hex)\n" + "\n".join(rows) + suffix)


class MessagesScreen(ModalScreen[None]):
    """The head of a queue. Peeking requeues: the screen says so. d quarantines one message."""

    DEFAULT_CSS = """
    MessagesScreen { align: center middle; }
    MessagesScreen > Vertical { width: 100%; height: 100%; background: $surface; }
    MessagesScreen #messages-title { background: $panel; padding: 0 1; text-style: bold; }
    MessagesScreen #requeue-note { color: $warning; padding: 0 1; }
    MessagesScreen DataTable { height: 40%; }
    MessagesScreen VerticalScroll { height: 1fr; border-top: solid $panel-lighten-2; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("d", "quarantine", "Quarantine message"),
        Binding("R", "reload", "Reload"),
    ]

    def __init__(
        self,
        broker: Broker,
        queue: QueueDepth,
        count: int,
        *,
        can_quarantine: bool = False,
        on_quarantine: Callable[[QueueMessage, Callable[[], object]], object] | None = None,
    ) -> None:
        """on_quarantine(message, reload) asks to quarantine the selected message; the
        caller confirms and calls reload() once it is done."""
        super().__init__()
        self.broker = broker
        self.queue = queue
        self.count = count
        self.can_quarantine = can_quarantine and on_quarantine is not None
        self.on_quarantine = on_quarantine
        self.messages: list[QueueMessage] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text(clean(f"messages at the head of {self.queue.key}")), id="messages-title"
            )
            yield Static(
                "Peeking takes these messages and puts them back (requeue): RabbitMQ then marks "
                "them redelivered. Nothing is removed unless you quarantine one with d.",
                id="requeue-note",
            )
            table: DataTable[Text] = DataTable(cursor_type="row", id="messages")
            yield table
            with VerticalScroll():
                yield Static("", id="message-body")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("#", width=3)
        table.add_column("MESSAGE ID", width=24)
        table.add_column("TYPE", width=16)
        table.add_column("REDELIV", width=7)
        table.add_column("PAYLOAD", width=40)
        table.focus()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quarantine":
            return self.can_quarantine and bool(self.messages)
        return True

    @work(exclusive=True, group="peek")
    async def reload(self) -> None:
        broker = self.broker
        table = self.query_one(DataTable)
        title = self.query_one("#messages-title", Static)
        title.update(Text(clean(f"messages at the head of {self.queue.key} · loading…")))
        try:
            self.messages = await broker.peek(self.queue, self.count)
        except BackendError as exc:
            title.update(Text(clean(f"{self.queue.key}: could not peek: {exc}")))
            return
        table.clear()
        for message in self.messages:
            preview = clean(message.payload[:60].decode("utf-8", "replace"), 40)
            table.add_row(  # Text cells: a DataTable reads a str as markup ("[/]" crashes)
                Text(str(message.position)),
                Text(clean(message.message_id or "(none)", 24)),
                Text(clean(message.content_type, 16)),
                Text("yes" if message.redelivered else "no"),
                Text(preview),
                key=str(message.position),
            )
        title.update(Text(clean(f"{len(self.messages)} messages at the head of {self.queue.key}")))
        self.show_selected()
        self.refresh_bindings()

    def selected(self) -> QueueMessage | None:
        table = self.query_one(DataTable)
        if not self.messages or table.cursor_row >= len(self.messages):
            return None
        return self.messages[table.cursor_row]

    def show_selected(self) -> None:
        message = self.selected()
        body = self.query_one("#message-body", Static)
        body.update(render_message(message) if message else "(the queue is empty)")

    def on_data_table_row_highlighted(self) -> None:
        self.show_selected()

    def action_reload(self) -> None:
        self.reload()

    def action_quarantine(self) -> None:
        message = self.selected()
        if message is not None and self.on_quarantine is not None:
            self.on_quarantine(message, self.reload)

    def action_close(self) -> None:
        self.dismiss(None)


async def cancel_quietly(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
