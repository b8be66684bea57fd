"""The whole story of a customer, in SQL: a case's sibling cases (open, or active lately), the
help requests raised about them and the open bugs they wait on; and which cases were offered
help. No textual."""

from __future__ import annotations

import sqlite3
from typing import Any

from backline_tui.storage.chunks import chunked

OPEN = ("open", "pending", "on_hold")
SIBLINGS_READ = 200  # the customer's most recently active cases looked at


def customer_story(conn: sqlite3.Connection, case_id: int, customer: str, recent_since: str,
                   limit: int = 10) -> dict[str, Any]:
    """{"cases": the customer's other cases, open ones first, then those active since
    `recent_since` (up to `limit`), "open_cases": how many open cases the customer has in all,
    "help_requests": requests raised about this case's siblings, "bugs": open bugs linked to
    this case or its siblings, by impact}."""
    rows = conn.execute(
        "SELECT id, ref, subject, severity, status, product, last_activity_at FROM cases "
        "WHERE customer = ? AND id != ? ORDER BY last_activity_at DESC LIMIT ?",
        (customer, case_id, SIBLINGS_READ)).fetchall()
    shown = [r for r in rows if r["status"] in OPEN or r["last_activity_at"] >= recent_since]
    shown = sorted(shown, key=lambda r: r["status"] not in OPEN)[:limit]  # stable: newest first within
    open_cases = open_cases_of_customer(conn, customer)
    sibling_ids = [r["id"] for r in shown]
    help_requests: list[dict] = []
    if sibling_ids:
        marks = ",".join("?" * len(sibling_ids))
        help_requests = conn.execute(
            f"SELECT h.id, h.ref, h.subject, h.status, c.ref AS case_ref FROM help_requests h "
            f"JOIN cases c ON c.id = h.case_id WHERE h.case_id IN ({marks}) ORDER BY h.created_at DESC LIMIT ?",
            (*sibling_ids, limit)).fetchall()
    ids = [case_id, *sibling_ids]
    marks = ",".join("?" * len(ids))
    bugs = conn.execute(
        f"SELECT b.id, b.ref, b.title, b.status, b.impact_score, COUNT(*) AS cases FROM case_bugs cb "
        f"JOIN bugs b ON b.id = cb.bug_id WHERE cb.case_id IN ({marks}) AND b.status IN ('open','in_progress') "
        f"GROUP BY b.id ORDER BY b.impact_score DESC, b.id LIMIT ?", (*ids, limit)).fetchall()
    return {"cases": shown, "open_cases": open_cases, "help_requests": help_requests, "bugs": bugs}


def open_cases_of_customer(conn: sqlite3.Connection, customer: str) -> int:
    return conn.execute("SELECT COUNT(*) AS n FROM cases WHERE customer = ? AND status IN ('open','pending','on_hold')",
                        (customer,)).fetchone()["n"]


def offered_cases(conn: sqlite3.Connection, case_ids: list[int]) -> dict[int, str]:
    """Cases among `case_ids` on which someone offered help: case id -> who offered last."""
    out: dict[int, str] = {}
    for chunk, marks in chunked(case_ids):
        out.update((r["parent_id"], r["author"]) for r in conn.execute(
            f"SELECT parent_id, author FROM messages WHERE parent_type = 'case' AND kind = 'offer' "
            f"AND parent_id IN ({marks}) ORDER BY created_at", chunk))
    return out


def offers_on(conn: sqlite3.Connection, case_id: int) -> list[dict[str, Any]]:
    """Offers of help made on a case: author, created_at, oldest first."""
    return conn.execute(
        "SELECT author, created_at FROM messages WHERE parent_type = 'case' AND parent_id = ? AND kind = 'offer' "
        "ORDER BY created_at, id", (case_id,)).fetchall()
