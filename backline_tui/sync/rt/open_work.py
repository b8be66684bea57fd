"""The first sync of a kind, open work first: its open tickets (RT's ``Status = '__Active__'``)
with their current fields only, paged and in parallel, before any thread history. Their records
say so (``Batch.history = False``: the replica marks them until their history lands), and the
fields read here serve the history backfill that follows in the same sync while the ticket has no
newer transaction. Mixed into RTConnector through RTPull."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable, Iterator

from backline_tui.sync.base import Batch, valid_records
from backline_tui.sync.rt.client import RTAuthError, RTError, RTServerError, RTUnavailable
from backline_tui.sync.rt.mapping import ticket_sql
from backline_tui.sync.rt.records import TICKET_FIELDS

#: the suffix of the stream whose cursor says a kind's open work has landed
OPEN = ":open"
OPEN_PAGE = 25  # tickets per page of the open-work search (pages run in parallel)


class OpenWork:
    client: Any
    mapping: Any
    _parallel: Any
    _reader: Any
    workers: int

    def _top_txn(self) -> int:
        """The newest ticket transaction now: a ticket with none after it still has the fields
        read from here on."""
        data = self.client._get_json("/transactions", {"query": "ObjectType = 'RT::Ticket'", "fields": "id",
                                                       "per_page": 1, "orderby": "id", "order": "DESC"}) or {}
        items = data.get("items") or []
        return int(items[0]["id"]) if items else 0

    def _count(self, sql: str) -> int | None:
        data = self.client._get_json("/tickets", {"query": sql, "fields": "id", "per_page": 1}) or {}
        return int(data["total"]) if data.get("total") is not None else None

    def _open_pages(self, kinds: list[str]) -> list[tuple[str, Future, Callable[[], list[dict]]]]:
        """Per kind: how many tickets it holds upstream (the backfill's size), and a call that
        gives its open tickets. Two light counts per kind first; then every page of every kind
        is asked for at once, ahead of anything else in the pool's queue (when RT gives no
        count, the kind's pages are read until an empty one)."""
        counts = []
        for kind in kinds:
            sql = ticket_sql(self.mapping[kind])
            active = f"({sql}) AND Status = '__Active__'"
            counts.append((kind, active, self._parallel.submit(self._count, sql), self._parallel.submit(self._count, active)))
        out = []
        for kind, active, total, opened in counts:
            params = {"query": active, "fields": TICKET_FIELDS, "per_page": OPEN_PAGE, "orderby": "id", "order": "ASC"}
            try:
                n = opened.result()
            except RTError as exc:
                n = exc  # said when the kind's turn comes
            if isinstance(n, int):
                pages = [self._parallel.submit(self._page, "GET", "/tickets", params, p) for p in range(1, -(-n // OPEN_PAGE) + 1)]
                out.append((kind, total, lambda pages=pages: [t for f in pages for t in f.result().get("items") or []]))
            elif n is None:
                whole = self._reader.submit(self._all_pages, "GET", "/tickets", params)
                out.append((kind, total, whole.result))
            else:
                out.append((kind, total, lambda exc=n: _raise(exc)))
        return out

    def _pull_open(self, pages: list[tuple[str, Future, Callable[[], list[dict]]]], known: dict[int, dict],
                   top: int) -> Iterator[Batch]:
        """One batch per kind, its open records without history, then word that the open work
        of every kind has landed (the UI refreshes its panes then). A kind RT refuses to search
        (a mapping's TicketSQL it cannot read) is left to its backfill, which says why, after the
        other kinds are done: one kind's mistake does not hold up the others."""
        for kind, total, items in pages:
            try:
                tickets = items()
                size = total.result()
            except RTError as exc:
                if isinstance(exc, (RTAuthError, RTUnavailable, RTServerError)):
                    raise
                continue
            records: list[dict[str, Any]] = []
            for ticket in tickets:
                known[int(ticket["id"])] = ticket
                records += getattr(self, f"_map_{kind}")(ticket, [], {})
            yield Batch(self.stream(kind) + OPEN, valid_records(records), str(top), kind=kind, history=False,
                        backfill_total=size)
        if pages:
            yield Batch("", [], None, milestone="open work")


def _raise(exc: BaseException) -> list[dict]:
    raise exc
