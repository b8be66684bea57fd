"""RowList, the pane list drawn a screen line at a time: keys, clicks, what is on screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from backline_tui.widgets.rowlist import RowList

COLUMNS = [("Ref", 8), ("Subject", 20)]


class ListApp(App):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.selected: list[int] = []
        self.highlighted: list[int] = []

    def compose(self) -> ComposeResult:
        yield RowList(id="list")

    def on_mount(self) -> None:
        rows = [[Text(f"R-{i}"), Text(f"subject {i} " + "x" * 30)] for i in range(self.n)]
        lst = self.query_one(RowList)
        lst.set_columns(COLUMNS)
        lst.set_rows(rows)
        lst.focus()

    def on_row_list_row_selected(self, event: RowList.RowSelected) -> None:
        self.selected.append(event.cursor_row)

    def on_row_list_row_highlighted(self, event: RowList.RowHighlighted) -> None:
        self.highlighted.append(event.cursor_row)


async def test_keys_move_the_cursor_and_keep_it_on_screen():
    app = ListApp(100)
    async with app.run_test(size=(40, 12)) as pilot:
        lst = app.query_one(RowList)
        await pilot.press("down", "down")
        assert lst.cursor_row == 2
        await pilot.press("end")
        await pilot.pause()
        assert lst.cursor_row == 99
        # the header stays; the last row is the last line of the list
        assert lst.scroll_offset.y == 100 + 1 - lst.scrollable_content_region.height
        await pilot.press("pageup")
        assert lst.cursor_row == 99 - (lst.scrollable_content_region.height - 1)
        await pilot.press("home")
        await pilot.pause()
        assert lst.cursor_row == 0 and lst.scroll_offset.y == 0
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == [0]
        assert app.highlighted[-1] == 0


async def test_a_click_moves_the_cursor_a_second_click_selects_and_the_header_is_not_a_row():
    app = ListApp(5)
    async with app.run_test(size=(40, 12)) as pilot:
        lst = app.query_one(RowList)
        await pilot.click(RowList, offset=(3, 0))  # the header
        await pilot.pause()
        assert app.selected == []
        await pilot.click(RowList, offset=(3, 3))  # the third row: the cursor goes there
        await pilot.pause()
        assert lst.cursor_row == 2 and app.selected == []
        await pilot.click(RowList, offset=(3, 3))  # again: it is selected
        await pilot.pause()
        assert app.selected == [2]
        await pilot.click(RowList, offset=(3, 9))  # below the last row
        await pilot.pause()
        assert app.selected == [2] and lst.cursor_row == 2


async def test_cells_are_cut_to_their_columns_on_screen():
    app = ListApp(3)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        lst = app.query_one(RowList)
        assert lst.row_count == 3 and lst.get_row_at(1)[0].plain == "R-1"
        shown = "\n".join(line.text for line in lst.render_lines(lst.region.reset_offset))
        assert "Ref" in shown and "Subject" in shown
        assert "subject 1 xxxxxxxxx…" in shown  # 20 cells: cut with an ellipsis
