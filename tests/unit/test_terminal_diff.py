"""cockpit/ui/terminal_diff.py: the terminal gets only the cells that changed, and the screen
is exactly what Textual's raw output would have made it.

The property tests draw random Textual-like frames (cursor moves, segments of random pens and
texts with wide characters, emoji, combining marks, links, plus erases, unknown sequences,
control bytes and resizes) and feed them to a VT emulator (pyte) twice, raw and through the
diff: the screens (every cell's characters, colours, attributes; the cursor, its pen and
visibility) must be the same after every write. The real-Textual version of this check is
tests/ui/test_terminal_diff_pty.py."""

from __future__ import annotations

import re
from typing import Any

import pyte
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.ui.terminal_diff import SYNC_END, SYNC_START, TerminalDiff

W, H = 30, 8


def cup(y: int, x: int) -> str:
    return f"\x1b[{y + 1};{x + 1}H"


def seg(text: str, sgr: str = "") -> str:
    return f"\x1b[{sgr}m{text}\x1b[0m" if sgr else text


def frame(*parts: str) -> list[str]:
    """A frame as Textual writes it: the sync start, the body, the sync end."""
    return [SYNC_START, "".join(parts), SYNC_END]


class Pair:
    """Two emulated terminals: one gets the raw stream, one what the diff makes of it."""

    def __init__(self, width: int = W, height: int = H) -> None:
        self.raw, self.diffed = pyte.Screen(width, height), pyte.Screen(width, height)
        self.raw_stream, self.diffed_stream = pyte.Stream(self.raw), pyte.Stream(self.diffed)
        self.diff = TerminalDiff(width, height)
        self.sent: list[str] = []
        self.write("\x1b[?7l")  # no autowrap, as Textual sets it

    def write(self, data: str) -> str:
        out = self.diff.feed(data)
        self.sent.append(out)
        self.raw_stream.feed(data)
        self.diffed_stream.feed(out)
        assert state(self.raw) == state(self.diffed), (data, out)
        return out

    def resize(self, width: int, height: int) -> None:
        self.raw.resize(height, width)
        self.diffed.resize(height, width)
        self.diff.request_resize(width, height)


def state(screen: Any) -> tuple[Any, ...]:
    cells = tuple(
        tuple(screen.buffer[y][x] for x in range(screen.columns)) for y in range(screen.lines)
    )
    cursor = screen.cursor
    return cells, cursor.x, cursor.y, cursor.hidden, cursor.attrs


PENS = ["", "1", "38;5;108;48;5;17", "1;7;38;5;188;48;5;23", "38;2;10;20;30", "3;4", "9"]


def test_an_unchanged_frame_sends_nothing() -> None:
    pair = Pair()
    body = cup(0, 0) + seg("hello", PENS[2]) + seg(" world", PENS[2]) + cup(0, 0)
    first = "".join(pair.write(part) for part in frame(body))
    assert "hello" in first
    assert "".join(pair.write(part) for part in frame(body)) == ""


def test_one_cell_changed_sends_one_cell() -> None:
    pair = Pair()
    for part in frame(cup(2, 0), seg("age 5s ago", PENS[2]), cup(0, 0)):
        pair.write(part)
    sent = "".join(pair.write(p) for p in frame(cup(2, 0), seg("age 6s ago", PENS[2]), cup(0, 0)))
    assert sent == SYNC_START + "\x1b[3;5H\x1b[38;5;108;48;5;17m6\x1b[1;1H\x1b[0m" + SYNC_END


def test_neighbours_of_one_pen_share_one_sgr() -> None:
    pair = Pair()
    body = cup(1, 0) + "".join(seg(c, PENS[3]) for c in "abcdef")
    sent = "".join(pair.write(p) for p in frame(body))
    assert sent.count("\x1b[1;7;38;5;188;48;5;23m") == 1
    assert "abcdef" in sent


def test_a_small_gap_is_resent_rather_than_a_cursor_move() -> None:
    pair = Pair()
    home = cup(0, 0)
    pair.write(home + seg("aaaaaaaaaa", PENS[1]) + home)
    sent = pair.write(home + seg("baaaabaaaa", PENS[1]) + home)
    assert sent == "\x1b[1mbaaaab" + home + "\x1b[0m"  # 4 cells again: cheaper than a CUP
    sent = pair.write(home + seg("aaaaaaaaac", PENS[1]) + home)
    assert sent == "\x1b[1maaaaaaaaac" + home + "\x1b[0m"  # gaps of 4 and 3
    pair.write(home + seg("a" * 30, PENS[1]) + home)
    sent = pair.write(home + seg("b" + "a" * 18 + "b" + "a" * 10, PENS[1]) + home)
    assert sent == "\x1b[1mb\x1b[1;20Hb" + home + "\x1b[0m"  # a gap of 18: a CUP


