"""Drafts: text the user typed and has not sent (a refused reply, a compose screen open when the
app quit or crashed). One per record and action; the same key on the same record reopens it."""

from __future__ import annotations

import sqlite3
from typing import Any


def save(conn: sqlite3.Connection, record_type: str, ref: str, action: str, body: str, title: str | None,
         reason: str | None, now: str) -> None:
    conn.execute(
        "INSERT INTO drafts(record_type, record_ref, action, body, title, reason, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(record_type, record_ref, action) DO UPDATE SET "
        "body = excluded.body, title = excluded.title, reason = COALESCE(excluded.reason, drafts.reason), "
        "updated_at = excluded.updated_at",
        (record_type, ref, action, body, title, reason, now),
    )


def get(conn: sqlite3.Connection, record_type: str, ref: str, action: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM drafts WHERE record_type = ? AND record_ref = ? AND action = ?",
        (record_type, ref, action)).fetchone()


def delete(conn: sqlite3.Connection, record_type: str, ref: str, action: str) -> None:
    conn.execute("DELETE FROM drafts WHERE record_type = ? AND record_ref = ? AND action = ?",
                 (record_type, ref, action))


def all_drafts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return conn.execute("SELECT * FROM drafts ORDER BY updated_at DESC").fetchall()
