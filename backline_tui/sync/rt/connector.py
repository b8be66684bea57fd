"""The Request Tracker 5 connector, on top of client.py (REST2) and mapping.py.

Layout in RT (scripts/rt-seed.initialdata): help requests, cases and bugs are tickets in three
queues (names from the SourceConfig), their fields are ticket custom fields, case → bug is a
``RefersTo`` ticket link, a bug's resolution target is the ticket's Due date; KB articles are
RT articles of one class, with the KCS state, owner, review dates and flags (JSON text) as
article custom fields; a help request documented in an article ``RefersTo`` the article.

Refs are ``RT#<id>`` for tickets and ``KB#<id>`` for articles; ``remote_version`` is RT's ETag
(the id of the record's latest transaction). Pulls follow RT's transaction feed
(``/transactions?query=… id > N``): transaction ids only go up, so the cursor neither skips nor
counts twice, which a 1-second ``LastUpdated`` watermark cannot promise.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from backline_tui.config import Config, SourceConfig
from backline_tui.sync.base import Batch, CheckReport, PushResult, SourceError, valid_records
from backline_tui.sync.mapping import FieldMap
from backline_tui.sync.rt.knowledge import KnowledgePush
from backline_tui.sync.secrets import resolve_secret
from backline_tui.sync.rt.mapping import (
    DATE_FIELDS, LINK_FIELDS, OP_WRITES, OUR_FIELDS, _article_id, check_from, html_to_text, _ticket_id, _ts, _ts_any, _who, mapping_of, raw_values,
    read_field, ticket_ref, ticket_sql,
)
from backline_tui.sync.rt.client import (
    RTAuthError,
    RTClient,
    RTConflict,
    RTError,
    RTForbidden,
    RTNotFound,
    RTRefused,
    RTServerError,
    RTUnavailable,
    rt_datetime,
)

__all__ = ["RTConnector", "OFFER_SUBJECT"]

OFFER_SUBJECT = "Backline: offer of help"
CHUNK = 100
PARALLEL_CHUNK = 25  # records per request when several requests run at once
WORKERS = 4  # concurrent requests to RT (the standalone server runs 4 workers by default)
TXN_FIELDS = "Type,ObjectId,Field,OldValue,NewValue,Created,Creator"
ATT_FIELDS = "TransactionId,ContentType,Subject,Content,Created,Creator"
TICKET_FIELDS = ("Subject,Status,Owner,Creator,Created,LastUpdated,Due,Resolved,Requestor,Priority,Starts,Started,Told,"
                 "CustomFields,_hyperlinks")
ARTICLE_FIELDS = "Name,Summary,Class,Created,LastUpdated,Creator,LastUpdatedBy,Disabled,CustomFields"
MESSAGE_TYPES = ("Create", "Correspond", "Comment")


class RTConnector(KnowledgePush):
    def __init__(self, src: SourceConfig, config: Config) -> None:
        if not src.url:
            raise SourceError(f"source {src.name} (rt) needs a url")
        self.name = src.name
        self.src = src
        self.config = config
        self.url = src.url
        self.user = src.user or config.me
        self.mapping = mapping_of(src)
        password, token = resolve_secret(src)
        self.client = RTClient(src.url, user=self.user, password=password, token=token, timeout=src.timeout)
        self._class_id: int | None = None
        #: (kind, field) -> upstream values read that had no map entry (for `sources check`)
        self.unknown: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self._parallel = ThreadPoolExecutor(WORKERS, thread_name_prefix=f"rt-{src.name}")

    def check(self) -> CheckReport:
        """What `backline sources check` says of this source; reads RT, never writes."""
        report = CheckReport(self.name)
        _Checker(self, report).run()
        return report

    def close(self) -> None:
        self._parallel.shutdown(wait=True)
        self.client.close()

    @contextlib.contextmanager
    def _source_errors(self) -> Iterator[None]:
        try:
            yield
        except RTAuthError:
            raise SourceError(f"RT at {self.url} did not accept the credentials of {self.user} (check the password)") from None
        except RTUnavailable as exc:
            raise SourceError(exc.message, unreachable=True) from None  # it names RT and its URL, once
        except RTServerError as exc:
            raise SourceError(f"RT at {self.url} failed with HTTP {exc.status} on {exc.method} {exc.path}") from None
        except RTError as exc:  # e.g. a mapping's TicketSQL RT cannot read
            raise SourceError(f"RT at {self.url} refused {exc.method} {exc.path}: {_rt_message(exc)} "
                              f"(see: backline sources check {self.name})") from None

    @property
    def class_id(self) -> int:
        if self._class_id is None:
            name = self.mapping["article"].queue or ""
            try:
                self._class_id = self.client.class_id(name)
            except RTNotFound:
                raise SourceError(f"RT at {self.url} has no article class {name!r} (see: backline sources check {self.name})") from None
        return self._class_id

    @property
    def queues(self) -> dict[str, str]:
        """The queue of each kind mapped by queue (a kind mapped by TicketSQL has none)."""
        return {kind: km.queue for kind, km in self.mapping.items() if km.queue}

    def stream(self, kind: str) -> str:
        """The cursor's name for one mapped kind: each kind has its own, even when two read one queue."""
        km = self.mapping[kind]
        return f"{kind}:queue:{km.queue}" if km.queue else f"{kind}:query:{km.query}"

    def _cursor(self, kind: str, cursors: dict[str, str | None]) -> int:
        value = cursors.get(self.stream(kind))
        if value is None and self.mapping[kind].queue:  # a replica synced before streams were per kind
            old = f"class:{self.mapping[kind].queue}" if kind == "article" else f"queue:{self.mapping[kind].queue}"
            value = cursors.get(old)
        return int(value or 0)

    # ------------------------------------------------------------------------------ pull

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

    def reader(self, kind: str, record: dict[str, Any]):
        """get(field) -> our value of ``field`` in ``record`` through the mapping; values with no
        map entry are counted in ``self.unknown``."""
        km = self.mapping[kind]

        def get(field: str) -> Any:
            value, unknown = read_field(km, kind, field, record)
            if unknown is not None:
                self.unknown[(kind, field)][unknown] += 1
            return value

        return get

    def _refs(self, kind: str, field: str, record: dict[str, Any]) -> list[str]:
        """Ticket refs (RT#n) in a link-like field: an RT link type, or a CF holding ids or RT#n
        (several values, or one text separated by commas or spaces); then its fallback."""
        fm = self.mapping[kind].field(field)
        if fm is None:
            return []
        for name in (fm.source, fm.fallback):
            if not name:
                continue
            values = [p for v in raw_values(record, name) for p in v.replace(",", " ").split()]
            refs = [r for r in (ticket_ref(v) or self._foreign_ref(v) for v in values) if r]
            if refs:
                return refs
        return []

    def _foreign_ref(self, url: str) -> str | None:
        """``other:REF`` for a link to a record of another configured source (the URL a link
        pushed from Backline holds: see link_target)."""
        import re

        for other in self.config.sources:
            if other.name == self.name or not other.url:
                continue
            base = re.escape(other.url.rstrip("/"))
            if other.kind == "rt" and (m := re.fullmatch(base + r"/Ticket/Display\.html\?id=(\d+)", url)):
                return f"{other.name}:RT#{m[1]}"
            if other.kind == "jira" and (m := re.fullmatch(base + r"/browse/([A-Z][A-Z0-9_]*-\d+)", url)):
                return f"{other.name}:{m[1]}"
        return None

    def _common(self, ticket: dict, txns: list[dict]) -> dict[str, Any]:
        tid = int(ticket["id"])
        return {
            "ref": f"RT#{tid}", "source": self.name, "remote_id": str(tid),
            "remote_version": str(max(int(t["id"]) for t in txns)),
            "created_at": _ts(ticket.get("Created")), "updated_at": _ts(ticket.get("LastUpdated")),
        }

    @staticmethod
    def _create_text(txns: list[dict], texts: dict[int, dict]) -> str:
        for t in txns:
            if t.get("Type") == "Create":
                return (texts.get(int(t["id"])) or {}).get("Content") or ""
        return ""

    def _messages(self, parent_type: str, ticket: dict, txns: list[dict], texts: dict[int, dict],
                  kind_of) -> list[dict[str, Any]]:
        out = []
        tid = int(ticket["id"])
        for t in txns:
            if t.get("Type") not in ("Correspond", "Comment"):
                continue
            att = texts.get(int(t["id"]))
            if att is None:
                continue
            out.append({
                "type": "message", "ref": f"RT#{tid}/txn/{t['id']}", "source": self.name, "remote_id": str(t["id"]),
                "parent_type": parent_type, "parent_ref": f"RT#{tid}", "author": _who(t.get("Creator")) or "unknown",
                "body": att.get("Content") or "", "kind": kind_of(t, att), "created_at": _ts(t.get("Created")),
            })
        return out

    def _map_help_request(self, ticket: dict, txns: list[dict], texts: dict[int, dict]) -> list[dict]:
        get = self.reader("help_request", ticket)
        owner = get("owner")
        requestors = raw_values(ticket, "Requestor")
        asker = get("asker") or next(iter(requestors), None) or _who(ticket.get("Creator")) or "unknown"
        askers = set(requestors) | {asker}

        def by_asker(t: dict) -> bool:
            return (_who(t.get("Creator")) or "") in askers

        # a reply is a response only when someone other than the asker wrote it
        replies = [t for t in txns if t.get("Type") == "Correspond" and not by_asker(t)]
        if get("status") == "resolved":
            ours = "resolved"
        elif owner and any(_who(t.get("Creator")) == owner for t in replies):
            ours = "answered"
        elif owner:
            ours = "claimed"
        else:
            ours = "answered" if replies else "new"
        cases = self._refs("help_request", "case_ref", ticket)
        ref = f"RT#{ticket['id']}"
        articles = [v for v in raw_values(ticket, "RefersTo") if v.startswith("KB#")]
        rec = {
            "type": "help_request", **self._common(ticket, txns), "subject": ticket.get("Subject") or "",
            "body": self._create_text(txns, texts), "asker": asker, "case_ref": cases[0] if cases else None,
            "product": get("product") or "", "component": get("component") or "",
            "priority": get("priority"), "status": ours, "owner": owner,
            "first_response_at": _ts(replies[0].get("Created")) if replies else None,
            "resolved_at": _ts(ticket.get("Resolved")) if ours == "resolved" else None,
            "article_ref": articles[0] if articles else None,
        }
        out = [rec]

        def kind_of(t: dict, a: dict) -> str:
            if t.get("Type") == "Comment":
                return "note"
            return "question" if by_asker(t) else "reply"

        out += self._messages("help_request", ticket, txns, texts, kind_of)
        out += [{"type": "link", "kind": "article_request", "from_ref": a, "to_ref": ref, "created_at": None}
                for a in articles]
        return out

    def _map_case(self, ticket: dict, txns: list[dict], texts: dict[int, dict]) -> list[dict]:
        get = self.reader("case", ticket)
        requestors = set(raw_values(ticket, "Requestor"))
        creator = _who(ticket.get("Creator"))

        def by_customer(t: dict) -> bool:
            who = _who(t.get("Creator")) or ""
            return who in requestors or "@" in who

        activity = [t for t in txns if t.get("Type") in MESSAGE_TYPES]
        customer_txns = [t for t in txns if t.get("Type") in ("Create", "Correspond") and by_customer(t)]
        reopens = sum(1 for t in txns if t.get("Type") == "Status" and t.get("OldValue") == "resolved")
        reopen_cf = get("reopen_count")
        ref = f"RT#{ticket['id']}"
        rec = {
            "type": "case", **self._common(ticket, txns), "subject": ticket.get("Subject") or "",
            "body": self._create_text(txns, texts),
            "customer": get("customer") or next(iter(sorted(requestors)), None) or creator or "unknown",
            "tier": get("tier"), "product": get("product") or "", "component": get("component") or "",
            "version": get("version") or "", "severity": get("severity"), "status": get("status"),
            "owner": get("owner"),
            "last_activity_at": _ts(activity[-1].get("Created")) if activity else _ts(ticket.get("Created")),
            "last_customer_update_at": _ts(customer_txns[-1].get("Created")) if customer_txns else None,
            "reopen_count": int(reopen_cf) if reopen_cf and str(reopen_cf).isdigit() else reopens,
        }
        out = [rec]

        def kind_of(t: dict, a: dict) -> str:
            if t.get("Type") == "Comment":
                return "offer" if (a.get("Subject") or "").strip() == OFFER_SUBJECT else "note"
            return "customer" if by_customer(t) else "agent"

        out += self._messages("case", ticket, txns, texts, kind_of)
        out += [{"type": "link", "kind": "case_bug", "from_ref": ref, "to_ref": target, "created_at": None}
                for target in self._refs("case", "bugs", ticket)]
        if "article" in self.mapping:  # an article linked as the answer to the case
            out += [{"type": "link", "kind": "article_case", "from_ref": a, "to_ref": ref, "created_at": None}
                    for a in raw_values(ticket, "RefersTo") if a.startswith("KB#")]
        return out

    def _map_bug(self, ticket: dict, txns: list[dict], texts: dict[int, dict]) -> list[dict]:
        get = self.reader("bug", ticket)
        owner = get("eng_owner")
        ours = get("status")
        if ours == "open" and owner and ticket.get("Status") == "open":
            ours = "in_progress"
        return [{
            "type": "bug", **self._common(ticket, txns), "title": ticket.get("Subject") or "",
            "body": self._create_text(txns, texts), "product": get("product") or "",
            "component": get("component") or "", "severity": get("severity"),
            "status": ours, "eng_owner": owner, "target_at": _ts_any(get("target_at")),
            "priority_override": get("priority_override"), "fix_version": get("fix_version"),
        }]

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

    def _map_article(self, art: dict, etag: str | None) -> list[dict[str, Any]]:
        """The article and its case link (from the mapped field)."""
        get = self.reader("article", art)
        aid = int(art["id"])
        flags = []
        try:
            raw = json.loads(get("flags") or "[]")
        except ValueError:
            raw = []
        for f in raw if isinstance(raw, list) else []:
            if isinstance(f, dict) and f.get("who") and f.get("reason") and f.get("at"):
                flags.append({"who": str(f["who"]), "reason": str(f["reason"]), "at": f["at"],
                              "resolved_at": f.get("resolved_at")})
        state = get("state")
        if str(art.get("Disabled") or "0") == "1":
            state = "archived"
        cases = self._refs("article", "case_ref", art)
        return [{
            "type": "article", "ref": f"KB#{aid}", "source": self.name, "remote_id": str(aid),
            "remote_version": (etag or "").strip('"') or None, "title": art.get("Name") or "",
            "body": get("body") or "", "state": state,
            "owner": get("owner") or _who(art.get("Creator")),
            "created_at": _ts(art.get("Created")), "updated_at": _ts(art.get("LastUpdated")),
            "last_reviewed_at": _ts_any(get("last_reviewed_at")), "review_due_at": _ts_any(get("review_due_at")),
            "flags": flags, "product": get("product") or "", "component": get("component") or "",
        }] + [{"type": "link", "kind": "article_case", "from_ref": f"KB#{aid}", "to_ref": case, "created_at": None}
              for case in cases]

    def _fresh_article(self, aid: int) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
        art, etag = self.client.get_article(aid)
        etag = (etag or "").strip('"') or None
        return art, valid_records(self._map_article(art, etag)), etag

    # ------------------------------------------------------------------------------ push

    def push(self, op: dict[str, Any], *, resend: bool = False) -> PushResult:
        ref = op["record_ref"]
        verb = op["op"].replace("_", " ")
        handler = getattr(self, f"_push_{op['op']}", None)
        if handler is None:
            return PushResult("error", f"RT cannot take a {verb} on {ref}")
        with self._source_errors():
            try:
                return handler(op, resend)
            except ValueError as exc:
                return PushResult("error", str(exc))
            except RTConflict:
                return self._stale(op)
            except RTNotFound:
                return PushResult("error", f"{ref} is not in RT (or {self.user} cannot see it); the {verb} stays queued")
            except RTForbidden:
                return PushResult("error", f"RT does not let {self.user} {verb} {ref}")
            except RTRefused as exc:
                return PushResult("error", f"RT refused the {verb} on {ref}: {exc.message}")
            except (RTAuthError, RTUnavailable, RTServerError):
                raise
            except RTError as exc:
                return PushResult("error", f"RT refused the {verb} on {ref}: {exc.message}")

    def _stale(self, op: dict[str, Any]) -> PushResult:
        """412: someone changed the record since we read it."""
        ref = op["record_ref"]
        verb = op["op"].replace("_", " ")
        if op["record_type"] == "article":
            art, records, _ = self._fresh_article(_article_id(ref))
            who = _who(art.get("LastUpdatedBy")) or "someone"
            return PushResult("conflict", f"{who} changed {ref} first; your {verb} was not applied", records=records)
        records = self._fresh_ticket(op["record_type"], _ticket_id(ref))
        return PushResult("conflict", f"{ref} was changed in RT first; your {verb} was not applied", records=records)

    def _fresh_ticket(self, kind: str, tid: int) -> list[dict[str, Any]]:
        return self._tickets(kind, [tid], None)

    def _done(self, op: dict[str, Any], **kw: Any) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        return PushResult("done", records=self._fresh_ticket(op["record_type"], tid), **kw)

    def _owner(self, tid: int) -> str | None:
        ticket, _ = self.client.get_ticket(tid)
        return _who(ticket.get("Owner"))

    def writable(self, op_name: str, field: str | None = None) -> FieldMap:
        """The field an op writes, through the mapping; ValueError (said to the user) when the
        mapping does not write it. The workbench refuses such actions before they are queued
        (sync/mapping.py write_refusal); this is for ops queued before the mapping changed."""
        kind, default_field, words = OP_WRITES[op_name]
        km = self.mapping.get(kind)
        fm = km.field(field or default_field or "") if km else None
        if fm is None or not fm.write:
            raise ValueError(f"{words} is not mapped for source {self.name}")
        return fm

    def _set_ticket(self, tid: int, fm: FieldMap, value: str) -> None:
        """Write one mapped field of a ticket, then read it back: RT drops a custom field it does
        not know, or a value its select does not offer, and still answers 200."""
        name = fm.source
        if name in LINK_FIELDS:
            raise ValueError(f"{name} is a link type, not a field RT can set to {value!r}")
        body = {"CustomFields": {name[3:]: value}} if name.startswith("CF.") else {name: value}
        self.client.update_ticket(tid, body)
        ticket, _ = self.client.get_ticket(tid)
        if name.startswith("CF.") and name[3:] not in {cf.get("name") for cf in ticket.get("CustomFields") or []}:
            raise ValueError(f"custom field {name[3:]!r} does not exist in RT for RT#{tid} (source {self.name})")
        if value and value not in raw_values(ticket, name) and name not in DATE_FIELDS:
            raise ValueError(f"RT did not keep {value!r} in {name} of RT#{tid} (not one of its values?)")

    def _push_claim(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        fm = self.writable("claim")
        if fm.source != "Owner":
            self._set_ticket(tid, fm, self.user)
            return self._done(op)
        try:
            try:
                self.client.take(tid, if_match=op.get("base_version") or None)
            except RTConflict:
                # the ticket changed since we saw it; a comment does that too: look who owns it
                if self._owner(tid) is None:
                    self.client.take(tid)
        except RTRefused:
            pass  # "You can only take tickets that are unowned": see below who has it
        owner = self._owner(tid)
        if owner == self.user:
            return self._done(op)
        records = self._fresh_ticket(op["record_type"], tid)
        if owner is None:
            return PushResult("error", f"RT did not let {self.user} claim {ref}", records=records)
        return PushResult("conflict", f"{owner} claimed {ref} first", records=records)

    def _push_unclaim(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        fm = self.writable("unclaim")
        if fm.source != "Owner":
            self._set_ticket(tid, fm, "")
            return self._done(op)
        owner = self._owner(tid)
        if owner == self.user:
            self.client.untake(tid)
            return self._done(op)
        if owner is None:
            return self._done(op)
        return PushResult("conflict", f"{owner} owns {ref} now; your unclaim was not applied",
                          records=self._fresh_ticket(op["record_type"], tid))

    def _push_take_over(self, op: dict[str, Any], resend: bool) -> PushResult:
        """A request someone else owns becomes ours (RT's steal, or the mapped owner field set to
        us), and a comment in the thread names the previous owner. If a third person took it
        meanwhile, that is a conflict."""
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        fm = self.writable("take_over")
        before = op["payload"].get("previous_owner")
        if fm.source == "Owner":
            owner = self._owner(tid)
            if owner not in (self.user, before, None):
                return PushResult("conflict", f"{owner} owns {ref} now; your take-over from {before} was not applied",
                                  records=self._fresh_ticket(op["record_type"], tid))
            if owner is None:
                self.client.take(tid)
            elif owner != self.user:
                self.client.steal(tid)
        else:
            self._set_ticket(tid, fm, self.user)
        body = f"Taken over from {before} by {self.user}."
        if not (resend and self._find_message(tid, "Comment", body, op.get("base_version"))):
            self.client.comment(tid, body)
        return self._done(op)

    def _find_message(self, tid: int, txn_type: str, body: str, after: str | None,
                      subject: str | None = None) -> int | None:
        """A message of ours already in RT (a resend after a crash): its transaction id."""
        floor = int(after) if after and after.isdigit() else 0
        mine = [int(t["id"]) for t in self.client.ticket_history(tid, fields="Type,Creator")
                if t.get("Type") == txn_type and _who(t.get("Creator")) == self.user and int(t["id"]) > floor]
        if not mine:
            return None
        texts = self._attachments(mine)
        want = body.strip()
        for txn in mine:
            att = texts.get(txn)
            if att and (att.get("Content") or "").strip() == want:
                if subject is None or (att.get("Subject") or "").strip() == subject:
                    return txn
        return None

    def _post(self, op: dict[str, Any], resend: bool, txn_type: str, subject: str | None = None) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        body = op["payload"].get("body") or ""
        txn = self._find_message(tid, txn_type, body, op.get("base_version"), subject) if resend else None
        already = txn is not None
        if txn is None:
            extra = {"Subject": subject} if subject else None
            post = self.client.correspond if txn_type == "Correspond" else self.client.comment
            try:
                txn = post(tid, body, extra=extra)
            except RTRefused as exc:
                if exc.transaction_id is None:
                    raise
                txn = exc.transaction_id
        refs = {}
        if op["payload"].get("message_id"):
            refs[int(op["payload"]["message_id"])] = (f"RT#{tid}/txn/{txn}", str(txn))
        return self._done(op, message_refs=refs, already_applied=already)

    def _push_respond(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post(op, resend, "Correspond")

    def _push_note(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post(op, resend, "Comment")

    def _push_offer_help(self, op: dict[str, Any], resend: bool) -> PushResult:
        return self._post(op, resend, "Comment", OFFER_SUBJECT)

    def _push_resolve(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        fm = self.writable("resolve")
        value = fm.upstream_value("resolved")
        if not value:
            raise ValueError(f"the status map of source {self.name} has no upstream value for resolved")
        ticket, _ = self.client.get_ticket(tid)
        if value not in raw_values(ticket, fm.source):
            self._set_ticket(tid, fm, value)
        return self._done(op)

    def _push_bug_priority(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        fm = self.writable("bug_priority")
        priority = op["payload"].get("priority")
        value = fm.upstream_value(priority) if priority else ""
        if value is None:
            raise ValueError(f"priority override {priority} has no upstream value in the map of source {self.name}")
        self._set_ticket(tid, fm, value)
        return self._done(op)

    def _push_bug_target(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        fm = self.writable("bug_target")
        target = op["payload"].get("target_at")
        self._set_ticket(tid, fm, rt_datetime(target) if target else "")
        return self._done(op)

    def link_target(self, source: str | None, ref: str, remote_id: str | None) -> int | str:
        """How RT holds a link to a record: a ticket id in this RT, else the record's URL."""
        if source in (None, self.name):
            return int(remote_id) if str(remote_id or "").isdigit() else _ticket_id(ref)
        other = next((s for s in self.config.sources if s.name == source), None)
        if other is None or not other.url:
            raise ValueError(f"{ref} comes from source {source}, which has no URL in the config; the link cannot reach RT")
        base = other.url.rstrip("/")
        if other.kind == "rt":
            return f"{base}/Ticket/Display.html?id={int(remote_id) if str(remote_id or '').isdigit() else _ticket_id(ref)}"
        if other.kind == "jira":
            return f"{base}/browse/{ref}"
        raise ValueError(f"{ref} comes from source {source} ({other.kind}), which has no web address for RT to link to")

    def _push_link(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        target = self.link_target(p.get("bug_source"), p["bug_ref"], p.get("bug_remote_id"))
        self._add_case_link(_ticket_id(op["record_ref"]), self.writable("link"), target)
        return self._done(op)

    def _add_case_link(self, tid: int, fm: FieldMap, target: int | str) -> None:
        """Case ticket ``tid`` links ``target`` (a ticket id, or a URL) in the mapped field: an RT
        link type, or a CF holding refs (appended). Idempotent."""
        if fm.source in LINK_FIELDS:
            self.client.add_link(tid, fm.source, target)
            return
        ticket, _ = self.client.get_ticket(tid)
        have = raw_values(ticket, fm.source)
        text = target if isinstance(target, str) else f"RT#{target}"
        if text not in have:
            self._set_ticket(tid, fm, ", ".join([*have, text]) if have else text)

    def _remove_case_link(self, tid: int, fm: FieldMap, target: int | str) -> None:
        """The undo of _add_case_link. Idempotent."""
        if fm.source in LINK_FIELDS:
            self.client.remove_link(tid, fm.source, target)
            return
        ticket, _ = self.client.get_ticket(tid)
        text = target if isinstance(target, str) else f"RT#{target}"
        have = [p for v in raw_values(ticket, fm.source) for p in v.replace(",", " ").split()]
        if text in have:
            self._set_ticket(tid, fm, ", ".join(v for v in have if v != text))

    def _push_document(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        if "article" not in self.mapping:
            raise ValueError(f"KB article is not mapped for source {self.name}")
        p = op["payload"]
        title, body, draft = p["title"], p.get("body") or "", p["article_ref"]
        names = (title, f"{title} ({ref})")
        aid = None
        if resend:
            aid = self._article_named(names)
        if aid is None:
            case = p.get("case_ref") if p.get("case_source") in (None, self.name) else None
            if case and case.startswith(f"{self.name}:"):
                case = case[len(self.name) + 1:]
            cfs = self._article_cfs({"state": "wip", "owner": self.user, "product": p.get("product") or "",
                                     "component": p.get("component") or "", "case_ref": case or ""}, required=())
            try:
                aid = self.client.create_article(self.class_id, title, "", body, cfs)
            except RTError as exc:
                if exc.status != 400:
                    raise
                if self._article_named((title,)) is None:
                    raise ValueError(f"RT refused the article for {ref}: {exc.message} "
                                     f"(check its custom fields with: backline sources check {self.name})") from None
                aid = self.client.create_article(self.class_id, names[1], "", body, cfs)  # name taken
        art, _ = self.client.get_article(aid)
        uri = art.get("URI")
        if uri:
            self.client.add_link(tid, "RefersTo", uri)
        _, records, _ = self._fresh_article(aid)
        records += self._fresh_ticket("help_request", tid)
        return PushResult("done", records=records, renames=[("article", draft, f"KB#{aid}", str(aid))],
                          already_applied=resend)

    def _article_named(self, names: tuple[str, ...]) -> int | None:
        for name in names:
            query = [{"field": "Class", "value": str(self.class_id)}, {"field": "Name", "operator": "=", "value": name}]
            for a in self.client._paged("POST", "/articles", {"fields": "Name", "per_page": 20}, json_body=query):
                if a.get("Name") == name:
                    return int(a["id"])
        return None

    # article ops: custom fields, guarded by If-Match

    def _article_cfs(self, values: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
        """Our article fields -> RT custom fields, through the mapping. A field in ``required``
        that is not mapped to a CF refuses the op; the others are left out when not mapped."""
        km = self.mapping.get("article")
        out: dict[str, Any] = {}
        for field, value in values.items():
            fm = km.field(field) if km else None
            if fm is None or not fm.write or not fm.source.startswith("CF."):
                if field in required:
                    raise ValueError(f"article {field.replace('_', ' ')} is not mapped for source {self.name}")
                continue
            if value and field == "state":
                value = fm.upstream_value(value) or value
            out[fm.source[3:]] = value
        return out

    def _article_op(self, op: dict[str, Any], values: dict[str, Any], required: tuple[str, ...],
                    extra: dict[str, Any] | None = None) -> PushResult:
        aid = _article_id(op["record_ref"])
        cfs = self._article_cfs(values, required)
        fields = {"CustomFields": cfs, **(extra or {})}
        self.client.update_article(aid, fields, if_match=op.get("base_version") or None)
        art, records, _ = self._fresh_article(aid)
        have = {cf.get("name") for cf in art.get("CustomFields") or []}
        missing = sorted(set(cfs) - have)
        if missing:
            raise ValueError(f"custom field {missing[0]!r} does not exist in RT for {op['record_ref']} (source {self.name})")
        return PushResult("done", records=records)

    def _push_validate(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        return self._article_op(op, {"state": "validated", "last_reviewed_at": p.get("last_reviewed_at") or "",
                                     "review_due_at": p.get("review_due_at") or ""}, ("state",))

    def _push_archive(self, op: dict[str, Any], resend: bool) -> PushResult:
        aid = _article_id(op["record_ref"])
        art, _, _ = self._fresh_article(aid)
        flags = self._flags(art)
        for f in flags:
            f["resolved_at"] = f.get("resolved_at") or op["created_at"]
        return self._article_op(op, {"state": "archived", "flags": json.dumps(flags, ensure_ascii=False)}, ("state",))

    def _push_review(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        aid = _article_id(op["record_ref"])
        art, _, _ = self._fresh_article(aid)
        flags = self._flags(art)
        for f in flags:
            f["resolved_at"] = f.get("resolved_at") or op["created_at"]
        return self._article_op(op, {"last_reviewed_at": p.get("last_reviewed_at") or "",
                                     "review_due_at": p.get("review_due_at") or "",
                                     "flags": json.dumps(flags, ensure_ascii=False)}, ("review_due_at",))

    def _push_edit_article(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        return self._article_op(op, {"body": p.get("body") or ""}, ("body",), {"Name": p.get("title")})

    def _flags(self, art: dict) -> list[dict[str, Any]]:
        fm = self.writable("flag")
        try:
            raw = json.loads(next(iter(raw_values(art, fm.source)), "[]"))
        except ValueError:
            return []
        return [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []

    def _change_flags(self, op: dict[str, Any], change) -> PushResult:
        """Read-modify-write of the Flags field, If-Match on what we read (one retry on 412)."""
        aid = _article_id(op["record_ref"])
        name = self._article_cfs({"flags": ""}, ("flags",))
        for attempt in range(2):
            art, etag = self.client.get_article(aid)
            flags = self._flags(art)
            if not change(flags):
                break
            try:
                self.client.update_article(aid, {"CustomFields": {k: json.dumps(flags, ensure_ascii=False) for k in name}},
                                           if_match=etag)
                break
            except RTConflict:
                if attempt:
                    raise
        _, records, _ = self._fresh_article(aid)
        return PushResult("done", records=records)

    def _push_flag(self, op: dict[str, Any], resend: bool) -> PushResult:
        new = {"who": self.user, "reason": op["payload"].get("reason") or "", "at": op["created_at"], "resolved_at": None}

        def add(flags: list[dict]) -> bool:
            if any(f.get("who") == new["who"] and f.get("reason") == new["reason"] and f.get("at") == new["at"]
                   for f in flags):
                return False  # already there (a resend)
            flags.append(new)
            return True

        return self._change_flags(op, add)

    def _push_unflag(self, op: dict[str, Any], resend: bool) -> PushResult:
        def resolve(flags: list[dict]) -> bool:
            open_flags = [f for f in flags if not f.get("resolved_at")]
            if not open_flags:
                return False
            latest = max(open_flags, key=lambda f: str(f.get("at") or ""))
            latest["resolved_at"] = op["created_at"]
            return True

        return self._change_flags(op, resolve)




# ------------------------------------------------------------------------------ check

SAMPLE = 100  # the newest records per kind whose values `sources check` reads (one page)
KIND_WORDS = {"help_request": "help requests", "case": "cases", "bug": "bugs", "article": "articles"}


def _rt_message(exc: RTError) -> str:
    """RT's own words without the Perl source location it appends."""
    import re

    return re.sub(r"\s+at /\S+ line \d+\.?\s*$", "", exc.message).strip()


def _close(name: str, names: set[str]) -> str:
    from rapidfuzz import process

    best = [m for m, score, _ in process.extract(name, sorted(names), limit=3) if score >= 60]
    return f" (close: {', '.join(repr(b) for b in best)})" if best else ""


class _Checker:
    """`backline sources check` for one RT source: reads, never writes."""

    def __init__(self, conn: RTConnector, report: CheckReport) -> None:
        self.conn = conn
        self.client = conn.client
        self.report = report
        self._queues: dict[str, set[str]] | None = None

    def queue_cfs(self) -> dict[str, set[str]]:
        """Queue name -> names of the ticket custom fields applied to it."""
        if self._queues is None:
            self._queues = {}
            for q in self.client._paged("GET", "/queues/all", {"fields": "Name", "per_page": 100}):
                data = self.client._get_json(f"/queue/{int(q['id'])}")
                self._queues[q.get("Name") or str(q["id"])] = {
                    cf.get("name") for cf in data.get("TicketCustomFields") or [] if cf.get("name")}
        return self._queues

    def run(self) -> None:
        add = self.report.add
        try:
            info = self.client.server_info()
        except RTAuthError:
            add("problem", f"RT at {self.conn.url} did not accept the credentials of {self.conn.user}")
            return
        except RTUnavailable as exc:
            add("problem", f"RT at {self.conn.url} is unreachable: {exc.message}")
            return
        except RTNotFound:
            add("problem", f"{self.conn.url} does not answer as RT 5 (no REST2 at {self.client.base_url})")
            return
        except RTError as exc:
            add("problem", f"RT at {self.conn.url} answered {exc}")
            return
        version = info.get("Version") if isinstance(info, dict) else None
        add("ok", f"connected to RT {version or '(version unknown)'} at {self.conn.url} as {self.conn.user}")
        for kind in ("help_request", "case", "bug", "article"):
            if kind not in self.conn.mapping:
                add("info", f"{KIND_WORDS[kind]}: not mapped (none come from this source)")
                continue
            try:
                self.kind(kind)
            except RTError as exc:
                add("problem", f"{KIND_WORDS[kind]}: RT answered {exc}")

    def kind(self, kind: str) -> None:
        add = self.report.add
        km = self.conn.mapping[kind]
        words = KIND_WORDS[kind]
        if kind == "article":
            records, cf_names = self.articles(km)
            if records is None:
                return
        else:
            if km.queue:
                queues = self.queue_cfs()
                if km.queue not in queues:
                    add("problem", f"{words}: queue {km.queue!r} not found in RT{_close(km.queue, set(queues))}")
                    return
                cf_names = queues[km.queue]
            else:
                cf_names = set().union(*self.queue_cfs().values()) if self.queue_cfs() else set()
            sql = ticket_sql(km)
            try:  # one page: the count, and the newest tickets as a sample of the values
                data = self.client._get_json("/tickets", {"query": sql, "per_page": SAMPLE, "fields": TICKET_FIELDS,
                                                          "orderby": "id", "order": "DESC"}) or {}
            except RTError as exc:
                if exc.status == 400:
                    add("problem", f"{words}: TicketSQL {sql!r} is not valid: {_rt_message(exc)}")
                    return
                raise
            total = int(data.get("total") or 0)
            add("ok" if total else "warn", f"{words}: {sql} matches {total} ticket{'s' * (total != 1)}")
            records = list(data.get("items") or [])
        self.fields(kind, km, cf_names, records)
        self.writes(kind, km)

    def articles(self, km) -> tuple[list[dict] | None, set[str]]:
        add = self.report.add
        name = km.queue or ""
        if km.query:
            add("problem", "articles: RT articles are chosen by class: give queue = \"<class name>\", not a query")
            return None, set()
        try:
            cls = self.client.get_class(name)
        except RTNotFound:
            names = {c.get("Name") for c in self.client._paged("GET", "/classes/all", {"fields": "Name", "per_page": 100})}
            add("problem", f"articles: class {name!r} not found in RT{_close(name, {n for n in names if n})}")
            return None, set()
        cf_names = {cf.get("name") for cf in cls.get("ArticleCustomFields") or [] if cf.get("name")}
        data = self.client._body(self.client._request(  # one page: the count and the newest as a sample
            "POST", "/articles", params={"fields": ARTICLE_FIELDS, "per_page": SAMPLE, "orderby": "id", "order": "DESC"},
            json_body=[{"field": "Class", "value": str(cls["id"])}])) or {}
        items = list(data.get("items") or [])
        total = int(data.get("total") or len(items))
        add("ok" if total else "warn", f"articles: class {name!r} holds {total} article{'s' * (total != 1)}")
        for a in items:
            cf_names |= {cf.get("name") for cf in a.get("CustomFields") or [] if cf.get("name")}
        return items, cf_names | {"Content"}

    def fields(self, kind: str, km, cf_names: set[str], records: list[dict]) -> None:
        add = self.report.add
        words = KIND_WORDS[kind]
        seen_cfs = set(cf_names)
        for r in records:
            seen_cfs |= {cf.get("name") for cf in r.get("CustomFields") or [] if cf.get("name")}
        for field, (_, _, when_missing) in OUR_FIELDS[kind].items():
            fm = km.field(field)
            label = f"{words} {field.replace('_', ' ')}"
            if fm is None:
                add("info", f"{label}: not mapped, takes its default: {when_missing}")
                continue
            for name in filter(None, (fm.source, fm.fallback)):
                bad = check_from(name)
                if bad:
                    add("problem", f"{label}: {bad}")
                elif name.startswith("CF.") and name[3:] not in seen_cfs:
                    add("problem", f"{label}: custom field {name[3:]!r} not found{_close(name[3:], seen_cfs)}")
                else:
                    add("ok", f"{label} <- {name}")
        self.conn.unknown.clear()
        for r in records:
            get = self.conn.reader(kind, r)
            for field in OUR_FIELDS[kind]:
                if km.field(field) is not None:
                    get(field)
        for (k, field), counts in sorted(self.conn.unknown.items()):
            fm = km.field(field)
            default = fm.default if fm and fm.default is not None else OUR_FIELDS[k][field][0]
            values = ", ".join(f"{v!r} ({n})" for v, n in counts.most_common(5))
            more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
            add("warn", f"{KIND_WORDS[k]} {field.replace('_', ' ')}: values with no map entry: {values}{more}"
                        f" -> read as {default!r}")

    def writes(self, kind: str, km) -> None:
        add = self.report.add
        done: set[str] = set()
        for op, (op_kind, field, words) in OP_WRITES.items():
            if op_kind != kind or words in done:
                continue
            done.add(words)
            if field is None:
                add("info", f"{words}: written as an article of class {km.queue!r}")
                continue
            fm = km.field(field)
            if fm is None or not fm.write:
                add("info", f"{words}: not mapped, the action is refused")
                continue
            how = {"Owner": "Owner (take/untake)", "Due": "Due"}.get(fm.source, fm.source)
            if fm.source in LINK_FIELDS:
                how = f"a {fm.source} ticket link (records of other sources: a link to their URL)"
            add("info", f"{words}: written to {how}")
