"""What the pane screen remembers per pane (filter, page, cursor, marks, total) and the keys
that change it: moving and paging, marks for bulk actions, the sort, and the filters (the text
filter's field is widgets/filter_bar.py). Mixed into MainScreen, which draws it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from backline_tui.widgets.rowlist import RowList
from backline_tui.workbench import PAGE, PaneFilter

if TYPE_CHECKING:
    from textual.widgets import Input

PANES = ("help", "stale", "bugs", "kb")
FILTER_PAUSE = 0.15  # seconds of no typing before the text filter runs
TITLES = {"help": "Help queue", "stale": "Stale cases", "bugs": "Sustaining bugs", "kb": "KB review",
          "insights": "Insights"}


class PaneTable(RowList):
    """A page of a pane, drawn a screen line at a time. Cells are rich Text made by
    widgets.format: never markup."""


class PaneState:
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
        self._filter: Input | None = None
        self._cursor_after_load: int | None = None  # row for the next page shown (-1: its last)
        self.marks: dict[str, dict[str, None]] = {p: {} for p in PANES}  # refs marked, in order

    # ------------------------------------------------------------------ moving and paging

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

    def action_sort(self) -> None:
        """s: sort by the next column (then back to the pane's own order); shown in the header."""
        cols = self.app.workbench.sort_columns(self.pane)
        current = self.filters[self.pane].sort
        nxt = cols[0] if current is None else (cols[cols.index(current) + 1] if cols.index(current) + 1 < len(cols) else None)
        self._set_filter(sort=nxt)
        self.app.say(f"{TITLES[self.pane]}: sorted by {nxt}" if nxt else f"{TITLES[self.pane]}: its own order")

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

    # ------------------------------------------------------------------ filters

    def action_escape(self) -> None:
        filt = self._filter_field()
        if filt.display or self.filters.get(self.pane, PaneFilter()).text:
            filt.value = ""
            filt.display = False
            self._set_filter(text=None)
            self.query_one(PaneTable).focus()

    def _prepare_filter_field(self) -> None:
        if self.is_mounted and self.is_attached and self.app.return_code is None:  # not while quitting
            self._filter_field()

    def _filter_field(self) -> Input:
        """The text filter's field, mounted the first time it is needed (or after the first
        page is drawn): it is not part of the first frame."""
        if self._filter is None:
            from backline_tui.widgets.filter_bar import FilterBar

            self._filter = FilterBar()
            self.mount(self._filter, before=self.query_one("#switch"))
        return self._filter

    def action_filter(self) -> None:
        filt = self._filter_field()
        filt.display = True
        # focus now, not after the next refresh: keys typed right after / must land in the field
        self.set_focus(filt)

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
