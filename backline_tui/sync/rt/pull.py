"""Pulling RT into records: the transaction feed, each ticket's history, its text attachments
and its fields, and the articles of the mapped class. Mixed into RTConnector (connector.py),
which provides client, name, mapping, stream, _cursor, class_id and _source_errors; the records
are made by RTRecords (records.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from backline_tui.sync.base import Batch, valid_records
from backline_tui.sync.rt.mapping import html_to_text, ticket_sql
from backline_tui.sync.rt.records import MESSAGE_TYPES, OFFER_SUBJECT, RTRecords

__all__ = ["RTPull", "OFFER_SUBJECT", "WORKERS", "TICKET_FIELDS", "ARTICLE_FIELDS"]

CHUNK = 100
PARALLEL_CHUNK = 25  # records per request when several requests run at once
WORKERS = 4  # concurrent requests to RT (the standalone server runs 4 workers by default)
TXN_FIELDS = "Type,ObjectId,Field,OldValue,NewValue,Created,Creator"
ATT_FIELDS = "TransactionId,ContentType,Subject,Content,Created,Creator"
TICKET_FIELDS = ("Subject,Status,Owner,Creator,Created,LastUpdated,Due,Resolved,Requestor,Priority,Starts,Started,Told,"
                 "CustomFields,_hyperlinks")
ARTICLE_FIELDS = "Name,Summary,Class,Created,LastUpdated,Creator,LastUpdatedBy,Disabled,CustomFields"


class RTPull(RTRecords):
    def pull(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        # order matters: cases link bugs, articles link cases, help requests link cases and
        # articles (a case's link to an article pulled later is written at the end of the sync)
        with self._source_errors():
            kinds = [k for k in ("bug", "case", "help_request") if k in self.mapping]
            starts = {k: self._cursor(k, cursors) for k in kinds}
            feed = list(self.client.transactions(
                f"ObjectType = 'RT::Ticket' AND id > {min(starts.values())}", fields=TXN_FIELDS)) if kinds else []
            for kind in kinds:
                if kind == "help_request" and "article" in self.mapping:
                    yield from self._pull_articles(cursors)
                yield from self._pull_tickets(kind, starts[kind], feed)
            if "article" in self.mapping and "help_request" not in self.mapping:
                yield from self._pull_articles(cursors)

    def _pull_tickets(self, kind: str, cursor: int, feed: list[dict]) -> Iterator[Batch]:
        stream = self.stream(kind)
        mine = [t for t in feed if int(t["id"]) > cursor]
        if not mine:
            return
        last_txn: dict[int, int] = {}
        history: dict[int, list[dict]] = defaultdict(list)
        for t in mine:
            tid, txn = int(t["ObjectId"]), int(t["id"])
            last_txn[tid] = max(last_txn.get(tid, 0), txn)
            history[tid].append(t)
        ordered = sorted(last_txn, key=last_txn.get)
        links = kind == "case" and self.mapping["case"].field("bugs") is not None
        for i in range(0, len(ordered), CHUNK):
            chunk = ordered[i : i + CHUNK]
            matched: set[int] = set()
            records = self._tickets(kind, chunk, history if cursor == 0 else None, matched)
            # a ticket with news that is no longer of this kind (moved to another queue, no longer
            # matching the query, merged into another ticket) leaves the kind's pane
            gone = [(kind, f"RT#{t}") for t in chunk if t not in matched] if cursor else []
            yield Batch(stream, records, str(last_txn[chunk[-1]]), gone=gone, links_complete=links)
        top = max(int(t["id"]) for t in mine)
        if top > last_txn[ordered[-1]]:
            yield Batch(stream, [], str(top))

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
        parts = [ids[i : i + PARALLEL_CHUNK] for i in range(0, len(ids), PARALLEL_CHUNK)]
        return [t for part in self._parallel.map(
            lambda part: list(self.client.search_tickets(
                " OR ".join(f"id = {t}" for t in part), fields=fields, per_page=100)), parts)
            for t in part]

    def _tickets(self, kind: str, ids: list[int], history: dict[int, list[dict]] | None,
                 matched: set[int] | None = None) -> list[dict[str, Any]]:
        """The records of those of ``ids`` that are of ``kind`` (their ids go into ``matched``)."""
        ids = self.of_kind(kind, ids) if ids else []
        if matched is not None:
            matched.update(ids)
        if not ids:
            return []
        if history is None or any(t.get("Field") == "MergedInto" for tid in ids for t in history.get(tid, [])):
            history = self._histories(ids)
        txn_ids = [int(t["id"]) for tid in ids for t in history.get(tid, []) if t.get("Type") in MESSAGE_TYPES]
        texts_future = self._parallel.submit(self._attachments, txn_ids)
        tickets = self.search(ids)
        texts = texts_future.result()
        records: list[dict[str, Any]] = []
        for ticket in tickets:
            tid = int(ticket["id"])
            txns = sorted(history.get(tid, []), key=lambda t: int(t["id"]))
            if not txns:
                continue
            records += getattr(self, f"_map_{kind}")(ticket, txns, texts)
        return valid_records(records)

    # articles

    def _pull_articles(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        stream = self.stream("article")
        cursor = self._cursor("article", cursors)
        feed = list(self.client.transactions(f"ObjectType = 'RT::Article' AND id > {cursor}",
                                             fields="Type,ObjectId,Created"))
        if not feed:
            return
        last_txn: dict[int, int] = {}
        for t in feed:
            aid = int(t["ObjectId"])
            last_txn[aid] = max(last_txn.get(aid, 0), int(t["id"]))
        ordered = sorted(last_txn, key=last_txn.get)
        for i in range(0, len(ordered), CHUNK):
            chunk = ordered[i : i + CHUNK]
            parts = [chunk[j : j + PARALLEL_CHUNK] for j in range(0, len(chunk), PARALLEL_CHUNK)]
            items = [a for part in self._parallel.map(self._articles_by_id, parts) for a in part]
            records = [r for a in items if str((a.get("Class") or {}).get("id")) == str(self.class_id)
                       for r in self._map_article(a, str(last_txn[int(a["id"])]))]
            yield Batch(stream, valid_records(records), str(last_txn[chunk[-1]]))
        top = max(int(t["id"]) for t in feed)
        if top > last_txn[ordered[-1]]:
            yield Batch(stream, [], str(top))

    def _articles_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        query = [{"field": "id", "operator": "=", "value": a, "entry_aggregator": "OR"} for a in ids]
        return list(self.client._paged("POST", "/articles", {"fields": ARTICLE_FIELDS, "per_page": 100},
                                       json_body=query))

    def _fresh_article(self, aid: int) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
        art, etag = self.client.get_article(aid)
        etag = (etag or "").strip('"') or None
        return art, valid_records(self._map_article(art, etag)), etag
