"""The one facade the UI calls: pane pages, record details and actions.

Every action is one transaction that changes the replica and appends an outbox op, so the
change shows at once, online or not. An action that makes no sense raises ActionError with a
sentence for the user, and changes nothing.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from backline_tui.clock import Clock, parse_ts, to_ts
from backline_tui.config_file import PRIORITIES
from backline_tui.domain import rules
from backline_tui.storage import Replica
from backline_tui.storage import panes as P
from backline_tui.storage import drafts as D
from backline_tui.storage import outbox as OB
from backline_tui.storage import records as rec
from backline_tui.storage.panes import PaneFilter

if TYPE_CHECKING:
    from backline_tui.config import Config

__all__ = ["ActionError", "PaneFilter", "Workbench", "PANES"]

PANES = ("help", "stale", "bugs", "kb")
PAGE = 100  # rows a pane shows at once
PANE_TITLES = {"help": "Help queue", "stale": "Stale cases", "bugs": "Sustaining bugs", "kb": "KB review"}
PANE_KIND = {"help": "help_request", "stale": "case", "bugs": "bug", "kb": "article"}


class ActionError(Exception):
    """An action that cannot be done, said so a person understands why."""


class Workbench:
    def __init__(self, replica: Replica, config: Config | None = None, clock: Clock | None = None,
                 config_loader: Callable[[], Config] | None = None) -> None:
        """With `config_loader` instead of a config, the config is validated at first use (on
        the database thread: building the models costs ~100 ms, a third of the start-up), so
        the first page of the help queue, which needs none of it, shows before."""
        self.replica = replica
        self.clock = clock or Clock()
        self._config: Config | None = None
        self._config_loader = config_loader
        self._config_lock = threading.Lock()
        self.config_refreshed = False  # stored values were recomputed for a changed config
        if config_loader is None:
            if config is None:
                from backline_tui.config import Config

                config = Config()
            self._use_config(config)

    def _use_config(self, config: Config) -> None:
        # a read first: opening the workbench takes the write lock only when the config's
        # thresholds changed (never waits behind a running sync otherwise)
        if not rec.derived_current(self.replica.conn, config):
            with self.replica.transaction() as conn:
                self.config_refreshed = rec.refresh_derived_if_config_changed(conn, config)
        self._config = config

    @property
    def config(self) -> Config:
        if self._config is None:
            with self._config_lock:
                if self._config is None:
                    self._use_config(self._config_loader())
        return self._config

    @config.setter
    def config(self, config: Config) -> None:
        self._config = config

    def load_config(self) -> Config:
        """The config, validated now if it was not yet (raises ConfigError)."""
        return self.config

    @property
    def config_loaded(self) -> bool:
        return self._config is not None

    @classmethod
    def open(cls, db_path: str | Path, config: Config | None = None, clock: Clock | None = None,
             config_loader: Callable[[], Config] | None = None) -> "Workbench":
        return cls(Replica(db_path), config, clock, config_loader)

    def close(self) -> None:
        self.replica.close()

    @property
    def me(self) -> str:
        return self.config.me

    def _me_for(self, f: PaneFilter) -> str:
        return self.me if f.mine else ""

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def _conn(self):
        return self.replica.conn

    # ---------------------------------------------------------------- panes

    def pane(self, name: str, f: PaneFilter | None = None, offset: int = 0, limit: int = 100) -> list[dict]:
        f = f or PaneFilter()
        now = self.now()
        conn = self._conn
        if name == "help":  # needs no config unless filtered to mine: the first page at start-up
            return [self._decorate_help(r, now) for r in P.help_queue(conn, f, self._me_for(f), offset, limit)]
        if name == "stale":
            return [self._decorate_case(r, now) for r in P.stale_cases(conn, f, self.me, self.config, now, offset, limit)]
        if name == "bugs":
            return [self._decorate_bug(r, now) for r in P.sustaining_bugs(conn, f, self.me, offset, limit)]
        if name == "kb":
            return [self._decorate_article(r, now) for r in P.kb_review(conn, f, self.me, self.config, now, offset, limit)]
        raise ValueError(f"unknown pane {name!r}")

    def pane_count(self, name: str, f: PaneFilter | None = None) -> int:
        f = f or PaneFilter()
        conn, now = self._conn, self.now()
        if name == "help":
            return P.help_queue_count(conn, f, self._me_for(f))
        if name == "stale":
            return P.stale_cases_count(conn, f, self.me, self.config, now)
        if name == "bugs":
            return P.sustaining_bugs_count(conn, f, self.me)
        if name == "kb":
            return P.kb_review_count(conn, f, self.me, self.config, now)
        raise ValueError(f"unknown pane {name!r}")

    def counts(self) -> dict[str, int]:
        return {name: self.pane_count(name) for name in PANES}

    def insights(self):
        """The Insights facade (drivers, bugs by impact, knowledge gaps, team numbers) on this
        replica, config and clock. Heavy at scale: call its methods from a worker thread."""
        from backline_tui.insights import Insights

        return Insights(self.replica, self.config, self.clock)

    def products(self) -> list[str]:
        rows = self.replica.query(
            "SELECT product FROM (SELECT DISTINCT product FROM help_requests UNION SELECT DISTINCT product FROM bugs) "
            "WHERE product != '' ORDER BY product"
        )
        return [r["product"] for r in rows]

    @staticmethod
    def sort_columns(pane: str) -> list[str]:
        """The columns `s` cycles the pane's sort through."""
        return [label for label, _ in P.SORTS.get(pane, ())]

    def search(self, text: str, limit: int = 30) -> list[dict]:
        return P.search(self._conn, text, limit)

    def find_ref(self, ref: str) -> list[dict]:
        """Records whose ref is exactly `ref` (FTS does not index refs): kind, id, ref, title."""
        ref = ref.strip()
        hits = []
        for kind in ("help_request", "case", "bug", "article"):
            row = rec.get_record(self._conn, kind, ref) if ref else None
            if row is not None:
                hits.append({"kind": kind, "id": row["id"], "ref": row["ref"],
                             "title": row.get("subject") or row.get("title") or ""})
        return hits

    def record_url(self, kind: str, ref: str) -> str | None:
        """The record's page upstream (for a browser), or None (demo data, a file, a local draft)."""
        from backline_tui.sync.urls import web_url

        row = rec.get_record(self._conn, kind, ref)
        if row is None:
            return None
        source = next((s for s in self.config.sources if s.name == row["source"]), None)
        return web_url(source, kind, row["ref"])

    def is_empty(self) -> bool:
        return all(
            self.replica.scalar(f"SELECT NOT EXISTS(SELECT 1 FROM {t})") for t in ("help_requests", "cases", "bugs", "articles")
        )

    def redecorate(self, kind: str, rows: list[dict]) -> list[dict]:
        """The same rows with their times (OLA, idle, target, review) worked out again for now:
        what ticks on screen reads no row from the database."""
        decorate = {"help_request": self._decorate_help, "case": self._decorate_case,
                    "bug": self._decorate_bug, "article": self._decorate_article}[kind]
        now = self.now()
        out = []
        for r in rows:
            r = dict(r)
            if kind == "case":
                r.pop("ratio", None)
            out.append(decorate(r, now))
        return out

    # decorations: what a backliner decides by, computed by the domain rules

    def _decorate_help(self, r: dict, now: datetime) -> dict:
        r["kind"] = "help_request"
        if r["first_response_at"]:
            r["breach_seconds"] = None
            r["breached"] = False
        else:
            r["breach_seconds"] = rules.seconds_to_breach(r["ola_due_at"], now)
            r["breached"] = r["breach_seconds"] <= 0
        return r

    def _decorate_case(self, r: dict, now: datetime) -> dict:
        r["kind"] = "case"
        r.setdefault("ratio", rules.staleness_ratio(r["last_activity_at"], r["severity"], now, self.config.stale))
        r["reasons"] = rules.stale_reasons(
            last_activity_at=r["last_activity_at"], last_customer_update_at=r["last_customer_update_at"],
            severity=r["severity"], reopen_count=r["reopen_count"], now=now, stale=self.config.stale,
        )
        r["idle_seconds"] = int((now - parse_ts(r["last_activity_at"])).total_seconds())
        return r

    def _decorate_bug(self, r: dict, now: datetime) -> dict:
        imp = self.config.impact
        r["kind"] = "bug"
        r["priority"] = rules.effective_priority(r["impact_score"], r["priority_override"], imp)
        r["priority_overridden"] = r["priority_override"] is not None
        target = r["target_at"] or to_ts(rules.resolution_target(r["created_at"], r["priority"], imp))
        r["target"] = target
        r["target_explicit"] = r["target_at"] is not None
        r["target_state"] = rules.target_state(target, now, imp) if r["status"] in ("open", "in_progress") else ""
        return r

    def _decorate_article(self, r: dict, now: datetime) -> dict:
        r["kind"] = "article"
        r["reasons"] = rules.article_review_reasons(
            state=r["state"], open_flags=r["open_flags"], review_due_at=r["review_due_at"],
            last_reused_at=r["last_reused_at"], created_at=r["created_at"], now=now, kb=self.config.kb,
        )
        return r

    # ---------------------------------------------------------------- details

    def detail(self, kind: str, ref: str) -> dict:
        return {
            "help_request": self.help_request,
            "case": self.case,
            "bug": self.bug,
            "article": self.article,
        }[kind](ref)

    def _get(self, kind: str, ref: str | int) -> dict:
        row = rec.get_record(self._conn, kind, ref)
        if row is None:
            raise ActionError(f"{kind.replace('_', ' ')} {ref} is not in the replica")
        return row

    def _messages(self, parent_type: str, parent_id: int) -> list[dict]:
        return self.replica.query(
            "SELECT id, ref, author, body, kind, created_at FROM messages WHERE parent_type = ? AND parent_id = ? "
            "ORDER BY created_at, id",
            (parent_type, parent_id),
        )

    def help_request(self, ref: str | int) -> dict:
        r = self._decorate_help(self._get("help_request", ref), self.now())
        r["messages"] = self._messages("help_request", r["id"])
        r["case"] = self.replica.one("SELECT id, ref, subject, customer, severity, status FROM cases WHERE id = ?", (r["case_id"],)) if r["case_id"] else None
        r["article"] = self.replica.one("SELECT id, ref, title, state FROM articles WHERE id = ?", (r["article_id"],)) if r["article_id"] else None
        r["bugs"] = self._bugs_of_case(r["case_id"]) if r["case_id"] else []
        return r

    def _bugs_of_case(self, case_id: int) -> list[dict]:
        return self.replica.query(
            "SELECT b.id, b.ref, b.title, b.status, b.impact_score FROM case_bugs cb JOIN bugs b ON b.id = cb.bug_id "
            "WHERE cb.case_id = ? ORDER BY b.impact_score DESC", (case_id,))

    def case(self, ref: str | int) -> dict:
        r = self._decorate_case(self._get("case", ref), self.now())
        r["messages"] = self._messages("case", r["id"])
        r["bugs"] = self._bugs_of_case(r["id"])
        r["help_requests"] = self.replica.query(
            "SELECT id, ref, subject, status, owner FROM help_requests WHERE case_id = ? ORDER BY created_at", (r["id"],))
        r["articles"] = self.replica.query(
            "SELECT a.id, a.ref, a.title, a.state FROM article_links l JOIN articles a ON a.id = l.article_id "
            "WHERE l.target_type = 'case' AND l.target_id = ? ORDER BY a.title", (r["id"],))
        r["offered_by_me"] = self._offered(r["id"])
        return r

    def bug(self, ref: str | int, case_limit: int = 50) -> dict:
        r = self._decorate_bug(self._get("bug", ref), self.now())
        r["cases"] = self.replica.query(
            "SELECT c.id, c.ref, c.subject, c.customer, c.tier, c.severity, c.status FROM case_bugs cb "
            "JOIN cases c ON c.id = cb.case_id WHERE cb.bug_id = ? "
            "ORDER BY c.status IN ('open','pending','on_hold') DESC, c.severity, c.id LIMIT ?", (r["id"], case_limit))
        r["linked_cases_total"] = self.replica.scalar("SELECT COUNT(*) FROM case_bugs WHERE bug_id = ?", (r["id"],))
        return r

    def article(self, ref: str | int) -> dict:
        r = self._decorate_article(self._get("article", ref), self.now())
        r["flags"] = self.replica.query(
            "SELECT id, who, reason, created_at, resolved_at FROM article_flags WHERE article_id = ? ORDER BY created_at", (r["id"],))
        r["cases"] = self.replica.query(
            "SELECT c.id, c.ref, c.subject FROM article_links l JOIN cases c ON c.id = l.target_id "
            "WHERE l.article_id = ? AND l.target_type = 'case' ORDER BY l.created_at DESC LIMIT 50", (r["id"],))
        r["help_requests"] = self.replica.query(
            "SELECT h.id, h.ref, h.subject FROM article_links l JOIN help_requests h ON h.id = l.target_id "
            "WHERE l.article_id = ? AND l.target_type = 'help_request' ORDER BY l.created_at DESC LIMIT 50", (r["id"],))
        return r

    # ---------------------------------------------------------------- outbox

    def _enqueue(self, conn, op: str, kind: str, record: dict, payload: dict | None = None) -> int:
        now = to_ts(self.now())
        cur = conn.execute(
            "INSERT INTO outbox(created_at, updated_at, op, record_type, record_ref, source, base_version, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, now, op, kind, record["ref"], record["source"], record.get("remote_version"),
             json.dumps(payload or {}, ensure_ascii=False)),
        )
        return cur.lastrowid

    def pending_ops(self) -> int:
        return self.replica.scalar("SELECT COUNT(*) FROM outbox WHERE state IN ('pending','sending')")

    def outbox(self, states: tuple[str, ...] = ("pending", "sending", "conflict", "error"), limit: int = 200) -> list[dict]:
        marks = ",".join("?" * len(states))
        rows = self.replica.query(
            f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY id LIMIT ?", (*states, limit))
        for r in rows:
            r["payload"] = json.loads(r["payload"])
        return rows

    def unsent_ops(self) -> list[dict]:
        """The outbox view: every op not yet upstream (pending, sending, conflict, error)."""
        return OB.unsent(self._conn)

    def retry_op(self, op_id: int) -> None:
        with self.replica.transaction() as conn:
            if not OB.retry(conn, op_id, to_ts(self.now())):
                raise ActionError("only a change in conflict or in error can be tried again")

    def rewrite_op(self, op_id: int, body: str, as_note: bool = False) -> None:
        """Edit the text of a reply, note or offer not yet sent (as_note: a refused reply becomes
        an internal note); it goes back in line for the next sync."""
        if not body.strip():
            raise ActionError("the text is empty")
        with self.replica.transaction() as conn:
            op = OB.get_op(conn, op_id)
            if as_note and (op is None or op["op"] != "respond"):
                raise ActionError("only a reply can become an internal note")
            if not OB.rewrite(conn, op_id, body, to_ts(self.now()), "note" if as_note else None):
                raise ActionError("only the text of a reply, note or offer not being sent can be edited")

    def discard_op(self, op_id: int) -> dict:
        with self.replica.transaction() as conn:
            found = OB.discard(conn, op_id, to_ts(self.now()))
        if found is None:
            raise ActionError("that change is being sent or already went; it cannot be discarded")
        return found

    def conflicts(self) -> list[dict]:
        return self.outbox(("conflict",))

    def dismiss_conflict(self, op_id: int) -> None:
        with self.replica.transaction() as conn:
            conn.execute("UPDATE outbox SET state = 'done', updated_at = ? WHERE id = ? AND state = 'conflict'",
                         (to_ts(self.now()), op_id))

    def sync(self, progress=None, source: str | None = None):
        """Push the outbox, then pull (every configured source, or `source`). Blocking: the UI
        calls it in a worker. Returns a SyncResult (pulled, pushed, conflicts, errors, seconds)."""
        from backline_tui.sync.engine import sync_all

        return sync_all(self.replica, self.config, source=source, clock=self.clock, progress=progress)

    def status(self) -> dict[str, Any]:
        last = self.replica.one("SELECT * FROM sync_log WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1")
        ok, failed = OB.last_syncs(self._conn)
        return {
            "last_success": ok["finished_at"] if ok else None,
            "last_failure": failed["finished_at"] if failed else None,
            "last_failure_error": failed["error"] if failed else None,
            "me": self.me,
            "pending": self.pending_ops(),
            "unsent": OB.unsent_count(self._conn),
            "errors": OB.count_in(self._conn, "error"),
            "conflicts": OB.count_in(self._conn, "conflict"),
            "last_sync": last["finished_at"] if last else None,
            "last_sync_error": last["error"] if last else None,
            "sources": [s.name for s in self.config.sources],
        }

    # ---------------------------------------------------------------- drafts (text not sent)

    def save_draft(self, kind: str, ref: str, action: str, body: str, title: str | None = None,
                   reason: str | None = None) -> None:
        """Keep what the user typed for `action` on a record until it is sent or discarded."""
        with self.replica.transaction() as conn:
            D.save(conn, kind, ref, action, body, title, reason, to_ts(self.now()))

    def draft(self, kind: str, ref: str, action: str) -> dict | None:
        return D.get(self._conn, kind, ref, action)

    def drop_draft(self, kind: str, ref: str, action: str) -> None:
        with self.replica.transaction() as conn:
            D.delete(conn, kind, ref, action)

    def drafts(self) -> list[dict]:
        return D.all_drafts(self._conn)

    def reply_refusal(self, ref: str) -> str | None:
        """Why a reply to `ref` would be refused, or None: said before the user starts typing."""
        hr = self._get("help_request", ref)
        if hr["status"] == "resolved":
            return f"{hr['ref']} is resolved"
        if hr["owner"] and hr["owner"] != self.me:
            return f"{hr['ref']} is claimed by {hr['owner']}"
        return None

    # ---------------------------------------------------------------- help-request actions

    def _touch_help(self, conn, hr: dict, **fields: Any) -> None:
        fields["updated_at"] = to_ts(self.now())
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE help_requests SET {sets} WHERE id = ?", (*fields.values(), hr["id"]))

    def claim(self, ref: str) -> dict:
        with self.replica.transaction() as conn:
            hr = self._get("help_request", ref)
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is already resolved")
            if hr["owner"] == self.me:
                raise ActionError(f"{hr['ref']} is already yours")
            if hr["owner"]:
                raise ActionError(f"{hr['ref']} is already claimed by {hr['owner']}")
            self._touch_help(conn, hr, owner=self.me, status="claimed" if hr["status"] == "new" else hr["status"])
            if OB.take_back(conn, hr["source"], hr["ref"], "unclaim") is None:
                self._enqueue(conn, "claim", "help_request", hr)
        return self.help_request(hr["id"])

    def take_over(self, ref: str) -> dict:
        """A request someone else owns becomes mine: upstream a reassignment, with the previous
        owner named in the thread."""
        with self.replica.transaction() as conn:
            hr = self._get("help_request", ref)
            why = rules.why_not("take_over", {**hr, "kind": "help_request"}, self.me)
            if why is not None:
                raise ActionError(why)
            self._touch_help(conn, hr, owner=self.me, status="claimed" if hr["status"] == "new" else hr["status"])
            self._enqueue(conn, "take_over", "help_request", hr, {"previous_owner": hr["owner"]})
        return self.help_request(hr["id"])

    BULK = ("claim", "validate", "archive", "review", "flag", "link")

    def bulk(self, action: str, refs: list[str], arg: str | None = None) -> int:
        """One action over many records, all or nothing: one transaction, one outbox op per
        record. If one record refuses (already claimed, archived…), nothing is done and the
        sentence names it. `arg`: the reason of a flag, the bug of a link."""
        one = {"claim": self.claim, "validate": self.validate, "archive": self.archive, "review": self.mark_reviewed,
               "flag": lambda ref: self.flag(ref, arg or ""), "link": lambda ref: self.link_case_bug(ref, arg or "")}
        if action not in one:
            raise ActionError(f"{action} cannot be applied to marked rows")
        with self.replica.transaction():
            for ref in refs:
                try:
                    one[action](ref)
                except ActionError as exc:
                    raise ActionError(f"nothing done: {exc}") from None
        return len(refs)

    def take_over_and_respond(self, ref: str, body: str) -> dict:
        """The way forward for a reply refused because someone else owns the request: take it
        over and send, all or nothing."""
        with self.replica.transaction():
            self.take_over(ref)
            return self.respond(ref, body)

    def unclaim(self, ref: str) -> dict:
        with self.replica.transaction() as conn:
            hr = self._get("help_request", ref)
            if hr["owner"] != self.me:
                who = hr["owner"] or "nobody"
                raise ActionError(f"{hr['ref']} is not yours to unclaim (owner: {who})")
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is already resolved")
            self._touch_help(conn, hr, owner=None, status="new" if hr["status"] == "claimed" else hr["status"])
            if OB.take_back(conn, hr["source"], hr["ref"], "claim") is None:
                self._enqueue(conn, "unclaim", "help_request", hr)
        return self.help_request(hr["id"])

    def _check_mine_or_free(self, hr: dict, verb: str) -> None:
        if hr["owner"] and hr["owner"] != self.me:
            raise ActionError(f"{hr['ref']} is claimed by {hr['owner']}; only they can {verb} it")

    def _add_message(self, conn, parent_type: str, parent: dict, body: str, kind: str) -> int:
        cur = conn.execute(
            "INSERT INTO messages(source, parent_type, parent_id, author, body, kind, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (parent["source"], parent_type, parent["id"], self.me, body, kind, to_ts(self.now())),
        )
        return cur.lastrowid

    def respond(self, ref: str, body: str) -> dict:
        """Reply to the asker. Answering an unclaimed request claims it."""
        if not body.strip():
            raise ActionError("a reply needs some text")
        with self.replica.transaction() as conn:
            hr = self._get("help_request", ref)
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is resolved; add an internal note instead")
            self._check_mine_or_free(hr, "answer")
            if hr["owner"] is None:
                self._enqueue(conn, "claim", "help_request", hr)
            msg_id = self._add_message(conn, "help_request", hr, body, "reply")
            now = to_ts(self.now())
            self._touch_help(conn, hr, owner=self.me, status="answered",
                             first_response_at=hr["first_response_at"] or now)
            self._enqueue(conn, "respond", "help_request", hr, {"message_id": msg_id, "body": body})
        return self.help_request(hr["id"])

    def note(self, kind: str, ref: str, body: str) -> dict:
        """An internal note on a help request or a case."""
        if kind not in ("help_request", "case"):
            raise ActionError("notes go on help requests and cases")
        if not body.strip():
            raise ActionError("a note needs some text")
        with self.replica.transaction() as conn:
            record = self._get(kind, ref)
            msg_id = self._add_message(conn, kind, record, body, "note")
            self._enqueue(conn, "note", kind, record, {"message_id": msg_id, "body": body})
        return self.detail(kind, record["ref"])

    def resolve(self, ref: str) -> dict:
        with self.replica.transaction() as conn:
            hr = self._get("help_request", ref)
            if hr["status"] == "resolved":
                raise ActionError(f"{hr['ref']} is already resolved")
            self._check_mine_or_free(hr, "resolve")
            now = to_ts(self.now())
            self._touch_help(conn, hr, owner=hr["owner"] or self.me, status="resolved", resolved_at=now)
            self._enqueue(conn, "resolve", "help_request", hr)
        return self.help_request(hr["id"])

    def draft_article(self, ref: str) -> tuple[str, str]:
        """A KCS draft (Issue / Environment / Resolution / Cause) from the question and its answer."""
        hr = self.help_request(ref)
        replies = [m for m in hr["messages"] if m["kind"] == "reply"]
        version = hr["case"] and self.replica.scalar("SELECT version FROM cases WHERE id = ?", (hr["case"]["id"],))
        return rules.kcs_draft(
            subject=hr["subject"], question=hr["body"], answer=replies[-1]["body"] if replies else "",
            product=hr["product"], component=hr["component"], version=version or "",
        )

    def document(self, ref: str, title: str | None = None, body: str | None = None) -> dict:
        """Save a KCS draft as a WIP article linked to the request (and its case)."""
        if title is None or body is None:
            d_title, d_body = self.draft_article(ref)
            title = d_title if title is None else title
            body = d_body if body is None else body
        if not title.strip():
            raise ActionError("an article needs a title")
        with self.replica.transaction() as conn:
            hr = self._get("help_request", ref)
            if hr["article_id"]:
                art = self._get("article", hr["article_id"])
                raise ActionError(f"{hr['ref']} is already documented in {art['ref']}")
            now = to_ts(self.now())
            next_id = (conn.execute("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM articles").fetchone()["n"])
            art_ref = f"DRAFT-{next_id}"
            cur = conn.execute(
                "INSERT INTO articles(ref, source, title, body, state, owner, product, component, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'wip', ?, ?, ?, ?, ?)",
                (art_ref, hr["source"], title.strip(), body, self.me, hr["product"], hr["component"], now, now),
            )
            art_id = cur.lastrowid
            conn.execute("INSERT INTO article_links(article_id, target_type, target_id, created_at) VALUES (?, 'help_request', ?, ?)",
                         (art_id, hr["id"], now))
            if hr["case_id"]:
                conn.execute("INSERT OR IGNORE INTO article_links(article_id, target_type, target_id, created_at) "
                             "VALUES (?, 'case', ?, ?)", (art_id, hr["case_id"], now))
            rec.refresh_article_stats(conn, [art_id])
            self._touch_help(conn, hr, article_id=art_id)
            self._enqueue(conn, "document", "help_request", hr,
                          {"article_ref": art_ref, "title": title.strip(), "body": body})
        return self.article(art_ref)

    # ---------------------------------------------------------------- cases

    def _offered(self, case_id: int) -> bool:
        return bool(self.replica.scalar(
            "SELECT EXISTS(SELECT 1 FROM messages WHERE parent_type = 'case' AND parent_id = ? AND kind = 'offer' AND author = ?)",
            (case_id, self.me)))

    def offer_text(self, ref: str) -> str:
        c = self.case(ref)
        days = c["idle_seconds"] / 86400
        owner = c["owner"] or "there"
        return (f"Hi {owner}, {c['ref']} ({c['customer']}, {c['severity']}) has had no activity for "
                f"{days:.0f} days. I'm on backline today and happy to help: a call, a log review or a "
                f"repro. Reply here or ping me. — {self.me}")

    def offer_help(self, ref: str, body: str | None = None) -> dict:
        with self.replica.transaction() as conn:
            case = self._get("case", ref)
            if case["status"] in ("solved", "closed"):
                raise ActionError(f"{case['ref']} is {case['status']}; nothing to help with")
            if self._offered(case["id"]):
                raise ActionError(f"you already offered help on {case['ref']}")
            text = body if body and body.strip() else self.offer_text(case["ref"])
            msg_id = self._add_message(conn, "case", case, text, "offer")
            self._enqueue(conn, "offer_help", "case", case, {"message_id": msg_id, "body": text, "to": case["owner"]})
        return self.case(case["ref"])

    # ---------------------------------------------------------------- bugs

    def set_bug_priority(self, ref: str, priority: str | None) -> dict:
        if priority is not None and priority not in PRIORITIES:
            raise ActionError(f"priority must be one of {', '.join(PRIORITIES)}, or none to follow impact")
        with self.replica.transaction() as conn:
            bug = self._get("bug", ref)
            if bug["priority_override"] == priority:
                raise ActionError(f"{bug['ref']} priority is already {priority or 'set by impact'}")
            conn.execute("UPDATE bugs SET priority_override = ?, updated_at = ? WHERE id = ?",
                         (priority, to_ts(self.now()), bug["id"]))
            self._enqueue_setting(conn, "bug_priority", bug, "priority", priority, bug["priority_override"])
        return self.bug(bug["ref"])

    def _enqueue_setting(self, conn, op: str, bug: dict, field: str, value: Any, before: Any) -> None:
        """One op per setting not yet sent: a newer value replaces a pending older one, and a
        value back to what upstream had (an undo) leaves no op at all."""
        older = OB.take_back(conn, bug["source"], bug["ref"], op)
        if older is not None:
            before = older["payload"].get("before", before)
            if value == before:
                return
        self._enqueue(conn, op, "bug", bug, {field: value, "before": before})

    def set_bug_target(self, ref: str, target: str | date | datetime | None) -> dict:
        if isinstance(target, str):
            text = target.strip()
            try:
                target = parse_ts(text + "T00:00:00Z") if len(text) == 10 else parse_ts(text)
            except ValueError:
                raise ActionError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
        elif isinstance(target, date) and not isinstance(target, datetime):
            target = datetime(target.year, target.month, target.day)
        target_ts = to_ts(target) if target is not None else None
        with self.replica.transaction() as conn:
            bug = self._get("bug", ref)
            if bug["target_at"] == target_ts:
                raise ActionError(f"{bug['ref']} target is already {target_ts[:10] if target_ts else 'the default'}")
            conn.execute("UPDATE bugs SET target_at = ?, updated_at = ? WHERE id = ?", (target_ts, to_ts(self.now()), bug["id"]))
            self._enqueue_setting(conn, "bug_target", bug, "target_at", target_ts, bug["target_at"])
        return self.bug(bug["ref"])

    def _get_typed(self, kind: str, ref: str) -> dict:
        """A record by a ref the user typed: as typed, else in capitals ("proj-42" is PROJ-42)."""
        ref = ref.strip()
        row = rec.get_record(self._conn, kind, ref) or rec.get_record(self._conn, kind, ref.upper())
        return row if row is not None else self._get(kind, ref)

    def link_case_bug(self, case_ref: str, bug_ref: str) -> dict:
        with self.replica.transaction() as conn:
            case = self._get_typed("case", case_ref)
            bug = self._get_typed("bug", bug_ref)
            now = to_ts(self.now())
            if not rec.add_link(conn, "case_bug", case["ref"], bug["ref"], now):
                raise ActionError(f"{case['ref']} is already linked to {bug['ref']}")
            rec.refresh_bug_impact(conn, self.config, [bug["id"]])
            self._enqueue(conn, "link", "case", case, {"bug_ref": bug["ref"], "bug_source": bug["source"],
                                                       "bug_remote_id": bug["remote_id"]})
        return self.bug(bug["ref"])

    # ---------------------------------------------------------------- articles

    def _article_update(self, conn, art: dict, **fields: Any) -> None:
        fields["updated_at"] = to_ts(self.now())
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE articles SET {sets} WHERE id = ?", (*fields.values(), art["id"]))

    def _reviewed_fields(self) -> dict[str, str]:
        now = self.now()
        return {"last_reviewed_at": to_ts(now), "review_due_at": to_ts(rules.next_review_due(now, self.config.kb))}

    def validate(self, ref: str) -> dict:
        with self.replica.transaction() as conn:
            art = self._get("article", ref)
            if art["state"] == "validated":
                raise ActionError(f"{art['ref']} is already validated")
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is archived; it cannot be validated")
            self._article_update(conn, art, state="validated", **self._reviewed_fields())
            self._enqueue(conn, "validate", "article", art, {"state": "validated", **self._reviewed_fields()})
        return self.article(art["ref"])

    def flag(self, ref: str, reason: str) -> dict:
        if not reason.strip():
            raise ActionError("say why you flag it: a flag needs a reason")
        with self.replica.transaction() as conn:
            art = self._get("article", ref)
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is archived")
            cur = conn.execute("INSERT INTO article_flags(article_id, who, reason, created_at) VALUES (?, ?, ?, ?)",
                               (art["id"], self.me, reason.strip(), to_ts(self.now())))
            rec.refresh_article_stats(conn, [art["id"]])
            self._enqueue(conn, "flag", "article", art, {"flag_id": cur.lastrowid, "reason": reason.strip()})
        return self.article(art["ref"])

    def unflag(self, ref: str) -> dict:
        """Resolve the most recent open flag (the undo of `flag`)."""
        with self.replica.transaction() as conn:
            art = self._get("article", ref)
            flag = conn.execute("SELECT id FROM article_flags WHERE article_id = ? AND resolved_at IS NULL "
                                "ORDER BY created_at DESC, id DESC LIMIT 1", (art["id"],)).fetchone()
            if flag is None:
                raise ActionError(f"{art['ref']} has no open flag")
            if OB.take_back(conn, art["source"], art["ref"], "flag", {"flag_id": flag["id"]}) is not None:
                # the flag never left: it goes, with its op
                conn.execute("DELETE FROM article_flags WHERE id = ?", (flag["id"],))
                rec.refresh_article_stats(conn, [art["id"]])
                return self.article(art["ref"])
            conn.execute("UPDATE article_flags SET resolved_at = ? WHERE id = ?", (to_ts(self.now()), flag["id"]))
            rec.refresh_article_stats(conn, [art["id"]])
            self._enqueue(conn, "unflag", "article", art, {"flag_id": flag["id"]})
        return self.article(art["ref"])

    def archive(self, ref: str) -> dict:
        with self.replica.transaction() as conn:
            art = self._get("article", ref)
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is already archived")
            self._article_update(conn, art, state="archived")
            conn.execute("UPDATE article_flags SET resolved_at = ? WHERE article_id = ? AND resolved_at IS NULL",
                         (to_ts(self.now()), art["id"]))
            rec.refresh_article_stats(conn, [art["id"]])
            self._enqueue(conn, "archive", "article", art, {"state": "archived"})
        return self.article(art["ref"])

    def mark_reviewed(self, ref: str) -> dict:
        """Reviewed now: the next review is due a review interval from today, open flags are resolved."""
        with self.replica.transaction() as conn:
            art = self._get("article", ref)
            if art["state"] == "archived":
                raise ActionError(f"{art['ref']} is archived")
            fields = self._reviewed_fields()
            self._article_update(conn, art, **fields)
            conn.execute("UPDATE article_flags SET resolved_at = ? WHERE article_id = ? AND resolved_at IS NULL",
                         (to_ts(self.now()), art["id"]))
            rec.refresh_article_stats(conn, [art["id"]])
            self._enqueue(conn, "review", "article", art, fields)
        return self.article(art["ref"])

    def edit_article(self, ref: str, title: str, body: str) -> dict:
        if not title.strip():
            raise ActionError("an article needs a title")
        with self.replica.transaction() as conn:
            art = self._get("article", ref)
            if art["title"] == title.strip() and art["body"] == body:
                raise ActionError("nothing changed")
            self._article_update(conn, art, title=title.strip(), body=body)
            self._enqueue(conn, "edit_article", "article", art, {"title": title.strip(), "body": body})
        return self.article(art["ref"])

