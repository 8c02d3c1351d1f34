"""Rich styles derived from the current Textual theme, so cells follow the theme."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from textual.color import Color

if TYPE_CHECKING:
    from textual.theme import Theme


class Palette:
    """The styles every panel and the header colour their text with."""

    def __init__(self, colors: dict[str, str] | None = None) -> None:
        colors = colors or {}

        def style(name: str, fallback: str, **extra: Any) -> Style:
            try:
                color = Color.parse(colors.get(name) or fallback).rich_color
            except Exception:
                color = Color.parse(fallback).rich_color
            return Style(color=color, **extra)

        self.crit = style("error", "#f05d5e", bold=True)
        # the marker cell of a critical row (SEV, STATUS): reverse video and bold, so it
        # stands out under NO_COLOR (colours become grey levels, red the dimmest) and in
        # the 16-colour theme, not only by its colour
        self.crit_badge = self.crit + Style(reverse=True)
        self.warn = style("warning", "#e5c07b")
        self.ok = style("success", "#7fbf7f")
        self.accent = style("accent", "#e0af68")
        self.info = style("primary", "#5fa8d3")
        self.dim = Style(dim=True)
        self.plain = Style()

    @classmethod
    def from_theme(cls, theme: Theme) -> Palette:
        return cls(
            {
                "error": theme.error or "",
                "warning": theme.warning or "",
                "success": theme.success or "",
                "accent": theme.accent or "",
                "primary": theme.primary or "",
            }
        )

    def level(self, level: str) -> Style:
        return {"crit": self.crit, "warn": self.warn, "ok": self.ok}.get(level, self.plain)
