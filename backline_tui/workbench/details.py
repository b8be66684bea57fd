"""Record details: one record with its thread and what it links to, as the detail view shows it
(with the customer's whole story and a bug's impact explained), the knowledge that may already
answer it, and the texts drafted from a record (a KCS article, an offer of help, a bug)."""

from __future__ import annotations

from datetime import timedelta

from backline_tui.clock import to_ts
from backline_tui.domain import rules
from backline_tui.storage import customers, details, history, knowledge, records
from backline_tui.workbench.core import ActionError
from backline_tui.workbench.panes import Panes

STORY_RECENT_DAYS = 90  # a customer's closed cases active within this many days are part of its story


class Details(Panes):
    def detail(self, kind: str, ref: str) -> dict:
        rec = {
            "help_request": self.help_request,
            "case": self.case,
            "bug": self.bug,
            "article": self.article,
        }[kind](ref)
        # came with its fields only (a first sync still running): the detail view fetches its thread
        rec["history_pending"] = kind != "article" and history.is_pending(self._conn, kind, rec["ref"])
        return rec

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
        r["articles"] = knowledge.articles_of(conn, "help_request", r["id"])
        return r

    def case(self, ref: str | int) -> dict:
        conn = self._conn
        r = self._decorate_case(self._get("case", ref), self.now())
        r["messages"] = details.messages(conn, "case", r["id"])
        r["bugs"] = details.bugs_of_case(conn, r["id"])
        r["help_requests"] = details.help_requests_of_case(conn, r["id"])
        r["articles"] = details.articles_of_case(conn, r["id"])
        r["offered_by_me"] = details.offered(conn, r["id"], self.me)
        r["offers"] = customers.offers_on(conn, r["id"])
        r["story"] = customers.customer_story(conn, r["id"], r["customer"],
                                              to_ts(self.now() - timedelta(days=STORY_RECENT_DAYS)))
        return r

    def bug(self, ref: str | int, case_limit: int = 50) -> dict:
        r = self._decorate_bug(self._get("bug", ref), self.now())
        r["cases"], r["linked_cases_total"] = details.cases_of_bug(self._conn, r["id"], case_limit)
        r["impact_parts"] = rules.impact_parts(r["cases"], self.config.impact)
        r["impact_buckets"] = dict(self.config.impact.buckets)
        return r

    def article(self, ref: str | int) -> dict:
        r = self._decorate_article(self._get("article", ref), self.now())
        r["flags"] = details.flags_of_article(self._conn, r["id"])
        r.update(details.uses_of_article(self._conn, r["id"]))
        return r

    def placeholders(self, ref: str) -> list[str]:
        """The KCS sections (Resolution, Cause) of an article still holding the draft's placeholder."""
        return rules.kcs_placeholders(self._get("article", ref)["body"])

    # ---------------------------------------------------------------- knowledge

    def related(self, kind: str, ref: str | int, articles: int = 5, answers: int = 3) -> dict:
        """What may already answer a help request or case: {"articles": the live articles most
        likely to (title, state, reuse count, excerpt), "answers": the closest answered help
        requests with their latest reply}. Runs on the database thread."""
        if kind not in ("help_request", "case"):
            raise ActionError("related knowledge is for help requests and cases")
        r = self._get(kind, ref)
        text = f"{r['subject']}\n{r['body']}"
        return {
            "articles": knowledge.related_articles(self._conn, text, r["product"], r["component"], articles,
                                                   r["subject"]),
            "answers": knowledge.similar_answered(self._conn, text, r["product"], r["component"],
                                                  r["id"] if kind == "help_request" else None, answers, r["subject"]),
        }

    def lookalike_bugs(self, kind: str, ref: str, limit: int = 5) -> list[dict]:
        """Open bugs that look like the problem of this case or help request."""
        r = self._get(kind, ref)
        return knowledge.similar_open_bugs(self._conn, f"{r['subject']}\n{r['body']}", r["product"], r["component"],
                                           limit, r["subject"])

    def bug_source(self, record: dict) -> str:
        """Where a bug escalated from `record` (a case or help request) goes: the team's bug
        tracker, i.e. the first configured Jira source that maps bugs, else the record's own
        source (RT keeps bugs in its bug queue; a replica without sources keeps them locally).
        Refused (ActionError) when that source cannot hold bugs, before anything is typed."""
        for src in self.config.sources:
            if src.kind == "jira" and src.mapping and "bug" in src.mapping:
                return src.name
        self._check_bug_source(record["source"], named=False)
        return record["source"]

    def _check_bug_source(self, source: str, named: bool) -> None:
        """Refuse a new bug in `source` when the config has no such source (`named`: the user
        chose it) or it is a Jira source that maps no bugs (its push could not file one)."""
        src = next((s for s in self.config.sources if s.name == source), None)
        if src is None and named:
            raise ActionError(f"no source named {source!r} in the config")
        if src is not None and src.kind == "jira" and "bug" not in (src.mapping or {}):
            raise ActionError(f"source {source} maps no bugs; add [sources.mapping.bug] to file bugs there")

    def escalation_draft(self, kind: str, ref: str) -> dict:
        """A bug for sustaining engineering drafted from a case or help request (a request's
        case when it has one): title, product, component, version, severity, body (customer
        impact, environment, steps and the thread, a link back), case_ref, from_ref, and
        source (where it will be filed: bug_source)."""
        if kind not in ("help_request", "case"):
            raise ActionError("bugs are drafted from cases and help requests")
        conn = self._conn
        record = self._get(kind, ref)
        case = self._get("case", record["case_id"]) if kind == "help_request" and record["case_id"] else \
            (record if kind == "case" else None)
        thread = details.messages(conn, kind, record["id"])
        if case is not None and case is not record:
            thread = details.messages(conn, "case", case["id"]) + thread
        draft = rules.escalation_draft(
            record=record, kind=kind, case=case, thread=thread,
            open_cases_of_customer=customers.open_cases_of_customer(conn, case["customer"]) if case else 0,
            bugs_of_case=len(details.bugs_of_case(conn, case["id"])) if case else 0)
        draft["source"] = self.bug_source(case or record)
        return draft

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
