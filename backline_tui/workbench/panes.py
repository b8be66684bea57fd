"""Panes and search: the pages the four list panes show, their counts, and the decorations a
backliner decides by (time to breach, why stale, effective priority, why up for review)."""

from __future__ import annotations

from datetime import datetime

from backline_tui.clock import parse_ts, to_ts
from backline_tui.domain import rules
from backline_tui.storage import customers, details, knowledge
from backline_tui.storage import panes as pane_queries
from backline_tui.storage import records, search
from backline_tui.storage.filters import PaneFilter
from backline_tui.workbench.core import WorkbenchCore

PANES = ("help", "stale", "bugs", "kb")
PAGE = 100  # rows a pane shows at once
PANE_TITLES = {"help": "Help queue", "stale": "Stale cases", "bugs": "Sustaining bugs", "kb": "KB review"}
PANE_KIND = {"help": "help_request", "stale": "case", "bugs": "bug", "kb": "article"}


class Panes(WorkbenchCore):
    def _me_for(self, f: PaneFilter) -> str:
        return self.me if f.mine else ""

    def pane(self, name: str, f: PaneFilter | None = None, offset: int = 0, limit: int = 100) -> list[dict]:
        f = f or PaneFilter()
        now = self.now()
        conn = self._conn
        if name == "help":  # needs no config unless filtered to mine: the first page at start-up
            return [self._decorate_help(r, now) for r in pane_queries.help_queue(conn, f, self._me_for(f), offset, limit)]
        if name == "stale":
            rows = [self._decorate_case(r, now)
                    for r in pane_queries.stale_cases(conn, f, self.me, self.config, now, offset, limit)]
            offered = customers.offered_cases(conn, [r["id"] for r in rows])
            for r in rows:  # whether help was offered already shows in the list (Why)
                if r["id"] in offered:
                    r["reasons"].append(f"offered by {offered[r['id']]}")
            return rows
        if name == "bugs":
            return [self._decorate_bug(r, now) for r in pane_queries.sustaining_bugs(conn, f, self.me, offset, limit)]
        if name == "kb":
            return [self._decorate_article(r, now)
                    for r in pane_queries.kb_review(conn, f, self.me, self.config, now, offset, limit)]
        raise ValueError(f"unknown pane {name!r}")

    def pane_count(self, name: str, f: PaneFilter | None = None) -> int:
        f = f or PaneFilter()
        conn, now = self._conn, self.now()
        if name == "help":
            return pane_queries.help_queue_count(conn, f, self._me_for(f))
        if name == "stale":
            return pane_queries.stale_cases_count(conn, f, self.me, self.config, now)
        if name == "bugs":
            return pane_queries.sustaining_bugs_count(conn, f, self.me)
        if name == "kb":
            return pane_queries.kb_review_count(conn, f, self.me, self.config, now)
        raise ValueError(f"unknown pane {name!r}")

    def counts(self) -> dict[str, int]:
        return {name: self.pane_count(name) for name in PANES}

    def insights(self):
        """The Insights facade (drivers, bugs by impact, knowledge gaps, team numbers) on this
        replica, config and clock. Heavy at scale: call its methods from a worker thread."""
        from backline_tui.insights import Insights

        return Insights(self.replica, self.config, self.clock)

    def urgent_help(self) -> list[dict]:
        """Open P1/P2 help requests, and whether each breaches its OLA now (for announcements)."""
        return pane_queries.urgent_help(self._conn, self.now())

    def products(self) -> list[str]:
        return details.products(self._conn)

    @staticmethod
    def sort_columns(pane: str) -> list[str]:
        """The columns `s` cycles the pane's sort through."""
        return [label for label, _ in pane_queries.SORTS.get(pane, ())]

    def search(self, text: str, limit: int = 30) -> list[dict]:
        return search.search(self._conn, text, limit)

    def pick(self, kind: str, text: str, limit: int = 20) -> list[dict]:
        """Picker search: `kind` ("article", "bug", "case") by ref, number or words."""
        return knowledge.pick(self._conn, kind, text, limit)

    def find_ref(self, ref: str) -> list[dict]:
        """Records whose ref is exactly `ref` (FTS does not index refs), short or qualified
        (source:REF; every source's record when a short ref is shared): kind, id, ref, title."""
        ref = ref.strip()
        hits = []
        for kind in ("help_request", "case", "bug", "article"):
            for row in records.find_records(self._conn, kind, ref) if ref else []:
                hits.append({"kind": kind, "id": row["id"], "ref": row["ref"],
                             "title": row.get("subject") or row.get("title") or ""})
        head, colon, rest = ref.partition(":")
        if not hits and colon and rest != rest.upper():  # "west:rt#2": the source as typed, the ref upper-cased
            return self.find_ref(f"{head}:{rest.upper()}")
        return hits

    def is_empty(self) -> bool:
        return details.is_empty(self._conn)

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
