"""Paged pane queries. Each reads one page in index order; none sorts a whole table."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backline_tui.clock import to_ts
from backline_tui.config import SEVERITIES, Config
from backline_tui.storage.schema import OPEN_BUG, OPEN_CASE, OPEN_HELP


@dataclass(frozen=True)
class PaneFilter:
    """mine / unclaimed / product / free text; all optional and combined with AND."""

    mine: bool = False
    unclaimed: bool = False
    product: str | None = None
    text: str | None = None

    def describe(self) -> str:
        parts = []
        if self.mine:
            parts.append("mine")
        if self.unclaimed:
            parts.append("unclaimed")
        if self.product:
            parts.append(f"product={self.product}")
        if self.text:
            parts.append(f"“{self.text}”")
        return " · ".join(parts) or "all"


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters(f: PaneFilter, me: str, owner_col: str, text_cols: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if f.mine:
        where.append(f"{owner_col} = :me")
        params["me"] = me
    if f.unclaimed:
        where.append(f"{owner_col} IS NULL")
    if f.product:
        where.append("product = :product")
        params["product"] = f.product
    if f.text and f.text.strip():
        params["pat"] = like_pattern(f.text.strip())
        where.append("(" + " OR ".join(f"{c} LIKE :pat ESCAPE '\\'" for c in text_cols) + ")")
    return "".join(f" AND {w}" for w in where), params


# -- help queue ------------------------------------------------------------------------------

HELP_COLS = (
    "id, ref, subject, asker, product, component, priority, status, owner, created_at, "
    "ola_due_at, first_response_at, case_id, article_id"
)
HELP_ORDER = "(first_response_at IS NOT NULL), ola_due_at, priority, created_at"


def help_queue(conn: sqlite3.Connection, f: PaneFilter, me: str, offset: int = 0, limit: int = 100) -> list[dict]:
    extra, params = _filters(f, me, "owner", ("subject", "asker", "ref", "product", "component"))
    sql = (
        f"SELECT {HELP_COLS} FROM help_requests WHERE {OPEN_HELP}{extra} "
        f"ORDER BY {HELP_ORDER} LIMIT :limit OFFSET :offset"
    )
    return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()


def help_queue_count(conn: sqlite3.Connection, f: PaneFilter, me: str) -> int:
    extra, params = _filters(f, me, "owner", ("subject", "asker", "ref", "product", "component"))
    return conn.execute(f"SELECT COUNT(*) AS n FROM help_requests WHERE {OPEN_HELP}{extra}", params).fetchone()["n"]


# -- stale cases ------------------------------------------------------------------------------

CASE_COLS = (
    "id, ref, subject, customer, tier, product, component, version, severity, status, owner, "
    "created_at, last_activity_at, last_customer_update_at, reopen_count"
)


def _stale_where(f: PaneFilter, me: str, config: Config, now: datetime, severity: str) -> tuple[str, dict]:
    extra, params = _filters(f, me, "owner", ("subject", "customer", "ref", "product", "component"))
    cutoff = to_ts(now - timedelta(days=config.stale.days(severity)))
    where = (
        f"{OPEN_CASE} AND severity = :sev AND (last_activity_at <= :cutoff OR reopen_count >= :reopen "
        f"OR last_customer_update_at > last_activity_at){extra}"
    )
    return where, params | {"sev": severity, "cutoff": cutoff, "reopen": config.stale.reopen_threshold}


def stale_cases(
    conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime, offset: int = 0, limit: int = 100
) -> list[dict]:
    """Merge of one index-ordered stream per severity: within a severity, older activity means a
    higher idle ÷ threshold ratio, so the first offset+limit rows of each stream hold the page."""
    need = offset + limit
    rows: list[dict] = []
    for sev in SEVERITIES:
        where, params = _stale_where(f, me, config, now, sev)
        sql = f"SELECT {CASE_COLS} FROM cases WHERE {where} ORDER BY last_activity_at LIMIT :need"
        rows += conn.execute(sql, params | {"need": need}).fetchall()
    for r in rows:
        threshold = config.stale.days(r["severity"]) * 86400
        idle = (now - _dt(r["last_activity_at"])).total_seconds()
        r["idle_seconds"] = int(idle)
        r["ratio"] = max(idle, 0) / threshold
    rows.sort(key=lambda r: (-r["ratio"], r["id"]))
    return rows[offset : offset + limit]


def stale_cases_count(conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime) -> int:
    total = 0
    for sev in SEVERITIES:
        where, params = _stale_where(f, me, config, now, sev)
        total += conn.execute(f"SELECT COUNT(*) AS n FROM cases WHERE {where}", params).fetchone()["n"]
    return total


def _dt(ts: str) -> datetime:
    from backline_tui.clock import parse_ts

    return parse_ts(ts)


# -- sustaining bugs ------------------------------------------------------------------------------

BUG_COLS = (
    "id, ref, title, product, component, severity, status, eng_owner, created_at, target_at, "
    "priority_override, fix_version, impact_score, case_count, customer_count"
)


def sustaining_bugs(conn: sqlite3.Connection, f: PaneFilter, me: str, offset: int = 0, limit: int = 100) -> list[dict]:
    extra, params = _filters(f, me, "eng_owner", ("title", "ref", "product", "component"))
    sql = (
        f"SELECT {BUG_COLS} FROM bugs WHERE {OPEN_BUG}{extra} "
        f"ORDER BY impact_score DESC, created_at LIMIT :limit OFFSET :offset"
    )
    return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()


def sustaining_bugs_count(conn: sqlite3.Connection, f: PaneFilter, me: str) -> int:
    extra, params = _filters(f, me, "eng_owner", ("title", "ref", "product", "component"))
    return conn.execute(f"SELECT COUNT(*) AS n FROM bugs WHERE {OPEN_BUG}{extra}", params).fetchone()["n"]


# -- KB review ------------------------------------------------------------------------------------

ARTICLE_COLS = (
    "id, ref, title, state, owner, product, component, created_at, updated_at, last_reviewed_at, "
    "review_due_at, open_flags, reuse_count, last_reused_at"
)


def _kb_where(f: PaneFilter, me: str, config: Config, now: datetime) -> tuple[str, dict]:
    extra, params = _filters(f, me, "owner", ("title", "ref", "product", "component"))
    cutoff = to_ts(now - timedelta(days=config.kb.archive_after_days))
    where = (
        "state != 'archived' AND (open_flags > 0 OR review_due_at <= :now OR state IN ('wip','not_validated') "
        "OR (state = 'validated' AND COALESCE(last_reused_at, created_at) <= :cutoff))" + extra
    )
    return where, params | {"now": to_ts(now), "cutoff": cutoff}


KB_ORDER = """
    CASE WHEN open_flags > 0 THEN 0
         WHEN review_due_at <= :now THEN 1
         WHEN state IN ('wip','not_validated') THEN 2
         ELSE 3 END,
    CASE WHEN open_flags > 0 THEN -reuse_count ELSE 0 END,
    CASE WHEN open_flags > 0 THEN '' WHEN review_due_at <= :now THEN review_due_at
         WHEN state IN ('wip','not_validated') THEN created_at
         ELSE COALESCE(last_reused_at, created_at) END,
    id
