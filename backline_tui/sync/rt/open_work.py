"""The first sync of a kind, open work first: its open tickets (RT's ``Status = '__Active__'``)
with their current fields only, paged and in parallel, before any thread history. Their records
say so (``Batch.history = False``: the replica marks them until their history lands), and the
fields read here serve the history backfill that follows in the same sync while the ticket has no
newer transaction. Mixed into RTConnector through RTPull."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Iterator

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

    def _open_pages(self, kinds: list[str]) -> list[tuple[str, Future, Future]]:
        """Per kind: how many tickets it holds upstream (the backfill's size) and its open
        tickets' pages, asked for now (ahead of anything else in the pool's queue)."""
        out = []
        for kind in kinds:
            sql = ticket_sql(self.mapping[kind])
            total = self._parallel.submit(self._count, sql)
            items = self._reader.submit(self._all_pages, "GET", "/tickets", {
                "query": f"({sql}) AND Status = '__Active__'", "fields": TICKET_FIELDS, "per_page": OPEN_PAGE})
            out.append((kind, total, items))
        return out

    def _pull_open(self, pages: list[tuple[str, Future, Future]], known: dict[int, dict],
                   top: int) -> Iterator[Batch]:
        """One batch per kind, its open records without history, then word that the open work
        of every kind has landed (the UI refreshes its panes then). A kind RT refuses to search
        (a mapping's TicketSQL it cannot read) is left to its backfill, which says why, after the
        other kinds are done: one kind's mistake does not hold up the others."""
        for kind, total, items in pages:
            try:
                tickets = items.result()
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
