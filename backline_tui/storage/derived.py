"""Values stored because they are read on every page but derive from other records and the
config: a help request's OLA due, a bug's impact score and counts, an article's open flags and
reuse. Kept current by whoever writes (records.write_records, the actions) and recomputed
whole when the config's thresholds or weights change."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Iterable

from backline_tui.storage import rollups
from backline_tui.storage.chunks import chunked
from backline_tui.storage.schema import OPEN_CASE

if TYPE_CHECKING:
    from backline_tui.config import Config


# the OLA targets are config values: bound (:ola_P1 …), never pasted into the SQL text
OLA_SQL = (
    "strftime('%Y-%m-%dT%H:%M:%SZ', :created_at, '+' || CASE :priority "
    "WHEN 'P1' THEN :ola_P1 WHEN 'P2' THEN :ola_P2 WHEN 'P3' THEN :ola_P3 ELSE :ola_P4 END || ' minutes')"
)


def ola_params(config: Config) -> dict[str, int]:
    """The bound values OLA_SQL reads: the config's OLA target per priority, in minutes."""
    ola = config.ola
    return {"ola_P1": int(ola.P1), "ola_P2": int(ola.P2), "ola_P3": int(ola.P3), "ola_P4": int(ola.P4)}


def refresh_bug_impact(conn: sqlite3.Connection, config: Config, bug_ids: Iterable[int] | None = None) -> None:
    """Recompute impact score, linked open cases and distinct customers (all bugs when None)."""
    imp = config.impact
    # the weights are config values: bound as JSON, never pasted into the SQL text
    weights = (json.dumps({str(k): int(v) for k, v in imp.severity_weights.items()}),
               json.dumps({str(k): int(v) for k, v in imp.tier_weights.items()}))
    sql = f"""
        WITH sw(k, w) AS (SELECT key, value FROM json_each(?)), tw(k, w) AS (SELECT key, value FROM json_each(?))
        UPDATE bugs SET (impact_score, case_count, customer_count) = (
            SELECT COALESCE(SUM(COALESCE(sw.w, 0) * COALESCE(tw.w, 0)), 0) + COUNT(DISTINCT c.customer),
                   COUNT(c.id), COUNT(DISTINCT c.customer)
            FROM case_bugs cb JOIN cases c ON c.id = cb.case_id AND c.{OPEN_CASE}
            LEFT JOIN sw ON sw.k = c.severity LEFT JOIN tw ON tw.k = c.tier
            WHERE cb.bug_id = bugs.id)
    """
    if bug_ids is None:
        conn.execute(sql, weights)
    else:
        for chunk, marks in chunked(bug_ids):
            conn.execute(sql + f" WHERE id IN ({marks})", (*weights, *chunk))




def bugs_of_cases(conn: sqlite3.Connection, case_ids: Iterable[int]) -> list[int]:
    out: list[int] = []
    for chunk, marks in chunked(case_ids):
        out += [r["bug_id"] for r in conn.execute(f"SELECT DISTINCT bug_id FROM case_bugs WHERE case_id IN ({marks})", chunk)]
    return out


def refresh_article_stats(conn: sqlite3.Connection, article_ids: Iterable[int] | None = None) -> None:
    sql = """
        UPDATE articles SET
          open_flags = (SELECT COUNT(*) FROM article_flags f WHERE f.article_id = articles.id AND f.resolved_at IS NULL),
          reuse_count = (SELECT COUNT(*) FROM article_links l WHERE l.article_id = articles.id AND l.reuse),
          last_reused_at = (SELECT MAX(created_at) FROM article_links l WHERE l.article_id = articles.id AND l.reuse)
    """
    if article_ids is None:
        conn.execute(sql)
        return
    for chunk, marks in chunked(article_ids):
        conn.execute(sql + f" WHERE id IN ({marks})", chunk)


def refresh_ola(conn: sqlite3.Connection, config: Config) -> None:
    conn.execute(
        "UPDATE help_requests SET ola_due_at = "
        + OLA_SQL.replace(":created_at", "created_at").replace(":priority", "priority"),
        ola_params(config),
    )


def _derived_fingerprint(config: Config) -> str:
    return json.dumps([config.ola.model_dump(), config.impact.model_dump()], sort_keys=True)


def derived_current(conn: sqlite3.Connection, config: Config) -> bool:
    """Whether the stored derived values were computed with this config's thresholds and weights."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'derived_config'").fetchone()
    return row is not None and row["value"] == _derived_fingerprint(config)


def refresh_derived_if_config_changed(conn: sqlite3.Connection, config: Config) -> bool:
    """Stored derived values follow the config's thresholds and weights."""
    if derived_current(conn, config):
        return False
    refresh_derived(conn, config)
    return True


def refresh_derived(conn: sqlite3.Connection, config: Config, *, ola: bool = True) -> None:
    """Recompute every stored derived value: OLA due, bug impact, article flags and reuse.
    ola=False when every help request was just written with this config (its OLA due is current):
    rewriting them all costs ~0.7 s at a million cases."""
    fp = _derived_fingerprint(config)
    if ola:
        with rollups.paused(conn):  # every help request's OLA moves: rebuild the rollups once
            refresh_ola(conn, config)
    refresh_bug_impact(conn, config)
    refresh_article_stats(conn)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('derived_config', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (fp,),
    )
