"""The keyed diff of KeyedTable, inside a tiny App."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets.data_table import ColumnKey

from cockpit.ui.keyed_table import Cell, Column, KeyedTable

COLUMNS = (
    Column("name", "NAME", 10, flex=True),
    Column("status", "STATUS", 8),
    Column("age", "AGE", 4, drop=1),
)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="t")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)


def rows(names: Sequence[str], status: str = "ok") -> list[tuple[str, Sequence[Cell]]]:
    return [(n, (n, status, "1d")) for n in names]


def shown(t: KeyedTable) -> list[list[str]]:
    return [[str(c) for c in t.get_row(r.key)] for r in t.ordered_rows]


def widths(t: KeyedTable) -> dict[str, int]:
    return {str(k.value): c.width for k, c in t.columns.items()}


async def test_cursor_follows_its_row_when_rows_above_change() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.table
        t.sync(rows(["a", "b", "c", "d", "e"]))
        await pilot.pause()
        assert t.select_key("c")
        assert t.cursor_row == 2

        t.sync(rows(["x", "y", "a", "b", "c", "d", "e"]))  # inserted above
        assert t.selected_key == "c" and t.cursor_row == 4
        assert t.last_sync.added == 2

        t.sync(rows(["b", "c", "d", "e"]))  # removed above
        assert t.selected_key == "c" and t.cursor_row == 1
        assert t.last_sync.removed == 3

        t.sync(rows(["e", "d", "c", "b"]))  # reordered
        assert t.selected_key == "c" and t.cursor_row == 2
        assert t.last_sync.reordered
        assert t.row_keys() == ["e", "d", "c", "b"]
        assert [r[0] for r in shown(t)] == ["e", "d", "c", "b"]
        await pilot.pause()

        # the selected row itself goes: the cursor stays at the same height
        t.sync(rows(["e", "d", "b"]))
        assert t.cursor_row == 2 and t.selected_key == "b"


async def test_only_changed_cells_change() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.table
        t.sync(rows(["a", "b", "c"]))
        await pilot.pause()
        stats = t.sync(rows(["a", "b", "c"]))
        assert (stats.added, stats.removed, stats.changed_cells, stats.reordered) == (
            0,
            0,
            0,
            False,
        )
        updated = rows(["a", "b", "c"])
        updated[1] = ("b", ("b", "CRASH", "1d"))
        stats = t.sync(updated)
        assert stats.changed_cells == 1 and not stats.reordered and stats.added == 0
        assert t.get_cell("b", ColumnKey("status")) == "CRASH"
        assert t.get_cell("a", ColumnKey("status")) == "ok"
        await pilot.pause()
        assert "CRASH" in "".join(s.text for s in app.screen._compositor.render_strips())
        # a styled cell equal to the last one is no change; a new style is one
        styled = [(k, (v[0], Text("ok", style="red"), v[2])) for k, v in rows(["a", "b", "c"])]
        assert t.sync(styled).changed_cells == 3
        assert t.sync(styled).changed_cells == 0
        await pilot.pause()
        assert "CRASH" not in "".join(s.text for s in app.screen._compositor.render_strips())


async def test_many_rows_removed_at_once() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.table
        names = [f"pod-{i:04d}" for i in range(2000)]
        t.sync(rows(names))
        await pilot.pause()
        assert t.select_key("pod-1500")
        keep = names[::100]  # 20 rows stay
        stats = t.sync(rows(keep))
        assert stats.removed == 1980 and t.row_count == 20
        assert t.row_keys() == keep
        assert [r[0] for r in shown(t)] == keep
        assert t.selected_key == "pod-1500"
        await pilot.pause()
        t.sync([])
        assert t.row_count == 0 and t.selected_key is None
        t.sync(rows(["a"]))
        assert t.row_keys() == ["a"] and t.selected_key == "a"


async def test_columns_are_never_remeasured() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.table
        t.sync(rows(["a", "b"]))
        await pilot.pause()
        before = widths(t)
        assert before["status"] == 8 and before["age"] == 4
        long = [("a", ("a" * 80, "CrashLoopBackOff-and-more", "123456d"))]
        t.sync(long)
        await pilot.pause()
        assert widths(t) == before
        t.sync(rows([f"r{i}" for i in range(50)]))
        await pilot.pause()
        assert widths(t) == before
        # the flexible column takes the space left over, still without measuring cells
        assert before["name"] > 10


async def test_narrow_width_drops_columns_and_keeps_rows() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.table
        t.sync(rows(["a", "b", "c"]))
        assert t.select_key("b")
        await pilot.pause()
        assert t.column_keys == ("name", "status", "age")
        await pilot.resize_terminal(24, 20)
        await pilot.pause()
        assert t.column_keys == ("name", "status")
        assert t.row_keys() == ["a", "b", "c"] and t.selected_key == "b"
        assert shown(t)[1] == ["b", "ok"]
        # syncs at the narrow width still take every column's cells
        t.sync(rows(["a", "b", "c"], status="bad"))
        assert shown(t)[0] == ["a", "bad"]
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert t.column_keys == ("name", "status", "age")
        assert shown(t)[0] == ["a", "bad", "1d"]


async def test_selected_row_keeps_its_height_on_screen() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        t = app.table
        names = [f"r{i:03d}" for i in range(100)]
        t.sync(rows(names))
        await pilot.pause()
        assert t.select_key("r050")
        await pilot.pause()
        height = t.cursor_row - t.scroll_y
        t.sync(rows([f"new{i}" for i in range(7)] + names))
        await pilot.pause()
        assert t.selected_key == "r050" and t.cursor_row == 57
        assert t.cursor_row - t.scroll_y == height
        t.sync(rows(names[10:]))
        await pilot.pause()
        assert t.selected_key == "r050" and t.cursor_row == 40
        assert t.cursor_row - t.scroll_y == height