def test_what_it_does_not_understand_goes_through_and_is_resent() -> None:
    pair = Pair()
    pair.write(cup(0, 0) + seg("keep me", PENS[2]))
    erased = pair.write("\x1b[2J")  # erase display: the grid forgets
    assert "\x1b[2J" in erased
    again = pair.write(cup(0, 0) + seg("keep me", PENS[2]))
    assert "keep me" in again
    pair.write("\x1b[5;10r")  # a scroll region: not modelled
    assert "keep me" in pair.write(cup(0, 0) + seg("keep me", PENS[2]))


def test_a_resize_forgets_the_screen() -> None:
    pair = Pair()
    pair.write(cup(0, 0) + seg("before", PENS[1]))
    pair.resize(20, 6)
    assert "before" in pair.write(cup(0, 0) + seg("before", PENS[1]))


def test_wide_characters_emoji_and_combining_marks() -> None:
    pair = Pair()
    pair.write(cup(0, 0) + seg("支付 ok", PENS[2]) + seg("🔥x", PENS[1]) + seg("cafe\u0301!"))
    # half of a wide character overwritten, then the whole row again
    pair.write(cup(0, 1) + seg("ab", PENS[2]))
    pair.write(cup(0, 0) + seg("支付 ok", PENS[2]) + seg("🔥x", PENS[1]) + seg("cafe\u0301!"))
    pair.write(cup(1, 0) + seg("\u0301alone") + seg("x"))  # a mark with nothing before it


def test_a_sequence_cut_in_two_by_a_write() -> None:
    pair = Pair()
    data = cup(3, 4) + seg("split", PENS[4]) + "\x1b]8;id=1;https://x.test\x1b\\" + seg("L")
    for cut in range(1, len(data)):
        pair = Pair()
        pair.write(data[:cut])
        pair.write(data[cut:] + "\x1b]8;;\x1b\\" + cup(0, 0))


def test_control_bytes_in_text_never_become_sequences() -> None:
    pair = Pair()
    out = pair.write(cup(0, 0) + seg("a\x9b2Jb\x07c\x7fd", PENS[2]))
    assert out.count("\x9b") == 1  # the raw stream's own, once, never made from anything else


# --- properties ----------------------------------------------------------------------------

TEXT = st.lists(
    # no zero-width space: pyte stops drawing a text at one (terminals do not; the cockpit
    # strips them from outside text anyway)
    st.sampled_from([*"ab xyz0123456789-·─│╭é", "中", "文", "😀", "🔥", "e\u0301", "\u0301"]),
    max_size=8,
).map("".join)
# (a stray C1 byte, as "\x9b": what follows is read as the terminal pleases, pyte its own way)
HOSTILE = st.sampled_from(
    [
        *("\x1b[2J", "\x1b[K", "\x1b[3A", "\x1b7", "\x1b8", "\x07", "\t", "\x1bM", "\x1b[2S"),
        *("\x1b[2;5r", "\x1b[r", "\x1b[4h", "\x1b[4l", "\x1b[?6h", "\x1b[?6l", "\x1b[2@"),
    ]
)


