"""The one cleaning point for text from outside (labels, pod reasons, queue names, headers...).

Anything a server sends may hold escape sequences that would rename the terminal, write
the clipboard or wipe the screen (OSC, CSI, DCS...), bidi overrides that show text in a
different order than it is stored, zero-width characters that hide text, or lone
surrogates that cannot even be encoded to the terminal. clean() turns all of them into
visible, inert text, and cuts very long text with a marker. Backends and the UI both
import it (cockpit/ui/text.py re-exports it with the Rich helpers).
"""

from __future__ import annotations

import re

# Far longer than any cell or line on screen; bounds the work of rendering a hostile value.
MAX_TEXT = 10_000

# C0 controls except tab and newline, DEL, C1 controls (U+0080-U+009F: CSI, OSC, DCS, ST as
# single code points), lone surrogates (JSON "\ud800" decodes to one).
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
# Bidi embeddings, overrides and isolates; marks that reorder text; zero-width characters;
# line/paragraph separators (a terminal may treat them as newlines); the BOM.
_INVISIBLE = "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\u00ad\u180e"
_UNSAFE = re.compile(f"[{_CONTROL}{_INVISIBLE}]")
# the password of a URL's user:password@ part (a management_url written with credentials)
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*:)[^/@\s]+@")
URL_MASK = "•••"


def mask_url_password(text: str) -> str:
    """http://user:secret@host -> http://user:•••@host, anywhere in the text."""
    if "@" not in text or "://" not in text:
        return text
    return _URL_PASSWORD.sub(lambda m: m.group(1) + URL_MASK + "@", text)


def url_password(url: str) -> str:
    """The password inside a URL's user:password@ part, "" without one."""
    match = _URL_PASSWORD.search(url)
    return match.group(0)[len(match.group(1)) : -1] if match else ""


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"  # ESC becomes the four characters \x1b: inert, still readable
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return f"<U+{code:04X}>"  # visible: an override cannot reorder what follows


def clean(value: object, limit: int = 0) -> str:
    """The value as inert, visible text: no control character, no invisible reordering.

    Every control character (so every ESC/CSI/OSC/DCS/ST sequence) is shown as a visible
    escape like \\x1b; bidi and zero-width characters as <U+202E>. Text longer than
    `limit` (default MAX_TEXT) is cut with a marker.
    """
    try:
        if isinstance(value, str):
            text = value
        elif isinstance(value, dict | list | tuple):
            text = nested(value)
        else:
            text = str(value)
    except Exception:  # an object whose __str__ fails must not take the screen down
        text = f"<{type(value).__name__}>"
    cap = limit or MAX_TEXT
    length = len(text)
    truncated = length > cap + 64
    if truncated:
        text = text[: cap + 64]  # never scan a huge value: only what can be shown
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(_shown, text)
    text = mask_url_password(text)  # a secret inside a URL never reaches the screen
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    if len(text) > cap or truncated:
        marker = f"… [cut, {length} characters]"
        return text[: cap - len(marker)] + marker
    return text


def nested(value: object, depth: int = 6, budget: int = MAX_TEXT) -> str:
    """A dict/list from outside (message headers) as one line, at most `depth` levels deep:
    str() of a 1,500-deep header raises RecursionError; deeper levels show as …"""
    out: list[str] = []
    size = 0
    # an explicit stack: no recursion, however deep the value
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack and size < budget:
        item, level = stack.pop()
        if isinstance(item, _Token):
            piece = item.text
        elif isinstance(item, dict | list | tuple):
            if level >= depth:
                piece = "{…}" if isinstance(item, dict) else "[…]"
            elif isinstance(item, dict):
                piece = "{"
                parts: list[object] = [_Token("}")]
                pairs = list(item.items())[:200]
                for i, (k, v) in enumerate(reversed(pairs)):
                    parts += [v, _Token(f"{k!s}: " if isinstance(k, str) else f"{k!r}: ")]
                    if i < len(pairs) - 1:  # pushed in reverse: ", " before all but the first
                        parts.append(_Token(", "))
                stack += [(p, level + 1) for p in parts]
            else:
                piece = "["
                parts = [_Token("]")]
                values = list(item)[:200]
                for i, v in enumerate(reversed(values)):
                    parts.append(v)
                    if i < len(values) - 1:
                        parts.append(_Token(", "))
                stack += [(p, level + 1) for p in parts]
        else:
            piece = repr(item) if isinstance(item, str) else str(item)
        out.append(piece)
        size += len(piece)
    return "".join(out)


class _Token:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def one_line(value: object, limit: int = 200) -> str:
    """clean() on one line: newlines and runs of blanks become single spaces."""
    return clean(" ".join(clean(value, limit * 2 if limit else 0).split()), limit)
