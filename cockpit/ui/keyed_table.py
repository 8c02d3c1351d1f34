"""A DataTable that is updated by keyed diff.

`sync(rows)` takes the wanted rows in the wanted order, each with a stable key, and
changes only what differs: new rows are appended, gone rows are removed in one
pass, reordering rewrites the index map once, and a changed cell is written in
place and only its own screen region is refreshed. Columns have fixed widths, so
nothing is ever re-measured on a refresh (DataTable.update_cell refreshes the whole
widget and update_width re-measures whole columns: both are far too costly over
SSH at thousands of rows; see shared/design/anchors.md).

The cursor starts on the first row (the panels sort the worst first) and stays there,
whatever arrives, until the engineer moves it. From then on the selected row stays selected
across refreshes, and stays at the same place on screen: when other rows move around it,
the view scrolls with it. `g`/Home and `G`/End jump to the first and last row.

Column widths follow what the panel says its content needs (`set_content_widths`): a
STATUS column as wide as the longest status, a name column with priority over the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from time import monotonic
from typing import Any, Self, overload

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import Row
from textual.widgets.data_table import ColumnKey, RowKey

Cell = str | Text
SHRINK_AFTER = 30.0  # seconds a column's content must stay narrower before it narrows


def same_cell(a: Cell, b: Cell) -> bool:
    """Equal text AND style (Text.__eq__ ignores the base style: crit -> warn is a change)."""
    if a is b:
        return True
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans


class MiddleText(Text):
    """A cell cut in the middle when its column is too narrow, keeping its last `keep`
    characters: pods differ by their suffix (`payments-api-…-ct8wt`), not their prefix."""

    def __init__(self, text: str = "", style: str = "", *, keep: int = 0) -> None:
        super().__init__(text, style=style, end="", no_wrap=True, overflow="crop")
        self.keep = keep

    def cut(self, width: int) -> Text:
        length = len(self.plain)
        if length <= width or width <= 1:
            return self
        tail = min(self.keep, width // 2) if self.keep else (width - 1) // 2
        head = width - 1 - tail
        cut = self[:head]
        cut.append("…")
        if tail:
            cut.append_text(self[length - tail :])
        return cut

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        cut = self.cut(options.max_width)
        if cut is self:
            yield from super().__rich_console__(console, options)
        else:
            yield from cut.__rich_console__(console, options)


def suffix_keep(name: str) -> int:
    """How much of a generated name's end tells it apart: `-ct8wt` of a Deployment's pod,
    `-2` of a StatefulSet's."""
    at = name.rfind("-")
    return len(name) - at if 0 < at >= len(name) - 12 else 0


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # the minimum width; a flex column also takes the space left over
    flex: bool = False
    drop: int = 0  # when the table is too narrow, columns with the highest drop go first
    # fit: the width follows the content the panel reports (never cut); keep (flex only):
    # other columns are dropped before this one gets less than min(content, keep)
    fit: bool = False
    keep: int = 0


@dataclass
class SyncStats:
    added: int = 0
    removed: int = 0
    changed_cells: int = 0
    reordered: bool = False


