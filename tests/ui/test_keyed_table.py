"""The keyed diff of KeyedTable, inside a tiny App."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets.data_table import ColumnKey

from cockpit.ui.keyed_table import Cell, Column, KeyedTable, MiddleText

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


async def test_cursor_stays_on_the_first_row_until_the_engineer_moves_it() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        t = app.table
        t.focus()
        t.sync(rows(["a", "b", "c"]))
        await pilot.pause()
        assert t.selected_key == "a"
        # worse rows arrive above: the cursor is on the worst, not on "a"
        t.sync(rows(["x", "y", "a", "b", "c"]))
        assert t.cursor_row == 0 and t.selected_key == "x"
        # the engineer moves down: from now on the selection follows its row
        await pilot.press("down")
        assert t.selected_key == "y" and not t.pinned
        t.sync(rows(["z", "x", "y", "a", "b", "c"]))
        assert t.selected_key == "y"
        # G / End jump to the last row, g / Home back to the first (and pin it again)
        await pilot.press("G")
        assert t.selected_key == "c"
        await pilot.press("g")
        assert t.selected_key == "z" and t.pinned
        t.sync(rows(["w", "z", "x", "y", "a", "b", "c"]))
        assert t.selected_key == "w"
        await pilot.press("end")
        assert t.selected_key == "c"
        await pilot.press("home")
        assert t.selected_key == "w"


async def test_after_an_action_the_cursor_stays_at_its_position() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        t = app.table
        t.focus()
        t.sync(rows(["a", "b", "c", "d"]))
        await pilot.pause()
        assert t.select_key("b")
        t.stay_at_row()  # b was acked: it sinks to the bottom
        t.sync(rows(["a", "c", "d", "b"]))
        assert t.cursor_row == 1 and t.selected_key == "c"
        # later moves follow the selected row again
        t.sync(rows(["x", "a", "c", "d", "b"]))
        assert t.selected_key == "c"


async def test_rows_scrolled_out_above_are_counted() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        t = app.table
        t.focus()
        names = [f"r{i:02d}" for i in range(20)]
        t.sync(rows(names))
        await pilot.pause()
        assert t.select_key("r03")
        assert t.rows_above_view() == []
        t.sync(rows([f"bad{i}" for i in range(5)] + names))
        await pilot.pause()
        # the selected row kept its height on screen: the five new rows are above the view
        assert t.selected_key == "r03"
        assert t.rows_above_view() == [f"bad{i}" for i in range(5)]


async def test_fit_columns_follow_the_content_widths() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        t = app.table
        t.sync(rows(["a"]))
        await pilot.pause()
        t.set_content_widths({"status": 26})  # not a fit column: nothing changes
        assert widths(t)["status"] == 8


FIT = (
    Column("name", "NAME", 6, flex=True, keep=20),
    Column("status", "STATUS", 6, fit=True),
    Column("restarts", "RESTARTS", 8, drop=1, fit=True),
)


class FitApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(FIT, id="t")


async def test_status_is_never_cut_and_the_name_has_priority() -> None:
    from cockpit.ui.keyed_table import MiddleText, suffix_keep

    app = FitApp()
    async with app.run_test(size=(80, 12)) as pilot:
        t = app.query_one(KeyedTable)
        name = "payments-api-7d4b9c6f5-ct8wt"
        t.sync(
            [
                (
                    "p",
                    (
                        MiddleText(name, keep=suffix_keep(name)),
                        "CreateContainerConfigError",
                        "1 (4d19h ago)",
                    ),
                ),
            ]
        )
        t.set_content_widths({"name": len(name), "status": 26, "restarts": 13})
        await pilot.pause()
        assert widths(t)["status"] == 26 and widths(t)["restarts"] == 13
        text = "".join(s.text for s in app.screen._compositor.render_strips())
        assert "CreateContainerConfigError" in text and "1 (4d19h ago)" in text
        # narrower: RESTARTS goes before the name is squeezed; STATUS stays whole
        await pilot.resize_terminal(46, 12)
        await pilot.pause()
        assert t.column_keys == ("name", "status")
        text = "".join(s.text for s in app.screen._compositor.render_strips())
        assert "CreateContainerConfigError" in text
        # the name is cut in the middle, keeping the suffix that tells pods apart
        assert "payments…-ct8wt" in text


async def test_a_fit_column_grows_at_once_and_narrows_only_when_it_stays_narrower(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refit repaints the whole table: under churn the longest RESTARTS text changes
    every few seconds, so a column narrows only after SHRINK_AFTER of narrower content."""
    import cockpit.ui.keyed_table as keyed

    now = [1000.0]
    monkeypatch.setattr(keyed, "monotonic", lambda: now[0])
    app = FitApp()
    async with app.run_test(size=(80, 12)) as pilot:
        t = app.query_one(KeyedTable)
        t.sync([("p", ("web-1", "Running", "41 (10s ago)"))])
        t.set_content_widths({"name": 5, "status": 7, "restarts": 12})
        await pilot.pause()
        assert widths(t)["restarts"] == 12
        t.set_content_widths({"name": 5, "status": 7, "restarts": 11})  # "41 (9s ago)"
        now[0] += 5
        t.set_content_widths({"name": 5, "status": 7, "restarts": 11})
        assert widths(t)["restarts"] == 12, "no refit (a whole repaint) for a blip"
        t.set_content_widths({"name": 5, "status": 16, "restarts": 11})  # CrashLoopBackOff
        assert widths(t)["status"] == 16, "a wider status is never cut: at once"
        now[0] += keyed.SHRINK_AFTER
        t.set_content_widths({"name": 5, "status": 7, "restarts": 11})
        t.set_content_widths({"name": 5, "status": 7, "restarts": 11})
        assert widths(t)["status"] == 16  # narrower only since now
        now[0] += keyed.SHRINK_AFTER
        t.set_content_widths({"name": 5, "status": 7, "restarts": 11})
        assert widths(t)["status"] == 7 and widths(t)["restarts"] == 11


