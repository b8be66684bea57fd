"""Writing and reading whole records by ref: the one write path for demo, import and sync."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any, Iterable, Iterator

from backline_tui.clock import parse_ts, to_ts
from backline_tui.config import Config
from backline_tui.storage.schema import OPEN_CASE

TABLE_OF = {
    "help_request": "help_requests",
    "case": "cases",
    "bug": "bugs",
    "article": "articles",
}
KIND_OF = {v: k for k, v in TABLE_OF.items()}

COMMON = ("ref", "source", "remote_id", "remote_version", "synced_at")
COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": COMMON + (
        "subject", "body", "customer", "tier", "product", "component", "version", "severity",
        "status", "owner", "created_at", "updated_at", "last_activity_at",
        "last_customer_update_at", "reopen_count",
    ),
    "bugs": COMMON + (
        "title", "body", "product", "component", "severity", "status", "eng_owner", "created_at",
        "updated_at", "target_at", "priority_override", "fix_version",
    ),
    "articles": COMMON + (
        "title", "body", "state", "owner", "product", "component", "created_at", "updated_at",
        "last_reviewed_at", "review_due_at",
    ),
    # case_id/article_id come from case_ref/article_ref; ola_due_at is derived
    "help_requests": COMMON + (
        "subject", "body", "asker", "product", "component", "priority", "status", "owner",
        "created_at", "updated_at", "first_response_at", "resolved_at",
    ),
}


class RecordError(ValueError):
    """A record that cannot be written (a dangling reference, say)."""


def _upsert_sql(table: str, cols: tuple[str, ...], extra: dict[str, str] | None = None) -> str:
    extra = extra or {}
    names = list(cols) + list(extra)
    values = [f":{c}" for c in cols] + list(extra.values())
    updates = ", ".join(f"{c} = excluded.{c}" for c in names if c != "ref")
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)}) "
        f"ON CONFLICT(ref) DO UPDATE SET {updates}"
    )


def _ola_sql(config: Config) -> str:
    ola = config.ola
    return (
        "strftime('%Y-%m-%dT%H:%M:%SZ', :created_at, '+' || CASE :priority "
        f"WHEN 'P1' THEN {ola.P1} WHEN 'P2' THEN {ola.P2} WHEN 'P3' THEN {ola.P3} ELSE {ola.P4} END || ' minutes')"
    )



def upsert_cases(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
    cols = COLUMNS["cases"]
    cur = conn.executemany(_upsert_sql("cases", cols), (_defaults_case(r) for r in rows))
    return cur.rowcount


def _defaults_case(r: dict[str, Any]) -> dict[str, Any]:
    d = {c: r.get(c) for c in COLUMNS["cases"]}
    d["source"] = d["source"] or "local"
    d["reopen_count"] = d["reopen_count"] or 0
    for c in ("body", "product", "component", "version"):
        d[c] = d[c] or ""
    return d


def upsert_bugs(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
    cols = COLUMNS["bugs"]

    def fill(r: dict[str, Any]) -> dict[str, Any]:
        d = {c: r.get(c) for c in cols}
        d["source"] = d["source"] or "local"
        for c in ("body", "product", "component"):
            d[c] = d[c] or ""
        return d

    return conn.executemany(_upsert_sql("bugs", cols), (fill(r) for r in rows)).rowcount


def upsert_articles(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> list[str]:
    """Upsert articles; flags given with a record replace that article's flags."""
    cols = COLUMNS["articles"]
    sql = _upsert_sql("articles", cols)
    refs_with_flags: list[tuple[str, list[dict[str, Any]]]] = []
    refs: list[str] = []

    def fill(r: dict[str, Any]) -> dict[str, Any]:
        d = {c: r.get(c) for c in cols}
        d["source"] = d["source"] or "local"
        for c in ("body", "product", "component"):
            d[c] = d[c] or ""
        refs.append(d["ref"])
        if "flags" in r and r["flags"] is not None:
            refs_with_flags.append((d["ref"], list(r["flags"])))
        return d

    conn.executemany(sql, (fill(r) for r in rows))
    for ref, flags in refs_with_flags:
        art_id = _id_of(conn, "articles", ref)
        conn.execute("DELETE FROM article_flags WHERE article_id = ?", (art_id,))
        conn.executemany(
            "INSERT INTO article_flags(article_id, who, reason, created_at, resolved_at) VALUES (?, ?, ?, ?, ?)",
            [(art_id, f["who"], f["reason"], f["at"], f.get("resolved_at")) for f in flags],
        )
    if refs_with_flags:
        refresh_article_stats(conn, [_id_of(conn, "articles", ref) for ref, _ in refs_with_flags])
    return refs


