"""`backline sources check` for an RT source: reads RT, never writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backline_tui.sync.base import CheckReport
from backline_tui.sync.rt.client import RTAuthError, RTError, RTNotFound, RTUnavailable
from backline_tui.sync.rt.mapping import LINK_FIELDS, OP_WRITES, OUR_FIELDS, check_from, ticket_sql
from backline_tui.sync.rt.pull import ARTICLE_FIELDS, TICKET_FIELDS

if TYPE_CHECKING:
    from backline_tui.sync.rt.connector import RTConnector

SAMPLE = 100  # the newest records per kind whose values `sources check` reads (one page)
KIND_WORDS = {"help_request": "help requests", "case": "cases", "bug": "bugs", "article": "articles"}


def rt_message(exc: RTError) -> str:
    """RT's own words without the Perl source location it appends."""
    import re

    return re.sub(r"\s+at /\S+ line \d+\.?\s*$", "", exc.message).strip()


def _close(name: str, names: set[str]) -> str:
    from rapidfuzz import process

    best = [m for m, score, _ in process.extract(name, sorted(names), limit=3) if score >= 60]
    return f" (close: {', '.join(repr(b) for b in best)})" if best else ""


class Checker:
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
                    add("problem", f"{words}: TicketSQL {sql!r} is not valid: {rt_message(exc)}")
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

