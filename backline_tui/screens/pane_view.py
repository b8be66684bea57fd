"""How the pane screen draws what it read: the rows with their columns fitted to the width (and
laid out again when it changes), the line above them (title, filter, which rows of how many,
sort, marks), the pane bar's counts, the empty and welcome states, and the times on screen worked
out again every TICK_SECONDS. Mixed into MainScreen (screens/main.py), which reads the pages."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import ContentSwitcher, Static

from backline_tui.screens.pane_state import PANES, TITLES, PaneTable
from backline_tui.text import one_line
from backline_tui.widgets.format import fit_columns, page_cells
from backline_tui.widgets.status import PaneBar
from backline_tui.widgets.welcome import Welcome
from backline_tui.workbench import PaneFilter

NOUN = {"help": "open help requests", "stale": "stale cases", "bugs": "open bugs", "kb": "articles to review"}


class PaneView:
    # how often the times on screen (OLA countdown, idle, target) are worked out again: from the
    # rows in memory, without a query; they show minutes, so twice a minute is always in time
    TICK_SECONDS = 30.0

    def _show_bar(self) -> None:
        self.query_one(PaneBar).show(self.pane, self.counts)

    def _show_empty_db(self) -> None:
        from backline_tui.config_file import default_config_path

        self.query_one(Welcome).show(str(self.app.workbench.replica.path), str(default_config_path()), self.app.key_of)
        self.query_one(ContentSwitcher).current = "welcome"
        self.query_one("#paneinfo", Static).update(Text("Welcome to Backline", style="bold"))
        self.refresh_bindings()
        self._keys_for = None

    def _show_rows(self, pane: str, rows: list[dict], row_cells: list[list], lines: list) -> None:
        table = self.query_one(PaneTable)
        switcher = self.query_one(ContentSwitcher)
        keep_ref = self._current_ref() if self.rows_pane == pane else self.cursor_ref.get(pane)
        keep_row = table.cursor_row if self.rows_pane == pane else 0
        if self.rows_pane != pane or self._columns_for != (pane, self._list_width(), self.filters[pane].sort):
            self._columns_for = (pane, self._list_width(), self.filters[pane].sort)
            table.set_columns(self._fitted_columns(pane))
        self.rows = rows
        self.rows_pane = pane
        index = next((i for i, r in enumerate(rows) if r["ref"] == keep_ref), min(keep_row, len(rows) - 1))
        if self._cursor_after_load is not None:  # g, G, or j/k across a page boundary
            index = self._cursor_after_load if self._cursor_after_load >= 0 else len(rows) - 1
            self._cursor_after_load = None
        table.set_rows(row_cells, cursor=max(index, 0), lines=lines)
        self._show_marks()
        if rows:
            switcher.current = "table"
            self._keep_focus_visible()
        else:
            f = self.filters[pane]
            what = f.describe()
            msg = Text(f"No {NOUN[pane]}" + (f" match the filter ({what})." if what else "."), style="bold")
            if what:
                msg.append(f"\n\n{self.app.key_of('filter.clear')} clears every filter; "
                           f"{self.app.key_of('back')} clears the text filter.", style="dim")
            self.query_one("#empty", Static).update(msg)
            switcher.current = "empty"
        self._show_info()
        self._refresh_keys()

    def _fitted_columns(self, pane: str) -> list[tuple[str, int]]:
        """The pane's columns for this width, the sorted one marked ▾."""
        sort = self.filters[pane].sort
        return [((label if len(label) < w else label[: w - 1]) + "▾" if label == sort else label, w)
                for label, w in fit_columns(pane, self._list_width())]

    def _list_width(self) -> int | None:
        """Cells across the list, its scroll bar left out (None before the first layout)."""
        width = self.size.width
        return width - 2 if width > 10 else None

    def on_resize(self, event: events.Resize) -> None:
        # the columns follow the terminal's width: lay the page out again (no query)
        key = (self.pane, self._list_width(), self.filters.get(self.pane, PaneFilter()).sort)
        if self.loaded and self.rows and self.rows_pane == self.pane and self._columns_for != key:
            self._columns_for = key
            self.query_one(PaneTable).set_columns(self._fitted_columns(self.pane))
            self.run_worker(self._tick_async(self.pane, self.rows), group="tick", exclusive=True)

    def _tick(self) -> None:
        if self.app.screen is self and self.pane in PANES and self.rows and self.rows_pane == self.pane:
            self.run_worker(self._tick_async(self.pane, self.rows), group="tick", exclusive=True)

    async def _tick_async(self, pane: str, rows: list[dict]) -> None:
        from backline_tui.workbench import PANE_KIND

        app, width = self.app, self._list_width()

        def work():
            fresh = app.workbench.redecorate(PANE_KIND[pane], rows)
            return fresh, *page_cells(pane, fresh, width)

        fresh, row_cells, lines = await app.call_db(work)
        if self.rows is rows and self.rows_pane == pane:  # no reload came in meanwhile
            self.rows = fresh
            self.query_one(PaneTable).update_rows(row_cells, lines)

    def _show_info(self) -> None:
        pane = self.pane
        info = Text(no_wrap=True, overflow="ellipsis")
        info.append(TITLES[pane], style="bold")
        if pane == "insights":
            self.query_one("#paneinfo", Static).update(info)
            return
        f = self.filters[pane]
        if f.describe():
            info.append(" · filter: ")
            info.append(one_line(f.describe(), 60), style="bold")
        total = self.totals.get(pane)
        offset = self.offsets[pane]
        n = len(self.rows) if self.rows_pane == pane else 0
        if n:
            info.append(f" · {offset + 1:,}–{offset + n:,}")
            info.append(f" of {total:,}" if total is not None else " of …")
            k = self.app.key_of
            if total is not None and offset + n < total:
                info.append(f" · {k('page.next')} next page", style="dim")
            if offset:
                info.append(f" · {k('page.prev')} previous page", style="dim")
        if f.sort:
            info.append(" · sorted by ")
            info.append(f.sort, style="bold")
        marked = len(self.marks.get(pane, {}))
        if marked:
            info.append(f" · {marked} marked", style="bold")
        k = self.app.key_of
        info.append(f"   {k('filter.mine')} mine · {k('filter.unclaimed')} unclaimed · {k('filter.product')} product"
                    f" · {k('filter.clear')} all", style="dim")
        self.query_one("#paneinfo", Static).update(info)
