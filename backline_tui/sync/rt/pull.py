"""Pulling RT into records: the transaction feed, each ticket's history, its text attachments
and its fields, and the articles of the mapped class. Mixed into RTConnector (connector.py),
which provides client, name, mapping, stream, _cursor, class_id and _source_errors; the records
are made by RTRecords (records.py)."""

from __future__ import annotations

from collections import defaultdict, deque
from concurrent.futures import Future
from functools import partial
from typing import Any, Callable, Iterator

from backline_tui.sync.base import Batch, valid_records
from backline_tui.sync.rt.mapping import _q, _ticket_id, html_to_text, ticket_sql
from backline_tui.sync.rt.open_work import OPEN, OpenWork
from backline_tui.sync.rt.records import (
    ARTICLE_FIELDS, ATT_FIELDS, MESSAGE_TYPES, OFFER_SUBJECT, TICKET_FIELDS, TXN_FIELDS, RTRecords,
)

__all__ = ["RTPull", "OFFER_SUBJECT", "WORKERS", "LOOKAHEAD", "TICKET_FIELDS", "ARTICLE_FIELDS", "TXN_FIELDS", "ATT_FIELDS",
           "MESSAGE_TYPES"]

CHUNK = 100
PARALLEL_CHUNK = 25  # records per request when several requests run at once
WORKERS = 4  # requests to RT at once when the source says no `concurrency` (rt-server runs 4 workers by default)
LOOKAHEAD = 4  # batches being fetched while the engine writes the one before


