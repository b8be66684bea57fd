"""Reads behind a record's detail view: its thread, what it links to, who offered help. Plain
functions over a connection; the facade (workbench/details.py) puts them together."""

from __future__ import annotations

import sqlite3
from typing import Any

RECORD_TABLES = ("help_requests", "cases", "bugs", "articles")


def messages(conn: sqlite3.Connection, parent_type: str, parent_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, ref, author, body, kind, created_at FROM messages WHERE parent_type = ? AND parent_id = ? "
        "ORDER BY created_at, id", (parent_type, parent_id)).fetchall()


def case_summary(conn: sqlite3.Connection, case_id: int) -> dict[str, Any] | None:
    return conn.execute("SELECT id, ref, subject, customer, severity, status, version FROM cases WHERE id = ?",
                        (case_id,)).fetchone()


def article_summary(conn: sqlite3.Connection, article_id: int) -> dict[str, Any] | None:
    return conn.execute("SELECT id, ref, title, state FROM articles WHERE id = ?", (article_id,)).fetchone()


def bugs_of_case(conn: sqlite3.Connection, case_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT b.id, b.ref, b.title, b.status, b.impact_score FROM case_bugs cb JOIN bugs b ON b.id = cb.bug_id "
        "WHERE cb.case_id = ? ORDER BY b.impact_score DESC", (case_id,)).fetchall()


def help_requests_of_case(conn: sqlite3.Connection, case_id: int) -> list[dict[str, Any]]:
    return conn.execute("SELECT id, ref, subject, status, owner FROM help_requests WHERE case_id = ? ORDER BY created_at",
                        (case_id,)).fetchall()


def articles_of_case(conn: sqlite3.Connection, case_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT a.id, a.ref, a.title, a.state FROM article_links l JOIN articles a ON a.id = l.article_id "
        "WHERE l.target_type = 'case' AND l.target_id = ? ORDER BY a.title", (case_id,)).fetchall()


def offered(conn: sqlite3.Connection, case_id: int, me: str) -> bool:
    """Whether `me` already offered help on the case."""
    return _exists(conn, "SELECT 1 FROM messages WHERE parent_type = 'case' AND parent_id = ? AND kind = 'offer' "
                         "AND author = ?", (case_id, me))


def _exists(conn: sqlite3.Connection, sql: str, params: tuple) -> bool:
    return conn.execute(sql + " LIMIT 1", params).fetchone() is not None


def cases_of_bug(conn: sqlite3.Connection, bug_id: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The bug's linked cases, open first then by severity (at most `limit`), and how many in all."""
    rows = conn.execute(
        "SELECT c.id, c.ref, c.subject, c.customer, c.tier, c.severity, c.status FROM case_bugs cb "
        "JOIN cases c ON c.id = cb.case_id WHERE cb.bug_id = ? "
        "ORDER BY c.status IN ('open','pending','on_hold') DESC, c.severity, c.id LIMIT ?", (bug_id, limit)).fetchall()
    total = conn.execute("SELECT COUNT(*) AS n FROM case_bugs WHERE bug_id = ?", (bug_id,)).fetchone()["n"]
    return rows, total


def flags_of_article(conn: sqlite3.Connection, article_id: int) -> list[dict[str, Any]]:
    return conn.execute("SELECT id, who, reason, created_at, resolved_at FROM article_flags WHERE article_id = ? "
                        "ORDER BY created_at", (article_id,)).fetchall()


def uses_of_article(conn: sqlite3.Connection, article_id: int, limit: int = 50) -> dict[str, list[dict[str, Any]]]:
    """The cases and help requests an article is linked to, newest link first."""
    cases = conn.execute(
        "SELECT c.id, c.ref, c.subject FROM article_links l JOIN cases c ON c.id = l.target_id "
        "WHERE l.article_id = ? AND l.target_type = 'case' ORDER BY l.created_at DESC LIMIT ?",
        (article_id, limit)).fetchall()
    requests = conn.execute(
        "SELECT h.id, h.ref, h.subject FROM article_links l JOIN help_requests h ON h.id = l.target_id "
        "WHERE l.article_id = ? AND l.target_type = 'help_request' ORDER BY l.created_at DESC LIMIT ?",
        (article_id, limit)).fetchall()
    return {"cases": cases, "help_requests": requests}


def products(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT product FROM (SELECT DISTINCT product FROM help_requests UNION SELECT DISTINCT product FROM bugs) "
        "WHERE product != '' ORDER BY product").fetchall()
    return [r["product"] for r in rows]


def is_empty(conn: sqlite3.Connection) -> bool:
    return not any(_exists(conn, f"SELECT 1 FROM {table}", ()) for table in RECORD_TABLES)
