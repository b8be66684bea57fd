"""The pane screen: help queue, stale cases, sustaining bugs, KB review (and insights).

Each pane shows one page (PAGE rows) read from SQLite in a worker: a pane over a million
records opens as fast as over a hundred, and nothing blocks the event loop."""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static

from backline_tui import log
from backline_tui.screens.actions import ACTION_BINDINGS, COMPOSING, PANE_BINDINGS, RECORD_ACTIONS, RecordActions
from backline_tui.text import one_line
from backline_tui.widgets.format import fit_columns, page_cells
from backline_tui.widgets.keybar import KeyBar
from backline_tui.widgets.rowlist import RowList
from backline_tui.widgets.status import PaneBar, StatusLine
from backline_tui.workbench import PAGE, PaneFilter

if TYPE_CHECKING:
    from textual.widgets import Input

PANES = ("help", "stale", "bugs", "kb")
TITLES = {"help": "Help queue", "stale": "Stale cases", "bugs": "Sustaining bugs", "kb": "KB review",
          "insights": "Insights"}
NOUN = {"help": "open help requests", "stale": "stale cases", "bugs": "open bugs", "kb": "articles to review"}


class PaneTable(RowList):
    """A page of a pane, drawn a screen line at a time. Cells are rich Text made by
    widgets.format: never markup."""


