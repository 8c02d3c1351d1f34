"""A shadow screen on the way to the terminal: only the cells that changed are sent.

Textual writes each frame as absolute cursor moves and strips of segments, every segment as
`ESC[<attrs>m text ESC[0m`, and a strip in full when one cell of it changed (an alert's age
going from 5s to 6s re-sends the whole row). Over SSH those bytes are the cost. `TerminalDiff`
sits between Textual's writer thread and the terminal: it reads what Textual writes, keeps a
grid of what the terminal shows (one cell = characters + pen), and writes only the cells that
differ, with a cursor move only where the next change is not where the cursor already is and
an SGR only where the pen changes (never "reset + the same SGR").

What it understands is the subset Textual's frames are made of: CUP (`ESC[y;xH`), SGR, OSC 8
hyperlinks, printable text (widths from rich.cells, as Textual measures them), CR and LF, the
synchronized-update markers. Everything else (erases, scroll regions, the alternate screen,
unknown CSI or escape strings, control characters, text that would not fit its row) is passed
through unchanged, in order, after the terminal has been brought to exactly the state the raw
stream would have left it in; the grid then forgets what it covered (or all of it), so those
cells are always re-sent the next time Textual writes them: correctness before savings.

After each write the terminal is in the state Textual left it in: cursor position, pen,
hyperlink. A synchronized-update frame that changes nothing is not sent at all.

Thread: `feed` is called by the writer thread only; `request_resize` and `invalidate` may be
called from any thread (they take effect at the next `feed`).
"""

from __future__ import annotations

import re
import time
import unicodedata
from functools import lru_cache

from rich.cells import split_graphemes

SYNC_START = "\x1b[?2026h"
SYNC_END = "\x1b[?2026l"

# Printable: not C0, not DEL, not C1 (a C1 control is never data).
_PRINTABLE = r"[^\x00-\x1f\x7f-\x9f]"
_TOKEN = re.compile(
    r"\x1b\[([0-9;:]*)m(" + _PRINTABLE + r"*)\x1b\[0m"  # 1, 2: Textual's segment
    r"|(" + _PRINTABLE + r"+)"  # 3: text
    r"|\x1b\[(\d*)(?:;(\d*))?[Hf]"  # 4, 5: CUP
    r"|\x1b\[([0-9;:]*)m"  # 6: SGR
    r"|(\x1b\[[0-?]*[ -/]*[@-~])"  # 7: any other CSI
    r"|\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\)"  # 8: OSC (body)
    r"|(\x1b[P^_X][^\x1b]*\x1b\\)"  # 9: DCS, SOS, PM, APC strings
    r"|(\x1b[ -/]*[0-9:-OQ-WYZ\\`a-~])"  # 10: any other escape
    r"|([\x00-\x1f\x7f-\x9f])",  # 11: a control character (or an ESC starting none of these)
    re.DOTALL,
)
# the beginning of an escape sequence cut off by the end of a write: kept for the next one
_PREFIX = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[P^_X][^\x1b]*\x1b?|[ -/]*)?", re.DOTALL
)
_DEC_MODE = re.compile(r"\x1b\[\?([0-9;]+)[hl]")
_ANY_MODE = re.compile(r"\x1b\[(\??[0-9;]*)([hl])")
# the alternate screen and cursor saves: the screen is forgotten, nothing else changes after
_SCREEN_MODES = frozenset({"?47", "?1047", "?1048", "?1049"})
# DEC private modes that change nothing on the screen nor how text or CUP land
_HARMLESS_MODES = frozenset(
    {1, 7, 12, 25, 1000, 1002, 1003, 1004, 1005, 1006, 1007, 1015, 1016, 2004, 2027, 2048}
)
# CSI queries and keyboard-protocol switches that change nothing on the screen
_HARMLESS_CSI = re.compile(
    r"\x1b\[(?:\??[0-9;]*\$p|[>=<?][0-9;]*u|\??[56]n|[>=]?[0-9;]*c|[0-9]* q)"
)

