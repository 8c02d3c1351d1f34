"""An alert's runbook: its Markdown, and its task list as a checklist.

`x` or space checks the selected step off: the screen calls `on_check(step)` (the
action layer writes one timeline event) and marks it done; steps done before on this
incident come in as `done`. A runbook that could not be had shows why in one line and
the URL to copy (`c` puts it on the clipboard through the terminal, OSC 52).

Outside text stays data: Markdown is parsed with HTML off (tags show as text), links
are shown and never opened, and the core has already removed control characters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown, OptionList, Static
from textual.widgets.markdown import MarkdownBlock
from textual.widgets.option_list import Option

from cockpit.domain import ActionResult, TimelineEvent
from cockpit.runbooks import CHECKED, UNCHECKED, RunbookResult, Step
from cockpit.ui.text import clean

CheckStep = Callable[[Step], Awaitable[ActionResult]]


def _show_targets(state: StateCore) -> None:
    """Every link and image shows where it points, after its text: the Markdown widget
    shows only the text, and the engineer must see (and can copy) the address."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        targets: list[str] = []
        for child in token.children:
            children.append(child)
            if child.type == "link_open":
                targets.append(str(child.attrs.get("href", "")))
            elif child.type in ("link_close", "image"):
                target = targets.pop() if child.type == "link_close" and targets else ""
                if child.type == "image":
                    target = str(child.attrs.get("src", ""))
                if target and not target.startswith("#"):
                    shown = Token("text", "", 0)
                    shown.content = f" <{target}>"
                    children.append(shown)
        token.children = children


def inert_parser() -> MarkdownIt:
    """GitHub-like Markdown with raw HTML shown as text, no bare-URL linking, and every
    link's address shown."""
    parser = MarkdownIt("gfm-like", {"html": False, "linkify": False})
    parser.core.ruler.push("show_targets", _show_targets)
    return parser


class RunbookScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    RunbookScreen { align: center middle; }
    RunbookScreen > Vertical { width: 100%; height: 100%; background: $surface; }
    RunbookScreen #runbook-title { text-style: bold; padding: 0 1; background: $panel; }
    RunbookScreen #runbook-source { color: $text-muted; padding: 0 1; }
    RunbookScreen #runbook-error { color: $error; text-style: bold; padding: 0 1; }
    RunbookScreen #runbook-url { padding: 1 1 0 1; }
    RunbookScreen #runbook-doc { height: 1fr; padding: 0 1; }
    RunbookScreen #runbook-doc Markdown { margin: 0; padding: 0; }
    RunbookScreen #runbook-steps-title { background: $panel; padding: 0 1; }
    RunbookScreen OptionList, RunbookScreen OptionList:focus {
        height: auto; max-height: 40%; border: none; padding: 0;
    }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("x", "check", "Check step"),
        Binding("space", "check", "Check step", show=False),
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
        Binding("pagedown,ctrl+f", "scroll_doc(1)", "Scroll", show=False),
        Binding("pageup,ctrl+b", "scroll_doc(-1)", "Scroll up", show=False),
        Binding("c", "copy_url", "Copy URL"),
    ]

    def __init__(
        self,
        result: RunbookResult,
        *,
        done: Mapping[str, str] | None = None,
        on_check: CheckStep | None = None,
    ) -> None:
        """`done`: step text -> who checked it when ("03:12 alice"); `on_check` None: read-only."""
        super().__init__()
        self.result = result
        self.runbook = result.runbook
        self.done: dict[str, str] = dict(done or {})
        self.on_check = on_check
        self._pending: set[str] = set()  # steps whose timeline event is being written
        self._rendering = False
        self._render_wanted = False

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        title = f"Runbook · {self.result.alertname}"
        runbook = self.runbook
        with Vertical():
            yield Static(Text(clean(title, 200)), id="runbook-title")
            if runbook is None:
                yield Static(Text(clean(self.result.error, 400)), id="runbook-error")
                if self.result.url:
                    url = Text("URL: ", style="dim")
                    url.append(clean(self.result.url))
                    url.append("\n\nc copies it to the clipboard (through the terminal)", "dim")
                    yield Static(url, id="runbook-url")
            else:
                source = runbook.source + (f" · {runbook.cut_note}" if runbook.cut_note else "")
                yield Static(Text(clean(source, 300)), id="runbook-source")
                with VerticalScroll(id="runbook-doc"):
                    yield Markdown(
                        runbook.render(self.done),
                        parser_factory=inert_parser,
                        open_links=False,
                    )
                if runbook.steps:
                    yield Static(self._steps_title(), id="runbook-steps-title")
                    yield OptionList(*self._options(), id="runbook-steps")
        yield Footer()

    def on_mount(self) -> None:
        steps = self.query(OptionList)
        if steps:
            option_list = steps.first()
            option_list.highlighted = self._next_open(0)
            option_list.focus()
        elif self.query("#runbook-doc"):
            self.query_one("#runbook-doc").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "check":
            return self.runbook is not None and bool(self.runbook.steps) and bool(self.on_check)
        if action == "copy_url":
            return bool(self.result.url or self.runbook)
        return True

    # ----------------------------------------------------------------- steps

    def _steps_title(self) -> Text:
        assert self.runbook is not None
        steps = self.runbook.steps
        count = sum(1 for s in steps if s.text in self.done)
        text = Text(f"Steps {count}/{len(steps)} done", style="bold")
        hint = "  x checks the selected step off on the timeline"
        if self.on_check is None:
            hint = "  read-only: steps are not recorded"
        text.append(hint, style="dim")
        return text

    def _label(self, step: Step) -> Text:
        when = self.done.get(step.text)
        box = CHECKED if when is not None else UNCHECKED
        label = Text(f"{box} {step.number}. ", style="bold green" if when is not None else "")
        label.append(clean(step.text))
        if when:
            label.append(f"  ({clean(when)})", style="dim")
        return label

    def _options(self) -> list[Option]:
        assert self.runbook is not None
        return [Option(self._label(step), id=str(step.number)) for step in self.runbook.steps]

    def _next_open(self, start: int) -> int:
        """The first step at or after `start` neither done nor being recorded (else the
        last step)."""
        assert self.runbook is not None
        steps = self.runbook.steps
        for index in range(start, len(steps)):
            if steps[index].text not in self.done and steps[index].text not in self._pending:
                return index
        return min(start, max(len(steps) - 1, 0))

    def selected_step(self) -> Step | None:
        if self.runbook is None or not self.query(OptionList):
            return None
        index = self.query_one(OptionList).highlighted
        if index is None or not 0 <= index < len(self.runbook.steps):
            return None
        return self.runbook.steps[index]

    def action_move(self, delta: int) -> None:
        if self.query(OptionList):
            option_list = self.query_one(OptionList)
            option_list.action_cursor_down() if delta > 0 else option_list.action_cursor_up()

    def action_check(self) -> None:
        """x: record the selected step and move on to the next open one at once, so that
        x x x works through three steps even before the first is on the timeline."""
        step = self.selected_step()
        if step is None or self.on_check is None or step.text in self._pending:
            return
        self._pending.add(step.text)
        self.query_one(OptionList).highlighted = self._next_open(step.number)
        # one worker per press, started in order; the action layer records each at once
        self.run_worker(self._check(step), group="runbook-check")

    async def _check(self, step: Step) -> None:
        assert self.on_check is not None
        try:
            result = await self.on_check(step)
        finally:
            self._pending.discard(step.text)
        self.app.notify(
            clean(result.message, 300), severity="information" if result.ok else "error"
        )
        if not result.ok:
            return
        if step.text not in self.done:
            at, actor = result.details.get("at"), result.details.get("actor", "")
            self.done[step.text] = f"{at:%H:%M} {actor}" if isinstance(at, datetime) else "now"
        assert self.runbook is not None
        self.query_one(OptionList).replace_option_prompt_at_index(
            step.number - 1, self._label(step)
        )
        self.query_one("#runbook-steps-title", Static).update(self._steps_title())
        self._render_document()

    def _render_document(self) -> None:
        """The document again with its boxes ticked. Renders run one after the other (a
        Markdown update cancelled half-way leaves the widget half-mounted): presses during
        a render are folded into one more render after it."""
        self._render_wanted = True
        if not self._rendering:
            self._rendering = True
            self.run_worker(self._render_loop(), group="runbook-render")

    async def _render_loop(self) -> None:
        assert self.runbook is not None
        try:
            while self._render_wanted:
                self._render_wanted = False
                doc = self.query_one("#runbook-doc", VerticalScroll)
                y = doc.scroll_y
                await self.query_one(Markdown).update(self.runbook.render(self.done))
                doc.scroll_to(y=y, animate=False)
        finally:
            self._rendering = False

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Keep the highlighted step's line in view in the document."""
        step = self.selected_step()
        if step is None:
            return
        best: MarkdownBlock | None = None
        for block in self.query(MarkdownBlock):
            start, end = block.source_range
            if start <= step.line < end and (
                best is None or end - start <= best.source_range[1] - best.source_range[0]
            ):
                best = block
        if best is not None:
            self.query_one("#runbook-doc", VerticalScroll).scroll_to_widget(
                best, animate=False, top=False
            )

    # ----------------------------------------------------------------- the rest

    def action_scroll_doc(self, direction: int) -> None:
        if self.query("#runbook-doc"):
            doc = self.query_one("#runbook-doc", VerticalScroll)
            doc.scroll_page_down() if direction > 0 else doc.scroll_page_up()

    def action_copy_url(self) -> None:
        url = self.result.url or (self.runbook.source if self.runbook else "")
        if url:
            self.app.copy_to_clipboard(url)
            self.app.notify(f"copied: {clean(url, 200)}")

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        # links are shown, never followed: say where it points, for copying
        event.stop()
        self.app.notify(f"link (not opened): {clean(event.href, 200)}")

    def action_close(self) -> None:
        self.dismiss(None)


def done_labels(done: Mapping[str, TimelineEvent]) -> dict[str, str]:
    """step text -> "03:12 alice" from the timeline events that checked each step."""
    return {text: f"{event.at:%H:%M} {event.actor}" for text, event in done.items()}
