"""RowList: a page of pane rows drawn one screen line at a time.

Only the lines on screen are rendered, each once until it changes; nothing measures cells
(each pane fixes its column widths). Showing a new page of rows costs the same for 10 rows as
for 1,000. Cells are rich Text made by widgets.format from sanitised strings: never markup.

The header stays on the first line; the rows scroll under it. Keys: up/down (and j/k from the
screen), page up/down, home/end; enter selects the row under the cursor; a click moves the
cursor to a row, and a second click on it selects it.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backline_tui.widgets.format import GAP, line_text



class RowList(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    RowList {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .rowlist--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .rowlist--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .rowlist--even-row {
            background: $surface-darken-1 40%;
        }
        & > .rowlist--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .rowlist--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .rowlist--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .rowlist--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    COMPONENT_CLASSES = {"rowlist--header", "rowlist--cursor", "rowlist--even-row"}

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
        Binding("enter", "select_cursor", "Select", show=False),
    ]

    class _RowMessage(Message):
        def __init__(self, row_list: RowList, cursor_row: int) -> None:
            super().__init__()
            self.row_list = row_list
            self.cursor_row = cursor_row

        @property
        def control(self) -> RowList:
            return self.row_list

    class RowHighlighted(_RowMessage):
        """The cursor moved to another row (or the rows changed under it)."""

    class RowSelected(_RowMessage):
        """Enter or a click on the row under the cursor."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._columns: list[tuple[str, int]] = []
        self._rows: list[list[Text]] = []
        self._lines: list[Text] | None = None
        self.marked: set[int] = set()  # rows marked for a bulk action
        self._cursor = 0
        self._cache: dict[tuple, Strip] = {}
        self._line_width = 0
        self._frame: tuple | None = None

    # ------------------------------------------------------------------ content

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    def get_row_at(self, index: int) -> list[Text]:
        return self._rows[index]

    def set_columns(self, columns: list[tuple[str, int]]) -> None:
        self._columns = list(columns)
        self._line_width = sum(width + 2 * GAP for _, width in self._columns)
        self._changed()

    def set_rows(self, rows: list[list[Text]], cursor: int = 0, lines: list[Text] | None = None) -> None:
        """Show these rows with the cursor on row `cursor` (kept in range). `lines`, if given,
        are the rows already made into lines by line_text (off the event loop): all of them,
        or the first ones (the rest are made when they scroll into view)."""
        self._rows = rows
        self._lines = lines
        self._cursor = max(0, min(cursor, len(rows) - 1))
        self._changed()
        self._scroll_to_cursor()
        self.post_message(self.RowHighlighted(self, self._cursor))

    def set_marked(self, indices: set[int]) -> None:
        """Rows marked for a bulk action: drawn with a mark in their first column."""
        if indices != self.marked:
            self.marked = set(indices)
            self._cache.clear()
            self.refresh()

    def update_rows(self, rows: list[list[Text]], lines: list[Text] | None = None) -> None:
        """The same rows with new cells (a countdown that moved): cursor and scroll stay."""
        if len(rows) != len(self._rows):
            self.set_rows(rows, self._cursor, lines)
            return
        self._rows = rows
        self._lines = lines
        self._cache.clear()
        self.refresh()

    def clear(self, columns: bool = False) -> None:
        self._rows = []
        self._lines = None
        self._cursor = 0
        if columns:
            self._columns, self._line_width = [], 0
        self._changed()

    def _changed(self) -> None:
        self._cache.clear()
        self.virtual_size = Size(self._line_width, len(self._rows) + 1)
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def _on_focus(self, event: events.Focus) -> None:
        self._cache.clear()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._cache.clear()
        self.refresh()

    # ------------------------------------------------------------------ cursor

    def move_cursor(self, row: int | None = None, animate: bool = False, scroll: bool = True) -> None:
        if row is None or not self._rows:
            return
        row = max(0, min(row, len(self._rows) - 1))
        if row != self._cursor:
            old, self._cursor = self._cursor, row
            self._refresh_row(old)
            self._refresh_row(row)
            self.post_message(self.RowHighlighted(self, row))
        if scroll:
            self._scroll_to_cursor()

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + self._page())

    def action_scroll_top(self) -> None:
        self.move_cursor(0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self._cursor))

    async def _on_click(self, event: events.Click) -> None:
        y = event.y
        if y < 1 or not self._rows:
            return
        row = int(self.scroll_offset.y) + y - 1
        if row >= len(self._rows):
            return
        event.stop()
        if row == self._cursor:  # a click on the highlighted row opens it; elsewhere it moves there
            self.post_message(self.RowSelected(self, row))
        else:
            self.move_cursor(row, scroll=False)

    def _scroll_to_cursor(self) -> None:
        visible = self._page()
        top = int(self.scroll_offset.y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    def _refresh_row(self, index: int) -> None:
        line = index - int(self.scroll_offset.y) + 1
        if 1 <= line < self.size.height:
            self.refresh_line(line)

    # ------------------------------------------------------------------ drawing

    def render_lines(self, crop):
        # what every line of this refresh shares, worked out once (each costs ~3 µs a call)
        self._frame = (
            self.scrollable_content_region.width,
            self.rich_style,
            self.get_component_rich_style("rowlist--header"),
            self.get_component_rich_style("rowlist--cursor"),
            self.get_component_rich_style("rowlist--even-row"),
            self.has_focus,
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if self._frame is None:
            self.render_lines(Region(0, y, self.size.width, 1))
        width, base, head, cursor_style, even, focused = self._frame
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            index, style = -1, head
        else:
            index = int(scroll_y) + y - 1
            if index >= len(self._rows):
                return Strip.blank(width, base)
            style = cursor_style if index == self._cursor else even if index % 2 else Style()
        marked = index in self.marked
        key = (index, index == self._cursor, focused, width, scroll_x, marked)
        strip = self._cache.get(key)
        if strip is None:
            if index < 0:
                text = line_text(self._columns, [label for label, _ in self._columns])
            else:
                lines = self._lines
                text = lines[index] if lines and index < len(lines) else line_text(self._columns, self._rows[index])
                if marked:
                    text = Text("●", style="bold") + text[1:]
            # a zebra stripe goes under the cells' own styles; the cursor goes over them (as in
            # Textual's DataTable: a red countdown on the blue cursor bar would be hard to read)
            if index >= 0 and index == self._cursor:
                segments = Segment.apply_style(text.render(self.app.console, end=""), style=base, post_style=style)
            else:
                segments = Segment.apply_style(text.render(self.app.console, end=""), style=base + style)
            strip = Strip(segments, self._line_width).crop_extend(scroll_x, scroll_x + width, base + style)
            self._cache[key] = strip
        return strip
