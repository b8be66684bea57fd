"""Paged pane queries. Each reads one page in index order; none sorts a whole table."""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backline_tui.clock import to_ts
from backline_tui.config import SEVERITIES, Config
from backline_tui.storage.schema import OPEN_BUG, OPEN_CASE, OPEN_HELP


@dataclass(frozen=True)
class PaneFilter:
    """mine / unclaimed / product / free text; all optional and combined with AND. describe() is
    what a person reads ("" when nothing is filtered)."""

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
            parts.append(f"product: {self.product}")
        if self.text:
            parts.append(f"text: “{self.text}”")
        return " · ".join(parts)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_COUNTS: OrderedDict[tuple, tuple[sqlite3.Connection, tuple[int, Any], int]] = OrderedDict()
_COUNTS_LOCK = threading.Lock()
_COUNTS_MAX = 256


def _count(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> int:
    """A COUNT query, remembered until the database changes: this connection's own writes move
    its total_changes, and any other connection's commits move PRAGMA data_version. The workbench
    asks for every pane's count after each page it shows; at a million cases the stale and KB
    counts cost ~10 ms each on the one database thread."""
    row = conn.execute("PRAGMA data_version").fetchone()
    token = (conn.total_changes, row["data_version"] if isinstance(row, dict) else row[0])
    key = (id(conn), sql, tuple(sorted(params.items())))
    with _COUNTS_LOCK:
        hit = _COUNTS.get(key)
        if hit is not None and hit[0] is conn and hit[1] == token:
            _COUNTS.move_to_end(key)
            return hit[2]
    row = conn.execute(sql, params).fetchone()
    n = int(row["n"] if isinstance(row, dict) else row[0])
    with _COUNTS_LOCK:
        _COUNTS[key] = (conn, token, n)  # holding conn keeps its id from being reused
        _COUNTS.move_to_end(key)
        while len(_COUNTS) > _COUNTS_MAX:
            _COUNTS.popitem(last=False)
    return n


def forget_counts() -> None:
    """Drop every remembered count (for benchmarks that time the counting itself)."""
    with _COUNTS_LOCK:
        _COUNTS.clear()


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
# ref (unique, next in ix_hr_queue) breaks ties: without it rows with equal keys came back in a
# different order from one query plan to another, and a page boundary could repeat or skip them
HELP_ORDER = "(first_response_at IS NOT NULL), ola_due_at, priority, created_at, ref"


def help_queue(conn: sqlite3.Connection, f: PaneFilter, me: str, offset: int = 0, limit: int = 100) -> list[dict]:
    extra, params = _filters(f, me, "owner", ("subject", "asker", "ref", "product", "component"))
    sql = (
        f"SELECT {HELP_COLS} FROM help_requests WHERE {OPEN_HELP}{extra} "
        f"ORDER BY {HELP_ORDER} LIMIT :limit OFFSET :offset"
    )
    return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()


def help_queue_count(conn: sqlite3.Connection, f: PaneFilter, me: str) -> int:
    extra, params = _filters(f, me, "owner", ("subject", "asker", "ref", "product", "component"))
    return _count(conn, f"SELECT COUNT(*) AS n FROM help_requests WHERE {OPEN_HELP}{extra}", params)


# -- stale cases ------------------------------------------------------------------------------

CASE_COLS = (
    "id, ref, subject, customer, tier, product, component, version, severity, status, owner, "
    "created_at, last_activity_at, last_customer_update_at, reopen_count"
)


def _stale_where(f: PaneFilter, me: str, config: Config, now: datetime, severity: str, n: int = 0) -> tuple[str, dict]:
    """The stale condition for one severity; parameters of severity `n` carry the suffix n so the
    four streams can share one statement."""
    extra, params = _filters(f, me, "owner", ("subject", "customer", "ref", "product", "component"))
    cutoff = to_ts(now - timedelta(days=config.stale.days(severity)))
    where = (
        f"{OPEN_CASE} AND severity = :sev{n} AND (last_activity_at <= :cutoff{n} OR reopen_count >= :reopen "
        f"OR last_customer_update_at > last_activity_at){extra}"
    )
    return where, params | {f"sev{n}": severity, f"cutoff{n}": cutoff, "reopen": config.stale.reopen_threshold}


def stale_cases(
    conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime, offset: int = 0, limit: int = 100
) -> list[dict]:
    """Merge of one index-ordered stream per severity: within a severity, older activity means a
    higher idle ÷ threshold ratio, so the first offset+limit rows of each stream hold the page.
    The merge runs inside SQLite, so only the page itself reaches Python."""
    now_s = int(now.timestamp())
    params: dict[str, Any] = {"need": offset + limit, "limit": limit, "offset": offset, "now_s": now_s}
    idle = "(:now_s - CAST(strftime('%s', last_activity_at) AS INTEGER))"
    streams = []
    for n, sev in enumerate(SEVERITIES):
        where, p = _stale_where(f, me, config, now, sev, n)
        params |= p | {f"thr{n}": config.stale.days(sev) * 86400}
        streams.append(
            f"SELECT * FROM (SELECT {CASE_COLS}, {idle} AS idle_seconds, MAX({idle}, 0) * 1.0 / :thr{n} AS ratio "
            f"FROM cases WHERE {where} ORDER BY last_activity_at LIMIT :need)"
        )
    sql = " UNION ALL ".join(streams) + " ORDER BY ratio DESC, id LIMIT :limit OFFSET :offset"
    return conn.execute(sql, params).fetchall()


def stale_cases_count(conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime) -> int:
    params: dict[str, Any] = {}
    parts = []
    for n, sev in enumerate(SEVERITIES):
        where, p = _stale_where(f, me, config, now, sev, n)
        params |= p
        parts.append(f"(SELECT COUNT(*) FROM cases WHERE {where})")
    return _count(conn, f"SELECT {' + '.join(parts)} AS n", params)



# -- sustaining bugs ------------------------------------------------------------------------------

BUG_COLS = (
    "id, ref, title, product, component, severity, status, eng_owner, created_at, target_at, "
    "priority_override, fix_version, impact_score, case_count, customer_count"
)


def sustaining_bugs(conn: sqlite3.Connection, f: PaneFilter, me: str, offset: int = 0, limit: int = 100) -> list[dict]:
    extra, params = _filters(f, me, "eng_owner", ("title", "ref", "product", "component"))
    sql = (
        f"SELECT {BUG_COLS} FROM bugs WHERE {OPEN_BUG}{extra} "
        f"ORDER BY impact_score DESC, created_at, id LIMIT :limit OFFSET :offset"
    )
    return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()


def sustaining_bugs_count(conn: sqlite3.Connection, f: PaneFilter, me: str) -> int:
    extra, params = _filters(f, me, "eng_owner", ("title", "ref", "product", "component"))
    return _count(conn, f"SELECT COUNT(*) AS n FROM bugs WHERE {OPEN_BUG}{extra}", params)


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


# The KB pane is four disjoint streams, in this order: flagged (most reused first), review overdue
# (oldest due first), drafts awaiting validation (oldest first), archive candidates (longest unused
# first). Each walks its own small index (schema v4) and stops at offset+limit rows; SQLite merges
# them. One ORDER BY over the CASE expressions of KB_ORDER sorted every article instead.
_NOT_FLAGGED = "open_flags <= 0"
_NOT_DUE = "(review_due_at IS NULL OR review_due_at > :now)"
KB_STREAMS = (
    (0, "state != 'archived' AND open_flags > 0", "-reuse_count", "''", "reuse_count DESC, id"),
    (1, f"state != 'archived' AND {_NOT_FLAGGED} AND review_due_at <= :now", "0", "review_due_at", "review_due_at, id"),
    (2, f"state IN ('wip','not_validated') AND {_NOT_FLAGGED} AND {_NOT_DUE}", "0", "created_at", "created_at, id"),
    (3, f"state = 'validated' AND {_NOT_FLAGGED} AND {_NOT_DUE} AND COALESCE(last_reused_at, created_at) <= :cutoff",
     "0", "COALESCE(last_reused_at, created_at)", "COALESCE(last_reused_at, created_at), id"),
)


def kb_review(
    conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime, offset: int = 0, limit: int = 100
) -> list[dict]:
    if f.text and f.text.strip():
        # a text filter keeps few rows: one pass over the table and a small sort beats four
        # index walks that each fetch rows in random order until they find offset+limit matches
        where, params = _kb_where(f, me, config, now)
        sql = f"SELECT {ARTICLE_COLS} FROM articles WHERE {where} ORDER BY {KB_ORDER} LIMIT :limit OFFSET :offset"
        return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()
    extra, params = _filters(f, me, "owner", ("title", "ref", "product", "component"))
    params |= {"now": to_ts(now), "cutoff": to_ts(now - timedelta(days=config.kb.archive_after_days)),
               "need": offset + limit, "limit": limit, "offset": offset}
    streams = [
        f"SELECT * FROM (SELECT {ARTICLE_COLS}, {cat} AS k1, {k2} AS k2, {k3} AS k3 FROM articles "
        f"WHERE {where}{extra} ORDER BY {order} LIMIT :need)"
        for cat, where, k2, k3, order in KB_STREAMS
    ]
    sql = " UNION ALL ".join(streams) + " ORDER BY k1, k2, k3, id LIMIT :limit OFFSET :offset"
    rows = conn.execute(sql, params).fetchall()
    for r in rows:
        del r["k1"], r["k2"], r["k3"]
    return rows


def kb_review_count(conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime) -> int:
    """One pass over the covering index of live articles (schema v5)."""
    where, params = _kb_where(f, me, config, now)
    return _count(conn, f"SELECT COUNT(*) AS n FROM articles WHERE {where}", params)


# -- global search (FTS5) -------------------------------------------------------------------------

SEARCH_SOURCES = (
    ("help_request", "help_requests", "help_requests_fts", "subject"),
    ("case", "cases", "cases_fts", "subject"),
    ("bug", "bugs", "bugs_fts", "title"),
    ("article", "articles", "articles_fts", "title"),
)


def fts_query(text: str) -> str | None:
    """Every word must appear; the last one may be a prefix (search as you type) once it has
    PREFIX_MIN characters: a one- or two-letter prefix expands to most of the vocabulary
    (FTS5 merges every matching term's postings first: "t*" takes ~150 ms at a million cases)."""
    words = [w for w in text.replace('"', " ").split() if w]
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    if len(words[-1]) >= PREFIX_MIN:
        quoted[-1] += "*"
    return " ".join(quoted)


PREFIX_MIN = 3


SEARCH_WINDOW = 100


def search(conn: sqlite3.Connection, text: str, limit: int = 30, window: int = SEARCH_WINDOW) -> list[dict]:
    """The best `limit` hits by bm25 rank. A common word matches most of a big replica, and ranking
    every match costs a full pass over its postings (140 ms for "timeout" at a million cases), so
    each kind ranks only its `window` newest matches (bm25 costs 4–60 µs a row, the most for
    phrases: "ERR_LOCKED" is the phrase "err locked"): FTS5 walks those in rowid order and stops."""
    q = fts_query(text)
    if q is None:
        return []
    hits: list[dict] = []
    for kind, table, fts, title in SEARCH_SOURCES:
        sql = (
            f"SELECT '{kind}' AS kind, t.id, t.ref, t.{title} AS title, f.rank AS rank "
            f"FROM (SELECT rowid, rank FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT ?) f "
            f"JOIN {table} t ON t.id = f.rowid ORDER BY f.rank LIMIT ?"
        )
        try:
            hits += conn.execute(sql, (q, window, limit)).fetchall()
        except sqlite3.OperationalError:
            return []
    hits.sort(key=lambda h: h["rank"])
    return hits[:limit]
