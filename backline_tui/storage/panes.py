"""Paged pane queries. Each reads one page in index order; none sorts a whole table, unless the
user picked a column to sort by (`s`, SORTS). What a filter matches is storage/filters.py;
global search is storage/search.py."""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from backline_tui.clock import to_ts
from backline_tui.config_file import SEVERITIES
from backline_tui.storage.filters import PaneFilter, _filters, filter_words
from backline_tui.storage.schema import OPEN_BUG, OPEN_CASE, OPEN_HELP, case_filter_table

if TYPE_CHECKING:
    from backline_tui.config import Config


# `s` cycles the sort through these columns (label → SQL over the pane's rows; the pane's own
# order breaks ties). Fixed SQL, chosen by label: nothing typed reaches the SQL text.
SORTS: dict[str, tuple[tuple[str, str], ...]] = {
    "help": (("Pri", "priority"), ("Ref", "ref"), ("Subject", "subject COLLATE NOCASE"),
             ("Asker", "asker COLLATE NOCASE"), ("Product", "product"), ("Owner", "owner"), ("Status", "status")),
    "stale": (("Idle", "last_activity_at"), ("Sev", "severity"), ("Ref", "ref"),
              ("Customer", "customer COLLATE NOCASE"), ("Subject", "subject COLLATE NOCASE"), ("Owner", "owner")),
    "bugs": (("Impact", "impact_score DESC"), ("Cases", "case_count DESC"), ("Ref", "ref"),
             ("Title", "title COLLATE NOCASE"), ("Component", "component"), ("Status", "status")),
    "kb": (("State", "state"), ("Ref", "ref"), ("Title", "title COLLATE NOCASE"), ("Reuse", "reuse_count DESC"),
           ("Owner", "owner"), ("Review due", "review_due_at")),
}


def sort_sql(pane: str, f: PaneFilter) -> str | None:
    """The ORDER BY terms of the pane's chosen sort, or None for its own order."""
    return dict(SORTS[pane]).get(f.sort) if f.sort else None


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


# -- help queue ------------------------------------------------------------------------------

HELP_TEXT = ("subject", "asker", "ref", "product", "component")
HELP_COLS = (
    "id, ref, subject, asker, product, component, priority, status, owner, created_at, "
    "ola_due_at, first_response_at, case_id, article_id"
)
# ref (unique, next in ix_hr_queue) breaks ties: without it rows with equal keys came back in a
# different order from one query plan to another, and a page boundary could repeat or skip them
HELP_ORDER = "(first_response_at IS NOT NULL), ola_due_at, priority, created_at, ref"


def help_queue(conn: sqlite3.Connection, f: PaneFilter, me: str, offset: int = 0, limit: int = 100) -> list[dict]:
    extra, params = _filters(f, me, "owner", HELP_TEXT, "help_requests_filter")
    sql = (
        f"SELECT {HELP_COLS} FROM help_requests WHERE {OPEN_HELP}{extra} "
        f"ORDER BY {', '.join(x for x in (sort_sql('help', f), HELP_ORDER) if x)} LIMIT :limit OFFSET :offset"
    )
    return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()


def help_queue_count(conn: sqlite3.Connection, f: PaneFilter, me: str) -> int:
    """With an indexed filter word: one lookup per match in ix_hr_open_id (schema v6), not a pass
    over every open request."""
    if not filter_words(f.text)[0]:
        extra, params = _filters(f, me, "owner", HELP_TEXT, "help_requests_filter")
        return _count(conn, f"SELECT COUNT(*) AS n FROM help_requests WHERE {OPEN_HELP}{extra}", params)
    extra, params = _filters(f, me, "owner", HELP_TEXT, "help_requests_filter", probe=False)
    return _count(conn, "SELECT COUNT(*) AS n FROM help_requests INDEXED BY ix_hr_open_id "
                  "WHERE id IN (SELECT rowid FROM help_requests_filter WHERE help_requests_filter MATCH :fq) "
                  f"AND {OPEN_HELP}{extra}", params)