_UNKNOWN = -1  # a pen id, a cursor coordinate: not known
_LF_PENDING = -2  # a cursor column: after a LF not yet resolved (see _line_feed)
_GAP = 8  # unchanged cells between two changes re-sent (when cheaper than a cursor move)


@lru_cache(maxsize=8192)
def _cells(text: str) -> tuple[str, ...] | None:
    """The cells `text` covers, as Textual measures them: one string per cell, "" for the
    right half of a wide character; None if it has a zero-width grapheme of its own (a
    combining character at the start): not understood, passed through."""
    if text.isascii():
        return tuple(text)
    spans, _ = split_graphemes(text)
    cells: list[str] = []
    for start, end, width in spans:
        if width == 1:
            cells.append(text[start:end])
        elif width == 2:
            cells.append(text[start:end])
            cells.append("")
        else:
            return None
    return tuple(cells)


@lru_cache(maxsize=4096)
def _trusted(cell: str) -> bool:
    """Whether terminals agree on the width of this wide or composed cell: a single CJK
    character, yes; emoji, variation selectors, joiners, combining marks: send the next cell
    from an absolute cursor move."""
    if len(cell) != 1:
        return False
    code = ord(cell)
    if code >= 0x1F000 or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF:
        return False
    return unicodedata.east_asian_width(cell) in "WF"


def _apply_sgr(pen: str, params: str) -> str:
    """The pen after SGR `params`: the parameters applied since the last reset."""
    if params in ("", "0"):
        return ""
    if params.startswith("0;"):
        return params[2:]
    return f"{pen};{params}" if pen else params


# SGR attributes: the parameter that sets each, the one that ends it
_SET = {"1": "bold", "2": "dim", "3": "italic", "5": "blink", "6": "blink", "7": "reverse"}
_SET |= {"8": "conceal", "9": "strike", "53": "overline"}
_OFF = {"italic": "23", "blink": "25", "reverse": "27", "conceal": "28", "strike": "29"}
_OFF |= {"overline": "55", "underline": "24", "fg": "39", "bg": "49", "ul_colour": "59"}
_ENDS = {"22": ("bold", "dim"), "23": ("italic",), "24": ("underline",), "25": ("blink",)}
_ENDS |= {"27": ("reverse",), "28": ("conceal",), "29": ("strike",), "55": ("overline",)}
_ENDS |= {"39": ("fg",), "49": ("bg",), "59": ("ul_colour",)}
_COLOUR = {"38": "fg", "48": "bg", "58": "ul_colour"}


@lru_cache(maxsize=4096)
def _attributes(sgr: str) -> dict[str, str] | None:
    """What an SGR (from reset) sets: attribute -> the parameter(s) that set it; None when
    it has a parameter not known here."""
    attrs: dict[str, str] = {}
    params = sgr.split(";") if sgr else []
    index = 0
    while index < len(params):
        param = params[index]
        index += 1
        if param in ("", "0"):
            attrs.clear()
        elif param in _SET:
            attrs[_SET[param]] = param
        elif param in ("4", "21") or param.startswith("4:"):
            attrs["underline"] = param
        elif param in _ENDS:
            for name in _ENDS[param]:
                attrs.pop(name, None)
        elif param.isdigit() and (30 <= int(param) <= 37 or 90 <= int(param) <= 97):
            attrs["fg"] = param
        elif param.isdigit() and (40 <= int(param) <= 47 or 100 <= int(param) <= 107):
            attrs["bg"] = param
        elif param in _COLOUR:
            kind = params[index : index + 1]
            count = 2 if kind == ["5"] else 4 if kind == ["2"] else 0
            if not count or index + count > len(params):
                return None
            attrs[_COLOUR[param]] = ";".join(params[index - 1 : index + count])
            index += count
        elif param[:3] in ("38:", "48:", "58:"):
            attrs[_COLOUR[param[:2]]] = param
        else:
            return None
    return attrs


