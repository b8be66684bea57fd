"""The SQL behind Insights: aggregates over a time window, computed by SQLite on the replica.

Every function takes a connection (dict rows) and the window as storage timestamps
('YYYY-MM-DDTHH:MM:SSZ', UTC): `since` inclusive, `until` inclusive. Records are counted in the
window they were *created* in (a cohort view: "the requests asked that week").

Medians are exact and computed in SQL: rows are numbered within each group in value order
(ROW_NUMBER over a partition) and the middle one, or the mean of the middle two, is kept.
The same figures read from the rollups are rolled.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from backline_tui.storage.schema import OPEN_BUG

WEEK_SECONDS = 7 * 86400
SCAN_MIN_ROWS = 10000  # below this, how the help requests are read makes no difference

# Seconds since the epoch of a stored timestamp (strftime works on every SQLite 3).
def _epoch(col: str) -> str:
    return f"CAST(strftime('%s', {col}) AS INTEGER)"


def _week(col: str) -> str:
    """0-based index of the 7-day bucket, counted from :since_s."""
    return f"(({_epoch(col)} - :since_s) / {WEEK_SECONDS})"


def _window(since: str, until: str) -> dict[str, Any]:
    return {"since": since, "until": until, "since_s": _to_epoch(since)}


def _to_epoch(ts: str) -> int:
    from backline_tui.clock import parse_ts

    return int(parse_ts(ts).timestamp())


def _help_scan(conn: sqlite3.Connection, since: str, until: str) -> str:
    """How to read the window's help requests: through ix_hr_created for a narrow window, but as
    one sequential table scan ("NOT INDEXED") once the window holds over a quarter of them — row
    lookups in created_at order jump all over the table (at 200k requests and a 26-week window
    that is 0.3 s scanned against 0.8 s looked up). Both counts read only the index."""
    total = conn.execute("SELECT COUNT(*) AS n FROM help_requests").fetchone()["n"]
    if total < SCAN_MIN_ROWS:
        return ""
    inside = conn.execute(
        "SELECT COUNT(*) AS n FROM help_requests WHERE created_at >= ? AND created_at <= ?", (since, until)
    ).fetchone()["n"]
    return "NOT INDEXED" if inside * 4 > total else ""


# -- drivers: case volume ------------------------------------------------------------------------


def case_volume_by_day(conn: sqlite3.Connection, since: str, until: str) -> list[dict]:
    """Cases created per UTC day, product, component and version.

    One range scan of the cases(created_at, product, component, version) index (it covers the
    query: no table row is read); everything the Drivers view shows — the Pareto at any level and
    the weekly trend — is summed from these few thousand rows in Python."""
    return conn.execute(
        "SELECT substr(created_at, 1, 10) AS day, product, component, version, COUNT(*) AS n FROM cases "
        "WHERE created_at >= :since AND created_at <= :until GROUP BY 1, 2, 3, 4",
        _window(since, until),
    ).fetchall()


def cases_matching(
    conn: sqlite3.Connection,
    since: str,
    until: str,
    product: str | None = None,
    component: str | None = None,
    version: str | None = None,
    limit: int = 200,
) -> tuple[list[dict], int]:
    """The cases behind one driver (newest first, capped) and how many there are in all."""
    where = ["created_at >= :since", "created_at <= :until"]
    params: dict[str, Any] = {"since": since, "until": until, "limit": limit}
    for col, value in (("product", product), ("component", component), ("version", version)):
        if value is not None:
            where.append(f"{col} = :{col}")
            params[col] = value
    cond = " AND ".join(where)
    rows = conn.execute(
        "SELECT id, ref, subject, customer, tier, product, component, version, severity, status, owner, created_at "
        f"FROM cases WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT :limit",
        params,
    ).fetchall()
    total = conn.execute(f"SELECT COUNT(*) AS n FROM cases WHERE {cond}", params).fetchone()["n"]
    return rows, total


# -- bugs by impact ------------------------------------------------------------------------------------


def top_bugs(conn: sqlite3.Connection, limit: int = 10) -> list[dict]:
    """Open bugs by stored impact score (kept current by derived.refresh_bug_impact), with the
    open linked cases and distinct customers behind the score and every linked case."""
    return conn.execute(
        "SELECT b.id, b.ref, b.title, b.product, b.component, b.severity, b.status, b.eng_owner, b.created_at, "
        "b.target_at, b.priority_override, b.impact_score, b.case_count AS open_cases, b.customer_count AS customers, "
        "(SELECT COUNT(*) FROM case_bugs cb WHERE cb.bug_id = b.id) AS linked_cases "
        f"FROM bugs b WHERE b.{OPEN_BUG} ORDER BY b.impact_score DESC, b.created_at, b.id LIMIT ?",
        (limit,),
    ).fetchall()


# -- knowledge gaps ---------------------------------------------------------------------------------------

ANSWERED = "status IN ('answered','resolved')"


def gaps_by_component(conn: sqlite3.Connection, since: str, until: str) -> list[dict]:
    """Answered or resolved help requests per product/component, and how many of them are in no
    article (article_id IS NULL): each one an answer given once and not kept."""
    return conn.execute(
        "SELECT product, component, COUNT(*) AS answered, SUM(article_id IS NULL) AS undocumented "
        f"FROM help_requests {_help_scan(conn, since, until)} WHERE {ANSWERED} AND created_at >= :since AND created_at <= :until "
        "GROUP BY product, component ORDER BY undocumented DESC, answered DESC, product, component",
        _window(since, until),
    ).fetchall()


def gap_subjects(conn: sqlite3.Connection, since: str, until: str, limit: int = 2000) -> list[dict]:
    """Subjects of undocumented answered requests, identical ones (in one product/component)
    counted together, most asked first (then newest), with the newest ref of each."""
    return conn.execute(
        "SELECT subject, product, component, COUNT(*) AS n, MAX(created_at) AS last_at, MAX(ref) AS ref "
        f"FROM help_requests {_help_scan(conn, since, until)} WHERE {ANSWERED} AND article_id IS NULL AND created_at >= :since AND created_at <= :until "
        "GROUP BY subject, product, component ORDER BY n DESC, last_at DESC, subject, product, component LIMIT :limit",
        _window(since, until) | {"limit": limit},
    ).fetchall()


# -- team numbers -------------------------------------------------------------------------------------------

_FRT = f"({_epoch('h.first_response_at')} - {_epoch('h.created_at')})"
_TTR = f"({_epoch('h.resolved_at')} - {_epoch('h.created_at')})"


def team_stats(conn: sqlite3.Connection, since: str, until: str, askers: int = 15) -> dict[str, list[dict]]:
    """Every team figure from one read of the window's help requests.

    The window's requests go once into a TEMP table (per connection, in memory; the replica is not
    written) with what each one says: week, priority, seconds to first response and to resolution,
    OLA met or breached, answered, documented. Counts are GROUP BYs over it; medians are "sort +
    offset": an index on (group, value) and, per group of n values, LIMIT 1 or 2 OFFSET (n-1)/2
    (the middle row, or the two middle rows to average). That is several times cheaper than
    window functions at a million cases.

    Returns {'counts': per week and priority, 'medians': (metric, kind, key, median) with frt per
    week and per priority and ttr per week and overall, 'askers': the top askers}.
    """
    conn.execute("DROP TABLE IF EXISTS temp.insights_hr")
    try:
        conn.execute(
            f"""CREATE TEMP TABLE insights_hr AS SELECT
                {_week('h.created_at')} AS wk, h.priority, h.asker, h.product,
                {_FRT} AS frt, {_TTR} AS ttr,
                h.first_response_at IS NOT NULL AS responded,
                (h.first_response_at IS NOT NULL AND h.first_response_at <= h.ola_due_at) AS met,
                (h.first_response_at > h.ola_due_at OR (h.first_response_at IS NULL AND h.ola_due_at <= :until)) AS breached,
                h.resolved_at IS NOT NULL AS resolved,
                h.status IN ('answered','resolved') AS answered,
                (h.status IN ('answered','resolved') AND h.article_id IS NOT NULL) AS documented,
                (a.id IS NOT NULL AND a.created_at < h.created_at) AS already_documented
            FROM help_requests h {_help_scan(conn, since, until)} LEFT JOIN articles a ON a.id = h.article_id
            WHERE h.created_at >= :since AND h.created_at <= :until""",
            _window(since, until),
        )
        counts = conn.execute(
            "SELECT wk AS week, priority, COUNT(*) AS requests, SUM(responded) AS responded, SUM(met) AS met, "
            "SUM(breached) AS breached, SUM(resolved) AS resolved, SUM(answered) AS answered, "
            "SUM(documented) AS documented FROM temp.insights_hr GROUP BY 1, 2"
        ).fetchall()
        medians: list[dict] = []
        for metric, kind, group in (("frt", "week", "wk"), ("frt", "priority", "priority"),
                                    ("ttr", "week", "wk"), ("ttr", "all", None)):
            medians += _medians(conn, metric, kind, group)
        top = conn.execute(
            "SELECT asker, COUNT(*) AS requests, SUM(already_documented) AS already_documented, "
            "COUNT(DISTINCT product) AS products FROM temp.insights_hr "
            "GROUP BY asker ORDER BY requests DESC, asker LIMIT ?",
            (askers,),
        ).fetchall()
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.insights_hr")
    return {"counts": counts, "medians": medians, "askers": top}


def _medians(conn: sqlite3.Connection, metric: str, kind: str, group: str | None) -> list[dict]:
    """Exact median of `metric` per `group` column of temp.insights_hr (None: all rows), by
    sort + offset on an index."""
    cols = f"{group}, {metric}" if group else metric
    conn.execute(f"CREATE INDEX temp.insights_hr_{kind}_{metric} ON insights_hr({cols}) WHERE {metric} IS NOT NULL")
    select_key = group or "''"
    out = []
    for g in conn.execute(
        f"SELECT {select_key} AS key, COUNT(*) AS n FROM temp.insights_hr WHERE {metric} IS NOT NULL GROUP BY 1"
    ).fetchall():
        n = g["n"]
        where = f"{group} = :key AND " if group else ""
        row = conn.execute(
            f"SELECT AVG({metric}) AS median FROM (SELECT {metric} FROM temp.insights_hr "
            f"WHERE {where}{metric} IS NOT NULL ORDER BY {metric} LIMIT :take OFFSET :skip)",
            {"key": g["key"], "take": 2 - n % 2, "skip": (n - 1) // 2},
        ).fetchone()
        out.append({"metric": metric, "kind": kind, "key": str(g["key"]), "median": row["median"]})
    return out