# -- stale cases ------------------------------------------------------------------------------

CASE_COLS = (
    "id, ref, subject, customer, tier, product, component, version, severity, status, owner, "
    "created_at, last_activity_at, last_customer_update_at, reopen_count"
)


CASE_TEXT = ("subject", "customer", "ref", "product", "component")
# a case waits on us whatever its idle time when reopened reopen_threshold (>= 1) times or updated
# by the customer after our last activity; ix_cases_attention holds the few open cases where either
# may hold, and a query must repeat its WHERE term verbatim for SQLite to use it
ATTENTION = "(reopen_count >= 1 OR last_customer_update_at > last_activity_at)"
WAITING = "(reopen_count >= :reopen OR last_customer_update_at > last_activity_at)"


def _stale_where(f: PaneFilter, me: str, config: Config, now: datetime, severity: str, n: int = 0) -> tuple[str, dict]:
    """The stale condition for one severity; parameters of severity `n` carry the suffix n so the
    four streams can share one statement."""
    extra, params = _filters(f, me, "owner", CASE_TEXT, case_filter_table(severity))
    cutoff = to_ts(now - timedelta(days=config.stale.days(severity)))
    where = f"{OPEN_CASE} AND severity = :sev{n} AND (last_activity_at <= :cutoff{n} OR {WAITING}){extra}"
    return where, params | {f"sev{n}": severity, f"cutoff{n}": cutoff, "reopen": config.stale.reopen_threshold}


def stale_cases(
    conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime, offset: int = 0, limit: int = 100
) -> list[dict]:
    """Merge of one index-ordered stream per severity: within a severity, older activity means a
    higher idle ÷ threshold ratio, so the first offset+limit rows of each stream hold the page.
    Each stream walks ix_cases_stale in (last_activity_at, id) order, the pane's own order, so equal
    activity times cannot swap across a page boundary. The merge runs inside SQLite, so only the
    page itself reaches Python."""
    now_s = int(now.timestamp())
    sort = sort_sql("stale", f)  # a chosen sort needs every stream whole (-1: no limit)
    params: dict[str, Any] = {"need": -1 if sort else offset + limit, "limit": limit, "offset": offset, "now_s": now_s}
    idle = "(:now_s - CAST(strftime('%s', last_activity_at) AS INTEGER))"
    streams = []
    for n, sev in enumerate(SEVERITIES):
        where, p = _stale_where(f, me, config, now, sev, n)
        params |= p | {f"thr{n}": config.stale.days(sev) * 86400}
        streams.append(
            f"SELECT * FROM (SELECT {CASE_COLS}, {idle} AS idle_seconds, MAX({idle}, 0) * 1.0 / :thr{n} AS ratio "
            f"FROM cases INDEXED BY ix_cases_stale WHERE {where} ORDER BY last_activity_at, id LIMIT :need)"
        )
    order = f"{sort}, ratio DESC, id" if sort else "ratio DESC, id"
    sql = " UNION ALL ".join(streams) + f" ORDER BY {order} LIMIT :limit OFFSET :offset"
    return conn.execute(sql, params).fetchall()


def _stale_matched_count_sql(f: PaneFilter, me: str, config: Config, now: datetime) -> tuple[str, dict[str, Any]]:
    """The count of stale cases under a text filter: per severity, the filter table's matches
    joined to ix_cases_open_id (alias c), one seek each, so the cost follows the matches."""
    parts = []
    params: dict[str, Any] = {"reopen": config.stale.reopen_threshold}
    for n, sev in enumerate(SEVERITIES):
        fts = case_filter_table(sev)
        extra, p = _filters(f, me, "owner", CASE_TEXT, fts, probe=False, qual="c.")
        parts.append(
            f"(SELECT COUNT(*) FROM {fts} JOIN cases c INDEXED BY ix_cases_open_id ON c.id = {fts}.rowid "
            f"WHERE {fts} MATCH :fq AND c.{OPEN_CASE} AND c.severity = :sev{n} "
            f"AND (c.last_activity_at <= :cutoff{n} OR c.reopen_count >= :reopen "
            f"OR c.last_customer_update_at > c.last_activity_at){extra})"
        )
        params |= p | {f"sev{n}": sev, f"cutoff{n}": to_ts(now - timedelta(days=config.stale.days(sev)))}
    return f"SELECT {' + '.join(parts)} AS n", params


