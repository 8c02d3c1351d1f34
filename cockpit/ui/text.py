"""Making outside text safe to show: label values may hold Rich markup or escape sequences.

The cleaning itself lives in cockpit/text.py (backends use it too); this module adds the
Rich side: a Text built from a cleaned value is never parsed as markup.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from cockpit.text import MAX_TEXT, clean, one_line

__all__ = ["MAX_TEXT", "clean", "one_line", "plain"]


def plain(value: object, style: str | Style = "", limit: int = 0) -> Text:
    """A Text that shows the value literally: markup like [bold] is not interpreted."""
    return Text(clean(value, limit), style=style, no_wrap=True, end="")
