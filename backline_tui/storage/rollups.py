"""The Insights rollups (the schema steps schema.ROLLUPS_STEP and WEEKLY_ROLLUPS_STEP name): tables
of per-day sums that triggers keep exact as records are written, and per-week sums of three of
them that triggers on the daily ones keep exact. A bulk write (demo, import, a config change
that rewrites every OLA) pauses the triggers and rebuilds the rollups once at the end, which
costs a fraction of maintaining them row by row.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Iterator

ROLLUP_TABLES = ("ins_case_day", "ins_hr_day", "ins_hr_asker", "ins_hr_subject", "ins_hr_time", "ins_hr_hist",
                 "ins_case_week", "ins_hr_week", "ins_hr_hist_week")
_FILL_START, _FILL_END = "-- rollups: fill", "-- rollups: end fill"


def fill_statements() -> list[str]:
    """The statements that rebuild every rollup from the record tables: those the rollups'
    migration steps ran (the daily ones, then the weekly ones summed from them), taken from them
    so that there is one text of them."""
    from backline_tui.storage.schema import MIGRATION_FILES, MIGRATIONS, ROLLUPS_STEP, WEEKLY_ROLLUPS_STEP

    out = []
    for name in (ROLLUPS_STEP, WEEKLY_ROLLUPS_STEP):
        lines = MIGRATIONS[MIGRATION_FILES.index(name)].splitlines(keepends=True)
        marks = [line.strip() for line in lines]  # the markers are lines of their own
        current = ""
        for line in lines[marks.index(_FILL_START) + 1 : marks.index(_FILL_END)]:
            current += line
            if sqlite3.complete_statement(current):
                out.append(current.strip())
                current = ""
    return out


def _triggers(conn: sqlite3.Connection) -> list[dict]:
    return conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ins\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every rollup from the record tables (inside the caller's transaction)."""
    for stmt in fill_statements():
        conn.execute(stmt)


@contextlib.contextmanager
def paused(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside a transaction: no rollup trigger fires during the block; the rollups are rebuilt
    and the triggers restored at its end. Nested use joins the outer pause."""
    triggers = _triggers(conn)
    if not triggers:  # already paused by an outer block (or a database before the rollups)
        yield
        return
    for t in triggers:
        conn.execute(f"DROP TRIGGER {t['name']}")
    yield
    rebuild(conn)
    for t in triggers:
        conn.execute(t["sql"])


def differences(conn: sqlite3.Connection) -> dict[str, int]:
    """How many rows of each rollup differ from a recomputation from the record tables (empty:
    the rollups are exact). Computes the recomputation in a savepoint and rolls it back."""
    conn.execute("SAVEPOINT rollup_check")
    try:
        for table in ROLLUP_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS temp.kept_{table}")
            conn.execute(f"CREATE TEMP TABLE kept_{table} AS SELECT * FROM main.{table}")
        rebuild(conn)
        out = {}
        for table in ROLLUP_TABLES:
            n = 0
            for a, b in ((f"main.{table}", f"temp.kept_{table}"), (f"temp.kept_{table}", f"main.{table}")):
                row = conn.execute(f"SELECT COUNT(*) AS n FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})").fetchone()
                n += row["n"] if isinstance(row, dict) else row[0]
            if n:
                out[table] = n
    finally:
        conn.execute("ROLLBACK TO rollup_check")
        conn.execute("RELEASE rollup_check")
        for table in ROLLUP_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS temp.kept_{table}")
    return out