def stale_cases_count(conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime) -> int:
    """Three shapes, by what the filter allows:
    - no text: per severity, the cases idle past the cutoff (a range of ix_cases_idle) plus the
      recently active ones that wait on us (a range of the small ix_cases_attention);
    - an indexed text word: the open cases the filter table finds, each looked up by id in
      ix_cases_open_id (cost follows the matches, not the open cases);
    - only short words: one pass per severity over the covering ix_cases_stale."""
    long_words, short = filter_words(f.text)
    reopen = config.stale.reopen_threshold
    cutoffs = {f"cutoff{n}": to_ts(now - timedelta(days=config.stale.days(sev))) for n, sev in enumerate(SEVERITIES)}
    sevs = {f"sev{n}": sev for n, sev in enumerate(SEVERITIES)}
    if long_words:
        return _count(conn, *_stale_matched_count_sql(f, me, config, now))
    if short:
        params: dict[str, Any] = {}
        parts = []
        for n, sev in enumerate(SEVERITIES):
            where, p = _stale_where(f, me, config, now, sev, n)
            params |= p
            parts.append(f"(SELECT COUNT(*) FROM cases INDEXED BY ix_cases_stale WHERE {where})")
        return _count(conn, f"SELECT {' + '.join(parts)} AS n", params)
    extra, params = _filters(f, me, "owner", CASE_TEXT)  # no text here
    parts = []
    for n in range(len(SEVERITIES)):
        parts.append(
            f"(SELECT COUNT(*) FROM cases INDEXED BY ix_cases_idle WHERE {OPEN_CASE} AND severity = :sev{n} "
            f"AND last_activity_at <= :cutoff{n}{extra})"
        )
        parts.append(
            f"(SELECT COUNT(*) FROM cases INDEXED BY ix_cases_attention WHERE {OPEN_CASE} AND {ATTENTION} "
            f"AND severity = :sev{n} AND last_activity_at > :cutoff{n} AND {WAITING}{extra})"
        )
    return _count(conn, f"SELECT {' + '.join(parts)} AS n", params | cutoffs | sevs | {"reopen": reopen})


# -- sustaining bugs ------------------------------------------------------------------------------

BUG_TEXT = ("title", "ref", "product", "component")
BUG_COLS = (
    "id, ref, title, product, component, severity, status, eng_owner, created_at, target_at, "
    "priority_override, fix_version, impact_score, case_count, customer_count"
)


def sustaining_bugs(conn: sqlite3.Connection, f: PaneFilter, me: str, offset: int = 0, limit: int = 100) -> list[dict]:
    extra, params = _filters(f, me, "eng_owner", BUG_TEXT, "bugs_filter")
    sql = (
        f"SELECT {BUG_COLS} FROM bugs WHERE {OPEN_BUG}{extra} "
        f"ORDER BY {', '.join(x for x in (sort_sql('bugs', f), 'impact_score DESC, created_at, id') if x)} "
        "LIMIT :limit OFFSET :offset"
    )
    return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()


def sustaining_bugs_count(conn: sqlite3.Connection, f: PaneFilter, me: str) -> int:
    extra, params = _filters(f, me, "eng_owner", BUG_TEXT, "bugs_filter")
    return _count(conn, f"SELECT COUNT(*) AS n FROM bugs WHERE {OPEN_BUG}{extra}", params)


# -- KB review ------------------------------------------------------------------------------------

