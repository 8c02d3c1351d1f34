"""The key footer, drawn as one line of text and repainted in place.

Textual's Footer recomposes (removes and mounts a widget per key) whenever the bindings
may have changed: on every focus change and on cursor moves that change the keys
offered. Each recompose costs a layout pass of the whole screen (~100 ms at 200x50 with
thousands of rows) and reaches the terminal a frame late. This footer shows the same
keys (Screen.active_bindings: the same check_action rules, hidden and dimmed alike)
and repaints its single line only when that line changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyFooter(Footer):
    """A Footer (tests and CSS find it as one) without child widgets."""

    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # (key, display, description, enabled) per shown action, and the palette key
        self._items: tuple[tuple[str, str, str, bool], ...] = ()
        self._palette: tuple[str, str, str, bool] | None = None
        self._spans: list[tuple[int, int, str, bool]] = []  # x range -> key, for clicks

    def compose(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        # Footer.on_mount (called too: Textual dispatches along the MRO) subscribes
        self.bindings_changed(self.screen)

    def bindings_changed(self, screen: Screen) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        items, palette = self._collect(screen)
        if (items, palette) != (self._items, self._palette):
            self._items, self._palette = items, palette
            self.refresh()  # one line, no layout

    def _collect(
        self, screen: Screen
    ) -> tuple[tuple[tuple[str, str, str, bool], ...], tuple[str, str, str, bool] | None]:
        app = self.app
        active = screen.active_bindings
        seen: set[str] = set()
        items = []
        # as Footer: one entry per action (its first key), in binding-chain order
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            items.append((binding.key, app.get_key_display(binding), binding.description, enabled))
        palette = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            found = active.get(app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, _tooltip = found
                palette = (
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    enabled,
                )
        return tuple(items), palette

    def _fitted(self) -> list[tuple[str, str, str, bool]]:
        """The keys that fit on one line: the least important (the last ones) drop first,
        `? Help` stays, so the line is never cut in the middle of a key at 80 columns."""
        items = list(self._items)
        room = self.size.width or 80

        def width(shown: list[tuple[str, str, str, bool]]) -> int:
            return sum(cell_len(f" {d} {desc} ") for _k, d, desc, _e in shown)

        while items and width(items) > room:
            for i in range(len(items) - 1, -1, -1):
                if items[i][0] != "question_mark" or len(items) == 1:
                    del items[i]
                    break
        return items

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key", partial=True)
        description_style = self.get_component_rich_style("key-footer--description", partial=True)
        dim = Style(dim=True)
        text = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, str, bool]] = []
        for key, display, description, enabled in self._fitted():
            start = text.cell_len
            extra = Style() if enabled else dim
            text.append(f" {display} ", style=key_style + extra)
            text.append(f"{description} ", style=description_style + extra)
            spans.append((start, text.cell_len, key, enabled))
        if self._palette is not None:
            key, display, description, enabled = self._palette
            right = f"▏{display} {description} "
            gap = self.size.width - text.cell_len - cell_len(right)
            if gap >= 0:
                text.append(" " * gap)
                start = text.cell_len
                extra = Style() if enabled else dim
                text.append("▏", style=Style(dim=True))
                text.append(f"{display} ", style=key_style + extra)
                text.append(f"{description} ", style=description_style + extra)
                spans.append((start, text.cell_len, key, enabled))
        self._spans = spans
        return text

    def on_mouse_down(self, event: events.MouseDown) -> None:
        # as a FooterKey: a click presses the key
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
