"""The writes behind the workbench's actions. Each runs inside the action's transaction (the
facade opens it and queues the outbox op in it too): plain functions over a connection, bound
parameters only."""

from __future__ import annotations

import sqlite3
from typing import Any

from backline_tui.storage import derived, knowledge, records, rows

# the columns an action may set, per table (anything else is a bug of ours, refused loudly)
_SETTABLE = {
    "help_requests": {"owner", "status", "first_response_at", "resolved_at", "article_id", "updated_at"},
    "bugs": {"priority_override", "target_at", "updated_at"},
    "articles": {"state", "title", "body", "last_reviewed_at", "review_due_at", "updated_at"},
}


def update(conn: sqlite3.Connection, table: str, row_id: int, now: str, **fields: Any) -> None:
    """Set `fields` on one record, and its updated_at to `now`."""
    fields["updated_at"] = now
    unknown = set(fields) - _SETTABLE[table]
    if unknown:
        raise ValueError(f"{table}: not settable by an action: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*fields.values(), row_id))


def add_message(conn: sqlite3.Connection, parent_type: str, parent: dict[str, Any], author: str, body: str,
                kind: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO messages(source, parent_type, parent_id, author, body, kind, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (parent["source"], parent_type, parent["id"], author, body, kind, now),
    )
    return cur.lastrowid


def add_draft_article(conn: sqlite3.Connection, hr: dict[str, Any], owner: str, title: str, body: str,
                      now: str) -> tuple[int, str]:
    """A WIP article documenting help request `hr` (linked to it and to its case): (id, ref)."""
    next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM articles").fetchone()["n"]
    ref = f"DRAFT-{next_id}"
    cur = conn.execute(
        "INSERT INTO articles(ref, source, title, body, state, owner, product, component, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'wip', ?, ?, ?, ?, ?)",
        (ref, hr["source"], title, body, owner, hr["product"], hr["component"], now, now),
    )
    article_id = cur.lastrowid
    # the request (and its case) are the draft's source, not a reuse: its count starts at 0
    knowledge.link_article(conn, article_id, "help_request", hr["id"], now, reuse=False)
    if hr["case_id"]:
        knowledge.link_article(conn, article_id, "case", hr["case_id"], now, reuse=False)
    derived.refresh_article_stats(conn, [article_id])
    update(conn, "help_requests", hr["id"], now, article_id=article_id)
    return article_id, ref


def add_flag(conn: sqlite3.Connection, article_id: int, who: str, reason: str, now: str) -> int:
    cur = conn.execute("INSERT INTO article_flags(article_id, who, reason, created_at) VALUES (?, ?, ?, ?)",
                       (article_id, who, reason, now))
    derived.refresh_article_stats(conn, [article_id])
    return cur.lastrowid


def latest_open_flag(conn: sqlite3.Connection, article_id: int) -> int | None:
    row = conn.execute("SELECT id FROM article_flags WHERE article_id = ? AND resolved_at IS NULL "
                       "ORDER BY created_at DESC, id DESC LIMIT 1", (article_id,)).fetchone()
    return row["id"] if row else None


def resolve_flags(conn: sqlite3.Connection, article_id: int, now: str, flag_id: int | None = None) -> None:
    """Resolve one open flag (`flag_id`), or all of the article's."""
    if flag_id is None:
        conn.execute("UPDATE article_flags SET resolved_at = ? WHERE article_id = ? AND resolved_at IS NULL",
                     (now, article_id))
    else:
        conn.execute("UPDATE article_flags SET resolved_at = ? WHERE id = ?", (now, flag_id))
    derived.refresh_article_stats(conn, [article_id])


def add_local_bug(conn: sqlite3.Connection, case: dict[str, Any] | None, source: str, title: str, body: str,
                  now: str, **fields: Any) -> dict[str, Any]:
    """An open bug filed in `source` under a local ref (NEW-BUG-n) until its upstream names it,
    linked at once to `case` (None: escalated from a help request that has no case). Product,
    component and severity are the case's unless `fields` set them (an edited escalation draft).
    The one write behind both create_bug and escalate. Returns the bug as stored."""
    next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 AS n FROM bugs").fetchone()["n"]
    ref = f"NEW-BUG-{next_id}"
    row = {"product": "", "component": "", "severity": "S3"}
    if case is not None:
        row.update(product=case["product"], component=case["component"], severity=case["severity"])
    unknown = set(fields) - set(row)
    if unknown:
        raise ValueError(f"a new bug takes no {sorted(unknown)}")
    row.update(fields)
    rows.upsert_bugs(conn, [{"ref": ref, "source": source, "title": title, "body": body, **row, "status": "open",
                                "created_at": now, "updated_at": now}])
    if case is not None:
        rows.add_link(conn, "case_bug", case["ref"], ref, now)
    return records.get_record(conn, "bug", ref)
def delete_flag(conn: sqlite3.Connection, article_id: int, flag_id: int) -> None:
    """A flag that never left the replica goes (its op was taken back)."""
    conn.execute("DELETE FROM article_flags WHERE id = ?", (flag_id,))
    derived.refresh_article_stats(conn, [article_id])
