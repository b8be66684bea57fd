"""RT tickets and articles as our records (help requests, cases, bugs, their messages and
links; articles), through the mapping. Mixed into RTConnector, which provides name, mapping,
reader and _refs. Pure: no request to RT."""

from __future__ import annotations

import json
from typing import Any

from backline_tui.sync.rt.mapping import _ts, _ts_any, _who, raw_values

OFFER_SUBJECT = "Backline: offer of help"
MESSAGE_TYPES = ("Create", "Correspond", "Comment")
#: what a pull asks RT for: transactions, their text parts, tickets, articles
TXN_FIELDS = "Type,ObjectId,Field,OldValue,NewValue,Created,Creator"
ATT_FIELDS = "TransactionId,ContentType,Subject,Content,Created,Creator"
TICKET_FIELDS = ("Subject,Status,Owner,Creator,Created,LastUpdated,Due,Resolved,Requestor,Priority,Starts,Started,Told,"
                 "CustomFields,_hyperlinks")
ARTICLE_FIELDS = "Name,Summary,Class,Created,LastUpdated,Creator,LastUpdatedBy,Disabled,CustomFields"


class RTRecords:
    name: str
    mapping: Any

    def _common(self, ticket: dict, txns: list[dict]) -> dict[str, Any]:
        tid = int(ticket["id"])
        return {
            "ref": f"RT#{tid}", "source": self.name, "remote_id": str(tid),
            # no history yet (open work first): the version comes with it
            "remote_version": str(max(int(t["id"]) for t in txns)) if txns else None,
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