def _sgr_change(old: str | None, new: str) -> str:
    """The shortest SGR from pen `old` to pen `new` (None: not known): the attributes that
    change, or a reset and all of `new`."""
    full = f"\x1b[0;{new}m" if new else "\x1b[0m"
    if old is None:
        return full
    before, after = _attributes(old), _attributes(new)
    if before is None or after is None:
        return full
    params: list[str] = []
    if any(name in before and name not in after for name in ("bold", "dim")):
        params.append("22")
        before = {k: v for k, v in before.items() if k not in ("bold", "dim")}
    for name in before:
        if name not in after and name in _OFF:
            params.append(_OFF[name])
    for name, value in after.items():
        if before.get(name) != value:
            params.append(value)
    if not params:
        return ""
    delta = f"\x1b[{';'.join(params)}m"
    return delta if len(delta) < len(full) else full


class TerminalDiff:
    """Textual's output in, the bytes the terminal needs out (see the module's docstring)."""

    def __init__(self, width: int, height: int) -> None:
        self._pending = ""  # an escape sequence cut in two by a write
        self.last_input = ""  # what the last feed had to send (its cut-off start included)
        # requests from other threads: counters, so that none is lost to a race
        self._resize_to = (width, height)
        self._resizes = self._resizes_seen = 0
        self._invalidations = self._invalidations_seen = 0
        # pens: (SGR parameters since reset, OSC 8 link "params;uri" or "") by id
        self._pens: list[tuple[str, str]] = [("", "")]
        self._pen_ids: dict[tuple[str, str], int] = {("", ""): 0}
        self._changes: dict[tuple[int, int], str] = {}
        # what the raw stream would have done to the terminal so far: Textual's cursor, pen
        self._tx_y = self._tx_x = _UNKNOWN
        self._tx_sgr = self._tx_link = ""
        self._lf_from = (0, 0)  # where a pending line feed started
        self._lf_count = 0
        # the terminal: its cursor and pen (meaningful when not in lockstep)
        self._t_y = self._t_x = _UNKNOWN
        self._t_pen = 0
        # lockstep: the terminal has had exactly the raw stream since the last sync, so its
        # state is Textual's and what comes is passed through as it is
        self._lockstep = True
        self._garbled = False
        self._sticky: set[str] = set()  # modes set that are not modelled
        self._region = False  # a scroll region is set: a LF may scroll
        self._sync = 0  # 0: outside a synchronized update, 1: its start held back, 2: sent
        self._held_at = 0
        self._out: list[str] = []
        self._touched: set[int] = set()
        # the grids, one list per row: Textual's screen (want) and the terminal's (shown);
        # a cell is its characters ("" for the right half of a wide one, None: not known)
        # and its pen id
        self._want_c: list[list[str | None]] = []
        self._want_p: list[list[int]] = []
        self._shown_c: list[list[str | None]] = []
        self._shown_p: list[list[int]] = []
        self._blank = False
        self._w = self._h = 0
        self._resize(width, height)
        # what it cost and saved (read by the benchmarks and the tests)
        self.feeds = 0
        self.seconds = 0.0
        self.max_seconds = 0.0
        self.chars_in = 0
        self.chars_out = 0

    # --- from any thread ---------------------------------------------------------------

    def request_resize(self, width: int, height: int) -> None:
        """The terminal has a new size: everything on it is unknown from the next write."""
        self._resize_to = (width, height)
        self._resizes += 1

    def invalidate(self) -> None:
        """Forget what the terminal shows (someone else wrote on it): re-send everything."""
        self._invalidations += 1

    # --- the writer thread ---------------------------------------------------------------

    def feed(self, data: str) -> str:
        """What Textual wrote -> what the terminal must receive for the same screen."""
        began = time.perf_counter()
        if (resizes := self._resizes) != self._resizes_seen:
            self._resizes_seen = resizes
            self._resize(*self._resize_to)
        if (invalidations := self._invalidations) != self._invalidations_seen:
            self._invalidations_seen = invalidations
            self._forget_all()
        if self._pending:
            data, self._pending = self._pending + data, ""
        self.last_input = data
        out: list[str] = []
        self._out = out
        self._held_at = 0
        self._garbled = False
        self._parse(data)
        if self._tx_x == _LF_PENDING:  # a write that ends with a LF: the cursor as it came
            self._line_feed_through()
        if not self._lockstep:
            self._flush()
            self._sync_terminal()
        if self._sync == 1 and len(out) > self._held_at:
            out.insert(self._held_at, SYNC_START)
            self._sync = 2
        result = "".join(out)
        self._out = []
        spent = time.perf_counter() - began
        self.feeds += 1
        self.seconds += spent
        self.max_seconds = max(self.max_seconds, spent)
        self.chars_in += len(data)
        self.chars_out += len(result)
        return result

    # --- parsing -------------------------------------------------------------------------

    def _parse(self, data: str) -> None:
        for match in _TOKEN.finditer(data):
            kind = match.lastindex
            if (
                self._tx_x == _LF_PENDING
                and kind not in (4, 5, 6)
                and match.group() not in ("\r", "\n")
            ):
                self._line_feed_through()
            if kind == 2:  # a segment
                text = match.group(2)
                if text:
                    self._text(text, match.group(1), match.group())
                else:
                    if self._lockstep:
                        self._out.append(match.group())
                    self._tx_sgr = ""
            elif kind == 3:
                self._text(match.group(3), None, match.group(3))
            elif kind in (4, 5):
                self._cup(match)
            elif kind == 6:
                self._tx_sgr = _apply_sgr(self._tx_sgr, match.group(6))
                if self._lockstep:
                    self._out.append(match.group())
                    self._t_pen = self._pen()
            elif kind == 7:
                self._csi(match.group(7))
            elif kind == 8:
                self._osc(match.group(8), match.group())
            elif kind == 11:
                char = match.group(11)
                if char == "\x1b" and _PREFIX.fullmatch(data, match.start()):
                    self._pending = data[match.start() :]
                    if len(self._pending) > 4096:  # never a sequence: let it through
                        self._through(self._pending, forget=True)
                        self._pending = ""
                    return
                self._control(char)
            else:  # 9, 10: escape strings, other escapes
                self._through(match.group(), forget=True)

    def _cup(self, match: re.Match[str]) -> None:
        y = int(match.group(4) or 1) - 1
        x = int(match.group(5) or 1) - 1
        if not (0 <= y < self._h and 0 <= x < self._w):  # clamped by the terminal
            self._through(match.group(), forget=True)
            return
        if self._lockstep and (self._garbled or self._sticky):  # not (known to be) a CUP
            self._out.append(match.group())
            return
        if self._lockstep:  # the terminal is where Textual is: back to diffing
            self._out.append(match.group())
            self._lockstep = False
            self._t_y, self._t_x = y, x
            self._t_pen = self._pen()
        self._tx_y, self._tx_x = y, x

    def _csi(self, sequence: str) -> None:
        if sequence == SYNC_START:
            if not self._lockstep:
                self._flush()
                self._sync_terminal()
            if self._sync == 2:  # a second start: keep the first
                return
            self._sync, self._held_at = 1, len(self._out)
            return
        if sequence == SYNC_END:
            if not self._lockstep:
                self._flush()
                self._sync_terminal()
            if self._sync == 1:
                if len(self._out) > self._held_at:
                    self._out.insert(self._held_at, SYNC_START)
                    self._out.append(SYNC_END)
            else:
                self._out.append(SYNC_END)
            self._sync = 0
            return
        mode = _DEC_MODE.fullmatch(sequence)
        if mode is not None:
            harmless = all(int(p) in _HARMLESS_MODES for p in mode.group(1).split(";") if p)
        else:
            harmless = _HARMLESS_CSI.fullmatch(sequence) is not None
        self._through(sequence, forget=not harmless)
        if harmless:
            return
        # a mode not modelled (origin, insert, margins...) changes how what follows lands:
        # as it comes, in lockstep, until it is reset; so does a scroll region for LFs
        if (switch := _ANY_MODE.fullmatch(sequence)) is not None:
            prefix = "?" if switch.group(1).startswith("?") else ""
            for param in switch.group(1).lstrip("?").split(";"):
                name = prefix + param
                if name in _SCREEN_MODES or (
                    prefix and param.isdigit() and int(param) in _HARMLESS_MODES
                ):
                    continue
                if switch.group(2) == "h":
                    self._sticky.add(name)
                else:
                    self._sticky.discard(name)
        elif sequence.endswith("r"):
            self._region = sequence not in ("\x1b[r", "\x1b[;r")

    def _osc(self, body: str, sequence: str) -> None:
        if body.startswith("8;"):
            params, _, uri = body[2:].partition(";")
            self._tx_link = f"{params};{uri}" if uri else ""
            if self._lockstep:
                self._out.append(sequence)
                self._t_pen = self._pen()
            return
        self._through(sequence, forget=False)  # a title, a clipboard: nothing on the screen

    def _control(self, char: str) -> None:
        if self._tx_x == _LF_PENDING and not (
            char == "\n" and self._tx_y < self._h - 1 and not self._region
        ):
            self._line_feed_through()
        if char == "\r" and self._tx_y >= 0:
            if self._lockstep:
                self._out.append(char)
            self._tx_x = 0
            return
        if char == "\n" and 0 <= self._tx_y < self._h - 1 and not self._region:
            if not self._lockstep:
                self._line_feed()
                return
            self._out.append(char)  # and the column depends on the tty's ONLCR
            self._tx_y, self._tx_x = self._tx_y + 1, _UNKNOWN
            return
        if char == "\x07":
            self._through(char, forget=False)
            return
        self._through(char, forget=True)
        if char == "\x1b" or char >= "\x80":
            # a stray ESC or C1 control: what the terminal makes of what follows is its own
            # business; in lockstep (as it comes) until the end of this write
            self._garbled = True

    def _line_feed(self) -> None:
        """A LF: the next row, and a column that depends on the tty's ONLCR. Textual follows it
        with a CUP, which makes it moot; if not, it is sent as it came (_line_feed_through)."""
        if self._tx_x != _LF_PENDING:
            if self._tx_y + 1 >= self._h:  # it would scroll
                self._through("\n", forget=True)
                return
            self._lf_from, self._lf_count = (self._tx_y, self._tx_x), 0
        elif self._tx_y + 1 >= self._h:
            self._line_feed_through()
            self._through("\n", forget=True)
            return
        self._lf_count += 1
        self._tx_y += 1
        self._tx_x = _LF_PENDING

    def _line_feed_through(self) -> None:
        self._tx_y, self._tx_x = self._lf_from
        count = self._lf_count
        self._enter_lockstep()
        self._out.append("\n" * count)
        self._forget_cursor()

    # --- text ----------------------------------------------------------------------------

    def _text(self, text: str, sgr: str | None, raw: str) -> None:
        """Text at Textual's cursor (`sgr`: the segment's SGR, reset after it)."""
        y, x = self._tx_y, self._tx_x
        cells = _cells(text)
        fits = cells is not None and y >= 0 and x >= 0 and x + len(cells) <= self._w
        if self._lockstep or not fits or cells is None:
            self._enter_lockstep()
            self._out.append(raw)
            if sgr is not None:
                self._tx_sgr = ""
            if fits and cells is not None:  # what it covered is not known
                end = x + len(cells)
                for grid in (self._want_c, self._shown_c):
                    grid[y][max(0, x - 1) : end + 1] = [None] * (
                        min(self._w, end + 1) - max(0, x - 1)
                    )
                self._blank = False
                self._tx_x = end
            else:
                self._forget_all()
                self._forget_cursor()
            return
        if sgr is not None:
            self._tx_sgr = _apply_sgr(self._tx_sgr, sgr)
        pen = self._pen()
        end = x + len(cells)
        row = self._want_c[y]
        if y in self._touched and (row[x] == "" or (end < self._w and row[end] == "")):
            # half of a wide character is overwritten, and it may not have been sent yet:
            # send it first, so that the terminal's own way of breaking it up applies
            self._flush()
        if x > 0 and row[x] == "":  # the right half of a wide character: its left goes too
            row[x - 1] = None
        row[x:end] = cells
        if end < self._w and row[end] == "":  # the right half of one whose left went
            row[end] = None
        self._want_p[y][x:end] = [pen] * len(cells)
        self._touched.add(y)
        self._blank = False
        self._tx_x = end
        if sgr is not None:
            self._tx_sgr = ""

    # --- pass-through --------------------------------------------------------------------

    def _through(self, sequence: str, *, forget: bool) -> None:
        """Send `sequence` as it came, the terminal in Textual's state first. `forget`: it may
        change the screen or move the cursor in ways not modelled: forget the grid."""
        if forget:
            self._enter_lockstep()
            self._out.append(sequence)
            self._forget_all()
            self._forget_cursor()
        elif self._lockstep:
            self._out.append(sequence)
        else:
            self._flush()
            self._sync_terminal()
            self._out.append(sequence)

    def _enter_lockstep(self) -> None:
        if not self._lockstep:
            self._flush()
            self._sync_terminal()
            self._lockstep = True

    def _forget_cursor(self) -> None:
        self._tx_y = self._tx_x = self._t_y = self._t_x = _UNKNOWN

    def _forget_all(self) -> None:
        if self._blank:
            return
        self._blank = True
        w, h = self._w, self._h
        self._want_c = [[None] * w for _ in range(h)]
        self._want_p = [[_UNKNOWN] * w for _ in range(h)]
        self._shown_c = [[None] * w for _ in range(h)]
        self._shown_p = [[_UNKNOWN] * w for _ in range(h)]
        self._touched = set()

    def _resize(self, width: int, height: int) -> None:
        self._w, self._h = max(1, width), max(1, height)
        self._blank = False
        self._forget_all()
        if not self._lockstep:
            # the terminal has clamped its cursor as it would have for the raw stream, whose
            # state it had at the end of the last write: in step again
            self._lockstep = True
        self._forget_cursor()

    # --- output --------------------------------------------------------------------------

    def _pen(self) -> int:
        key = (self._tx_sgr, self._tx_link)
        pen = self._pen_ids.get(key)
        if pen is None:
            if len(self._pens) > 65536:  # a stream of ever new pens: start over
                self._pens, self._pen_ids, self._changes = [("", "")], {("", ""): 0}, {}
                self._forget_all()
                self._t_pen = _UNKNOWN
            pen = self._pen_ids[key] = len(self._pens)
            self._pens.append(key)
        return pen

    def _pen_change(self, old: int, new: int) -> str:
        change = self._changes.get((old, new))
        if change is None:
            sgr, link = self._pens[new]
            old_sgr, old_link = self._pens[old] if old >= 0 else (None, None)
            change = ""
            if link != old_link:
                change += f"\x1b]8;{link}\x1b\\" if link else "\x1b]8;;\x1b\\"
            if sgr != old_sgr:
                change += _sgr_change(old_sgr, sgr)
            self._changes[(old, new)] = change
        return change

    def _sync_terminal(self) -> None:
        """The terminal's cursor and pen to Textual's (nothing if they are already)."""
        y, x = self._tx_y, self._tx_x
        if y >= 0 and x >= 0 and (y, x) != (self._t_y, self._t_x):
            w = self._w
            last = w - 2 if w > 1 and self._shown_c[y][w - 1] == "" else w - 1
            cell = self._shown_c[y][last] if x >= w else None
            if cell and self._shown_p[y][last] >= 0:
                # after the last column, waiting to wrap: a CUP cannot say that; writing
                # the last cell again (as it is) can
                self._out.append(f"\x1b[{y + 1};{last + 1}H")
                pen = self._shown_p[y][last]
                if pen != self._t_pen:
                    self._out.append(self._pen_change(self._t_pen, pen))
                    self._t_pen = pen
                self._out.append(cell)
                self._t_y, self._t_x = y, w
            else:
                x = min(x, w - 1)
                self._out.append(f"\x1b[{y + 1};{x + 1}H")
                self._t_y, self._t_x = y, x
        pen = self._pen()
        if pen != self._t_pen:
            self._out.append(self._pen_change(self._t_pen, pen))
            self._t_pen = pen

    def _flush(self) -> None:
        """Send the cells that differ from what the terminal shows, row by row."""
        if not self._touched:
            return
        w = self._w
        for y in sorted(self._touched):
            want_c, want_p = self._want_c[y], self._want_p[y]
            shown_c, shown_p = self._shown_c[y], self._shown_p[y]
            if want_c == shown_c and want_p == shown_p:
                continue
            runs: list[list[int]] = []
            changed = [
                x
                for x, (a, b, p, q) in enumerate(zip(want_c, shown_c, want_p, shown_p, strict=True))
                if a != b or p != q
            ]
            if not changed:
                pass
            elif None not in want_c and "" not in want_c:  # narrow cells only: ranges
                start = previous = changed[0]
                for x in changed[1:]:
                    if x != previous + 1 and not self._cheap_gap(y, previous + 1, x):
                        runs.append([start, previous + 1])
                        start = x
                    previous = x
                runs.append([start, previous + 1])
                changed = []
            for x in changed:
                cell = want_c[x]
                if cell is None:  # not known: nothing to send (shown forgets it too)
                    continue
                if cell == "":  # the right half of a wide character: send its left
                    x -= 1
                    if x < 0 or not want_c[x]:
                        continue
                end = x + 2 if x + 1 < w and want_c[x + 1] == "" else x + 1
                if runs:
                    last = runs[-1]
                    if x <= last[1]:
                        last[1] = max(last[1], end)
                        continue
                    if self._cheap_gap(y, last[1], x):
                        last[1] = end
                        continue
                runs.append([x, end])
            for start, end in runs:
                self._send_run(y, start, end)
            self._shown_c[y] = want_c.copy()
            self._shown_p[y] = want_p.copy()
        self._touched.clear()

    def _cheap_gap(self, y: int, start: int, end: int) -> bool:
        """Whether re-sending the unchanged cells [start, end) costs less than a CUP."""
        if end - start > _GAP:
            return False
        cells, pens = self._want_c[y], self._want_p[y]
        pen = pens[start - 1]
        cost = 0
        for x in range(start, end):
            cell = cells[x]
            if cell is None or pens[x] != pen or len(cell) != 1 or cells[x + 1 : x + 2] == [""]:
                return False
            cost += len(cell.encode())
        return cost < len(f"\x1b[{y + 1};{end + 1}H")

    def _send_run(self, y: int, start: int, end: int) -> None:
        cells, pens = self._want_c[y], self._want_p[y]
        out = self._out
        w = self._w
        if (self._t_y, self._t_x) != (y, start):
            out.append(f"\x1b[{y + 1};{start + 1}H")
        pen = self._t_pen
        segment = cells[start:end]
        joined = "".join(segment)  # type: ignore[arg-type]
        if len(joined) == end - start and "" not in segment:  # one character per cell
            x = start
            while x < end:
                run_pen = pens[x]
                stop = x + 1
                while stop < end and pens[stop] == run_pen:
                    stop += 1
                if run_pen != pen:
                    out.append(self._pen_change(pen, run_pen))
                    pen = run_pen
                out.append(joined[x - start : stop - start])
                x = stop
            self._t_pen = pen
            self._t_y, self._t_x = y, end
            return
        text: list[str] = []
        lost = False  # the cursor may not be where the cells say (a composed character)
        for x in range(start, end):
            cell = cells[x]
            if not cell:  # the right half of a wide character, sent with its left
                continue
            if lost:
                if text:
                    out.append("".join(text))
                    text = []
                out.append(f"\x1b[{y + 1};{x + 1}H")
                lost = False
            if pens[x] != pen:
                if text:
                    out.append("".join(text))
                    text = []
                out.append(self._pen_change(pen, pens[x]))
                pen = pens[x]
            text.append(cell)
            if (len(cell) > 1 or (x + 1 < w and cells[x + 1] == "")) and not _trusted(cell):
                lost = True
        if text:
            out.append("".join(text))
        self._t_pen = pen
        if lost:
            self._t_y = self._t_x = _UNKNOWN
        else:  # end == w: after the last column, the cursor waiting to wrap (no CUP says so)
            self._t_y, self._t_x = y, end