@st.composite
def writes(draw: Any) -> list[Any]:
    """Textual-like writes: frames of strips (a CUP, segments filling part of a row, a LF
    between strips, a CUP for the cursor at the end), and now and then something else."""
    out: list[Any] = []
    width, height = W, H
    for _ in range(draw(st.integers(1, 8))):
        roll = draw(st.integers(0, 19))
        if roll == 0:
            width, height = draw(st.integers(5, 40)), draw(st.integers(2, 10))
            out.append(("resize", width, height))
            continue
        if roll == 1:
            out.append(draw(HOSTILE))
            continue
        if roll == 2:
            out.append(draw(st.sampled_from(["\x1b[?25h", "\x1b[?25l", "\x1b[?1049h"])))
            continue
        parts: list[str] = []
        for index in range(draw(st.integers(1, 6))):
            y, x = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
            if index:
                parts.append("\n")
            parts.append(cup(y, x))
            room = width - x
            for _ in range(draw(st.integers(0, 5))):
                text = draw(TEXT)
                from rich.cells import cell_len

                if cell_len(text) > room:
                    break
                room -= cell_len(text)
                pen = draw(st.sampled_from(PENS))
                if draw(st.integers(0, 9)) == 0:
                    parts.append("\x1b]8;id=7;https://runbook.test/x\x1b\\")
                    parts.append(seg(text, pen))
                    parts.append("\x1b]8;;\x1b\\")
                else:
                    parts.append(seg(text, pen))
        parts.append(cup(draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))))
        body = "".join(parts)
        if draw(st.booleans()):
            out.extend([SYNC_START, body, SYNC_END])
        else:  # cut anywhere, as a write may be
            cut = draw(st.integers(0, len(body)))
            out.extend([body[:cut], body[cut:]])
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(writes(), min_size=1, max_size=4))
def test_the_screen_is_the_raw_streams_after_every_write(sessions: list[list[Any]]) -> None:
    pair = Pair()
    for stream in sessions:
        for write in stream:
            if isinstance(write, tuple):
                pair.resize(write[1], write[2])
            else:
                pair.write(write)


_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.|[\x00-\x1f\x7f-\x9f]"
)
_OWN = re.compile(r"\x1b\[[0-9;]*[Hm]|\x1b\]8;[^\x1b]*\x1b\\|\x1b\[\?2026[hl]|\n")


@settings(max_examples=100, deadline=None)
@given(writes())
def test_it_never_makes_a_control_sequence_of_its_own(stream: list[Any]) -> None:
    """Every sequence and control byte it sends is one of its own kinds (CUP, SGR, link,
    sync) or one the raw stream had."""
    diff = TerminalDiff(W, H)
    raw: list[str] = []
    out: list[str] = []
    for write in stream:
        if isinstance(write, tuple):
            diff.request_resize(write[1], write[2])
            continue
        raw.append(write)
        out.append(diff.feed(write))
    allowed = set(_SEQUENCE.findall("".join(raw)))
    for sequence in _SEQUENCE.findall("".join(out)):
        assert _OWN.fullmatch(sequence) or sequence in allowed, repr(sequence)


def test_it_sends_far_fewer_bytes_for_a_table_with_one_changing_cell() -> None:
    pair = Pair(80, 24)
    rows = [f"pod-{i:03} Running 1/1 0 {i}s" for i in range(20)]

    def paint(age: int) -> list[str]:
        body = "".join(
            cup(y + 2, 0) + "".join(seg(word + " ", PENS[2]) for word in row.split())
            for y, row in enumerate(rows)
        )
        return frame(body + cup(0, 0) + cup(1, 0) + seg(f"{age}s ago", PENS[3]) + cup(0, 0))

    for part in paint(5):
        pair.write(part)
    raw = "".join(paint(6))
    sent = "".join(pair.write(part) for part in paint(6))
    assert len(sent) < len(raw) / 20, (len(sent), len(raw))


def test_a_failing_diff_gives_way_to_textuals_output_as_it_is() -> None:
    import io

    from cockpit.ui.driver import _GuardedTerminal

    class Broken(TerminalDiff):
        def feed(self, data: str) -> str:
            self.last_input = data
            raise RuntimeError("a bug")

    file = io.StringIO()
    terminal = _GuardedTerminal(file, lambda: None, Broken(80, 24))
    terminal.write(cup(0, 0) + seg("as it came", PENS[2]))
    assert file.getvalue() == cup(0, 0) + seg("as it came", PENS[2])
    assert terminal.diff is None
    terminal.write("more")
    assert file.getvalue().endswith("more")


def test_invalidate_re_sends_what_textual_writes_next() -> None:
    pair = Pair()
    body = cup(0, 0) + seg("stay", PENS[2]) + cup(0, 0)
    pair.write(body)
    assert pair.write(body) == ""
    pair.diff.invalidate()
    assert "stay" in pair.write(body)


def test_the_switch_turns_it_off(monkeypatch: Any) -> None:
    from cockpit.ui.driver import diff_enabled

    monkeypatch.setenv("COCKPIT_TERMINAL_DIFF", "0")
    assert not diff_enabled()
    monkeypatch.setenv("COCKPIT_TERMINAL_DIFF", "1")
    assert diff_enabled()
    monkeypatch.delenv("COCKPIT_TERMINAL_DIFF")
    assert diff_enabled()
