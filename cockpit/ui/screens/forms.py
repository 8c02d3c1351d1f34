"""Confirmations and forms.

A confirmation names exactly what will happen and focuses Cancel: `y` confirms,
`n` or escape cancels. A form (declare, note, customer update) focuses its first
field: ctrl+s submits from any field, escape cancels. Both return the field values
as a dict, or None when cancelled.

Keys mean what the engineer meant: a dialog takes no key that was typed before it was
on screen (a burst of keys, a laggy SSH link): until its first paint it has no focus and
drops every key, and afterwards it drops keys read before that paint. `y` and ctrl+s
act once. A choice (restart mode, status) shows `(x)` / `( )`, readable without colour,
and is made with its digit or the arrows, wherever the focus is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual._time import get_time
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from cockpit.ui.footer import KeyFooter


@dataclass
class Field:
    name: str
    label: str
    value: str = ""
    kind: str = "input"  # input | text (multi-line) | select | radio
    options: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (label, value)
    placeholder: str = ""
    # this field's text comes from another field's value (a status's template) until
    # the engineer edits it: follows="status", template=lambda status: "..."
    follows: str = ""
    template: Callable[[str], str] | None = None


class Choices(Widget, can_focus=True):
    """One choice among a few, each line `(x) 1 label` or `( ) 2 label`: the mark tells the
    chosen one without colour; up/down or the digit choose."""

    DEFAULT_CSS = """
    Choices { height: auto; padding: 0 1; }
    Choices:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Previous", show=False),
        Binding("down,j", "move(1)", "Next", show=False),
    ]

    class Changed(Message):
        pass

    def __init__(self, options: Sequence[tuple[str, str]], value: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = list(options)
        values = [v for _label, v in self.options]
        self.index = values.index(value) if value in values else 0

    @property
    def value(self) -> str:
        return self.options[self.index][1] if self.options else ""

    def choose(self, index: int) -> None:
        if 0 <= index < len(self.options) and index != self.index:
            self.index = index
            self.refresh(layout=True)
            self.post_message(self.Changed())

    def action_move(self, step: int) -> None:
        self.choose(max(0, min(len(self.options) - 1, self.index + step)))

    def render(self) -> Text:
        text = Text(end="")
        for i, (label, _value) in enumerate(self.options):
            chosen = i == self.index
            if i:
                text.append("\n")
            text.append(f"({'x' if chosen else ' '}) {i + 1} ", style="bold" if chosen else "")
            text.append(label, style="bold" if chosen else "")
        return text


class FormScreen(ModalScreen[dict[str, Any] | None]):
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > #dialog {
        width: 95%; max-width: 100; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    FormScreen.-danger > #dialog { border: round $error; }
    FormScreen #title { text-style: bold; }
    FormScreen #body { height: auto; max-height: 8; }
    FormScreen.-tall #body { max-height: 70vh; }
    FormScreen #fields { height: auto; }
    FormScreen #fields Label { padding: 0; color: $text-muted; }
    FormScreen Input, FormScreen Select { background: $boost; }
    FormScreen TextArea { height: 5; background: $boost; }
    FormScreen Choices { width: 100%; }
    FormScreen #preview {
        height: auto; max-height: 7; border: round $panel-lighten-2; padding: 0 1;
    }
    FormScreen #error { height: auto; }
    FormScreen #buttons { height: auto; align: right middle; }
    FormScreen #buttons Button { margin: 0 0 0 2; }
    FormScreen #hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("y", "yes", "Confirm"),
        Binding("n", "no", "Cancel"),
        Binding("escape", "cancel", "Close"),
        Binding("ctrl+s", "submit", "Submit", priority=True),
        Binding("up", "choice(-1)", "Previous", show=False),
        Binding("down", "choice(1)", "Next", show=False),
        *(Binding(str(n), f"pick({n})", f"Choose {n}", show=False) for n in range(1, 10)),
    ]
    # no focus until the dialog is on screen: keys typed before it reach nobody
    AUTO_FOCUS = None

    def __init__(
        self,
        title: str,
        body: RenderableType = "",
        *,
        fields: Sequence[Field] = (),
        confirm_label: str = "Confirm",
        danger: bool = False,
        is_form: bool = False,
        preview: Callable[[dict[str, Any]], RenderableType] | None = None,
        validate: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        super().__init__(classes="-danger" if danger else "")
        self.title_text = title
        self.body = body
        self.fields = list(fields)
        self.confirm_label = confirm_label
        self.is_form = is_form
        self.preview_fn = preview
        self.validate_fn = validate
        self.opened_at: float | None = None  # when it was mounted
        self.armed_at: float | None = None  # when it was first on screen
        self._answered = False
        self._initial: dict[str, Any] = {}
        # what the form itself put in each field: a field still holding it is not edited
        self._set_by_form: dict[str, str] = {f.name: f.value for f in self.fields}
        self._last_values: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text), id="title")
            if self.body:
                with VerticalScroll(id="body"):
                    yield Static(self.body)
            with Vertical(id="fields"):
                for f in self.fields:
                    yield Label(f.label)
                    if f.kind == "text":
                        yield TextArea(f.value, id=f"field-{f.name}", soft_wrap=True, compact=True)
                    elif f.kind == "select":
                        yield Select(
                            [(label, value) for label, value in f.options],
                            value=f.value,
                            allow_blank=False,
                            id=f"field-{f.name}",
                            compact=True,
                        )
                    elif f.kind == "radio":
                        yield Choices(f.options, f.value, id=f"field-{f.name}")
                    else:
                        yield Input(
                            f.value, placeholder=f.placeholder, id=f"field-{f.name}", compact=True
                        )
            if self.preview_fn is not None:
                yield Static("", id="preview")
            yield Static("", id="error")
            hint = (
                "ctrl+s submits · escape cancels"
                if self.is_form
                else "y confirms · n or escape cancels"
            )
            yield Static(hint, id="hint")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", variant="default")
                yield Button(
                    self.confirm_label,
                    id="confirm",
                    variant="error" if not self.is_form else "primary",
                )
        yield KeyFooter()  # this dialog's keys, not the main screen's

    def on_mount(self) -> None:
        self.opened_at = get_time()
        self.update_preview()
        self._initial = self.values()
        self.call_after_refresh(self._arm)

    def _arm(self) -> None:
        """On screen now: from here on a key is the engineer's answer to this dialog."""
        self.armed_at = get_time()
        if self.is_form and self.fields:
            first = self.query_one(f"#field-{self.fields[0].name}")
        else:
            first = self.query_one("#cancel", Button)
        self.set_focus(first)
        self.refresh_bindings()

    @property
    def armed(self) -> bool:
        return self.armed_at is not None

    def _early(self, event: events.Key) -> bool:
        """Read from the terminal before this dialog existed: typed without seeing it."""
        return self.opened_at is None or event.time < self.opened_at

    def on_key(self, event: events.Key) -> None:
        if self._early(event):
            event.stop()
            event.prevent_default()

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, TextArea):
                result[f.name] = widget.text
            elif isinstance(widget, Select | Choices | Input):
                result[f.name] = widget.value
        return result

    def update_preview(self) -> None:
        if self.preview_fn is None:
            return
        try:
            rendered = self.preview_fn(self.values())
        except Exception as exc:  # a preview must never break the form
            rendered = Text(f"preview unavailable: {type(exc).__name__}")
        self.query_one("#preview", Static).update(rendered)

    def on_input_changed(self) -> None:
        self.update_preview()

    def on_text_area_changed(self) -> None:
        self.update_preview()

    @property
    def edited(self) -> bool:
        """A field holds something else than the form opened with (what a cancel throws
        away); after the dialog closed, as it was when it closed."""
        try:
            values = self.values()
        except Exception:  # already dismissed: the widgets are gone
            values = self._last_values
        return bool(self._initial) and values != self._initial

    def _follow(self) -> None:
        """Fields that follow another field take its new template, unless edited."""
        values = self.values()
        for f in self.fields:
            if not f.follows or f.template is None:
                continue
            widget = self.query_one(f"#field-{f.name}")
            current = str(values.get(f.name, ""))
            if current != self._set_by_form.get(f.name):
                continue  # the engineer's own words win
            new = f.template(str(values.get(f.follows, "")))
            self._set_by_form[f.name] = new
            if isinstance(widget, TextArea):
                widget.load_text(new)
            elif isinstance(widget, Input):
                widget.value = new

    def on_select_changed(self) -> None:
        self._follow()
        self.update_preview()

    def on_choices_changed(self) -> None:
        self._follow()
        self.update_preview()

    def _choices(self) -> Choices | None:
        found = self.query(Choices)
        return found.first() if found else None

    def action_choice(self, step: int) -> None:
        choices = self._choices()
        if choices is not None:
            choices.action_move(step)

    def action_pick(self, number: int) -> None:
        choices = self._choices()
        if choices is not None:
            choices.choose(number - 1)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_submit()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # enter in a one-line confirmation field moves to the buttons, it never submits
        event.stop()
        self.query_one("#cancel", Button).focus() if not self.is_form else self.focus_next()

    def _typing(self) -> bool:
        return isinstance(self.focused, Input | TextArea)

    def action_yes(self) -> None:
        if not self._typing() and not self.is_form:
            self.action_submit()

    def action_no(self) -> None:
        if not self._typing() and not self.is_form:
            self.action_cancel()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit" and self.armed_at is None:
            return False  # ctrl+s (a priority key) before the form was even drawn
        if action in {"yes", "submit"} and self._answered:
            return False  # already answered: y acts once
        # in a text field or a form, y and n are letters, not answers
        if action in {"yes", "no"}:
            return not (self._typing() or self.is_form)
        if action in {"choice", "pick"}:
            # digits and arrows choose, unless they are typed into a field
            return (
                self._choices() is not None
                and not self._typing()
                and (action == "pick" or not isinstance(self.focused, Select | Choices))
            )
        return True

    def action_submit(self) -> None:
        if self._answered or self.armed_at is None:
            return
        values = self.values()
        if self.validate_fn is not None:
            problem = self.validate_fn(values)
            if problem:
                self.query_one("#error", Static).update(Text(problem, style="bold red"))
                return
        self._answered = True
        self._last_values = values
        self.dismiss(values)

    def action_cancel(self) -> None:
        if self._answered:
            return
        self._answered = True
        self._last_values = self.values()
        if self.edited:
            # what was typed is dropped: say so, the engineer may have expected it sent
            self.app.notify("cancelled: nothing sent", severity="warning", timeout=4)
        self.dismiss(None)


def confirm(
    title: str,
    body: RenderableType,
    *,
    confirm_label: str = "Confirm",
    fields: Sequence[Field] = (),
    danger: bool = True,
    validate: Callable[[dict[str, Any]], str] | None = None,
    preview: Callable[[dict[str, Any]], RenderableType] | None = None,
) -> FormScreen:
    return FormScreen(
        title,
        body,
        fields=fields,
        confirm_label=confirm_label,
        danger=danger,
        validate=validate,
        preview=preview,
    )


def form(
    title: str,
    fields: Sequence[Field],
    *,
    body: RenderableType = "",
    submit_label: str = "Save",
    preview: Callable[[dict[str, Any]], RenderableType] | None = None,
    validate: Callable[[dict[str, Any]], str] | None = None,
) -> FormScreen:
    return FormScreen(
        title,
        body,
        fields=fields,
        confirm_label=submit_label,
        is_form=True,
        preview=preview,
        validate=validate,
    )
