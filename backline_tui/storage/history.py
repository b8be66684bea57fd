"""Which records still wait for their thread history (a first sync pulls open work first, then
the history as a backfill), and how much of it has landed. Refs are the replica's (localized)."""

from __future__ import annotations

import sqlite3
from typing import Iterable

from backline_tui.storage.records import TABLE_OF

__all__ = ["mark_pending", "landed", "begin_backfill", "end_backfill", "is_pending", "progress"]

_KINDS = ("help_request", "case", "bug")


def mark_pending(conn: sqlite3.Connection, source: str, kind: str, refs: Iterable[str]) -> None:
    """These records were written without their history."""
    conn.executemany("INSERT OR REPLACE INTO history_pending(source, kind, ref) VALUES (?, ?, ?)",
                     [(source, kind, ref) for ref in refs])


def landed(conn: sqlite3.Connection, kind: str, refs: Iterable[str]) -> None:
    """These records were written with their history."""
    conn.executemany("DELETE FROM history_pending WHERE kind = ? AND ref = ?", [(kind, ref) for ref in refs])


def begin_backfill(conn: sqlite3.Connection, source: str, kind: str, total: int | None) -> None:
    conn.execute("INSERT OR REPLACE INTO history_backfill(source, kind, total, done) VALUES (?, ?, ?, 0)",
                 (source, kind, total))


def end_backfill(conn: sqlite3.Connection, source: str, kind: str) -> None:
    """Every record of the kind has its history (those still marked left the kind meanwhile).
    Once every kind of the source has ended, the source's backfill is over."""
    conn.execute("UPDATE history_backfill SET done = 1 WHERE source = ? AND kind = ?", (source, kind))
    conn.execute("DELETE FROM history_pending WHERE source = ? AND kind = ?", (source, kind))
    if conn.execute("SELECT 1 FROM history_backfill WHERE source = ? AND done = 0", (source,)).fetchone() is None:
        conn.execute("DELETE FROM history_backfill WHERE source = ?", (source,))


def is_pending(conn: sqlite3.Connection, kind: str, ref: str) -> bool:
    return conn.execute("SELECT 1 FROM history_pending WHERE kind = ? AND ref = ?", (kind, ref)).fetchone() is not None


def progress(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """Per source whose history backfill runs: (records with their history in the replica, how
    many the upstream held when it began). Sources with no backfill running are absent."""
    out: dict[str, tuple[int, int]] = {}
    for row in conn.execute("SELECT source, kind, total, done FROM history_backfill ORDER BY source, kind").fetchall():
        source, kind = row["source"], row["kind"]
        if kind not in _KINDS:
            continue
        landed = conn.execute(
            f"SELECT COUNT(*) AS n FROM {TABLE_OF[kind]} AS r WHERE r.source = ? AND NOT EXISTS "
            "(SELECT 1 FROM history_pending AS p WHERE p.kind = ? AND p.ref = r.ref)", (source, kind)).fetchone()["n"]
        total = row["total"] if row["total"] is not None else landed
        if row["done"]:
            landed = total
        have = out.get(source, (0, 0))
        out[source] = (have[0] + min(landed, total), have[1] + total)
    return out
