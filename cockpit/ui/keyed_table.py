"""A DataTable that is updated by keyed diff.

`sync(rows)` takes the wanted rows in the wanted order, each with a stable key, and
changes only what differs: new rows are appended, gone rows are removed in one
pass, reordering rewrites the index map once, and a changed cell is written in
place and only its own screen region is refreshed. Columns have fixed widths, so
nothing is ever re-measured on a refresh (DataTable.update_cell refreshes the whole
widget and update_width re-measures whole columns: both are far too costly over
SSH at thousands of rows; see shared/design/anchors.md).

The selected row stays selected across refreshes, and stays at the same place on
screen: when other rows move around it, the view scrolls with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

Cell = str | Text


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # the minimum width; a flex column also takes the space left over
    flex: bool = False
    drop: int = 0  # when the table is too narrow, columns with the highest drop go first


@dataclass
class SyncStats:
    added: int = 0
    removed: int = 0
    changed_cells: int = 0
    reordered: bool = False


class KeyedTable(DataTable[Cell]):
    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[Column], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._all_specs = tuple(columns)
        self._column_specs = tuple(columns)  # the ones shown at the current width
        self._wanted: dict[str, Sequence[Cell]] = {}
        self.last_sync = SyncStats()

    def on_mount(self) -> None:
        for column in self._column_specs:
            self.add_column(column.label, width=column.width, key=column.key)

    def on_resize(self) -> None:
        self.fit_columns(self.size.width)

    def _needed(self, specs: Sequence[Column]) -> int:
        return sum(c.width + 2 * self.cell_padding for c in specs) + 1  # 1: the scrollbar

    def fit_columns(self, total: int) -> None:
        """Show the columns that fit (dropping the least important ones first) and give
        flexible columns the width left over. No cell is ever measured."""
        if total <= 0:
            return
        specs = list(self._all_specs)
        for candidate in sorted((c for c in self._all_specs if c.drop), key=lambda c: -c.drop):
            if self._needed(specs) <= total:
                break
            specs.remove(candidate)
        if tuple(specs) != self._column_specs:
            # rare (a resize across a breakpoint): rebuild columns, then rows from the cache
            selected = self.selected_key
            self._column_specs = tuple(specs)
            self.clear(columns=True)
            for column in specs:
                self.add_column(column.label, width=column.width, key=column.key)
            wanted, self._wanted = self._wanted, {}
            self.sync(wanted.items())
            if selected is not None:
                self.select_key(selected)
        flex = [c for c in self._column_specs if c.flex]
        if not flex or not self.columns:
            return
        spare = total - self._needed([c for c in self._column_specs if not c.flex])
        share = max(spare // len(flex) - 2 * self.cell_padding, 0)
        changed = False
        for spec in flex:
            table_column = self.columns.get(ColumnKey(spec.key))
            width = max(spec.width, share)
            if table_column is not None and table_column.width != width:
                table_column.width = width
                changed = True
        if changed:
            self._update_count += 1
            self._require_update_dimensions = True
            self.refresh(layout=True)

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self._column_specs)

    def row_keys(self) -> list[str]:
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.ordered_rows[self.cursor_row].key.value)
        except IndexError:
            return None

    def select_key(self, key: str) -> bool:
        try:
            index = self.get_row_index(key)
        except Exception:
            return False
        self.move_cursor(row=index, animate=False)
        return True

    def sync(self, rows: Iterable[tuple[str, Sequence[Cell]]]) -> SyncStats:
        """Make the table show exactly `rows`, in that order, touching only what changed."""
        stats = SyncStats()
        self._wanted = full = dict(rows)  # cells of every column, shown or not
        shown = [i for i, c in enumerate(self._all_specs) if c in self._column_specs]
        wanted: dict[str, Sequence[Cell]] = (
            full
            if len(shown) == len(self._all_specs)
            else {k: [v[i] for i in shown if i < len(v)] for k, v in full.items()}
        )
        selected = self.selected_key
        old_cursor_row = self.cursor_row if selected is not None else 0
        columns = [ColumnKey(k) for k in self.column_keys]

        # 1. remove gone rows in one pass (DataTable.remove_row rebuilds its index per row)
        gone = [key for key in self.rows if key.value not in wanted]
        if gone:
            for key in gone:
                del self.rows[key]
                del self._data[key]
            stats.removed = len(gone)

        # 2. changed cells: write in place, refresh only their regions (if on screen)
        dirty: list[tuple[RowKey, int]] = []
        for key, row in self._data.items():
            values = wanted[str(key.value)]
            for index, column in enumerate(columns):
                value = values[index] if index < len(values) else ""
                if row.get(column) != value:
                    row[column] = value
                    dirty.append((key, index))
        stats.changed_cells = len(dirty)

        # 3. new rows: appended (their widths are fixed, so nothing is measured)
        existing = {row_key.value for row_key in self.rows}
        for new_key, values in wanted.items():
            if new_key not in existing:
                self.add_row(*values, key=new_key)
                stats.added += 1

        # 4. order: rewrite the index map once if it differs
        order = list(wanted)
        current = self._row_locations
        if gone or any(current.get(RowKey(k)) != i for i, k in enumerate(order)):
            self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(order)})
            stats.reordered = True

        if gone or stats.reordered or stats.added:
            self._update_count += 1
            self.refresh(layout=bool(gone or stats.added))
        elif dirty:
            self._update_count += 1  # invalidates the render caches, which key on it
            for key, column_index in dirty:
                row_index = self._row_locations.get(key)
                if row_index is not None:
                    self.refresh_coordinate(Coordinate(row_index, column_index))

        # 5. the selection follows its row and stays at the same height on screen
        self._keep_selection(selected, old_cursor_row)
        self.last_sync = stats
        return stats

    def _keep_selection(self, selected: str | None, old_row: int) -> None:
        if not self.row_count:
            return
        if selected is not None and RowKey(selected) in self._row_locations:
            new_row = self._row_locations.get(RowKey(selected))
            assert new_row is not None
            if new_row != old_row:
                self.scroll_y = max(0.0, self.scroll_y + (new_row - old_row))
                self.move_cursor(row=new_row, animate=False, scroll=False)
        else:
            # the selected row is gone: stay at the same height (clamped)
            self.cursor_coordinate = Coordinate(min(old_row, self.row_count - 1), 0)
