"""Confirmations and forms.

A confirmation names exactly what will happen and focuses Cancel: `y` confirms,
`n` or escape cancels. A form (declare, note, customer update) focuses its first
field: ctrl+s submits from any field, escape cancels. Both return the field values
as a dict, or None when cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static, TextArea


@dataclass
class Field:
    name: str
    label: str
    value: str = ""
    kind: str = "input"  # input | text (multi-line) | select | radio
    options: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (label, value)
    placeholder: str = ""


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
    FormScreen #fields { height: auto; }
    FormScreen #fields Label { padding: 0; color: $text-muted; }
    FormScreen Input, FormScreen Select { background: $boost; }
    FormScreen TextArea { height: 5; background: $boost; }
    FormScreen RadioSet { width: 100%; }
    FormScreen #preview {
        height: auto; max-height: 7; border: round $panel-lighten-2; padding: 0 1;
    }
    FormScreen #error { height: auto; }
    FormScreen #buttons { height: auto; align: right middle; }
    FormScreen #buttons Button { margin: 0 0 0 2; }
    FormScreen #hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Submit", priority=True),
        Binding("y", "yes", "Confirm", show=False),
        Binding("n", "no", "Cancel", show=False),
    ]

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
                        with RadioSet(id=f"field-{f.name}", compact=True):
                            for label, value in f.options:
                                yield RadioButton(label, value=value == f.value, name=value)
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

    def on_mount(self) -> None:
        for radios in self.query(RadioSet):
            # Textual highlights the first button, not the pressed one: enter would then
            # silently switch the choice away from the prefilled value
            if radios.pressed_index >= 0:
                radios._selected = radios.pressed_index
        if self.is_form and self.fields:
            self.query_one(f"#field-{self.fields[0].name}").focus()
        else:
            self.query_one("#cancel", Button).focus()
        self.update_preview()

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, TextArea):
                result[f.name] = widget.text
            elif isinstance(widget, Select):
                result[f.name] = widget.value
            elif isinstance(widget, RadioSet):
                pressed = widget.pressed_button
                result[f.name] = pressed.name if pressed is not None else f.value
            elif isinstance(widget, Input):
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

    def on_select_changed(self) -> None:
        self.update_preview()

    def on_radio_set_changed(self) -> None:
        self.update_preview()

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
        # in a text field or a form, y and n are letters, not answers
        return not (action in {"yes", "no"} and (self._typing() or self.is_form))

    def action_submit(self) -> None:
        values = self.values()
        if self.validate_fn is not None:
            problem = self.validate_fn(values)
            if problem:
                self.query_one("#error", Static).update(Text(problem, style="bold red"))
                return
        self.dismiss(values)

    def action_cancel(self) -> None:
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