ARTICLE_TEXT = ("title", "ref", "product", "component")
ARTICLE_COLS = (
    "id, ref, title, state, owner, product, component, created_at, updated_at, last_reviewed_at, "
    "review_due_at, open_flags, reuse_count, last_reused_at"
)


def _kb_where(f: PaneFilter, me: str, config: Config, now: datetime, driven: bool = False) -> tuple[str, dict]:
    """The KB pane's condition. With `driven` and an indexed filter word, the rows come from the
    filter table's matches, each looked up in ix_articles_live_id (FROM _KB_DRIVEN)."""
    driven = driven and bool(filter_words(f.text)[0])
    extra, params = _filters(f, me, "owner", ARTICLE_TEXT, "articles_filter", probe=not driven)
    cutoff = to_ts(now - timedelta(days=config.kb.archive_after_days))
    where = (
        ("id IN (SELECT rowid FROM articles_filter WHERE articles_filter MATCH :fq) AND " if driven else "")
        + "state != 'archived' AND (open_flags > 0 OR review_due_at <= :now OR state IN ('wip','not_validated') "
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
        # a text filter keeps few rows: the filter table's matches (or, for short words only, one
        # pass over the live articles) and a small sort beat four index walks that each fetch
        # rows in random order until they find offset+limit matches
        where, params = _kb_where(f, me, config, now, driven=True)
        order = ", ".join(x for x in (sort_sql("kb", f), KB_ORDER) if x)
        sql = (f"SELECT {ARTICLE_COLS} FROM {_kb_from(f)} WHERE {where} ORDER BY {order} "
               "LIMIT :limit OFFSET :offset")
        return conn.execute(sql, params | {"limit": limit, "offset": offset}).fetchall()
    extra, params = _filters(f, me, "owner", ARTICLE_TEXT, "articles_filter")
    sort = sort_sql("kb", f)  # a chosen sort needs every stream whole (-1: no limit)
    params |= {"now": to_ts(now), "cutoff": to_ts(now - timedelta(days=config.kb.archive_after_days)),
               "need": -1 if sort else offset + limit, "limit": limit, "offset": offset}
    streams = [
        f"SELECT * FROM (SELECT {ARTICLE_COLS}, {cat} AS k1, {k2} AS k2, {k3} AS k3 FROM articles "
        f"WHERE {where}{extra} ORDER BY {order} LIMIT :need)"
        for cat, where, k2, k3, order in KB_STREAMS
    ]
    order = f"{sort}, k1, k2, k3, id" if sort else "k1, k2, k3, id"
    sql = " UNION ALL ".join(streams) + f" ORDER BY {order} LIMIT :limit OFFSET :offset"
    rows = conn.execute(sql, params).fetchall()
    for r in rows:
        del r["k1"], r["k2"], r["k3"]
    return rows


def kb_review_count(conn: sqlite3.Connection, f: PaneFilter, me: str, config: Config, now: datetime) -> int:
    """One pass over the covering index of live articles (schema v5), or with an indexed filter
    word one lookup per match in ix_articles_live_id (schema v6)."""
    where, params = _kb_where(f, me, config, now, driven=True)
    return _count(conn, f"SELECT COUNT(*) AS n FROM {_kb_from(f)} WHERE {where}", params)


def _kb_from(f: PaneFilter) -> str:
    return "articles INDEXED BY ix_articles_live_id" if filter_words(f.text)[0] else "articles"


def urgent_help(conn: sqlite3.Connection, now: datetime, priorities: tuple[str, ...] = ("P1", "P2")) -> list[dict]:
    """Open help requests of these priorities (what a live workbench announces when it is new or
    starts breaching), each with whether it breaches now (no first response, OLA passed)."""
    marks = ",".join("?" * len(priorities))
    return conn.execute(
        "SELECT ref, subject, priority, (first_response_at IS NULL AND ola_due_at <= ?) AS breaching "
        f"FROM help_requests WHERE {OPEN_HELP} AND priority IN ({marks}) ORDER BY ola_due_at",
        (to_ts(now), *priorities),
    ).fetchall()
