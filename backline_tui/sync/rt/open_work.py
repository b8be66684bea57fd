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
GAP_RANGES = 40  # id ranges per search for open tickets the paging skipped (keeps the URL short)


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
                out.append((kind, total, lambda pages=pages, active=active, n=n: self._paged_open(active, pages, n)))
            elif n is None:
                whole = self._reader.submit(self._all_pages, "GET", "/tickets", params)
                out.append((kind, total, whole.result))
            else:
                out.append((kind, total, lambda exc=n: _raise(exc)))
        return out

    def _paged_open(self, active: str, pages: list[Future], n: int) -> list[dict]:
        """The open tickets the pages hold, and any the paging skipped. The pages are asked for
        at once, by offset: a ticket that leaves the open set while they are read (resolved,
        moved) shifts the rest back by one, so a ticket falls between two pages; one that joins
        it (reopened) pushes the last one past the last page. Either way fewer than the `n`
        counted come back. Then whatever is open now with an id between two pages' or past the
        last page's is searched for: one request, on this thread (the pool's queue may hold the
        whole feed by now), so only in that race is a request made beyond `concurrency`."""
        got = [f.result().get("items") or [] for f in pages]
        out: dict[int, dict] = {}  # a ticket pushed on by one comes on two pages: once here
        for ticket in (t for page in got for t in page):
            out.setdefault(int(ticket["id"]), ticket)
        ids = [[int(t["id"]) for t in page] for page in got if page]
        if len(out) >= n or not ids:
            return list(out.values())
        ranges = [f"(id > {a[-1]} AND id < {b[0]})" for a, b in zip(ids, ids[1:]) if b[0] > a[-1] + 1]
        ranges.append(f"id > {ids[-1][-1]}")
        for i in range(0, len(ranges), GAP_RANGES):
            sql = f"({active}) AND ({' OR '.join(ranges[i:i + GAP_RANGES])})"
            for ticket in self.client.search_tickets(sql, fields=TICKET_FIELDS, per_page=100):
                out.setdefault(int(ticket["id"]), ticket)
        return sorted(out.values(), key=lambda t: int(t["id"]))

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