class KeyedTable(DataTable[Cell]):
    # No background tint on focus (DataTable's default): a table then looks the same
    # focused or not except for its cursor row and header, so a focus change repaints
    # those from scratch and every other line from the render caches (the panel border
    # and the cursor show where the focus is).
    DEFAULT_CSS = """
    KeyedTable { height: 1fr; overflow-x: hidden; background-tint: $foreground 0%; }
    KeyedTable:focus { background-tint: $foreground 0%; }
    KeyedTable:focus > .datatable--header { background-tint: $foreground 0%; }
    """

    BINDINGS = [
        Binding("g,home", "first_row", "First row", show=False),
        Binding("G,end", "last_row", "Last row", show=False),
    ]

    _focus_only = False  # a focus change is being applied (see refresh)

    class ViewMoved(Message):
        """The first row on screen changed (the panel's border counts the rows above)."""

    def __init__(self, columns: Sequence[Column], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        # True until the engineer moves the cursor: it then stays on the first row (worst)
        self.pinned = True
        self._hold: tuple[str, int] | None = None  # (key, row): stay at the row, not the key
        self._content: dict[str, int] = {}  # column key -> the width its content needs
        self._narrower_since: float | None = None  # content narrower than the columns since
        self._fitted_at = 0  # the width the columns were last fitted to
        self._top_shown = 0
        self._all_specs = tuple(columns)
        self._column_specs = tuple(columns)  # the ones shown at the current width
        self._wanted: dict[str, Sequence[Cell]] = {}
        # what the table holds, mirrored: cells per key (shown columns) and the order
        self._cells: dict[str, Sequence[Cell]] = {}
        self._order: list[str] = []
        self._keys: dict[str, RowKey] = {}
        self._sized = False  # filled only once it has a width (fit_columns may drop columns)
        self._styled: tuple[object, ...] = ()  # the rules and theme the caches were made with
        self.last_sync = SyncStats()
        # row key -> (cells as given, their shown columns), for these column indexes
        self._projected: dict[str, tuple[Sequence[Cell], Sequence[Cell]]] = {}
        self._projected_columns: list[int] = []

    @property
    def _shown_indexes(self) -> list[int]:
        return [i for i, c in enumerate(self._all_specs) if c in self._column_specs]

    def clear(self, columns: bool = False) -> KeyedTable:
        super().clear(columns)
        self._cells, self._order, self._keys = {}, [], {}
        return self

    def on_mount(self) -> None:
        for column in self._column_specs:
            self.add_column(column.label, width=self._width(column), key=column.key)

    def on_resize(self) -> None:
        # every change of width refits (a zoom in and out, a terminal resize)
        self.fit_columns(self.size.width, force=True)
        if not self._sized and self.size.width > 0:
            self._sized = True
            self.sync(self._wanted)

    # ----------------------------------------------------------------- focus
    # A focus change restyles the table (its cursor and header follow :focus), and
    # Textual then repaints every line of it from scratch, several times (Widget._on_focus,
    # the component styles, notify_style_update): ~10 ms of each focus key at 200x50 for
    # two tables. Only the header and the cursor row look different, so while the focus
    # moves a whole-table refresh repaints those two lines instead.

    def _on_focus(self, event: events.Focus) -> None:
        with self._focus_moving():
            super()._on_focus(event)  # Widget's: has_focus, its refresh, DescendantFocus
        event.prevent_default()  # (it ran above: not a second time)
        self._scroll_cursor_into_view()

    def _on_blur(self, event: events.Blur) -> None:
        with self._focus_moving():
            super()._on_blur(event)
        event.prevent_default()

    @contextmanager
    def _focus_moving(self) -> Iterator[None]:
        self._focus_only = True
        try:
            yield
        finally:
            self._focus_only = False

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        if self._focus_only and not regions and repaint and not layout and not recompose:
            self._refresh_focus_lines()
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _refresh_focus_lines(self) -> None:
        """The lines a focus change restyles: the header and the cursor row."""
        if self.is_mounted and self.size.width:
            super().refresh(Region(0, 0, self.size.width, self.header_height))
            if self.row_count:
                self._refresh_row_region(self.cursor_row)

    # ----------------------------------------------------------------- render caches
    # DataTable keys every render cache on _update_count (bumped by any change) and on
    # the pseudo-class state (focus): either makes the next render of every visible row
    # cold (~50 ms a table at 200x50). Here the focus is left out of the keys and a change
    # drops only the entries of the rows it touched.

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pseudo_class_state = self.get_pseudo_class_state()._replace(focus=False)
        return super(DataTable, self).render_lines(crop)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A one-line data cell cut and padded straight into segments. DataTable renders
        every cell through a Console (Padding, Styled, wrapping), ~5x the work: under churn
        and on every key the visible rows are rendered again, and that was most of a paint.
        Headers, labels, markup strings and justified text take DataTable's way."""
        if row_index < 0 or column_index < 0 or row_index < self.fixed_rows:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._cell_render_cache
        if key in cache:
            lines: list[list[Segment]] = cache[key]
            return lines
        row = self._data.get(row_key)
        value = row.get(column_key) if row is not None else None
        if value is None:
            text = Text("", end="")
        elif isinstance(value, str) and "[" not in value:
            text = Text(value, end="")
        elif type(value) is Text and value.justify in (None, "default", "left"):
            text = value  # a Text subclass may render itself: not here, but
        elif type(value) is MiddleText and value.justify in (None, "default", "left"):
            text = value.cut(max(width - 2 * self.cell_padding, 0))  # a name cut in the middle
        else:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if column_index < self.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        pad = self.cell_padding
        inner = max(width - 2 * pad, 0)
        line = text.copy()
        line.truncate(inner, overflow=text.overflow or "fold")
        console = self.app.console
        segments = [Segment(" " * pad)] if pad else []
        if line.spans:
            segments.extend(line.render(console))  # the base style is under the spans
        elif line.plain:  # Text.render leaves the base style out when there are no spans
            segments.append(Segment(line.plain, console.get_style(line.style, default=None)))
        # the room left is padding, as DataTable's Padding makes it: unstyled
        segments.append(Segment(" " * (inner - line.cell_len + pad)))
        lines = [list(Segment.apply_style(segments, pre, post))]
        cache[key] = lines
        return lines

    def watch_has_focus(self, has_focus: bool) -> None:
        super().watch_has_focus(has_focus)  # restyles: the cursor's component style
        self._focus_changed()

    def notify_style_update(self) -> None:
        """DataTable drops every render cache on any restyle, and a focus change restyles
        (even when no rule changed): drop them only when the rules or the theme did."""
        styles = self.styles
        seen = (styles.base.get_rules(), styles.inline.get_rules(), self.app.theme)
        if seen == self._styled:
            super(DataTable, self).notify_style_update()
            self.refresh()  # while the focus moves: the header and the cursor row only
            return
        self._styled = seen
        super().notify_style_update()

    def _focus_changed(self) -> None:
        """Only the cursor row and the header look different with the focus."""
        self._get_styles_to_render_cell.cache_clear()
        keys = {self._header_row_key}
        selected = self.selected_key
        if selected is not None:
            keys.add(RowKey(selected))
        self._forget_rows(keys)

    def _forget_rows(self, keys: set[RowKey] | None, moved: bool = True) -> None:
        """Drop what the caches hold for these rows (None: for every row), and what is kept
        by position (cheap to rebuild from the per-row caches). Unless rows moved, came or
        went, the order caches stay: rebuilding them walks every row (5,000 pods: most of
        a paint)."""
        if moved:
            self._offset_cache.clear()
            self._ordered_row_cache.clear()
        self._row_renderable_cache.clear()
        self._line_cache.clear()
        if keys is None:
            self._cell_render_cache.clear()
            self._row_render_cache.clear()
        elif keys:
            caches: tuple[Any, ...] = (self._cell_render_cache, self._row_render_cache)
            for cache in caches:
                stale = [k for k in cache.keys() if k[0] in keys]  # noqa: SIM118 (no __iter__)
                for k in stale:
                    cache.discard(k)

    def _width(self, column: Column) -> int:
        if column.fit:
            return max(column.width, self._content.get(column.key, 0))
        return column.width

    def _needed(self, specs: Sequence[Column], flex_at: str = "min") -> int:
        # columns are fitted to the width, so no horizontal scrollbar (overflow-x: hidden):
        # it would take a row and be repainted on every change; at most the last column's
        # right padding is cut by the vertical scrollbar
        total = 1  # the scrollbar
        for c in specs:
            width = self._width(c)
            if c.flex and flex_at == "keep" and c.keep:
                width = max(width, min(self._content.get(c.key, c.keep), c.keep))
            elif c.flex and flex_at == "keep":
                width = max(width, self._content.get(c.key, width))
            total += width + 2 * self.cell_padding
        return total

    def set_content_widths(self, widths: Mapping[str, int]) -> None:
        """What the content of each column needs (the longest status, the longest name):
        the columns are refitted only when that changed. A column grows at once and
        narrows only once its content has been narrower for SHRINK_AFTER: a refit repaints
        the whole table, and under churn the longest RESTARTS text ("41 (9s ago)" ->
        "41 (10s ago)") changes every few seconds."""
        wanted = dict(widths)
        if wanted == self._content:
            self._narrower_since = None
            return
        now = monotonic()
        grows = any(n > self._content.get(k, 0) for k, n in wanted.items())
        if not grows and self._content:
            if self._narrower_since is None:
                self._narrower_since = now
            if now - self._narrower_since < SHRINK_AFTER:
                return
        self._narrower_since = None
        self._content = wanted
        if self.size.width > 0:
            self.fit_columns(self.size.width, force=True)

    def fit_columns(self, total: int, force: bool = False) -> None:
        """Show the columns that fit, dropping the least important first (and before the
        name column gets too narrow for its names), give the name column the width left
        over. No cell is ever measured: the panel reports its content widths."""
        if total <= 0:
            return
        if total == self._fitted_at and not force and self.columns:
            return
        self._fitted_at = total
        specs = list(self._all_specs)
        for candidate in sorted((c for c in self._all_specs if c.drop), key=lambda c: -c.drop):
            if self._needed(specs, "keep") <= total:
                break
            specs.remove(candidate)
        if tuple(specs) != self._column_specs or len(self.columns) != len(specs):
            # rare (a resize across a breakpoint): rebuild columns, then rows from the cache
            selected = self.selected_key
            row = self.cursor_row
            self._column_specs = tuple(specs)
            self.clear(columns=True)
            for column in specs:
                self.add_column(column.label, width=self._width(column), key=column.key)
            if self._sized:
                self.sync(self._wanted)
            if selected is not None and not self.pinned:
                self._select_quietly(selected, row)
        flex = [c for c in self._column_specs if c.flex]
        spare = total - self._needed([c for c in self._column_specs if not c.flex])
        share = max(spare // len(flex) - 2 * self.cell_padding, 0) if flex else 0
        changed = False
        for spec in self._column_specs:
            table_column = self.columns.get(ColumnKey(spec.key))
            width = max(spec.width, share) if spec.flex else self._width(spec)
            if table_column is not None and table_column.width != width:
                table_column.width = width
                changed = True
        if changed:
            self._update_count += 1
            self._require_update_dimensions = True
            self._forget_rows(set())
            self._cell_render_cache.clear()
            self._row_render_cache.clear()
            self.refresh(layout=True)

    def _select_quietly(self, key: str, row: int) -> None:
        index = self._row_locations.get(RowKey(key))
        if index is not None:
            self._move_cursor_quietly(index)
            if self.has_focus:
                self.scroll_y = max(0.0, self.scroll_y + (index - row))

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self._column_specs)

    def row_keys(self) -> list[str]:
        return list(self._order)

    @property
    def selected_key(self) -> str | None:
        row = self.cursor_row
        if 0 <= row < len(self._order):
            return self._order[row]
        return None

    def select_key(self, key: str) -> bool:
        """Put the cursor on this row (as if the engineer moved it there)."""
        try:
            index = self.get_row_index(key)
        except Exception:
            return False
        self.pinned = index == 0
        self.move_cursor(row=index, animate=False)
        return True

    def stay_at_row(self) -> None:
        """After an action on the selected row (ack, restart, quarantine) the row may move
        away (an acked alert sinks to the bottom): the cursor stays at the same position,
        on the row that takes its place, the next worst."""
        key = self.selected_key
        if key is not None:
            self._hold = (key, self.cursor_row)

    def rows_above_view(self) -> list[str]:
        """The keys of the rows scrolled out of view above the first row on screen."""
        return self._order[: int(self.scroll_y)]

    # ----------------------------------------------------------------- cursor keys
    # every key that moves the cursor unpins it from the first row; g/Home pins it again

    def action_first_row(self) -> None:
        self.pinned = True
        if self.row_count:
            self.move_cursor(row=0, animate=False)
        self.scroll_y = 0

    def action_last_row(self) -> None:
        if self.row_count:
            self.pinned = self.row_count == 1
            self.move_cursor(row=self.row_count - 1, animate=False)

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self.pinned = self.cursor_row == 0

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self.pinned = self.cursor_row == 0

    def action_page_up(self) -> None:
        super().action_page_up()
        self.pinned = self.cursor_row == 0

    def action_page_down(self) -> None:
        super().action_page_down()
        self.pinned = self.cursor_row == 0

    def action_scroll_top(self) -> None:
        self.action_first_row()

    def action_scroll_bottom(self) -> None:
        self.action_last_row()

    async def _on_click(self, event: Any) -> None:
        await super()._on_click(event)
        self.pinned = self.cursor_row == 0

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(new_value) != self._top_shown:
            self._top_shown = int(new_value)
            self.post_message(self.ViewMoved())

    def holds(self, rows: Mapping[str, Sequence[Cell]]) -> bool:
        """Whether the table shows exactly this mapping, as last synced (not cleared since)."""
        return rows is self._wanted and self._sized and len(self._cells) == len(rows)

    def sync(
        self, rows: Mapping[str, Sequence[Cell]] | Iterable[tuple[str, Sequence[Cell]]]
    ) -> SyncStats:
        """Make the table show exactly `rows`, in that order, touching only what changed.

        Only the screen regions that changed are refreshed: a cell, or a visible row whose
        key moved. Rows are written straight into DataTable's structures, never queued for
        measuring (the columns have fixed widths)."""
        stats = SyncStats()
        full = dict(rows) if not isinstance(rows, dict) else rows
        self._wanted = full
        if not self._sized:
            return stats  # no width yet: fit_columns fills the table at the first resize
        count = len(self._all_specs)
        shown = self._shown_indexes
        wanted: dict[str, Sequence[Cell]] = (
            full if len(shown) == count else self._project(full, shown)
        )
        selected = self.selected_key
        old_cursor_row = self.cursor_row if selected is not None else 0
        columns = [ColumnKey(k) for k in self.column_keys]
        old_order = self._order
        # what the visible rows show now: a row that moved is repainted only where the
        # row now at its place looks different (neighbours often look alike)
        top = int(self.scroll_y)
        seen = [self._cells.get(k) for k in old_order[top : top + max(self.size.height, 1)]]
        old_cells = self._cells
        keys = self._keys
        data = self._data
        table_rows = self.rows
        was_empty = not old_cells

        removed: list[str] = []
        # 1. gone rows, in one pass (DataTable.remove_row rebuilds its index per row)
        if len(old_cells) != len(wanted) or any(k not in wanted for k in old_cells):
            for key in [k for k in old_cells if k not in wanted]:
                removed.append(key)
                row_key = keys.pop(key)
                del table_rows[row_key]
                del data[row_key]
                del old_cells[key]
                stats.removed += 1

        # 2. changed cells are written in place; 3. new rows are written directly
        dirty: list[tuple[str, int]] = []
        for key, values in wanted.items():
            before = old_cells.get(key)
            if before is values:
                continue
            if before is None:
                row_key = keys[key] = RowKey(key)
                data[row_key] = {
                    column: values[i] if i < len(values) else "" for i, column in enumerate(columns)
                }
                table_rows[row_key] = Row(row_key, 1)
                old_cells[key] = values
                stats.added += 1
                continue
            self._write_cells(key, before, values, columns, dirty)
        stats.changed_cells = len(dirty)

        # 4. order: rewrite the index map once if it differs
        order = list(wanted)
        if order != old_order:
            self._row_locations = TwoWayDict({keys[k]: i for i, k in enumerate(order)})
            self._order = order
            stats.reordered = True

        if stats.added or stats.removed or order != old_order or dirty:
            # the render caches: drop the rows that changed or moved (their cells carry
            # their index and cursor state), keep every other row's
            resized = bool(stats.added or stats.removed)
            if order != old_order:
                # rows moved: usually every row below the first move (a pod that starts
                # crashing goes to the top). Dropping the caches wholesale is cheaper than
                # finding the moved ones among 5,000, and costs no line that stays on
                # screen: only the lines refreshed below are rendered again
                self._forget_rows(None)
            else:
                forget = {keys[k] for k, _ in dirty}
                forget.update(RowKey(k) for k in removed)
                self._forget_rows(forget, moved=resized)
            self._repaint(old_order, order, seen, dirty, resized=resized)

        if was_empty and order and self.columns:
            # as DataTable.add_row does: a cursor now exists, so announce it (RowHighlighted)
            self.cursor_coordinate = self.cursor_coordinate
            if self.show_cursor and self.cursor_type != "none":
                self._highlight_cursor()

        # 5. the selection follows its row and stays at the same height on screen
        self._keep_selection(selected, old_cursor_row)
        self.last_sync = stats
        return stats

    def sync_in_place(self, changed: Mapping[str, Sequence[Cell]]) -> SyncStats:
        """The cells of these rows changed, and nothing else since the last sync: the same
        rows in the same order (the mapping given to sync was updated with them). Costs
        the changed rows only, where sync would compare every row."""
        shown = self._shown_indexes
        projected = len(shown) != len(self._all_specs)
        if (
            not self._sized
            or (projected and shown != self._projected_columns)
            or any(key not in self._cells for key in changed)
        ):
            return self.sync(self._wanted)
        if projected:
            changed = self._project(changed, shown, update=True)
        columns = [ColumnKey(k) for k in self.column_keys]
        dirty: list[tuple[str, int]] = []
        for key, values in changed.items():
            before = self._cells[key]
            if before is not values:
                self._write_cells(key, before, values, columns, dirty)
        if dirty:
            self._forget_rows({self._keys[k] for k, _ in dirty}, moved=False)
            self._repaint(self._order, self._order, [], dirty, resized=False)
        self.last_sync = SyncStats(changed_cells=len(dirty))
        return self.last_sync

    def _write_cells(
        self,
        key: str,
        before: Sequence[Cell],
        values: Sequence[Cell],
        columns: list[ColumnKey],
        dirty: list[tuple[str, int]],
    ) -> None:
        """A row's changed cells into DataTable's data, each noted in `dirty`."""
        row = self._data[self._keys[key]]
        for index in range(len(columns)):
            value = values[index] if index < len(values) else ""
            if not same_cell(before[index] if index < len(before) else "", value):
                row[columns[index]] = value
                dirty.append((key, index))
        self._cells[key] = values

    def _project(
        self, full: Mapping[str, Sequence[Cell]], shown: list[int], update: bool = False
    ) -> dict[str, Sequence[Cell]]:
        """The shown columns of every row (with `update`, of these rows, the cache of the
        others kept). A row whose cells are the same object as at the last sync gets the
        same projection back, so the diff skips it by identity instead
        of comparing its cells (5,000 pods in a narrow panel: every sync)."""
        cache = self._projected if shown == self._projected_columns else {}
        out: dict[str, Sequence[Cell]] = {}
        fresh: dict[str, tuple[Sequence[Cell], Sequence[Cell]]] = {}
        for key, values in full.items():
            hit = cache.get(key)
            if hit is None or hit[0] is not values:
                hit = (values, tuple(values[i] if i < len(values) else "" for i in shown))
            fresh[key] = hit
            out[key] = hit[1]
        if update:  # some of the rows (sync_in_place): the others keep theirs
            self._projected.update(fresh)
            return out
        self._projected_columns = shown
        self._projected = fresh
        return out

    def _repaint(
        self,
        old: list[str],
        new: list[str],
        seen: list[Sequence[Cell] | None],
        dirty: list[tuple[str, int]],
        resized: bool,
    ) -> None:
        """Refresh the regions on screen that show something else now, nothing more."""
        if resized:
            # the row count changed: the virtual size (scrollbar) is recomputed on idle,
            # without measuring a cell (no row is queued for that)
            self._require_update_dimensions = True
            self.check_idle()
        top = int(self.scroll_y)
        bottom = top + max(self.size.height, 1)
        if resized and len(new) < bottom and len(new) != len(old):
            self.refresh()  # rows vanished from the visible part: repaint all of it
            return
        lines = set()
        width = len(self._column_specs)
        for index in range(top, min(bottom, max(len(new), len(old)))):
            was = old[index] if index < len(old) else None
            now = new[index] if index < len(new) else None
            if was == now:
                continue
            lines.add(index)
            shown = seen[index - top] if index - top < len(seen) else None
            cells = self._cells.get(now) if now is not None else None
            if shown is None or cells is None:
                self._refresh_row_region(index)
                continue
            for column in range(width):
                a = shown[column] if column < len(shown) else ""
                b = cells[column] if column < len(cells) else ""
                if not same_cell(a, b):
                    self._refresh_cell_region(index, column)
        if dirty:
            location = self._row_locations.get
            keys = self._keys
            for key, column_index in dirty:
                at = location(keys[key])
                if at is not None and top <= at < bottom and at not in lines:
                    self._refresh_cell_region(at, column_index)

    # fixed-height rows, no labels: regions are arithmetic (DataTable sums every row above)
    # and so are the line -> row map and the ordered rows, which DataTable rebuilds as lists
    # of every row after each change (5,000 pods: most of a paint after a re-sort)

    @property
    def _y_offsets(self) -> _RowLines:  # type: ignore[override]
        return _RowLines(self)

    @property
    def ordered_rows(self) -> _OrderedRows:  # type: ignore[override]
        return _OrderedRows(self)

    def _row_y(self, row_index: int) -> int:
        return row_index + (self.header_height if self.show_header else 0)

    def _refresh_row_region(self, row_index: int) -> None:
        width = max(self.size.width, self.virtual_size.width)
        self._refresh_region(Region(0, self._row_y(row_index), width, 1))

    def _refresh_cell_region(self, row_index: int, column_index: int) -> None:
        ordered = self.ordered_columns
        if column_index >= len(ordered):
            return
        x = sum(c.get_render_width(self) for c in ordered[:column_index])
        x += self._row_label_column_width
        width = ordered[column_index].get_render_width(self)
        self._refresh_region(Region(x, self._row_y(row_index), width, 1))

    def _get_row_region(self, row_index: int) -> Region:
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        width = sum(c.get_render_width(self) for c in self.columns.values())
        width += self._row_label_column_width
        return Region(0, self._row_y(row_index), max(self.size.width, width), 1)

    def _get_cell_region(self, coordinate: Coordinate) -> Region:
        if not self.is_valid_coordinate(coordinate):
            return Region(0, 0, 0, 0)
        row_index, column_index = coordinate
        ordered = self.ordered_columns
        x = sum(c.get_render_width(self) for c in ordered[:column_index])
        x += self._row_label_column_width
        width = ordered[column_index].get_render_width(self)
        return Region(x, self._row_y(row_index), width, 1)

    def _move_cursor_quietly(self, row: int) -> None:
        """Move the cursor without the watcher, which scrolls it into view."""
        old = self.cursor_coordinate
        self.set_reactive(DataTable.cursor_coordinate, Coordinate(row, old.column))
        top, bottom = int(self.scroll_y), int(self.scroll_y) + self.size.height
        for index in (old.row, row):
            if top <= index < bottom:
                self._refresh_row_region(index)

    def _keep_selection(self, selected: str | None, old_row: int) -> None:
        if not self.row_count:
            return
        if self.pinned:
            # the engineer has not moved the cursor: the first row, the worst, whatever came
            self._hold = None
            if self.cursor_row != 0:
                if self.has_focus:
                    self.move_cursor(row=0, animate=False, scroll=False)
                else:
                    self._move_cursor_quietly(0)
            if self.scroll_y and self.has_focus:
                self.scroll_y = 0
            return
        hold = self._hold
        if hold is not None and hold[0] == selected:
            new_row = self._row_locations.get(RowKey(selected))
            if new_row is not None and new_row != hold[1]:
                # the row acted on moved away: stay at its old position, on the next worst
                self._hold = None
                row = min(hold[1], self.row_count - 1)
                if self.has_focus:
                    self.move_cursor(row=row, animate=False, scroll=False)
                else:
                    self._move_cursor_quietly(row)
                return
        elif hold is not None:
            self._hold = None
        if selected is not None and RowKey(selected) in self._row_locations:
            new_row = self._row_locations.get(RowKey(selected))
            assert new_row is not None
            if new_row != old_row:
                if self.has_focus:
                    # under the engineer's eyes: the row stays at the same height on screen
                    self.scroll_y = max(0.0, self.scroll_y + (new_row - old_row))
                    self.move_cursor(row=new_row, animate=False, scroll=False)
                else:
                    # the view stays put (a scroll repaints the whole table, on every poll);
                    # the cursor follows its row quietly and comes into view on focus
                    self._move_cursor_quietly(new_row)
        else:
            # the selected row is gone: stay at the same height (clamped)
            self.cursor_coordinate = Coordinate(min(old_row, self.row_count - 1), 0)


class _RowLines(Sequence[tuple[RowKey, int]]):
    """DataTable's line -> (row key, line within the row), for rows one line high."""

    def __init__(self, table: KeyedTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table.rows)

    @overload
    def __getitem__(self, y: int) -> tuple[RowKey, int]: ...
    @overload
    def __getitem__(self, y: slice) -> list[tuple[RowKey, int]]: ...
    def __getitem__(self, y: int | slice) -> tuple[RowKey, int] | list[tuple[RowKey, int]]:
        if isinstance(y, slice):
            return [self[i] for i in range(*y.indices(len(self)))]
        key = self._table._row_locations.get_key(y if y >= 0 else len(self) + y)
        if key is None:
            raise IndexError(y)
        return key, 0

    def clear(self) -> None:
        """DataTable.clear() empties the list it was given: nothing is kept here."""


class _OrderedRows(Sequence[Row]):
    """The rows in screen order, looked up by index instead of listed."""

    def __init__(self, table: KeyedTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table.rows)

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...
    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        table = self._table
        key = table._row_locations.get_key(index if index >= 0 else len(self) + index)
        if key is None:
            raise IndexError(index)
        return table.rows[key]