class RTPull(OpenWork, RTRecords):
    def pull(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        """Changes since the cursors. On the first sync of a kind (no cursor) its open records
        come first with their current fields (open_work.py), then the articles, then every
        record with its thread history as a backfill whose cursor is the kind's own stream (a
        sync stopped half-way resumes there). Otherwise, as ever: bugs, cases, articles, help
        requests (cases link bugs, articles link cases, help requests link cases and articles;
        a link to a record pulled later is written at the end of the sync)."""
        with self._source_errors():
            kinds = [k for k in ("bug", "case", "help_request") if k in self.mapping]
            starts = {k: self._cursor(k, cursors) for k in kinds}
            opening = [k for k in kinds if not starts[k] and cursors.get(self.stream(k) + OPEN) is None]
            known: dict[int, dict] = {}  # ticket fields read by the open-work phase, current up to `top`
            # the newest ticket transaction before anything is read: fields read from here on are
            # current up to it, and a queue's own feed read from here on holds all of that queue's
            # transactions up to it (the queue's cursor goes there, past other queues' news)
            first_queues = any(not starts[k] and self.mapping[k].queue for k in kinds)
            top = self._top_txn() if opening or first_queues else 0
            pages = self._open_pages(opening)  # asked for first: ahead of the feed in the pool's queue
            feeds = self._feeds(kinds, starts)
            yield from self._pull_open(pages, known, top)

            def jobs() -> Iterator[Callable[[], Batch]]:
                articles = "article" in self.mapping
                if articles and any(not starts[k] for k in kinds):  # a first sync: articles before history
                    yield from self._article_jobs(cursors)
                    articles = False
                for kind in kinds:
                    if kind == "help_request" and articles:
                        yield from self._article_jobs(cursors)
                        articles = False
                    feed, exact = feeds[kind]
                    yield from self._ticket_jobs(kind, starts[kind], feed, exact, known, top)
                if articles:
                    yield from self._article_jobs(cursors)

            yield from self._ahead(jobs())

    def _feeds(self, kinds: list[str], starts: dict[str, int]) -> dict[str, tuple[Future, bool]]:
        """Each kind's transaction feed, read in the background (pages 4 at a time). A kind read
        from the start that is mapped by queue has its own feed (its queue's tickets only: no
        per-batch search for which tickets are of the kind); the others share one from the
        lowest cursor."""
        out: dict[str, tuple[Future, bool]] = {}
        shared = [k for k in kinds if starts[k] or not self.mapping[k].queue]
        if shared:
            low = min(starts[k] for k in shared)
            feed = self._reader.submit(self._all_pages, "GET", "/transactions", {
                "query": f"ObjectType = 'RT::Ticket' AND id > {low}", "fields": TXN_FIELDS})
            out.update({k: (feed, False) for k in shared})
        for k in kinds:
            if k not in out:
                queue = _q(self.mapping[k].queue)
                out[k] = (self._reader.submit(self._all_pages, "GET", "/transactions", {
                    "query": f"ObjectType = 'RT::Ticket' AND TicketQueue = '{queue}' AND id > 0",
                    "fields": TXN_FIELDS}), True)
        return out

    def _page(self, method: str, path: str, params: dict[str, Any], page: int, body: Any = None) -> dict[str, Any]:
        response = self.client._request(method, path, params={**params, "page": page}, json_body=body)
        return self.client._json(response, method, path) or {}  # an HTML page in place of RT: RTUnavailable

    def _all_pages(self, method: str, path: str, params: dict[str, Any], body: Any = None) -> list[dict[str, Any]]:
        """Every item of a collection in id order, pages asked for `workers` at a time: all at once
        when RT says how many there are, else until one comes back empty (RT gives a non-superuser
        no page count on transactions)."""
        params = {"per_page": 100, "orderby": "id", "order": "ASC", **params}
        first = self._parallel.submit(self._page, method, path, params, 1, body).result()  # within `workers`
        items = list(first.get("items") or [])
        if not items:
            return items
        if first.get("pages") is not None:
            rest = [self._parallel.submit(self._page, method, path, params, p, body)
                    for p in range(2, int(first["pages"]) + 1)]
            for f in rest:
                items += f.result().get("items") or []
            return items
        page = 2
        while True:
            got = [self._parallel.submit(self._page, method, path, params, p, body)
                   for p in range(page, page + self.workers)]
            batch = [f.result().get("items") or [] for f in got]
            for b in batch:
                items += b
            if any(not b for b in batch):
                return items
            page += self.workers

    def _ticket_jobs(self, kind: str, cursor: int, feed: Future, exact: bool,
                     known: dict[int, dict], top: int) -> Iterator[Callable[[], Batch]]:
        """The batches of a kind's tickets with news after ``cursor``, as jobs: CHUNK tickets at a
        time in the order of their latest transaction (the cursor after each batch); the last
        says the kind's history is complete."""
        stream = self.stream(kind)
        mine = [t for t in feed.result() if int(t["id"]) > cursor]
        last_txn: dict[int, int] = {}
        history: dict[int, list[dict]] = defaultdict(list)
        for t in mine:
            tid, txn = int(t["ObjectId"]), int(t["id"])
            last_txn[tid] = max(last_txn.get(tid, 0), txn)
            history[tid].append(t)
        ordered = sorted(last_txn, key=last_txn.get)
        links = kind == "case" and self.mapping["case"].field("bugs") is not None
        # fields read by the open-work phase serve while the ticket has no transaction after it
        fresh = {tid: known[tid] for tid in ordered if tid in known and last_txn[tid] <= top}

        def fetch(chunk: list[int]) -> Batch:
            matched: set[int] = set()
            records = self._tickets(kind, chunk, history if cursor == 0 else None, matched,
                                    exact=exact and cursor == 0, known=fresh)
            # a ticket with news that is no longer of this kind (moved to another queue, no longer
            # matching the query, merged into another ticket) leaves the kind's pane
            gone = [(kind, f"RT#{t}") for t in chunk if t not in matched] if cursor else []
            return Batch(stream, records, str(last_txn[chunk[-1]]), gone=gone, links_complete=links)

        for i in range(0, len(ordered), CHUNK):
            yield partial(fetch, ordered[i : i + CHUNK])
        end = max([cursor, *(int(t["id"]) for t in mine), *([top] if exact and cursor == 0 else [])])
        # a queue's feed from the start names every ticket in the queue now (and open work read
        # this sync may be newer): a ticket the replica holds that is in neither left the queue,
        # e.g. while a first sync cut after its open work waited to resume
        present = [f"RT#{t}" for t in sorted(set(last_txn) | set(known))] if exact and cursor == 0 else None
        yield lambda: Batch(stream, [], str(end) if end else None, kind=kind, history_complete=True, present=present)

    def _pull_tickets(self, kind: str, cursor: int, feed: list[dict], exact: bool,
                      known: dict[int, dict], top: int) -> Iterator[Batch]:
        """The batches of _ticket_jobs from a feed already read, fetched ahead."""
        done: Future = Future()
        done.set_result(feed)
        return self._ahead(self._ticket_jobs(kind, cursor, done, exact, known, top))

    def _ahead(self, jobs: Iterator[Callable[[], Batch]]) -> Iterator[Batch]:
        """Each job's batch in order, up to LOOKAHEAD jobs running while the engine writes the
        batch before: the requests of batch N+1.. overlap the write of batch N, across kinds."""
        pending: deque[Future] = deque()
        try:
            for job in jobs:
                pending.append(self._batcher.submit(job))
                if len(pending) >= LOOKAHEAD:
                    break
            while pending:
                batch = pending.popleft().result()
                job = next(jobs, None)
                if job is not None:
                    pending.append(self._batcher.submit(job))
                yield batch
        finally:
            for f in pending:  # a sync stopped half-way: what is queued is not asked for
                f.cancel()

    def pull_record(self, kind: str, ref: str) -> Batch:
        """One ticket with its whole history now (opened before its history landed)."""
        with self._source_errors():
            return Batch("", self._tickets(kind, [_ticket_id(ref)], None), None)

    def _merged_into(self, ids: list[int]) -> dict[int, int]:
        """Tickets merged into one of ``ids``: merged ticket -> target (RT keeps their history)."""
        out: dict[int, int] = {}
        for i in range(0, len(ids), CHUNK):
            cond = " OR ".join(f"NewValue LIKE '%/ticket/{t}'" for t in ids[i : i + CHUNK])
            for t in self.client.transactions(f"ObjectType = 'RT::Ticket' AND Field = 'MergedInto' AND ({cond})",
                                              fields="ObjectId,NewValue"):
                target = str(t.get("NewValue") or "").rsplit("/", 1)[-1]
                if target.isdigit() and int(target) != int(t["ObjectId"]):
                    out[int(t["ObjectId"])] = int(target)
        return out

    def _histories(self, ids: list[int]) -> dict[int, list[dict]]:
        """Each ticket's transactions, with those of the tickets merged into it (a merge folds the
        merged ticket's messages into its target, as RT shows them)."""
        merged = self._merged_into(ids)
        out: dict[int, list[dict]] = defaultdict(list)
        wanted = ids + sorted(merged)
        for i in range(0, len(wanted), CHUNK):
            chunk = wanted[i : i + CHUNK]
            cond = " OR ".join(f"ObjectId = {t}" for t in chunk)
            for t in self.client.transactions(f"ObjectType = 'RT::Ticket' AND ({cond})", fields=TXN_FIELDS):
                tid = int(t["ObjectId"])
                out[merged.get(tid, tid)].append(t)
        return out

    def _attachments(self, txn_ids: list[int]) -> dict[int, dict]:
        """The text part of each transaction, by transaction id."""
        out: dict[int, dict] = {}
        for i in range(0, len(txn_ids), CHUNK):
            chunk = txn_ids[i : i + CHUNK]
            query = [{"field": "TransactionId", "operator": "=", "value": t, "entry_aggregator": "OR"} for t in chunk]
            query.append({"field": "ContentType", "operator": "STARTSWITH", "value": "text/"})  # no binary parts
            items = self.client._paged("POST", "/attachments",
                                       {"fields": ATT_FIELDS, "per_page": 100, "orderby": "id", "order": "ASC"},
                                       json_body=query)
            for a in items:
                txn = int(a.get("TransactionId") or 0)
                ctype = (a.get("ContentType") or "").lower()
                if not ctype.startswith("text/"):
                    continue
                have = out.get(txn)
                if have is None or (ctype == "text/plain" and (have.get("ContentType") or "").lower() != "text/plain"):
                    out[txn] = a
        for txn, a in out.items():
            if (a.get("ContentType") or "").lower().startswith("text/html"):  # an HTML-only message
                out[txn] = {**a, "Content": html_to_text(a.get("Content") or "")}
        return out

    def of_kind(self, kind: str, ids: list[int]) -> list[int]:
        """Those of the tickets ``ids`` that are of ``kind`` (match its queue or query): one light
        search (ids only) per CHUNK, so histories, texts and fields are read only for those."""
        sql = ticket_sql(self.mapping[kind])
        out: list[int] = []
        for i in range(0, len(ids), CHUNK):
            cond = " OR ".join(f"id = {t}" for t in ids[i : i + CHUNK])
            out += [int(t["id"]) for t in self.client.search_tickets(f"({sql}) AND ({cond})", fields="id", per_page=100)]
        return out

    def search(self, ids: list[int], fields: str = TICKET_FIELDS) -> list[dict[str, Any]]:
        """The tickets ``ids``, in parallel: RT spends ~15 ms per ticket serialising custom fields
        and links."""
        if not ids:
            return []
        parts = [ids[i : i + PARALLEL_CHUNK] for i in range(0, len(ids), PARALLEL_CHUNK)]
        return [t for part in self._parallel.map(
            lambda part: list(self.client.search_tickets(
                " OR ".join(f"id = {t}" for t in part), fields=fields, per_page=100)), parts)
            for t in part]

    def _tickets(self, kind: str, ids: list[int], history: dict[int, list[dict]] | None,
                 matched: set[int] | None = None, *, exact: bool = False,
                 known: dict[int, dict] | None = None) -> list[dict[str, Any]]:
        """The records of those of ``ids`` that are of ``kind`` (their ids go into ``matched``).
        ``exact``: the ids are known to be of the kind (a queue's own feed); ``known``: ticket
        fields already read and still current, by id."""
        known = known or {}
        if ids and not exact:
            ids = self._parallel.submit(self.of_kind, kind, ids).result()
        if not ids:
            return []
        if history is None or any(t.get("Field") == "MergedInto" for tid in ids for t in history.get(tid, [])):
            history = self._parallel.submit(self._histories, ids).result()
        txn_ids = [int(t["id"]) for tid in ids for t in history.get(tid, []) if t.get("Type") in MESSAGE_TYPES]
        texts_future = self._parallel.submit(self._attachments, txn_ids)
        tickets = [known[t] for t in ids if t in known] + self.search([t for t in ids if t not in known])
        texts = texts_future.result()
        if matched is not None:
            matched.update(int(t["id"]) for t in tickets)
            if not exact:
                matched.update(ids)
        records: list[dict[str, Any]] = []
        for ticket in tickets:
            tid = int(ticket["id"])
            txns = sorted(history.get(tid, []), key=lambda t: int(t["id"]))
            if not txns:
                continue
            records += getattr(self, f"_map_{kind}")(ticket, txns, texts)
        return valid_records(records)

    # articles

    def _article_jobs(self, cursors: dict[str, str | None]) -> Iterator[Callable[[], Batch]]:
        """The batches of the articles with news after their cursor, as jobs."""
        stream = self.stream("article")
        cursor = self._cursor("article", cursors)
        feed = self._all_pages("GET", "/transactions", {"query": f"ObjectType = 'RT::Article' AND id > {cursor}",
                                                        "fields": "Type,ObjectId,Created"})
        if not feed:
            return
        last_txn: dict[int, int] = {}
        for t in feed:
            aid = int(t["ObjectId"])
            last_txn[aid] = max(last_txn.get(aid, 0), int(t["id"]))
        ordered = sorted(last_txn, key=last_txn.get)

        def fetch(chunk: list[int]) -> Batch:
            parts = [chunk[j : j + PARALLEL_CHUNK] for j in range(0, len(chunk), PARALLEL_CHUNK)]
            items = [a for part in self._parallel.map(self._articles_by_id, parts) for a in part]
            records = [r for a in items if str((a.get("Class") or {}).get("id")) == str(self.class_id)
                       for r in self._map_article(a, str(last_txn[int(a["id"])]))]
            return Batch(stream, valid_records(records), str(last_txn[chunk[-1]]))

        for i in range(0, len(ordered), CHUNK):
            yield partial(fetch, ordered[i : i + CHUNK])
        top = max(int(t["id"]) for t in feed)
        if top > last_txn[ordered[-1]]:
            yield lambda: Batch(stream, [], str(top))

    def _articles_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        query = [{"field": "id", "operator": "=", "value": a, "entry_aggregator": "OR"} for a in ids]
        return list(self.client._paged("POST", "/articles", {"fields": ARTICLE_FIELDS, "per_page": 100},
                                       json_body=query))

    def _fresh_article(self, aid: int) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
        art, etag = self.client.get_article(aid)
        etag = (etag or "").strip('"') or None
        return art, valid_records(self._map_article(art, etag)), etag
