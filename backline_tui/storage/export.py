"""The replica as interchange records, for `backline export`."""

from __future__ import annotations

import sqlite3
from typing import Any, Iterator

from backline_tui.storage.rows import COLUMNS, TABLE_OF


def export_rows(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every record as an interchange dict (not yet validated), in an order import can read:
    cases, bugs, articles, help requests, messages, links."""
    for kind in ("case", "bug", "article"):
        table = TABLE_OF[kind]
        cols = ", ".join(COLUMNS[table])
        flags: dict[int, list[dict[str, Any]]] = {}
        if kind == "article":
            for f in conn.execute("SELECT article_id, who, reason, created_at, resolved_at FROM article_flags ORDER BY id"):
                flags.setdefault(f["article_id"], []).append(
                    {"who": f["who"], "reason": f["reason"], "at": f["created_at"], "resolved_at": f["resolved_at"]})
        for r in conn.execute(f"SELECT id, {cols} FROM {table} ORDER BY id"):
            row_id = r.pop("id")
            if kind == "article":
                r["flags"] = flags.get(row_id, [])
            r["type"] = kind
            yield r
    cols = ", ".join(f"h.{c}" for c in COLUMNS["help_requests"])
    for r in conn.execute(
        f"SELECT {cols}, c.ref AS case_ref, a.ref AS article_ref FROM help_requests h "
        "LEFT JOIN cases c ON c.id = h.case_id LEFT JOIN articles a ON a.id = h.article_id ORDER BY h.id"
    ):
        r["type"] = "help_request"
        yield r
    for r in conn.execute(
        "SELECT m.id, m.ref, m.source, m.remote_id, m.parent_type, "
        "COALESCE(h.ref, c.ref) AS parent_ref, m.author, m.body, m.kind, m.created_at FROM messages m "
        "LEFT JOIN help_requests h ON m.parent_type = 'help_request' AND h.id = m.parent_id "
        "LEFT JOIN cases c ON m.parent_type = 'case' AND c.id = m.parent_id ORDER BY m.id"
    ):
        row_id = r.pop("id")
        if r["ref"] is None:
            r["ref"] = f"{r['parent_ref']}/local-{row_id}"
        r["type"] = "message"
        yield r
    for r in conn.execute(
        "SELECT c.ref AS from_ref, b.ref AS to_ref, cb.created_at FROM case_bugs cb "
        "JOIN cases c ON c.id = cb.case_id JOIN bugs b ON b.id = cb.bug_id ORDER BY cb.case_id, cb.bug_id"
    ):
        yield {"type": "link", "kind": "case_bug", **r}
    for r in conn.execute(
        "SELECT a.ref AS from_ref, l.target_type, COALESCE(h.ref, c.ref) AS to_ref, l.created_at, l.reuse "
        "FROM article_links l JOIN articles a ON a.id = l.article_id "
        "LEFT JOIN help_requests h ON l.target_type = 'help_request' AND h.id = l.target_id "
        "LEFT JOIN cases c ON l.target_type = 'case' AND c.id = l.target_id "
        "ORDER BY l.article_id, l.target_type, l.target_id"
    ):
        if r["to_ref"] is None:
            continue
        kind = "article_case" if r.pop("target_type") == "case" else "article_request"
        if r.pop("reuse"):  # the default: written only when the link is a draft's source
            yield {"type": "link", "kind": kind, **r}
        else:
            yield {"type": "link", "kind": kind, **r, "reuse": False}
