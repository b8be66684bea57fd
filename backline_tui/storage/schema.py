"""Schema versions (frozen steps in storage/migrations/) and the SQL builders bulk loads use."""

from __future__ import annotations

from pathlib import Path

from backline_tui.domain.vocabulary import SEVERITIES

OPEN_HELP = "status IN ('new','claimed','answered')"
OPEN_CASE = "status IN ('open','pending','on_hold')"
OPEN_BUG = "status IN ('open','in_progress')"

# Full-text search: one external-content FTS5 table per record table, kept in step by triggers.
FTS_TABLES = {
    "help_requests": ("help_requests_fts", ("subject", "body")),
    "cases": ("cases_fts", ("subject", "body")),
    "bugs": ("bugs_fts", ("title", "body")),
    "articles": ("articles_fts", ("title", "body")),
}


def fts_triggers_sql(table: str) -> str:
    fts, cols = FTS_TABLES[table]
    c = ", ".join(cols)
    new = ", ".join(f"new.{x}" for x in cols)
    old = ", ".join(f"old.{x}" for x in cols)
    return f"""
CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN
  INSERT INTO {fts}(rowid, {c}) VALUES (new.id, {new});
END;
CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN
  INSERT INTO {fts}({fts}, rowid, {c}) VALUES ('delete', old.id, {old});
END;
CREATE TRIGGER {fts}_au AFTER UPDATE OF {c} ON {table} BEGIN
  INSERT INTO {fts}({fts}, rowid, {c}) VALUES ('delete', old.id, {old});
  INSERT INTO {fts}(rowid, {c}) VALUES (new.id, {new});
END;
"""


def fts_drop_triggers_sql(table: str) -> str:
    fts, _ = FTS_TABLES[table]
    return "".join(f"DROP TRIGGER IF EXISTS {fts}_{s};\n" for s in ("ai", "ad", "au"))


# The filter tables (schema step 6): small FTS5 tables over the columns a pane filter reads,
# holding only the records a pane can show, kept in step by triggers. The migration froze their
# SQL; these builders make the same statements again for bulk_load (storage/replica.py), which
# drops and refills them around a bulk load. tests/test_upgrade.py checks that the two agree.
CASE_FILTER_SEVERITIES = SEVERITIES
_CASE_TEXT = ("ref", "subject", "customer", "product", "component")

# filter table -> (record table, its columns, which records it holds, the columns that move a record in or out)
FILTER_TABLES: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {
    "help_requests_filter": ("help_requests", ("ref", "subject", "asker", "product", "component"), OPEN_HELP,
                             ("status",)),
    **{f"cases_filter_{sev.lower()}": ("cases", _CASE_TEXT, f"{OPEN_CASE} AND severity = '{sev}'", ("status", "severity"))
       for sev in CASE_FILTER_SEVERITIES},
    "bugs_filter": ("bugs", ("ref", "title", "product", "component"), OPEN_BUG, ("status",)),
    "articles_filter": ("articles", ("ref", "title", "product", "component"), "state != 'archived'", ("state",)),
}


def case_filter_table(severity: str) -> str:
    return f"cases_filter_{severity.lower()}"


def _on(prefix: str, live: str, names: tuple[str, ...]) -> str:
    for name in names:
        live = live.replace(name, f"{prefix}.{name}")
    return live


def filter_create_statements(fts: str) -> list[str]:
    """Create and fill the filter table `fts`, and the triggers that keep it in step."""
    table, cols, live, moves = FILTER_TABLES[fts]
    c = ", ".join(cols)
    new = ", ".join(f"new.{x}" for x in cols)
    old_live, new_live = _on("old", live, moves), _on("new", live, moves)
    changed = " OR ".join(f"old.{x} IS NOT new.{x}" for x in (*cols, *moves, "id"))
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({c}, tokenize='unicode61 remove_diacritics 2')",
        f"INSERT INTO {fts}(rowid, {c}) SELECT id, {c} FROM {table} WHERE {live}",
        f"""CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} WHEN {new_live} BEGIN
  INSERT INTO {fts}(rowid, {c}) VALUES (new.id, {new});
END""",
        f"""CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} WHEN {old_live} BEGIN
  DELETE FROM {fts} WHERE rowid = old.id;
END""",
        f"""CREATE TRIGGER {fts}_au AFTER UPDATE ON {table} WHEN ({changed}) AND ({old_live} OR {new_live}) BEGIN
  DELETE FROM {fts} WHERE rowid = old.id;
  INSERT INTO {fts}(rowid, {c}) SELECT new.id, {new} WHERE {new_live};
END""",
    ]


def filter_drop_statements(fts: str) -> list[str]:
    """Drop the filter table `fts` and its triggers (a bulk load refills it in one pass
    afterwards: one FTS5 segment, where row-by-row inserts left hundreds)."""
    return [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


# Each step moves the database from version i to i+1: SQL files in storage/migrations/, frozen
# once released (a later change is a new step, never an edit), so no live constant can change
# what an old version means.
# The steps that made the Insights rollups: storage/rollups.py reruns their fill statements, in order.
ROLLUPS_STEP = "v009_insights_rollups.sql"
WEEKLY_ROLLUPS_STEP = "v012_weekly_rollups.sql"
MIGRATION_FILES: tuple[str, ...] = (
    "v001_base.sql",
    "v002_covering_queue_indexes.sql",
    "v003_insights_index.sql",
    "v004_kb_review_indexes.sql",
    "v005_kb_cover_index.sql",
    "v006_pane_filters.sql",
    "v007_knowledge.sql",
    "v008_drafts.sql",
    ROLLUPS_STEP,
    "v010_pending_links.sql",
    "v011_history_backfill.sql",
    WEEKLY_ROLLUPS_STEP,
)
_HERE = Path(__file__).resolve().parent / "migrations"
MIGRATIONS: list[str] = [(_HERE / name).read_text(encoding="utf-8") for name in MIGRATION_FILES]
SCHEMA_VERSION = len(MIGRATIONS)
