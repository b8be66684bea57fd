"""The figures of queries.py from the rollups (storage/rollups.py).

The rollups (storage/rollups.py) hold per-day sums that triggers keep exact, and per-week sums of
three of them. A window whose start is a midnight UTC (the default window, and any --since DATE)
reads its full days from them (whole weeks from the weekly sums when it starts on a Monday, as the
default window does). The day it ends in is read from them too when nothing was created later on
it (as when it ends now); otherwise that day, up to `until`, is read from the record tables (a
short range of ix_hr_created / ix_cases_created_pcv). Any other window is read live throughout.
Every function returns what its counterpart in queries.py returns for the same data (tests
compare both after every kind of write).
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from typing import Any

from backline_tui.clock import to_ts
from backline_tui.insights.queries import ANSWERED, WEEK_SECONDS, _FRT, _TTR, _week, _window

_ROLLED_WEEK = "CAST((julianday(day) - julianday(:since_day)) / 7 AS INTEGER)"
_BUCKET = "CASE WHEN v < 10 THEN v ELSE length(v) * 10 + substr(v, 1, 1) END"  # as in the rollup triggers


def _parts(conn: sqlite3.Connection, since: str, until: str) -> dict[str, Any]:
    """Parameters of a window split into full days [d0, d1) read from the rollups and the rest,
    [lo, until], read live (d0 = d1 = None when the window does not start at a midnight). The day
    `until` falls in counts as full when nothing was created later on it (as when `until` is now):
    then nothing is read live. A window that starts on a Monday also splits its full days into
    whole weeks [d0, w1), read from the weekly rollups where there are some, and the days [w1, d1)
    of its last week (w1 = d0: no whole week)."""
    p = _window(since, until) | {"since_day": since[:10], "d0": None, "d1": None, "w1": None, "lo": since}
    if not since.endswith("T00:00:00Z"):
        return p
    last = date.fromisoformat(until[:10])
    after = {"until": until, "next": f"{last + timedelta(days=1)}T00:00:00Z"}
    if not any(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE created_at > :until AND created_at < :next) AS x",
                            after).fetchone()["x"] for table in ("cases", "help_requests")):
        last += timedelta(days=1)  # nothing after `until` on its day: the whole day is in the window
    elif until[:10] <= since[:10]:
        return p
    start = date.fromisoformat(since[:10])
    p |= {"d0": since[:10], "d1": last.isoformat(), "w1": since[:10], "lo": f"{last}T00:00:00Z"}
    if start.weekday() == 0:  # the window's weeks are the rollups' weeks
        p["w1"] = (last - timedelta(days=last.weekday())).isoformat()
    return p


_DAYS = "WHERE day >= :d0 AND day < :d1"


def _source(p: dict[str, Any], rolled: str, live: str, table: str = "", weekly: str = "") -> str:
    """`rolled` (reading the full days of a rollup: `{t}` stands for `table`, `{days}` for
    `_DAYS`) and `live` as one row source. With `weekly` (the rollup's sums per week), whole
    weeks are read from it and the rest of the full days from `table`."""
    if not p["d0"]:
        return live
    parts = [rolled.format(t=table, days=_DAYS)]
    if weekly and p["w1"] > p["d0"]:
        parts = [rolled.format(t=weekly, days="WHERE day >= :d0 AND day < :w1"),
                 rolled.format(t=table, days="WHERE day >= :w1 AND day < :d1")]
    return " UNION ALL ".join(parts + [live])


def case_volume(conn: sqlite3.Connection, since: str, until: str) -> list[dict]:
    """Cases created in the window per week (counted from the window's start day), product,
    component and version: the same rows serve as the totals (summed by the caller over the
    weeks) and as the trend (summed over components and versions)."""
    p = _parts(conn, since, until)
    src = _source(
        p, "SELECT day, product, component, version, n FROM {t} {days}",
        "SELECT substr(created_at, 1, 10) AS day, product, component, version, COUNT(*) AS n FROM cases "
        "WHERE created_at >= :lo AND created_at <= :until GROUP BY 1, 2, 3, 4",
        "ins_case_day", "ins_case_week",
    )
    return conn.execute(
        f"SELECT {_ROLLED_WEEK} AS week, product, component, version, SUM(n) AS n FROM ({src}) "
        "GROUP BY 1, 2, 3, 4 HAVING SUM(n) > 0", p
    ).fetchall()


def _help_source(p: dict[str, Any]) -> str:
    return _source(
        p, f"SELECT {_ROLLED_WEEK} AS wk, priority, product, component, requests, responded, met, late, unresponded, "
        "resolved, answered, documented FROM {t} {days}",
        f"SELECT {_week('created_at')} AS wk, priority, product, component, COUNT(*) AS requests, "
        "SUM(first_response_at IS NOT NULL) AS responded, "
        "SUM(first_response_at IS NOT NULL AND first_response_at <= ola_due_at) AS met, "
        "SUM(first_response_at IS NOT NULL AND first_response_at > ola_due_at) AS late, "
        "SUM(first_response_at IS NULL) AS unresponded, SUM(resolved_at IS NOT NULL) AS resolved, "
        f"SUM({ANSWERED}) AS answered, SUM({ANSWERED} AND article_id IS NOT NULL) AS documented "
        "FROM help_requests WHERE created_at >= :lo AND created_at <= :until GROUP BY 1, 2, 3, 4",
        "ins_hr_day", "ins_hr_week",
    )


def gaps_by_component_rolled(conn: sqlite3.Connection, since: str, until: str) -> list[dict]:
    p = _parts(conn, since, until)
    return conn.execute(
        "SELECT product, component, SUM(answered) AS answered, SUM(answered - documented) AS undocumented "
        f"FROM ({_help_source(p)}) GROUP BY product, component HAVING SUM(answered) > 0 "
        "ORDER BY undocumented DESC, answered DESC, product, component",
        p,
    ).fetchall()


def gap_subjects_rolled(conn: sqlite3.Connection, since: str, until: str, limit: int = 2000) -> list[dict]:
    p = _parts(conn, since, until)
    # the rollup's key starts with product, component, subject: summed in one pass, no sort
    sums = "SUM(n) AS n, MAX(last_at) AS last_at, MAX(ref) AS ref FROM {t} {days} GROUP BY product, component, subject"
    order = "HAVING SUM(n) > 0 ORDER BY n DESC, last_at DESC, subject, product, component LIMIT :limit"
    if p["d0"] and p["lo"] > p["until"]:  # nothing read live: the one pass is the answer
        return conn.execute(f"SELECT subject, product, component, {sums.format(t='ins_hr_subject', days=_DAYS)} {order}",
                            p | {"limit": limit}).fetchall()
    src = _source(
        p, f"SELECT product, component, subject, {sums}",
        "SELECT product, component, subject, COUNT(*) AS n, MAX(created_at) AS last_at, MAX(ref) AS ref "
        f"FROM help_requests WHERE {ANSWERED} AND article_id IS NULL AND created_at >= :lo AND created_at <= :until "
        "GROUP BY 1, 2, 3", "ins_hr_subject",
    )
    return conn.execute(
        "SELECT subject, product, component, SUM(n) AS n, MAX(last_at) AS last_at, MAX(ref) AS ref "
        f"FROM ({src}) GROUP BY subject, product, component {order}",
        p | {"limit": limit},
    ).fetchall()


def team_stats_rolled(conn: sqlite3.Connection, since: str, until: str, askers: int = 15) -> dict[str, list[dict]]:
    """team_stats from the rollups. "Breached" is late first responses plus unresponded requests,
    less those whose OLA is still after `until` (read live: only OLAs not yet due)."""
    p = _parts(conn, since, until)
    counts = conn.execute(
        "SELECT wk AS week, priority, SUM(requests) AS requests, SUM(responded) AS responded, SUM(met) AS met, "
        "SUM(late) + SUM(unresponded) AS breached, SUM(resolved) AS resolved, SUM(answered) AS answered, "
        f"SUM(documented) AS documented FROM ({_help_source(p)}) GROUP BY 1, 2 HAVING SUM(requests) > 0",
        p,
    ).fetchall()
    not_due = {
        (r["week"], r["priority"]): r["n"]
        for r in conn.execute(
            f"SELECT {_week('created_at')} AS week, priority, COUNT(*) AS n FROM help_requests "
            "INDEXED BY ix_hr_unresponded_due "
            "WHERE first_response_at IS NULL AND ola_due_at > :until AND created_at >= :since AND created_at <= :until "
            "GROUP BY 1, 2",
            p,
        )
    }
    for r in counts:
        r["breached"] -= not_due.get((r["week"], r["priority"]), 0)
    medians: list[dict] = []
    hist = _histograms(conn, p)
    for metric, kind in (("frt", "week"), ("frt", "priority"), ("ttr", "week"), ("ttr", "all")):
        medians += _medians_rolled(conn, p, hist, metric, kind)
    src = _source(
        p, "SELECT asker, product, SUM(requests) AS requests, SUM(already_documented) AS already_documented "
        "FROM {t} {days} GROUP BY 1, 2",
        "SELECT h.asker, h.product, COUNT(*) AS requests, SUM(IFNULL(a.created_at < h.created_at, 0)) AS already_documented "
        "FROM help_requests h LEFT JOIN articles a ON a.id = h.article_id "
        "WHERE h.created_at >= :lo AND h.created_at <= :until GROUP BY 1, 2", "ins_hr_asker",
    )
    top = conn.execute(
        "SELECT asker, SUM(requests) AS requests, SUM(already) AS already_documented, COUNT(*) AS products FROM ("
        f"SELECT asker, product, SUM(requests) AS requests, SUM(already_documented) AS already FROM ({src}) "
        "GROUP BY 1, 2 HAVING SUM(requests) > 0) GROUP BY asker ORDER BY requests DESC, asker LIMIT :askers",
        p | {"askers": askers},
    ).fetchall()
    return {"counts": counts, "medians": medians, "askers": top}


def _histograms(conn: sqlite3.Connection, p: dict[str, Any]) -> dict[tuple[str, str, Any], list[tuple[int, int]]]:
    """The window's value histograms, (metric, kind, key) -> [(bucket, count)] in bucket order,
    for kind 'week' (key: week index), 'priority' and 'all' (key ''): the three groupings summed
    by SQLite from one read of the rollup's few thousand rows."""
    src = _source(
        p, f"SELECT {_ROLLED_WEEK} AS wk, priority, metric, bucket, n FROM {{t}} {{days}}",
        f"SELECT wk, priority, metric, {_BUCKET} AS bucket, COUNT(*) AS n FROM ("
        f"SELECT {_week('h.created_at')} AS wk, h.priority, 'frt' AS metric, {_FRT} AS v FROM help_requests h "
        "WHERE h.first_response_at IS NOT NULL AND h.created_at >= :lo AND h.created_at <= :until UNION ALL "
        f"SELECT {_week('h.created_at')}, h.priority, 'ttr', {_TTR} FROM help_requests h "
        "WHERE h.resolved_at IS NOT NULL AND h.created_at >= :lo AND h.created_at <= :until) "
        "WHERE v IS NOT NULL GROUP BY 1, 2, 3, 4",
        "ins_hr_hist", "ins_hr_hist_week",
    )
    sums: dict[tuple[str, str, Any], list[tuple[int, int]]] = {}
    for r in conn.execute(
        f"WITH h AS ({src}) "
        "SELECT metric, 'week' AS kind, wk AS key, bucket, SUM(n) AS n FROM h GROUP BY 1, 3, 4 HAVING SUM(n) > 0 UNION ALL "
        "SELECT metric, 'priority', priority, bucket, SUM(n) FROM h GROUP BY 1, 3, 4 HAVING SUM(n) > 0 UNION ALL "
        "SELECT metric, 'all', '', bucket, SUM(n) FROM h GROUP BY 1, 4 HAVING SUM(n) > 0", p,
    ):
        sums.setdefault((r["metric"], r["kind"], r["key"]), []).append((r["bucket"], r["n"]))
    return {k: sorted(v) for k, v in sums.items()}


def _medians_rolled(conn: sqlite3.Connection, p: dict[str, Any], hist: dict, metric: str, kind: str) -> list[dict]:
    """Exact median of `metric` per group of `kind`: the histogram finds the bucket holding each
    middle rank, ins_hr_time (by bucket and creation time, or by value: ix_hr_time_value) the value
    inside it."""
    out = []
    for (m, kd, k), buckets in sorted(hist.items(), key=lambda kv: str(kv[0])):
        if (m, kd) != (metric, kind):
            continue
        lo, hi = p["since"], p["until"]
        where, params = "", {"metric": metric}
        if kind == "week":
            lo, hi = _week_bounds(p, int(k))
        elif kind == "priority":
            where, params["priority"] = " AND priority = :priority", k
        n = sum(c for _, c in buckets)
        values = _middle(conn, buckets, n, lo, hi, where, params, week=kind == "week")
        out.append({"metric": metric, "kind": kind, "key": str(k), "median": sum(values) / len(values)})
    return out


def _week_bounds(p: dict[str, Any], wk: int) -> tuple[str, str]:
    """[first, last] storage timestamps of week `wk` of the window, clipped to it."""
    start = p["since_s"] + wk * WEEK_SECONDS
    first = max(to_ts(datetime.fromtimestamp(start, timezone.utc)), p["since"])
    last = min(to_ts(datetime.fromtimestamp(start + WEEK_SECONDS - 1, timezone.utc)), p["until"])
    return first, last


def _middle(conn: sqlite3.Connection, buckets: list[tuple[int, int]], n: int, lo: str, hi: str,
            where: str, params: dict[str, Any], *, week: bool) -> list[int]:
    """The middle value (odd n) or two middle values (even n) in value order, given the group's
    (bucket, count) in bucket order: one lookup per bucket they fall in (mostly one)."""
    out: list[int] = []
    rank, last, skipped = (n - 1) // 2, n // 2, 0
    # a week (a short range of creation times) sorts its few rows; a whole window walks the
    # bucket in value order (ORDER BY +value: not in the value index's order)
    how = ("", "+value") if week else ("INDEXED BY ix_hr_time_value", "value")
    for bucket, count in buckets:
        if rank < skipped + count:
            take = min(last, skipped + count - 1) - rank + 1
            out += [r["value"] for r in conn.execute(
                f"SELECT value FROM ins_hr_time {how[0]} WHERE metric = :metric AND bucket = :bucket AND created_at >= :lo "
                f"AND created_at <= :hi{where} ORDER BY {how[1]} LIMIT :take OFFSET :skip",
                params | {"bucket": bucket, "lo": lo, "hi": hi, "take": take, "skip": rank - skipped},
            )]
            rank += take
            if rank > last:
                return out
        skipped += count
    raise AssertionError("rank past the histogram")  # the histogram and ins_hr_time disagree
