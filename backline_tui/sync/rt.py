"""The Request Tracker 5 connector (REST2), on top of rt_client.

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
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from backline_tui.clock import to_ts
from backline_tui.config import Config, SourceConfig
from backline_tui.domain.vocabulary import KCS_STATES, PRIORITIES, SEVERITIES, TIERS
from backline_tui.sync.base import Batch, PushResult, SourceError, valid_records
from backline_tui.sync.rt_knowledge import KnowledgePush
from backline_tui.sync.secrets import resolve_secret
from backline_tui.sync.rt_client import (
    RTAuthError,
    RTClient,
    RTConflict,
    RTError,
    RTForbidden,
    RTNotFound,
    RTRefused,
    RTServerError,
    RTUnavailable,
    custom_fields,
    parse_rt_datetime,
    rt_datetime,
)

__all__ = ["RTConnector", "OFFER_SUBJECT"]

OFFER_SUBJECT = "Backline: offer of help"
NOBODY = "Nobody"
CHUNK = 100
PARALLEL_CHUNK = 25  # records per request when several requests run at once
WORKERS = 4  # concurrent requests to RT (the standalone server runs 4 workers by default)
TXN_FIELDS = "Type,ObjectId,Field,OldValue,NewValue,Created,Creator"
ATT_FIELDS = "TransactionId,ContentType,Subject,Content,Created,Creator"
TICKET_FIELDS = "Subject,Status,Owner,Creator,Created,LastUpdated,Due,Resolved,Requestor,CustomFields"
ARTICLE_FIELDS = "Name,Summary,Class,Created,LastUpdated,Creator,LastUpdatedBy,Disabled,CustomFields"
MESSAGE_TYPES = ("Create", "Correspond", "Comment")

HELP_STATUS_DONE = ("resolved", "rejected", "deleted")
CASE_STATUS = {"new": "open", "open": "open", "stalled": "on_hold", "resolved": "solved",
               "rejected": "closed", "deleted": "closed"}


def _q(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _ts(value: str | None) -> str | None:
    try:
        dt = parse_rt_datetime(value) if value else None
    except ValueError:
        return None
    return to_ts(dt) if dt else None


def _who(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    if value in (None, "", NOBODY):
        return None
    return str(value)


def _one(cfs: dict[str, list[str]], name: str, allowed: tuple[str, ...] | None = None, default: str | None = None):
    values = [v for v in cfs.get(name, []) if v not in (None, "")]
    if not values:
        return default
    value = str(values[0])
    if allowed is not None and value not in allowed:
        return default
    return value


def _ticket_id(ref: str) -> int:
    if ref.startswith("RT#") and ref[3:].isdigit():
        return int(ref[3:])
    raise ValueError(f"{ref} is not an RT ticket")


def _article_id(ref: str) -> int:
    if ref.startswith("KB#") and ref[3:].isdigit():
        return int(ref[3:])
    raise ValueError(f"{ref} is not an RT article")


_valid = valid_records


class RTConnector(KnowledgePush):
    def __init__(self, src: SourceConfig, config: Config) -> None:
        if not src.url:
            raise SourceError(f"source {src.name} (rt) needs a url")
        self.name = src.name
        self.src = src
        self.url = src.url
        self.user = src.user or config.me
        password, token = resolve_secret(src)
        self.client = RTClient(src.url, user=self.user, password=password, token=token, timeout=src.timeout)
        self.queues = {"bug": src.bug_queue, "case": src.case_queue, "help_request": src.help_queue}
        self._class_id: int | None = None
        self._parallel = ThreadPoolExecutor(WORKERS, thread_name_prefix=f"rt-{src.name}")

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

    @property
    def class_id(self) -> int:
        if self._class_id is None:
            self._class_id = self.client.class_id(self.src.kb_class)
        return self._class_id

    # ------------------------------------------------------------------------------ pull

    def pull(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        # order matters: cases link bugs and articles, help requests link cases and articles
        with self._source_errors():
            yield from self._pull_tickets("bug", cursors)
            yield from self._pull_articles(cursors)
            for kind in ("case", "help_request"):
                yield from self._pull_tickets(kind, cursors)

    def _pull_tickets(self, kind: str, cursors: dict[str, str | None]) -> Iterator[Batch]:
        queue = self.queues[kind]
        stream = f"queue:{queue}"
        cursor = int(cursors.get(stream) or 0)
        feed = list(self.client.transactions(
            f"ObjectType = 'RT::Ticket' AND TicketQueue = '{_q(queue)}' AND id > {cursor}", fields=TXN_FIELDS))
        if not feed:
            return
        last_txn: dict[int, int] = {}
        history: dict[int, list[dict]] = defaultdict(list)
        for t in feed:
            tid, txn = int(t["ObjectId"]), int(t["id"])
            last_txn[tid] = max(last_txn.get(tid, 0), txn)
            history[tid].append(t)
        ordered = sorted(last_txn, key=last_txn.get)
        for i in range(0, len(ordered), CHUNK):
            chunk = ordered[i : i + CHUNK]
            records = self._tickets(kind, chunk, history if cursor == 0 else None)
            yield Batch(stream, records, str(last_txn[chunk[-1]]))
        top = max(int(t["id"]) for t in feed)
        if top > last_txn[ordered[-1]]:
            yield Batch(stream, [], str(top))

    def _histories(self, ids: list[int]) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = defaultdict(list)
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            cond = " OR ".join(f"ObjectId = {t}" for t in chunk)
            for t in self.client.transactions(f"ObjectType = 'RT::Ticket' AND ({cond})", fields=TXN_FIELDS):
                out[int(t["ObjectId"])].append(t)
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
        return out

    def _tickets(self, kind: str, ids: list[int], history: dict[int, list[dict]] | None) -> list[dict[str, Any]]:
        if not ids:
            return []
        if history is None:
            history = self._histories(ids)
        fields = TICKET_FIELDS + (",_hyperlinks" if kind in ("case", "help_request") else "")
        txn_ids = [int(t["id"]) for tid in ids for t in history.get(tid, []) if t.get("Type") in MESSAGE_TYPES]
        # RT spends ~15 ms per ticket serialising custom fields and links: ask its workers in parallel
        texts_future = self._parallel.submit(self._attachments, txn_ids)
        parts = [ids[i : i + PARALLEL_CHUNK] for i in range(0, len(ids), PARALLEL_CHUNK)]
        tickets = [t for part in self._parallel.map(
            lambda part: list(self.client.search_tickets(" OR ".join(f"id = {t}" for t in part), fields=fields,
                                                         per_page=100)), parts) for t in part]
        texts = texts_future.result()
        records: list[dict[str, Any]] = []
        for ticket in tickets:
            tid = int(ticket["id"])
            txns = sorted(history.get(tid, []), key=lambda t: int(t["id"]))
            if not txns:
                continue
            records += getattr(self, f"_map_{kind}")(ticket, txns, texts)
        return _valid(records)

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

    @staticmethod
    def _links(ticket: dict, ref: str) -> list[tuple[str, str]]:
        """(link ref, target) from _hyperlinks: tickets as RT#n, articles as KB#n."""
        out = []
        for link in ticket.get("_hyperlinks") or []:
            if link.get("ref") not in ("refers-to", "depends-on"):
                continue
            if link.get("type") == "ticket" and link.get("id") is not None:
                out.append((link["ref"], f"RT#{link['id']}"))
            elif link.get("type") == "article" and link.get("id") is not None:
                out.append((link["ref"], f"KB#{link['id']}"))
        return out

    def _map_help_request(self, ticket: dict, txns: list[dict], texts: dict[int, dict]) -> list[dict]:
        cfs = custom_fields(ticket)
        owner = _who(ticket.get("Owner"))
        status = ticket.get("Status") or "new"
        replies = [t for t in txns if t.get("Type") == "Correspond"]
        if status in HELP_STATUS_DONE:
            ours = "resolved"
        elif owner and any(_who(t.get("Creator")) == owner for t in replies):
            ours = "answered"
        elif owner:
            ours = "claimed"
        else:
            ours = "answered" if replies else "new"
        requestors = [_who(r) for r in ticket.get("Requestor") or []]
        asker = _one(cfs, "Asker") or next((r for r in requestors if r), None) or _who(ticket.get("Creator")) or "unknown"
        linked = _one(cfs, "LinkedCase")
        case_ref = None
        if linked:
            linked = linked.strip()
            case_ref = linked if linked.startswith("RT#") else (f"RT#{linked}" if linked.isdigit() else None)
        ref = f"RT#{ticket['id']}"
        articles = [target for _, target in self._links(ticket, ref) if target.startswith("KB#")]
        rec = {
            "type": "help_request", **self._common(ticket, txns), "subject": ticket.get("Subject") or "",
            "body": self._create_text(txns, texts), "asker": asker, "case_ref": case_ref,
            "product": _one(cfs, "Product", default=""), "component": _one(cfs, "Component", default=""),
            "priority": _one(cfs, "HelpPriority", PRIORITIES, "P3"), "status": ours, "owner": owner,
            "first_response_at": _ts(replies[0].get("Created")) if replies else None,
            "resolved_at": _ts(ticket.get("Resolved")) if ours == "resolved" else None,
            "article_ref": articles[0] if articles else None,
        }
        out = [rec]
        out += self._messages("help_request", ticket, txns, texts,
                              lambda t, a: "reply" if t.get("Type") == "Correspond" else "note")
        out += [{"type": "link", "kind": "article_request", "from_ref": a, "to_ref": ref, "created_at": None}
                for a in articles]
        return out

    def _map_case(self, ticket: dict, txns: list[dict], texts: dict[int, dict]) -> list[dict]:
        cfs = custom_fields(ticket)
        requestors = {_who(r) for r in ticket.get("Requestor") or []} - {None}
        creator = _who(ticket.get("Creator"))

        def by_customer(t: dict) -> bool:
            who = _who(t.get("Creator")) or ""
            return who in requestors or "@" in who

        activity = [t for t in txns if t.get("Type") in MESSAGE_TYPES]
        customer_txns = [t for t in txns if t.get("Type") in ("Create", "Correspond") and by_customer(t)]
        reopens = sum(1 for t in txns if t.get("Type") == "Status" and t.get("OldValue") == "resolved")
        reopen_cf = _one(cfs, "ReopenCount")
        ref = f"RT#{ticket['id']}"
        rec = {
            "type": "case", **self._common(ticket, txns), "subject": ticket.get("Subject") or "",
            "body": self._create_text(txns, texts),
            "customer": _one(cfs, "Customer") or next(iter(sorted(requestors)), None) or creator or "unknown",
            "tier": _one(cfs, "CustomerTier", TIERS, "standard"), "product": _one(cfs, "Product", default=""),
            "component": _one(cfs, "Component", default=""), "version": _one(cfs, "Version", default=""),
            "severity": _one(cfs, "Severity", SEVERITIES, "S3"),
            "status": CASE_STATUS.get(ticket.get("Status") or "open", "open"), "owner": _who(ticket.get("Owner")),
            "last_activity_at": _ts(activity[-1].get("Created")) if activity else _ts(ticket.get("Created")),
            "last_customer_update_at": _ts(customer_txns[-1].get("Created")) if customer_txns else None,
            "reopen_count": int(reopen_cf) if reopen_cf and reopen_cf.isdigit() else reopens,
        }
        out = [rec]

        def kind_of(t: dict, a: dict) -> str:
            if t.get("Type") == "Comment":
                return "offer" if (a.get("Subject") or "").strip() == OFFER_SUBJECT else "note"
            return "customer" if by_customer(t) else "agent"

        out += self._messages("case", ticket, txns, texts, kind_of)
        links = [target for _, target in self._links(ticket, ref)]
        out += [{"type": "link", "kind": "case_bug", "from_ref": ref, "to_ref": t, "created_at": None}
                for t in links if t.startswith("RT#")]
        out += [{"type": "link", "kind": "article_case", "from_ref": t, "to_ref": ref, "created_at": None}
                for t in links if t.startswith("KB#")]  # an article linked as the answer to the case
        return out

    def _map_bug(self, ticket: dict, txns: list[dict], texts: dict[int, dict]) -> list[dict]:
        cfs = custom_fields(ticket)
        owner = _who(ticket.get("Owner"))
        status = ticket.get("Status") or "new"
        ours = {"resolved": "fixed", "rejected": "closed", "deleted": "closed"}.get(status)
        if ours is None:
            ours = "in_progress" if status == "open" and owner else "open"
        return [{
            "type": "bug", **self._common(ticket, txns), "title": ticket.get("Subject") or "",
            "body": self._create_text(txns, texts), "product": _one(cfs, "Product", default=""),
            "component": _one(cfs, "Component", default=""), "severity": _one(cfs, "Severity", SEVERITIES, "S3"),
            "status": ours, "eng_owner": owner, "target_at": _ts(ticket.get("Due")),
            "priority_override": _one(cfs, "PriorityOverride", PRIORITIES), "fix_version": _one(cfs, "FixVersion"),
        }]

    # articles

    def _pull_articles(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        stream = f"class:{self.src.kb_class}"
        cursor = int(cursors.get(stream) or 0)
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
            records = [self._map_article(a, str(last_txn[int(a["id"])])) for a in items
                       if str((a.get("Class") or {}).get("id")) == str(self.class_id)]
            yield Batch(stream, _valid(records), str(last_txn[chunk[-1]]))
        top = max(int(t["id"]) for t in feed)
        if top > last_txn[ordered[-1]]:
            yield Batch(stream, [], str(top))

    def _articles_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        query = [{"field": "id", "operator": "=", "value": a, "entry_aggregator": "OR"} for a in ids]
        return list(self.client._paged("POST", "/articles", {"fields": ARTICLE_FIELDS, "per_page": 100},
                                       json_body=query))

    def _map_article(self, art: dict, etag: str | None) -> dict[str, Any]:
        cfs = custom_fields(art)
        aid = int(art["id"])
        flags = []
        try:
            raw = json.loads(_one(cfs, "Flags") or "[]")
        except ValueError:
            raw = []
        for f in raw if isinstance(raw, list) else []:
            if isinstance(f, dict) and f.get("who") and f.get("reason") and f.get("at"):
                flags.append({"who": str(f["who"]), "reason": str(f["reason"]), "at": f["at"],
                              "resolved_at": f.get("resolved_at")})
        state = _one(cfs, "KCSState", KCS_STATES, "wip")
        if str(art.get("Disabled") or "0") == "1":
            state = "archived"
        return {
            "type": "article", "ref": f"KB#{aid}", "source": self.name, "remote_id": str(aid),
            "remote_version": (etag or "").strip('"') or None, "title": art.get("Name") or "",
            "body": _one(cfs, "Content", default=""), "state": state,
            "owner": _one(cfs, "ArticleOwner") or _who(art.get("Creator")),
            "created_at": _ts(art.get("Created")), "updated_at": _ts(art.get("LastUpdated")),
            "last_reviewed_at": _ts_any(_one(cfs, "LastReviewed")), "review_due_at": _ts_any(_one(cfs, "ReviewDue")),
            "flags": flags,
        }

    def _fresh_article(self, aid: int) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
        art, etag = self.client.get_article(aid)
        etag = (etag or "").strip('"') or None
        return art, _valid([self._map_article(art, etag)]), etag

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

    def _push_claim(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
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
        owner = self._owner(tid)
        if owner == self.user:
            self.client.untake(tid)
            return self._done(op)
        if owner is None:
            return self._done(op)
        return PushResult("conflict", f"{owner} owns {ref} now; your unclaim was not applied",
                          records=self._fresh_ticket(op["record_type"], tid))

    def _push_take_over(self, op: dict[str, Any], resend: bool) -> PushResult:
        """A request someone else owns becomes ours (RT's steal), and a comment in the thread
        names the previous owner. If a third person took it meanwhile, that is a conflict."""
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        before = op["payload"].get("previous_owner")
        owner = self._owner(tid)
        if owner not in (self.user, before, None):
            return PushResult("conflict", f"{owner} owns {ref} now; your take-over from {before} was not applied",
                              records=self._fresh_ticket(op["record_type"], tid))
        if owner is None:
            self.client.take(tid)
        elif owner != self.user:
            self.client.steal(tid)
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
        ticket, _ = self.client.get_ticket(tid)
        if ticket.get("Status") != "resolved":
            self.client.update_ticket(tid, {"Status": "resolved"})
        return self._done(op)

    def _push_bug_priority(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        self.client.update_ticket(tid, {"CustomFields": {"PriorityOverride": op["payload"].get("priority") or ""}})
        return self._done(op)

    def _push_bug_target(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        target = op["payload"].get("target_at")
        self.client.update_ticket(tid, {"Due": rt_datetime(target) if target else ""})
        return self._done(op)

    def _push_link(self, op: dict[str, Any], resend: bool) -> PushResult:
        tid = _ticket_id(op["record_ref"])
        p = op["payload"]
        if p.get("bug_source") not in (None, self.name):
            return PushResult("error", f"{op['record_ref']} and {p.get('bug_ref')} live in different systems; link them there")
        bug = int(p["bug_remote_id"]) if str(p.get("bug_remote_id") or "").isdigit() else _ticket_id(p["bug_ref"])
        self.client.add_link(tid, "RefersTo", bug)
        return self._done(op)

    def _push_document(self, op: dict[str, Any], resend: bool) -> PushResult:
        ref = op["record_ref"]
        tid = _ticket_id(ref)
        p = op["payload"]
        title, body, draft = p["title"], p.get("body") or "", p["article_ref"]
        names = (title, f"{title} ({ref})")
        aid = None
        if resend:
            aid = self._article_named(names)
        if aid is None:
            cfs = {"KCSState": "wip", "ArticleOwner": self.user}
            try:
                aid = self.client.create_article(self.class_id, title, "", body, cfs)
            except RTError as exc:
                if exc.status != 400:
                    raise
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

    def _article_op(self, op: dict[str, Any], cfs: dict[str, Any], extra: dict[str, Any] | None = None) -> PushResult:
        aid = _article_id(op["record_ref"])
        fields = {"CustomFields": cfs, **(extra or {})}
        self.client.update_article(aid, fields, if_match=op.get("base_version") or None)
        _, records, _ = self._fresh_article(aid)
        return PushResult("done", records=records)

    def _push_validate(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        return self._article_op(op, {"KCSState": "validated", "LastReviewed": p.get("last_reviewed_at") or "",
                                     "ReviewDue": p.get("review_due_at") or ""})

    def _push_archive(self, op: dict[str, Any], resend: bool) -> PushResult:
        aid = _article_id(op["record_ref"])
        art, _, _ = self._fresh_article(aid)
        flags = self._flags(art)
        for f in flags:
            f["resolved_at"] = f.get("resolved_at") or op["created_at"]
        return self._article_op(op, {"KCSState": "archived", "Flags": json.dumps(flags, ensure_ascii=False)})

    def _push_review(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        aid = _article_id(op["record_ref"])
        art, _, _ = self._fresh_article(aid)
        flags = self._flags(art)
        for f in flags:
            f["resolved_at"] = f.get("resolved_at") or op["created_at"]
        return self._article_op(op, {"LastReviewed": p.get("last_reviewed_at") or "",
                                     "ReviewDue": p.get("review_due_at") or "",
                                     "Flags": json.dumps(flags, ensure_ascii=False)})

    def _push_edit_article(self, op: dict[str, Any], resend: bool) -> PushResult:
        p = op["payload"]
        return self._article_op(op, {"Content": p.get("body") or ""}, {"Name": p.get("title")})

    @staticmethod
    def _flags(art: dict) -> list[dict[str, Any]]:
        try:
            raw = json.loads(_one(custom_fields(art), "Flags") or "[]")
        except ValueError:
            return []
        return [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []

    def _change_flags(self, op: dict[str, Any], change) -> PushResult:
        """Read-modify-write of the Flags field, If-Match on what we read (one retry on 412)."""
        aid = _article_id(op["record_ref"])
        for attempt in range(2):
            art, etag = self.client.get_article(aid)
            flags = self._flags(art)
            if not change(flags):
                break
            try:
                self.client.update_article(aid, {"CustomFields": {"Flags": json.dumps(flags, ensure_ascii=False)}},
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


def _ts_any(value: str | None) -> str | None:
    """Dates kept in freeform custom fields: ours are ISO-8601; anything else is ignored."""
    if not value:
        return None
    from backline_tui.clock import norm_ts

    try:
        return norm_ts(value)
    except ValueError:
        return _ts(value)