"""


def kb_review(
    conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime, offset: int = 0, limit: int = 100
) -> list[dict]:
    where, params = _kb_where(f, me, config, now)
    sql = f"SELECT {ARTICLE_COLS} FROM articles WHERE {where} ORDER BY {KB_ORDER} LIMIT :limit OFFSET :offset"
    return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()


def kb_review_count(conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime) -> int:
    where, params = _kb_where(f, me, config, now)
    return conn.execute(f"SELECT COUNT(*) AS n FROM articles WHERE {where}", params).fetchone()["n"]


# -- global search (FTS5) -------------------------------------------------------------------------

SEARCH_SOURCES = (
    ("help_request", "help_requests", "help_requests_fts", "subject"),
    ("case", "cases", "cases_fts", "subject"),
    ("bug", "bugs", "bugs_fts", "title"),
    ("article", "articles", "articles_fts", "title"),
)


def fts_query(text: str) -> str | None:
    """Every word must appear; the last one may be a prefix (search as you type)."""
    words = [w for w in text.replace('"', " ").split() if w]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def search(conn: sqlite3.Connection, text: str, limit: int = 30) -> list[dict]:
    q = fts_query(text)
    if q is None:
        return []
    hits: list[dict] = []
    for kind, table, fts, title in SEARCH_SOURCES:
        sql = (
            f"SELECT '{kind}' AS kind, t.id, t.ref, t.{title} AS title, f.rank AS rank FROM {fts} f "
            f"JOIN {table} t ON t.id = f.rowid WHERE {fts} MATCH ? ORDER BY f.rank LIMIT ?"
        )
        try:
            hits += conn.execute(sql, (q, limit)).fetchall()
        except sqlite3.OperationalError:
            return []
    hits.sort(key=lambda h: h["rank"])
    return hits[:limit]
