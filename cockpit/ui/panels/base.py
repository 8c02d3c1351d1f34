"""What the four panels share: a border title, a filter line and a keyed table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Input, Static

from cockpit.ui.context import Cockpit
from cockpit.ui.keyed_table import Cell, Column, KeyedTable
from cockpit.ui.text import clean, one_line

Row = tuple[str, Sequence[Cell], str]  # key, cells, text the filter searches


def _named(cells: Sequence[Cell], needle: str) -> bool:
    """Whether the row's name (one of its first two cells: alerts lead with a SEV badge)
    is exactly the needle."""
    return any(str(getattr(c, "plain", c)).lower() == needle for c in cells[:2])


class Panel(Vertical):
    """A titled box with a hidden filter line on top of a KeyedTable."""

    DEFAULT_CSS = """
    Panel { border: round $panel-lighten-2; height: 1fr; width: 1fr; }
    Panel:focus-within { border: round $primary; }
    Panel > Input.filter { display: none; height: 1; border: none; padding: 0 1; }
    Panel > Input.filter.-shown { display: block; }
    Panel > .empty { color: $text-muted; padding: 0 1; height: auto; }
    """

    # z zooms a panel: Textual maximizes only focusable widgets unless this is set
    ALLOW_MAXIMIZE = True

    panel_name: ClassVar[str] = ""
    number: ClassVar[int] = 0
    columns: ClassVar[tuple[Column, ...]] = ()
    empty_text: ClassVar[str] = "nothing to show"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(id=self.panel_name, **kwargs)
        self.filter_text = ""
        self.items: dict[str, Any] = {}  # row key -> domain object
        self._shown_message: str | None = None
        self._zoomed = False
        self._title_shown: str | None = None
        self._subtitle_shown: str | None = None
        self._bindings_shown: tuple[bool | None, ...] | None = None
        self._counts_shown: tuple[int, int] | None = None  # (rows, rows shown) last refresh
        self._following = ""  # "following KycVendorTimeouts: 2 pods" while narrowed
        self._all_rows = 0
        # (rows list, filter, narrowing keys, what the table was given) at the last sync
        self._synced: (
            tuple[object, str, frozenset[str] | None, dict[str, Sequence[Cell]]] | None
        ) = None

    @property
    def cockpit(self) -> Cockpit:
        """The app, seen through the one seam (cockpit/ui/context.py)."""
        return cast(Cockpit, self.app)

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter (enter keeps, escape clears)", classes="filter")
        yield Static("", classes="empty")
        yield KeyedTable(self.columns, id=f"{self.panel_name}-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("Input.filter", Input)

    def on_mount(self) -> None:
        self._title_shown = f"{self.number} {self.panel_name.title()}"
        self.border_title = self._title_shown

    # ----------------------------------------------------------------- data

    def build_rows(self) -> list[Row]:
        """The rows to show, unhealthy first. Subclasses fill self.items too."""
        raise NotImplementedError

    def changed_in_place(self) -> dict[str, Sequence[Cell]] | None:
        """After build_rows: the rows whose cells changed since the build before, when
        nothing else did (same rows, same order); None when the panel cannot tell. Lets a
        watch batch of 20 changed pods cost 20 rows, not a diff of 5,000."""
        return None

    def title_counts(self) -> str:
        return ""

    def is_bad(self, key: str) -> bool:
        """Whether the row needs the engineer (counted when scrolled out of view above)."""
        return False

    def worse_above(self) -> int:
        """Rows that need the engineer, scrolled out of view above the first row shown."""
        return sum(1 for key in self.table.rows_above_view() if self.is_bad(key))

    def narrowing(self, rows: list[Row]) -> tuple[str, frozenset[str]] | None:
        """(what the border says, the row keys to keep) while the panel follows an alert
        (`f`), None to show every row. `rows` is what build_rows just returned: a new list
        means the rows changed, so what is followed may have too."""
        return None

    def rows_due(self, now: datetime) -> bool:
        """Whether the rows' text changes with time alone by now (ages, timers)."""
        return True

    def tick_due(self, now: datetime) -> bool:
        """Whether the once-a-second tick changes anything this panel shows: a refresh
        that changes nothing still costs a diff of every row, and keys wait behind it."""
        if not self.is_mounted:
            return False
        if self._counts_shown is None or self.subtitle() != self._subtitle_shown:
            return True
        if self.status_message(*self._counts_shown) != self._shown_message:
            return True
        return self.rows_due(now)

    def refresh_rows(self) -> None:
        if not self.is_mounted:
            return
        rows = self.build_rows()
        needle = self.filter_text.lower()
        narrowed = self.narrowing(rows)
        self._following = narrowed[0] if narrowed else ""
        keep = narrowed[1] if narrowed else None
        synced = self._synced
        # a panel that hands back the very same list has nothing new: skip the diff
        table = self.table
        in_place = self.changed_in_place()
        if (
            in_place is not None
            and synced is not None
            and synced[0] is not rows
            and not needle
            and not synced[1]
            and keep is None
            and synced[2] is None
            and table.holds(synced[3])
        ):
            # every row shown, and only some changed in place: those cells, nothing else
            shown = synced[3]
            shown.update(in_place)
            table.sync_in_place(in_place)
            self._synced = (rows, needle, keep, shown)
        elif (
            synced is None
            or synced[0] is not rows
            or synced[1] != needle
            or synced[2] != keep
            or not table.holds(synced[3])
        ):
            if synced is not None and synced[1] != needle:
                table.pinned = True  # a new filter: the cursor on its first (best) match
            if keep is None and not needle:  # every row (the usual case): one cheap pass
                shown = {k: cells for k, cells, _ in rows}
            else:
                shown = self._matching(rows, needle, keep)
            table.sync(shown)
            self._synced = (rows, needle, keep, shown)
            self._all_rows = len(rows)
            self._counts_shown = (len(rows) if keep is None else len(keep), len(shown))
        assert self._counts_shown is not None
        message = self.status_message(*self._counts_shown)
        # every assignment below repaints the whole panel in Textual: only when it changed
        if message != self._shown_message:
            self._shown_message = message
            empty = self.query_one(".empty", Static)
            empty.update(Text(clean(message)))  # Text: a hint like "[kubernetes]" is not markup
            empty.display = bool(message)
        self._show_title()
        subtitle = self.subtitle()
        if subtitle != self._subtitle_shown:
            self._subtitle_shown = subtitle
            self._set_border_line("border_subtitle", subtitle, top=False)

    @staticmethod
    def _matching(
        rows: list[Row], needle: str, keep: frozenset[str] | None
    ) -> dict[str, Sequence[Cell]]:
        """The rows the filter and the narrowing keep, the row named exactly what was
        typed first (`/invoices` puts the invoices queue above invoices.dlq): the cursor
        is then on it."""
        matching = [
            (k, cells)
            for k, cells, text in rows
            if (keep is None or k in keep) and (not needle or needle in text.lower())
        ]
        if needle:
            exact = [kc for kc in matching if _named(kc[1], needle)]
            if exact:
                matching = exact + [kc for kc in matching if kc not in exact]
        return dict(matching)

    def _show_title(self) -> None:
        counts = self.title_counts()
        title = f"{self.number} {self.panel_name.title()}" + (f" · {counts}" if counts else "")
        if self._following:  # "3 following KycVendorTimeouts: 2 pods" names the rows itself
            title = f"{self.number} {self._following}"
        hidden = self.worse_above()
        if hidden:  # the table keeps the selected row in place: say what went out of view
            title += f" · ↑ {hidden} worse"
        if self._zoomed:
            title += " · zoomed: z returns"
        if title != self._title_shown:
            self._title_shown = title
            self._set_border_line("border_title", title, top=True)

    def on_keyed_table_view_moved(self) -> None:
        self._show_title()

    def set_zoomed(self, zoomed: bool) -> None:
        self._zoomed = zoomed
        self._show_title()

    def copy_text(self) -> str:
        """What Y copies: the selected row's name as the panel shows it in full."""
        key = self.table.selected_key
        return key or ""

    def _set_border_line(self, name: str, text: str, *, top: bool) -> None:
        """Like assigning border_title / border_subtitle, but repaint only that border line:
        the assignment repaints the whole panel (every row of its table), and a title
        like "deepest orders 479" changes on every poll."""
        text = clean(text, 300)  # a title may carry a queue name or an error from outside
        if not self.is_mounted or not self.size:
            setattr(self, name, Text(text))
            return
        setattr(self, f"_{name}", Content(text).expand_tabs(4).split()[0])
        offset = self.content_offset
        outer = self.outer_size
        y = -offset.y if top else outer.height - offset.y - 1
        self.refresh(Region(-offset.x, y, outer.width, 1))

    def subtitle(self) -> str:
        """The bottom border: the filter, or why the rows shown are old."""
        parts = []
        fresh = self.cockpit.live.freshness.get(self.panel_name)
        if fresh is not None and fresh.error and self.table.row_count:
            parts.append(f"STALE: {clean(fresh.error, 120)}")
        if self.filter_text:
            parts.append(f"filter: {clean(self.filter_text, 40)}")
        if self._following and self._counts_shown is not None:
            shown = self._counts_shown[1]
            parts.append(f"{shown} of {self._all_rows} · esc or f: all rows")
        return " · ".join(parts)

    def status_message(self, total: int, shown: int) -> str:
        fresh = self.cockpit.live.freshness.get(self.panel_name)
        if fresh is not None and not fresh.configured:
            return fresh.hint or f"{self.panel_name} not configured"
        if self._following and shown == 0 and not self.filter_text:
            return f"{self._following}: none now (esc or f shows every row)"
        if total == 0:
            if fresh is not None and fresh.last_ok is None:
                return "stale: " + fresh.error if fresh.error else "loading…"
            return self.empty_text
        if shown == 0:
            return f"no row matches the filter {self.filter_text!r}"
        return ""

    # ----------------------------------------------------------------- keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The keys the footer offers: none that writes in read-only mode (the action
        ids are cockpit.actions.ACTIONS'), none this panel does not implement (yet), and
        only those that apply to the selection."""
        if not self.cockpit.actions.allowed(action) or not hasattr(self, f"action_{action}"):
            return False
        return self.available(action)

    def available(self, action: str) -> bool:
        """Whether the action applies now (a row is selected, an incident is open)."""
        return True

    def _binding_state(self) -> tuple[bool | None, ...]:
        return tuple(
            self.check_action(binding.action, ())
            for binding in self.BINDINGS
            if isinstance(binding, Binding)
        )

    def on_data_table_row_highlighted(self) -> None:
        """The footer shows the keys that apply to the selected row: refresh it only when
        that set changed. Refreshing the bindings recomposes the footer and costs a layout
        pass of the whole screen (~100 ms at 200x50), and rows move under the cursor on
        every poll."""
        if not self.table.has_focus:
            return  # the footer shows the focused panel's keys; focusing refreshes them
        state = self._binding_state()
        if state != self._bindings_shown:
            self._bindings_shown = state
            self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        # focus refreshes the footer anyway: remember what it now shows
        self._bindings_shown = self._binding_state()

    def selected(self) -> Any | None:
        key = self.table.selected_key
        return self.items.get(key) if key is not None else None

    # ----------------------------------------------------------------- filter

    def open_filter(self) -> None:
        self.filter_input.add_class("-shown")
        self.filter_input.value = self.filter_text
        self.filter_input.cursor_position = len(self.filter_text)
        # at once, not after the keys already queued (Widget.focus waits for them): the
        # rest of a burst typed after / lands in the filter, not on the table's keys
        self.screen.set_focus(self.filter_input)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.filter_input:
            self.filter_text = event.value
            self.refresh_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is self.filter_input:
            if not self.filter_text:
                self.filter_input.remove_class("-shown")
            self.screen.set_focus(self.table)

    def clear_filter(self) -> None:
        self.filter_text = ""
        self.filter_input.value = ""
        self.filter_input.remove_class("-shown")
        self.refresh_rows()

    def on_key(self, event: Any) -> None:
        if event.key != "escape":
            return
        if self.filter_input.has_focus:
            self.clear_filter()
            self.table.focus()
            event.stop()
        elif self.filter_text and self.table.has_focus:
            # escape on the table clears the filter kept with enter
            self.clear_filter()
            event.stop()

    def on_paste(self, event: events.Paste) -> None:
        """A paste on the table is text to look for, never keys that act."""
        if self.filter_input.has_focus:
            return  # the Input inserts it itself
        event.stop()
        text = one_line(event.text, 200)
        if text:
            self.open_filter()
            self.filter_input.value = self.filter_text = text
            self.refresh_rows()