def test_middle_text_keeps_the_suffix() -> None:
    from cockpit.ui.keyed_table import suffix_keep

    name = "payments-api-7d4b9c6f5-ct8wt"
    assert suffix_keep(name) == 6
    cell = MiddleText(name, keep=suffix_keep(name))
    assert cell.cut(20).plain == "payments-api-…-ct8wt"
    assert cell.cut(40).plain == name
    assert cell.cut(12).plain == "payme…-ct8wt"
    assert MiddleText("abcdefghij").cut(5).plain == "ab…ij"


async def test_cells_look_exactly_as_datatable_draws_them() -> None:
    """KeyedTable cuts one-line cells into segments itself (DataTable renders each through
    a Console, ~2x the CPU of a paint): what reaches the screen must be the same, styles,
    spans, cut text, padding and the cursor row included."""
    from rich.style import Style
    from textual.geometry import Region
    from textual.widgets import DataTable

    spans = Text("ab", end="")
    spans.append("cdefghijklmnop", style="bold red")
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        t = app.table
        t.sync(
            [
                ("plain", ("web-1", "Running", "3m")),
                (
                    "styled",
                    (
                        Text("db-1", style="green", end=""),
                        Text("Error", style=Style(bold=True), end=""),
                        "",
                    ),
                ),
                ("spans", (spans, Text("", style="red", end=""), "12d")),
                ("long", ("x" * 80, "CrashLoopBackOff", "—")),
                ("markup", ("[b]not bold[/b]", "ok", "1s")),
                (
                    "middle",
                    (
                        MiddleText("payments-api-7d4b9c6f5-" + "q" * 40 + "-ct8wt", keep=6),
                        MiddleText("Running"),
                        "1s",
                    ),
                ),
            ]
        )
        await pilot.pause()
        t.focus()
        t.move_cursor(row=1)
        await pilot.pause()

        def draw() -> list[list[tuple[str, Style | None]]]:
            t._cell_render_cache.clear()
            t._row_render_cache.clear()
            t._line_cache.clear()
            t._styles_cache.clear()
            lines = t.render_lines(Region(0, 0, t.size.width, t.size.height))
            return [[(s.text, s.style) for s in line] for line in lines]

        ours = draw()
        original = KeyedTable._render_cell
        KeyedTable._render_cell = DataTable._render_cell  # type: ignore[method-assign]
        try:
            theirs = draw()
        finally:
            KeyedTable._render_cell = original  # type: ignore[method-assign]
        assert ours == theirs


class TwoTablesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="left")
        yield KeyedTable(COLUMNS, id="right")


async def test_a_focus_change_repaints_the_header_and_the_cursor_row_only() -> None:
    """Tab between two tables at 200x50: each repaints the two lines the focus restyles
    (header, cursor row), not its 20 visible rows (issue 14: fewer lines per key)."""
    app = TwoTablesApp()
    async with app.run_test(size=(200, 50)) as pilot:
        left, right = app.query(KeyedTable).results(KeyedTable)
        for t in (left, right):
            t.sync(rows([f"pod-{i:02}" for i in range(40)]))
        left.focus()
        await pilot.pause()
        await pilot.pause()
        drawn: list[tuple[str, int]] = []
        original = KeyedTable.render_line

        def counting(self: KeyedTable, y: int):  # type: ignore[no-untyped-def]
            drawn.append((str(self.id), y))
            return original(self, y)

        KeyedTable.render_line = counting  # type: ignore[method-assign]
        try:
            for _ in range(3):
                drawn.clear()
                await pilot.press("tab")
                await pilot.pause()
                await pilot.pause()
                for name in ("left", "right"):
                    lines = sorted({y for who, y in drawn if who == name})
                    assert lines == [0, 1], (name, lines)  # the header, the cursor row
        finally:
            KeyedTable.render_line = original  # type: ignore[method-assign]
        # and what they show is right: the cursor is drawn in the focused table's style
        assert app.focused is not None and app.focused.id in {"left", "right"}


async def test_rows_changed_in_place_cost_those_rows_and_show_as_a_full_sync() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        t = app.table
        wanted = dict(rows(["a", "b", "c", "d"]))
        t.sync(wanted)
        await pilot.pause()
        wanted["c"] = ("c", "CrashLoop", "2d")
        stats = t.sync_in_place({"c": wanted["c"]})
        assert stats.changed_cells == 2 and not stats.reordered
        assert t.row_keys() == ["a", "b", "c", "d"]
        assert shown(t)[2] == ["c", "CrashLoop", "2d"]
        # at a width that drops a column, the kept columns change
        await pilot.resize_terminal(24, 20)
        await pilot.pause()
        wanted["a"] = ("a", "Error", "3d")
        t.sync_in_place({"a": wanted["a"]})
        assert shown(t)[0] == ["a", "Error"]
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert shown(t)[0] == ["a", "Error", "3d"]
        # a row the table does not hold: a full sync of what it was given
        wanted["e"] = ("e", "ok", "1d")
        t.sync_in_place({"e": wanted["e"]})
        assert t.row_keys() == ["a", "b", "c", "d", "e"]