def upsert_help_requests(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]], config: Config) -> int:
    cols = COLUMNS["help_requests"]
    sql = _upsert_sql(
        "help_requests",
        cols,
        {
            "case_id": "(SELECT id FROM cases WHERE ref = :case_ref)",
            "article_id": "(SELECT id FROM articles WHERE ref = :article_ref)",
            "ola_due_at": _ola_sql(config),
        },
    )

    def fill(r: dict[str, Any]) -> dict[str, Any]:
        d = {c: r.get(c) for c in cols}
        d["source"] = d["source"] or "local"
        d["priority"] = d["priority"] or "P3"
        for c in ("body", "product", "component"):
            d[c] = d[c] or ""
        d["case_ref"] = r.get("case_ref")
        d["article_ref"] = r.get("article_ref")
        return d

    def checked(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for r in rows:
            d = fill(r)
            if d["case_ref"] and _id_of(conn, "cases", d["case_ref"], must=False) is None:
                raise RecordError(f"help request {d['ref']} links case {d['case_ref']}, which is not known")
            if d["article_ref"] and _id_of(conn, "articles", d["article_ref"], must=False) is None:
                raise RecordError(f"help request {d['ref']} links article {d['article_ref']}, which is not known")
            yield d

    return conn.executemany(sql, checked(rows)).rowcount


def upsert_messages(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
    sql = (
        "INSERT INTO messages(ref, source, remote_id, parent_type, parent_id, author, body, kind, created_at) "
        "VALUES (:ref, :source, :remote_id, :parent_type, :parent_id, :author, :body, :kind, :created_at) "
        "ON CONFLICT(ref) DO UPDATE SET author = excluded.author, body = excluded.body, "
        "kind = excluded.kind, created_at = excluded.created_at, remote_id = excluded.remote_id"
    )

    def fill(r: dict[str, Any]) -> dict[str, Any]:
        table = TABLE_OF[r["parent_type"]]
        parent_id = r.get("parent_id") or _id_of(conn, table, r["parent_ref"], must=False)
        if parent_id is None:
            raise RecordError(f"message {r.get('ref')} belongs to {r['parent_type']} {r['parent_ref']}, which is not known")
        return {
            "ref": r.get("ref"), "source": r.get("source") or "local", "remote_id": r.get("remote_id"),
            "parent_type": r["parent_type"], "parent_id": parent_id, "author": r["author"],
            "body": r["body"], "kind": r.get("kind") or "reply", "created_at": r["created_at"],
        }

    return conn.executemany(sql, (fill(r) for r in rows)).rowcount


def add_link(conn: sqlite3.Connection, kind: str, from_ref: str, to_ref: str, created_at: str | None) -> bool:
    """Add a link by refs; True if it is new."""
    if kind == "case_bug":
        case_id = _id_of(conn, "cases", from_ref)
        bug_id = _id_of(conn, "bugs", to_ref)
        cur = conn.execute(
            "INSERT OR IGNORE INTO case_bugs(case_id, bug_id, created_at) VALUES (?, ?, ?)", (case_id, bug_id, created_at)
        )
        return cur.rowcount > 0
    target_type = {"article_case": "case", "article_request": "help_request"}[kind]
    art_id = _id_of(conn, "articles", from_ref)
    target_id = _id_of(conn, TABLE_OF[target_type], to_ref)
    cur = conn.execute(
        "INSERT OR IGNORE INTO article_links(article_id, target_type, target_id, created_at) VALUES (?, ?, ?, ?)",
        (art_id, target_type, target_id, created_at),
    )
    return cur.rowcount > 0


def _id_of(conn: sqlite3.Connection, table: str, ref: str, must: bool = True) -> int | None:
    row = conn.execute(f"SELECT id FROM {table} WHERE ref = ?", (ref,)).fetchone()
    if row is None:
        if must:
            raise RecordError(f"{KIND_OF.get(table, table).replace('_', ' ')} {ref} is not known")
        return None
    return row["id"]


id_of = _id_of


# -- derived values ----------------------------------------------------------------------------


def refresh_bug_impact(conn: sqlite3.Connection, config: Config, bug_ids: Iterable[int] | None = None) -> None:
    """Recompute impact score, linked open cases and distinct customers (all bugs when None)."""
    imp = config.impact
    sw = " ".join(f"WHEN '{k}' THEN {int(v)}" for k, v in imp.severity_weights.items())
    tw = " ".join(f"WHEN '{k}' THEN {int(v)}" for k, v in imp.tier_weights.items())
    sql = f"""
        UPDATE bugs SET (impact_score, case_count, customer_count) = (
            SELECT COALESCE(SUM((CASE c.severity {sw} ELSE 0 END) * (CASE c.tier {tw} ELSE 0 END)), 0)
                   + COUNT(DISTINCT c.customer),
                   COUNT(c.id), COUNT(DISTINCT c.customer)
            FROM case_bugs cb JOIN cases c ON c.id = cb.case_id AND c.{OPEN_CASE}
            WHERE cb.bug_id = bugs.id)
    """
    if bug_ids is None:
        conn.execute(sql)
    else:
        ids = list(set(bug_ids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            conn.execute(sql + f" WHERE id IN ({','.join('?' * len(chunk))})", chunk)


def bugs_of_cases(conn: sqlite3.Connection, case_ids: Iterable[int]) -> list[int]:
    ids = list(set(case_ids))
    out: list[int] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        out += [r["bug_id"] for r in conn.execute(
            f"SELECT DISTINCT bug_id FROM case_bugs WHERE case_id IN ({','.join('?' * len(chunk))})", chunk)]
    return out


def refresh_article_stats(conn: sqlite3.Connection, article_ids: Iterable[int] | None = None) -> None:
    sql = """
        UPDATE articles SET
          open_flags = (SELECT COUNT(*) FROM article_flags f WHERE f.article_id = articles.id AND f.resolved_at IS NULL),
          reuse_count = (SELECT COUNT(*) FROM article_links l WHERE l.article_id = articles.id),
          last_reused_at = (SELECT MAX(created_at) FROM article_links l WHERE l.article_id = articles.id)
    """
    if article_ids is None:
        conn.execute(sql)
        return
    ids = list(set(article_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        conn.execute(sql + f" WHERE id IN ({','.join('?' * len(chunk))})", chunk)


def refresh_ola(conn: sqlite3.Connection, config: Config) -> None:
    conn.execute(
        "UPDATE help_requests SET ola_due_at = "
        + _ola_sql(config).replace(":created_at", "created_at").replace(":priority", "priority")
    )


def _derived_fingerprint(config: Config) -> str:
    return json.dumps([config.ola.model_dump(), config.impact.model_dump()], sort_keys=True)


def refresh_derived_if_config_changed(conn: sqlite3.Connection, config: Config) -> bool:
    """Stored derived values follow the config's thresholds and weights."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'derived_config'").fetchone()
    if row is not None and row["value"] == _derived_fingerprint(config):
        return False
    refresh_derived(conn, config)
    return True


def refresh_derived(conn: sqlite3.Connection, config: Config) -> None:
    """Recompute every stored derived value: OLA due, bug impact, article flags and reuse."""
    fp = _derived_fingerprint(config)
    refresh_ola(conn, config)
    refresh_bug_impact(conn, config)
    refresh_article_stats(conn)
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('derived_config', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (fp,),
    )


# -- reading whole records (for detail views and export) -------------------------------------------


def get_record(conn: sqlite3.Connection, kind: str, ref_or_id: str | int) -> dict[str, Any] | None:
    table = TABLE_OF[kind]
    col = "id" if isinstance(ref_or_id, int) else "ref"
    return conn.execute(f"SELECT * FROM {table} WHERE {col} = ?", (ref_or_id,)).fetchone()


def shift(ts: str, **delta: float) -> str:
    return to_ts(parse_ts(ts) + timedelta(**delta))
