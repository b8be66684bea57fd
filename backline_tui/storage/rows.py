"""One table's rows written by ref: the upsert of each record kind, links by ref, ids by ref, and
the columns each record table holds. Whole records and batches of them are records.py."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Iterable

from backline_tui.storage.chunks import chunked
from backline_tui.storage.derived import OLA_SQL, ola_params, refresh_article_stats

if TYPE_CHECKING:
    from backline_tui.config import Config

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


def upsert_cases(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
    cols = COLUMNS["cases"]
    cur = conn.executemany(_upsert_sql("cases", cols), (_defaults_case(r) for r in rows))
    return cur.rowcount


def upsert_case_rows(conn: sqlite3.Connection, rows: Iterable[tuple]) -> int:
    """Bulk path (the demo): complete rows as tuples in COLUMNS["cases"] order, no defaults filled
    in. The same upsert as upsert_cases without building a dict per row."""
    cols = COLUMNS["cases"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "ref")
    sql = (f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
           f"ON CONFLICT(ref) DO UPDATE SET {updates}")
    return conn.executemany(sql, rows).rowcount


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
    sql = _upsert_sql("help_requests", cols, {"case_id": ":case_id", "article_id": ":article_id", "ola_due_at": OLA_SQL})
    ola = ola_params(config)

    def fill(r: dict[str, Any]) -> dict[str, Any]:
        d = {c: r.get(c) for c in cols} | ola
        d["source"] = d["source"] or "local"
        d["priority"] = d["priority"] or "P3"
        for c in ("body", "product", "component"):
            d[c] = d[c] or ""
        d["case_ref"] = r.get("case_ref")
        d["article_ref"] = r.get("article_ref")
        return d

    filled = [fill(r) for r in rows]
    # references resolved in one query per 500 refs, not one per row
    case_ids = _ids_by_ref(conn, "cases", (d["case_ref"] for d in filled))
    article_ids = _ids_by_ref(conn, "articles", (d["article_ref"] for d in filled))
    for d in filled:
        d["case_id"] = case_ids.get(d["case_ref"]) if d["case_ref"] else None
        if d["case_ref"] and d["case_id"] is None:
            raise RecordError(f"help request {d['ref']} links case {d['case_ref']}, which is not known")
        d["article_id"] = article_ids.get(d["article_ref"]) if d["article_ref"] else None
        if d["article_ref"] and d["article_id"] is None:
            raise RecordError(f"help request {d['ref']} links article {d['article_ref']}, which is not known")
    return conn.executemany(sql, filled).rowcount


def upsert_messages(conn: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
    sql = (
        "INSERT INTO messages(ref, source, remote_id, parent_type, parent_id, author, body, kind, created_at) "
        "VALUES (:ref, :source, :remote_id, :parent_type, :parent_id, :author, :body, :kind, :created_at) "
        "ON CONFLICT(ref) DO UPDATE SET author = excluded.author, body = excluded.body, "
        "kind = excluded.kind, created_at = excluded.created_at, remote_id = excluded.remote_id"
    )
    rows = list(rows)
    parents: dict[str, dict[str, int]] = {}
    for parent_type in {r["parent_type"] for r in rows if not r.get("parent_id")}:
        parents[parent_type] = _ids_by_ref(
            conn, TABLE_OF[parent_type], (r["parent_ref"] for r in rows if r["parent_type"] == parent_type))

    def fill(r: dict[str, Any]) -> dict[str, Any]:
        parent_id = r.get("parent_id") or parents[r["parent_type"]].get(r["parent_ref"])
        if parent_id is None:
            raise RecordError(f"message {r.get('ref')} belongs to {r['parent_type']} {r['parent_ref']}, which is not known")
        return {
            "ref": r.get("ref"), "source": r.get("source") or "local", "remote_id": r.get("remote_id"),
            "parent_type": r["parent_type"], "parent_id": parent_id, "author": r["author"],
            "body": r["body"], "kind": r.get("kind") or "reply", "created_at": r["created_at"],
        }

    return conn.executemany(sql, (fill(r) for r in rows)).rowcount


def _ids_by_ref(conn: sqlite3.Connection, table: str, refs: Iterable[str | None]) -> dict[str, int]:
    """The id of each known ref among `refs` (unknown ones are absent), 500 refs a query."""
    out: dict[str, int] = {}
    for chunk, marks in chunked(r for r in refs if r):
        for row in conn.execute(f"SELECT ref, id FROM {table} WHERE ref IN ({marks})", chunk):
            out[row["ref"]] = row["id"]
    return out


def add_link(conn: sqlite3.Connection, kind: str, from_ref: str, to_ref: str, created_at: str | None,
             reuse: bool = True) -> bool:
    """Add a link by refs; True if it is new. `reuse` (article links): False for the request or
    case an article was drafted from."""
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
        "INSERT OR IGNORE INTO article_links(article_id, target_type, target_id, created_at, reuse) VALUES (?, ?, ?, ?, ?)",
        (art_id, target_type, target_id, created_at, 1 if reuse else 0),
    )
    return cur.rowcount > 0


def _id_of(conn: sqlite3.Connection, table: str, ref: str, must: bool = True) -> int | None:
    row = conn.execute(f"SELECT id FROM {table} WHERE ref = ?", (ref,)).fetchone()
    if row is None:
        if must:
            raise RecordError(f"{KIND_OF.get(table, table).replace('_', ' ')} {ref} is not known")
        return None
    return row["id"]
