"""Record details: one record with its thread and what it links to, as the detail view shows it,
and the texts drafted from a record (a KCS article, an offer of help)."""

from __future__ import annotations

from backline_tui.domain import rules
from backline_tui.storage import details, records
from backline_tui.workbench.panes import Panes


class Details(Panes):
    def detail(self, kind: str, ref: str) -> dict:
        return {
            "help_request": self.help_request,
            "case": self.case,
            "bug": self.bug,
            "article": self.article,
        }[kind](ref)

    def record_url(self, kind: str, ref: str) -> str | None:
        """The record's page upstream (for a browser), or None (demo data, a file, a local draft)."""
        from backline_tui.sync.urls import web_url

        row = records.get_record(self._conn, kind, ref)
        if row is None:
            return None
        source = next((s for s in self.config.sources if s.name == row["source"]), None)
        return web_url(source, kind, row["ref"])

    def help_request(self, ref: str | int) -> dict:
        conn = self._conn
        r = self._decorate_help(self._get("help_request", ref), self.now())
        r["messages"] = details.messages(conn, "help_request", r["id"])
        r["case"] = details.case_summary(conn, r["case_id"]) if r["case_id"] else None
        r["article"] = details.article_summary(conn, r["article_id"]) if r["article_id"] else None
        r["bugs"] = details.bugs_of_case(conn, r["case_id"]) if r["case_id"] else []
        return r

    def case(self, ref: str | int) -> dict:
        conn = self._conn
        r = self._decorate_case(self._get("case", ref), self.now())
        r["messages"] = details.messages(conn, "case", r["id"])
        r["bugs"] = details.bugs_of_case(conn, r["id"])
        r["help_requests"] = details.help_requests_of_case(conn, r["id"])
        r["articles"] = details.articles_of_case(conn, r["id"])
        r["offered_by_me"] = details.offered(conn, r["id"], self.me)
        return r

    def bug(self, ref: str | int, case_limit: int = 50) -> dict:
        r = self._decorate_bug(self._get("bug", ref), self.now())
        r["cases"], r["linked_cases_total"] = details.cases_of_bug(self._conn, r["id"], case_limit)
        return r

    def article(self, ref: str | int) -> dict:
        r = self._decorate_article(self._get("article", ref), self.now())
        r["flags"] = details.flags_of_article(self._conn, r["id"])
        r.update(details.uses_of_article(self._conn, r["id"]))
        return r

    def draft_article(self, ref: str) -> tuple[str, str]:
        """A KCS draft (Issue / Environment / Resolution / Cause) from the question and its answer."""
        hr = self.help_request(ref)
        replies = [m for m in hr["messages"] if m["kind"] == "reply"]
        return rules.kcs_draft(
            subject=hr["subject"], question=hr["body"], answer=replies[-1]["body"] if replies else "",
            product=hr["product"], component=hr["component"], version=(hr["case"] or {}).get("version") or "",
        )

    def offer_text(self, ref: str) -> str:
        c = self.case(ref)
        days = c["idle_seconds"] / 86400
        owner = c["owner"] or "there"
        return (f"Hi {owner}, {c['ref']} ({c['customer']}, {c['severity']}) has had no activity for "
                f"{days:.0f} days. I'm on backline today and happy to help: a call, a log review or a "
                f"repro. Reply here or ping me. — {self.me}")