class MainScreen(RecordActions, Screen):
    BINDINGS = [
        *PANE_BINDINGS,
        Binding("j", "cursor(1)", "Down", id="cursor.down", show=False),
        Binding("k", "cursor(-1)", "Up", id="cursor.up", show=False),
        Binding("enter", "open", "Open", id="open"),
        Binding("escape", "escape", "Back", id="back", show=False),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("M", "toggle('mine')", "Mine", id="filter.mine", show=False),
        Binding("F", "toggle('unclaimed')", "Unclaimed", id="filter.unclaimed", show=False),
        Binding("P", "product", "Product", id="filter.product", show=False),
        Binding("0", "clear_filters", "All", id="filter.clear", show=False),
        Binding("g", "top", "Top", id="nav.top", show=False),
        Binding("G", "bottom", "Bottom", id="nav.bottom", show=False),
        Binding("ctrl+d", "half(1)", "Half page down", id="nav.half_down", show=False),
        Binding("ctrl+u", "half(-1)", "Half page up", id="nav.half_up", show=False),
        Binding("s", "sort", "Sort", id="sort", show=False),
        Binding("space", "mark", "Mark", id="mark", show=False),
        Binding("A", "mark_all", "Mark all shown", id="mark.all", show=False),
        Binding("X", "clear_marks", "Clear marks", id="mark.clear", show=False),
        Binding("right_square_bracket", "page(1)", "Next page", id="page.next", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="page.prev", show=False),
        *ACTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pane = "help"
        self.filters: dict[str, PaneFilter] = {p: PaneFilter() for p in PANES}
        self.offsets: dict[str, int] = {p: 0 for p in PANES}
        self.cursor_ref: dict[str, str | None] = {p: None for p in PANES}
        self.rows: list[dict] = []
        self.rows_pane: str | None = None
        self.totals: dict[str, int | None] = {p: None for p in PANES}
        self.counts: dict[str, int | None] = {p: None for p in PANES}
        self.empty_db: bool | None = None
        self.loaded = False
        self._keys_for: tuple | None = None  # what the footer's keys were last worked out for
        self._warmed = False
        self._suspended = False
        self._filter: Input | None = None
        self._cursor_after_load: int | None = None  # row for the next page shown (-1: its last)
        self.marks: dict[str, dict[str, None]] = {p: {} for p in PANES}  # refs marked, in order
        self._columns_for: tuple | None = None  # (pane, width) the columns were fitted to

    def compose(self) -> ComposeResult:
        yield PaneBar(id="panebar")
        yield Static(id="paneinfo")
        with ContentSwitcher(initial="table", id="switch"):
            yield PaneTable(id="table")
            yield Static(id="empty")
            yield Container(id="insights")
        yield StatusLine()
        yield KeyBar()

    # how often the times on screen (OLA countdown, idle, target) are worked out again: from the
    # rows in memory, without a query; they show minutes, so twice a minute is always in time
    TICK_SECONDS = 30.0

    def on_mount(self) -> None:
        self.set_interval(self.TICK_SECONDS, self._tick, name="countdown")
        self._show_bar()
        self.query_one("#paneinfo", Static).update(Text(f"{TITLES[self.pane]} · loading…", style="bold"))
        self.query_one(PaneTable).focus()
        self.reload()

    def on_screen_suspend(self) -> None:
        self._suspended = True

    def on_screen_resume(self) -> None:
        self._keep_focus_visible()
        # back from a detail or compose screen: what was done there shows in the list
        if self.loaded and self._suspended:
            self._suspended = False
            self.reload()

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        self.run_worker(self._load, group="pane", exclusive=True)

    async def _load(self) -> None:
        try:
            await self._load_page()
        except Exception as exc:  # noqa: BLE001 — a locked or broken database must not end the app
            self.app.say(self.app.internal("could not read the database", exc), severity="error", timeout=10)

    async def _load_page(self) -> None:
        app = self.app
        wb = app.workbench
        if self.empty_db is None or self.empty_db:
            self.empty_db = await app.call_db(wb.is_empty)
            if self.empty_db:
                self._show_empty_db()
                self.loaded = True
                await self._drawn()
                self.app.settle_heap()
                await app.ensure_config()
                return
        pane = self.pane
        if pane == "insights":
            self.counts = await app.call_db(wb.counts)
            self._show_bar()
            self.loaded = True
            return
        f = self.filters[pane]
        offset = self.offsets[pane]
        rows = await app.call_db(app.pane_page, pane, f, offset, PAGE)
        if not rows and offset:
            self.offsets[pane] = offset = 0
            rows = await app.call_db(app.pane_page, pane, f, 0, PAGE)
        # the cells (sanitised, styled Text) are built off the event loop too
        width = self._list_width()
        row_cells, lines = await app.call_db(page_cells, pane, rows, width)
        self._show_rows(pane, rows, row_cells, lines)
        await self._after_page(pane)

    async def _after_page(self, pane: str) -> None:
        """What depends on a page shown: the warm-up and the config (once, after the first page
        is drawn), the pane's total and every pane's count."""
        app, wb, f = self.app, self.app.workbench, self.filters[pane]
        self.loaded = True
        if not self._warmed:
            await self._drawn()  # the first page is on screen: now what can wait
            self._warm_up()
        if not app.config_applied:
            # the config is validated once the first page is drawn (the models take ~100 ms
            # to build); if it changed the OLA targets, the page is read again
            if await app.ensure_config():
                await self._load_page()
                return
        self.totals[pane] = await app.call_db(app.pane_total, pane, f)
        self._show_info()
        self.counts = await app.call_db(wb.counts)
        self._show_bar()

    async def _drawn(self) -> None:
        drawn = asyncio.Event()
        self.call_after_refresh(drawn.set)
        await drawn.wait()

    def _show_bar(self) -> None:
        self.query_one(PaneBar).show(self.pane, self.counts)

    def _show_empty_db(self) -> None:
        from backline_tui.config_file import default_config_path

        wb = self.app.workbench
        text = Text()
        text.append("Nothing here yet: this database holds no help requests, cases, bugs or articles.\n\n",
                    style="bold")
        text.append(f"To look around with made-up data, quit ({self.app.key_of('quit')}) and run:\n\n")
        text.append(f"    backline --db {one_line(str(wb.replica.path), 200)} demo\n\n", style="bold")
        text.append("To work on real data, add a source to the config file\n")
        text.append(f"    {one_line(str(default_config_path()), 200)}\n", style="bold")
        text.append("for example\n\n")
        text.append('    [[sources]]\n    name = "rt"\n    kind = "rt"\n    url = "https://rt.example.com"\n'
                    '    user = "me"\n    password_env = "RT_PASSWORD"\n\n', style="green4")
        k = self.app.key_of
        text.append(f"then press {k('sync')} to sync (or run `backline sync`), or import a file with "
                    "`backline import FILE`.\n\n")
        text.append(f"{k('help')} lists every key · {k('quit')} quits", style="dim")
        self.query_one("#empty", Static).update(text)
        self.query_one(ContentSwitcher).current = "empty"
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

    def _warm_up(self) -> None:
        """After the first page is on screen, import what the first detail, dialog and the
        insights pane need in a thread, so opening them does not stall the event loop on imports."""
        if self._warmed:
            return
        self._warmed = True
        self.call_after_refresh(self._prepare_filter_field)
        self.app.settle_heap()
        self.run_worker(self._warm_up_imports, thread=True, group="warm-up", exit_on_error=False)

    def _warm_up_imports(self) -> None:
        _import_later()
        self.app.settle_heap()  # gc.freeze is safe from any thread

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

    # ------------------------------------------------------------------ the selected row

    def _current_ref(self) -> str | None:
        rec = self.target()
        return rec["ref"] if rec else None

    def target(self) -> dict | None:
        if self.pane == "insights" or self.rows_pane != self.pane or not self.rows:
            return None
        if self.query_one(ContentSwitcher).current != "table":
            return None
        row = self.query_one(PaneTable).cursor_row
        if 0 <= row < len(self.rows):
            return self.rows[row]
        return None

    def on_row_list_row_highlighted(self, event: RowList.RowHighlighted) -> None:
        rec = self.target()
        if rec is not None:
            self.cursor_ref[self.pane] = rec["ref"]
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """The keys that apply depend only on the kind of record selected (and the pane): rebuild
        the footer when that changes, not on every cursor move (a rebuild costs ~10 ms of
        layout, the main stall when scrolling a pane)."""
        rec = self.target()
        refused = frozenset(a for a in RECORD_ACTIONS if rec is not None and self.refusal(a, rec, owners=False))
        key = (self.pane, rec.get("kind") if rec else None, self.empty_db, refused)
        if key != self._keys_for:
            self._keys_for = key
            self.refresh_bindings()

    def on_row_list_row_selected(self, event: RowList.RowSelected) -> None:
        self.action_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle", "product", "clear_filters", "filter", "page", "open", "top", "bottom", "half",
                      "mark", "mark_all", "clear_marks", "sort"):
            if self.pane == "insights" or self.empty_db:
                return False
        return self.check_record_action(action)

    # ------------------------------------------------------------------ keys

    def action_pane(self, name: str) -> None:
        if self.empty_db:
            self.app.say("the database is empty: run `backline demo` or configure a source")
            return
        if name == self.pane:
            return
        if self.pane in PANES and self.rows_pane == self.pane:
            self.cursor_ref[self.pane] = self._current_ref()
        self.pane = name
        switcher = self.query_one(ContentSwitcher)
        filt = self._filter_field()
        filt.display = False
        if name == "insights":
            switcher.current = "insights"
            self._mount_insights()
        else:
            filt.value = self.filters[name].text or ""
            if self.rows_pane != name:
                self.query_one(PaneTable).clear(columns=True)
                self.rows, self.rows_pane = [], None
            switcher.current = "table"
            self.query_one(PaneTable).focus()
        self._show_bar()
        self._show_info()
        self._refresh_keys()
        self.reload()

    def _mount_insights(self) -> None:
        box = self.query_one("#insights", Container)
        if box.children:
            return
        from backline_tui.widgets.insights import InsightsPane

        try:
            box.mount(InsightsPane(self.app.workbench))
        except Exception as exc:  # noqa: BLE001 — a broken section must not take the app down
            box.mount(Static(Text(one_line(self.app.internal("Insights could not start", exc), 300))))

    def action_cursor(self, step: int) -> None:
        """j/k; past the last row of a page the next page, before the first the previous one."""
        table = self.query_one(PaneTable)
        pane, rows = self.pane, table.row_count
        if pane in PANES and self.rows_pane == pane and rows:
            total, offset = self.totals.get(pane), self.offsets[pane]
            if step > 0 and table.cursor_row == rows - 1 and total is not None and offset + rows < total:
                self._go(offset + PAGE, 0)
                return
            if step < 0 and table.cursor_row == 0 and offset > 0:
                self._go(max(offset - PAGE, 0), -1)
                return
        if step > 0:
            table.action_cursor_down()
        else:
            table.action_cursor_up()

    def _go(self, offset: int, row: int) -> None:
        """Show the page at `offset` of this pane with the cursor on `row` (-1: the last)."""
        pane = self.pane
        if offset == self.offsets[pane] and self.rows_pane == pane:
            table = self.query_one(PaneTable)
            table.move_cursor(row if row >= 0 else table.row_count - 1)
            return
        self.offsets[pane] = offset
        self.cursor_ref[pane] = None
        self._cursor_after_load = row
        self.reload()

    # ------------------------------------------------------------------ marks (k9s-style)

    def marked_refs(self) -> list[str]:
        return list(self.marks.get(self.pane, {})) if self.pane in PANES else []

    def after_bulk(self) -> None:
        self.action_clear_marks(quiet=True)

    def _show_marks(self) -> None:
        marks = self.marks.get(self.pane, {})
        if self.rows_pane == self.pane:
            self.query_one(PaneTable).set_marked({i for i, r in enumerate(self.rows) if r["ref"] in marks})
        self._show_info()

    def action_mark(self) -> None:
        """space: mark the row for a bulk action (or unmark it), then go to the next one."""
        rec = self.target()
        if rec is None:
            return
        marks = self.marks[self.pane]
        if rec["ref"] in marks:
            del marks[rec["ref"]]
        else:
            marks[rec["ref"]] = None
        self._show_marks()
        self.query_one(PaneTable).action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark every row shown (this page)."""
        if self.rows_pane != self.pane:
            return
        self.marks[self.pane].update(dict.fromkeys(r["ref"] for r in self.rows))
        self._show_marks()

    def action_clear_marks(self, quiet: bool = False) -> None:
        if self.pane in PANES:
            had = len(self.marks[self.pane])
            self.marks[self.pane] = {}
            self._show_marks()
            if had and not quiet:
                self.app.say(f"{had} mark{'s' if had != 1 else ''} cleared")

    def action_sort(self) -> None:
        """s: sort by the next column (then back to the pane's own order); shown in the header."""
        cols = self.app.workbench.sort_columns(self.pane)
        current = self.filters[self.pane].sort
        nxt = cols[0] if current is None else (cols[cols.index(current) + 1] if cols.index(current) + 1 < len(cols) else None)
        self._set_filter(sort=nxt)
        self.app.say(f"{TITLES[self.pane]}: sorted by {nxt}" if nxt else f"{TITLES[self.pane]}: its own order")

    def action_top(self) -> None:
        """g: the first row of the whole list, not just of this page."""
        self._go(0, 0)

    def action_bottom(self) -> None:
        """G: the last row of the whole list."""
        total = self.totals.get(self.pane)
        if total is None:
            self.app.say("still counting the rows; try again in a moment")
            return
        self._go(max(total - 1, 0) // PAGE * PAGE, -1)

    def action_half(self, step: int) -> None:
        """ctrl+d / ctrl+u: half a screen down or up."""
        table = self.query_one(PaneTable)
        half = max(1, (table.scrollable_content_region.height - 1) // 2)
        table.move_cursor(table.cursor_row + step * half)

    def action_open(self) -> None:
        rec = self.target()
        if rec is not None:
            self.app.open_record(rec["kind"], rec["ref"])

    def action_escape(self) -> None:
        filt = self._filter_field()
        if filt.display or self.filters.get(self.pane, PaneFilter()).text:
            filt.value = ""
            filt.display = False
            self._set_filter(text=None)
            self.query_one(PaneTable).focus()

    def _keep_focus_visible(self) -> None:
        """Focus never stays in a field the user cannot see (the hidden filter would take the
        keys meant as commands, q among them) nor nowhere: the list takes it."""
        focused = self.focused
        if focused is None or (focused is self._filter and not self._filter.display):
            if self.pane in PANES:
                self.query_one(PaneTable).focus()
            elif focused is not None:
                self.set_focus(None)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if self._filter is not None and event.widget is self._filter and not self._filter.display:
            self.call_later(self._keep_focus_visible)

    def _prepare_filter_field(self) -> None:
        if self.is_mounted and self.is_attached and self.app.return_code is None:  # not while quitting
            self._filter_field()

    def _filter_field(self) -> Input:
        """The text filter's field, mounted the first time it is needed (or after the first
        page is drawn): it is not part of the first frame."""
        if self._filter is None:
            from textual.widgets import Input

            self._filter = Input(placeholder="filter: type to narrow this pane · enter keeps it · esc clears it",
                                 id="filter")
            self._filter.display = False
            self.mount(self._filter, before=self.query_one("#switch"))
        return self._filter

    def action_filter(self) -> None:
        filt = self._filter_field()
        filt.display = True
        # focus now, not after the next refresh: keys typed right after / must land in the field
        self.set_focus(filt)

    def on_key(self, event: events.Key) -> None:
        # Keys typed right after / were already routed to the table before the field took
        # focus; they bubble here. Put them in the field rather than run them as commands.
        if self.swallow_key(event):
            return
        filt = self._filter
        if self.focused is not filt and self.run_key_now(event, COMPOSING | {"filter"}):
            return
        if filt is not None and self.focused is filt and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            filt.insert_text_at_cursor(event.character)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and self.pane in PANES:
            # one query when typing pauses, not one per key (exclusive: a new key cancels the wait)
            self.run_worker(partial(self._filter_after_pause, self.pane, event.value.strip() or None),
                            group="filter", exclusive=True)

    async def _filter_after_pause(self, pane: str, text: str | None) -> None:
        await asyncio.sleep(FILTER_PAUSE)
        if pane == self.pane and text != self.filters[pane].text:
            self._set_filter(text=text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value.strip():
                event.input.display = False
            self.query_one(PaneTable).focus()

    def _set_filter(self, **changes) -> None:
        if self.pane not in PANES:
            return
        self.filters[self.pane] = replace(self.filters[self.pane], **changes)
        self.offsets[self.pane] = 0
        self.totals[self.pane] = None
        self._show_info()
        self.reload()

    def action_toggle(self, which: str) -> None:
        f = self.filters[self.pane]
        value = not getattr(f, which)
        changes = {which: value}
        if value:  # mine and unclaimed exclude each other
            changes["unclaimed" if which == "mine" else "mine"] = False
        self._set_filter(**changes)
        self.app.say(f"{TITLES[self.pane]}: " + (self.filters[self.pane].describe() or "all"))

    def action_clear_filters(self) -> None:
        filt = self._filter_field()
        filt.value = ""
        filt.display = False
        self.filters[self.pane] = PaneFilter()
        self._set_filter()

    def action_product(self) -> None:
        self.run_worker(self._pick_product(), group="action")

    async def _pick_product(self) -> None:
        from backline_tui.screens.dialogs import ChoiceScreen

        products = await self.app.call_db(self.app.workbench.products)
        choices = [("", "all products")] + [(p, p) for p in products]

        def chosen(value: str | None) -> None:
            if value is not None:
                self._set_filter(product=value or None)

        self.app.push_screen(ChoiceScreen("Show one product", choices, self.filters[self.pane].product or ""), chosen)

    def action_page(self, step: int) -> None:
        pane = self.pane
        total = self.totals.get(pane)
        offset = self.offsets[pane] + step * PAGE
        if offset < 0:
            self.app.say("this is the first page")
            return
        if total is not None and offset >= total:
            self.app.say("this is the last page")
            return
        self.offsets[pane] = offset
        self.cursor_ref[pane] = None
        self.query_one(PaneTable).move_cursor(row=0)
        self.reload()


FILTER_PAUSE = 0.15  # seconds of no typing before the text filter runs

WARM_UP_MODULES = ("backline_tui.screens.detail", "backline_tui.screens.dialogs", "backline_tui.screens.compose",
                   "textual.widgets._markdown", "backline_tui.widgets.insights")


def _import_later() -> None:
    for name in WARM_UP_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 — warm-up only: the real import later says what is wrong
            log.get(__name__).warning("warm-up import of %s failed", name, exc_info=True)
