"""What a user would read on the terminal, as plain text (for assertions on the screen)."""

from __future__ import annotations

from textual.app import App


def screen_text(app: App[object]) -> str:
    """Every line of the screen as displayed, modal dialogs included."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)
