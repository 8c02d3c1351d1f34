"""Making outside text safe to show: label values may hold Rich markup or escape sequences."""

from __future__ import annotations

import re

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: object, limit: int = 0) -> str:
    """Control characters (ESC, BEL, ...) shown as visible escapes, never sent to the terminal."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def plain(value: object, style: str = "", limit: int = 0) -> Text:
    """A Text that shows the value literally: markup like [bold] is not interpreted."""
    return Text(clean(value, limit), style=style, no_wrap=True, end="")


def one_line(value: object, limit: int = 200) -> str:
    return clean(" ".join(str(value).split()), limit)
