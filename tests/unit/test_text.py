"""The one cleaning point (cockpit/text.py): nothing from outside reaches the terminal raw."""

from __future__ import annotations

import pytest
from rich.console import Console

from cockpit.text import MAX_TEXT, clean, one_line
from cockpit.ui.text import plain
from tests.hostile import INJECTIONS, MARKUP, hostile


@pytest.mark.parametrize("name", INJECTIONS)
def test_no_control_or_invisible_character_survives(name: str) -> None:
    shown = clean(f"a{INJECTIONS[name]}b")
    assert shown.isprintable(), repr(shown)
    assert shown.startswith("a") and shown.endswith("b")


def test_sequences_stay_readable_as_what_they_were() -> None:
    assert clean("\x1b]2;PWNED\x1b\\") == "\\x1b]2;PWNED\\x1b\\"
    assert clean("\x9b31m") == "\\x9b31m"
    assert clean("\u202eevil") == "<U+202E>evil"  # marked, cannot reorder what follows
    assert clean("pay\u200bments") == "pay<U+200B>ments"
    assert clean("\ud800") == "\ufffd"  # a lone surrogate cannot even be encoded


def test_long_text_is_cut_with_a_marker() -> None:
    shown = clean("x" * 1_000_000)
    assert len(shown) <= MAX_TEXT and shown.endswith("[cut, 1000000 characters]")
    assert clean("abcdef", 4) == "abc…"
    assert one_line("a\n\n b\tc") == "a b c"


def test_plain_is_never_markup() -> None:
    for fragment in MARKUP:
        text = plain(fragment)
        assert text.plain == fragment and not text.spans
    console = Console(width=200, file=None, force_terminal=True, color_system="truecolor")
    with console.capture() as captured:
        console.print(plain(hostile("Name")))
    output = captured.get()
    assert "\x1b]" not in output and "\u202e" not in output and "[/]" in output


def test_an_object_whose_str_fails_is_shown_by_its_type() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert clean(Broken()) == "<Broken>"
