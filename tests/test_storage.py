"""The replica: migrations, re-open, backups, pane order, indexes, search."""

import sqlite3

import pytest

from backline_tui.config import Config
from backline_tui.storage import Replica, SchemaTooNew, StorageError
from backline_tui.storage import panes as pane_queries
from backline_tui.storage import schema
from backline_tui.workbench import Workbench

from tests import factories as F


def test_new_database_is_migrated_to_the_current_schema(tmp_path):
    r = Replica(tmp_path / "x.db")
    assert r.schema_version == schema.SCHEMA_VERSION
    tables = {row["name"] for row in r.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"help_requests", "cases", "bugs", "articles", "messages", "outbox", "sync_cursors", "cases_fts"} <= tables
    assert r.scalar("PRAGMA journal_mode") == "wal"
    assert r.scalar("PRAGMA foreign_keys") == 1
    assert r.scalar("PRAGMA busy_timeout") >= 5000
    assert r.backup_path is None  # nothing to back up on a new file


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "x.db"
    r = Replica(path)
    F.load(r, cases=[F.case("CASE-1", subject="Printer on fire")])
    r.close()
    r2 = Replica(path)
    assert r2.scalar("SELECT subject FROM cases WHERE ref = 'CASE-1'") == "Printer on fire"
    assert r2.scalar("SELECT COUNT(*) FROM cases") == 1
    assert r2.backup_path is None
    assert not list(tmp_path.glob("*.bak"))


def test_a_migration_backs_up_the_old_database_first(tmp_path, monkeypatch):
    path = tmp_path / "x.db"
    r = Replica(path)
    F.load(r, cases=[F.case("CASE-1")])
    r.close()
    base = schema.SCHEMA_VERSION
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + ["ALTER TABLE cases ADD COLUMN region TEXT;"])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    import backline_tui.storage.replica as replica_mod

    monkeypatch.setattr(replica_mod, "MIGRATIONS", schema.MIGRATIONS)
    monkeypatch.setattr(replica_mod, "SCHEMA_VERSION", schema.SCHEMA_VERSION)
    r2 = Replica(path)
    assert r2.schema_version == base + 1
    assert r2.backup_path is not None and r2.backup_path.exists()
    old = sqlite3.connect(r2.backup_path)
    assert old.execute("PRAGMA user_version").fetchone()[0] == base
    assert old.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 1
    assert r2.scalar("SELECT COUNT(*) FROM cases WHERE region IS NULL") == 1


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "x.db"
    Replica(path).close()
    import backline_tui.storage.replica as replica_mod

    base = schema.SCHEMA_VERSION
    monkeypatch.setattr(replica_mod, "MIGRATIONS", schema.MIGRATIONS + ["ALTER TABLE nope ADD COLUMN x;"])
    monkeypatch.setattr(replica_mod, "SCHEMA_VERSION", base + 1)
    with pytest.raises(StorageError, match=f"migrating .* to schema {base + 1} failed"):
        Replica(path)
    assert Replica(path, migrate=False).schema_version == base


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "x.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(SchemaTooNew, match="newer Backline"):
        Replica(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "x.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        Replica(path)


def test_help_queue_orders_by_breach_then_priority_then_age(replica, config, now):
    F.load(replica, config, help_requests=[
        F.help_request("H-late", priority="P3", created_at=F.ago(hours=9)),          # breached 1 h ago
        F.help_request("H-p1", priority="P1", created_at=F.ago(minutes=10)),         # due in 20 min
        F.help_request("H-p2", priority="P2", created_at=F.ago(minutes=100)),        # due in 20 min too
        F.help_request("H-answered", priority="P1", created_at=F.ago(hours=2), status="answered",
                       first_response_at=F.ago(hours=1, minutes=50)),
        F.help_request("H-done", status="resolved", resolved_at=F.ago(minutes=1)),
    ])
    wb = Workbench(replica, config, _clock(now))
    rows = wb.pane("help")
    assert [r["ref"] for r in rows] == ["H-late", "H-p1", "H-p2", "H-answered"]
    assert rows[0]["breached"] and rows[0]["breach_seconds"] == -3600
    assert rows[1]["breach_seconds"] == 1200 and not rows[1]["breached"]
    assert rows[3]["breach_seconds"] is None
    assert wb.pane_count("help") == 4


def _clock(now):
    from backline_tui.clock import Clock

    return Clock(now)


def test_help_queue_filters(replica, config, now):
    F.load(replica, config, help_requests=[
        F.help_request("H-mine", owner="alice", status="claimed", product="Gadget", subject="Auth loop"),
        F.help_request("H-bob", owner="bob", status="claimed", subject="100% CPU"),
        F.help_request("H-free", subject="Export_fails"),
    ])
    wb = Workbench(replica, config, _clock(now))
    refs = lambda f: sorted(r["ref"] for r in wb.pane("help", f))  # noqa: E731
    assert refs(pane_queries.PaneFilter(mine=True)) == ["H-mine"]
    assert refs(pane_queries.PaneFilter(unclaimed=True)) == ["H-free"]
    assert refs(pane_queries.PaneFilter(product="Gadget")) == ["H-mine"]
    assert refs(pane_queries.PaneFilter(text="auth")) == ["H-mine"]
    # LIKE wildcards in the text are literal
    assert refs(pane_queries.PaneFilter(text="100%")) == ["H-bob"]
    assert refs(pane_queries.PaneFilter(text="rt%ls")) == []
    assert refs(pane_queries.PaneFilter(text="po_t")) == []
    # a word of 3+ letters or digits matches the start of a word ("_" separates words) ...
    assert refs(pane_queries.PaneFilter(text="export_f")) == ["H-free"]
    assert refs(pane_queries.PaneFilter(text="t_fails")) == []
    # ... a shorter one (the first keys typed) matches anywhere, as a substring
    assert refs(pane_queries.PaneFilter(text="t_f")) == ["H-free"]
    assert wb.pane_count("help", pane_queries.PaneFilter(mine=True)) == 1


def test_stale_cases_rank_by_idle_over_threshold_across_severities(replica, config, now):
    F.load(replica, config, cases=[
        F.case("C-s1", severity="S1", last_activity_at=F.ago(days=3)),     # 3.0
        F.case("C-s4", severity="S4", last_activity_at=F.ago(days=21)),    # 1.5
        F.case("C-s3", severity="S3", last_activity_at=F.ago(days=14)),    # 2.0
        F.case("C-fresh", severity="S3", last_activity_at=F.ago(days=1)),  # 0.14: not stale
        F.case("C-reopened", severity="S2", last_activity_at=F.ago(days=1), reopen_count=2),
        F.case("C-waiting", severity="S4", last_activity_at=F.ago(days=2), last_customer_update_at=F.ago(days=1)),
        F.case("C-closed", severity="S1", status="closed", last_activity_at=F.ago(days=30)),
    ])
    wb = Workbench(replica, config, _clock(now))
    rows = wb.pane("stale")
    assert [r["ref"] for r in rows] == ["C-s1", "C-s3", "C-s4", "C-reopened", "C-waiting"]
    assert rows[0]["ratio"] == pytest.approx(3.0)
    assert rows[3]["reasons"] == ["reopened 2×"]
    assert rows[4]["reasons"] == ["customer waiting"]
    assert wb.pane_count("stale") == 5
    # paging through the merge gives the same order
    assert [r["ref"] for r in wb.pane("stale", offset=1, limit=2)] == ["C-s3", "C-s4"]


def test_bugs_rank_by_impact_with_counts(replica, config, now):
    F.load(
        replica, config,
        cases=[F.case("C-1", severity="S1", tier="enterprise", customer="Acme"),
               F.case("C-2", severity="S2", tier="business", customer="Acme"),
               F.case("C-3", severity="S4", tier="standard", customer="Globex"),
               F.case("C-4", severity="S1", tier="enterprise", customer="Hooli", status="closed")],
        bugs=[F.bug("PROJ-1"), F.bug("PROJ-2"), F.bug("PROJ-3", priority_override="P1"),
              F.bug("PROJ-9", status="closed")],
        links=[("case_bug", "C-1", "PROJ-1"), ("case_bug", "C-2", "PROJ-1"), ("case_bug", "C-3", "PROJ-2"),
               ("case_bug", "C-4", "PROJ-2"), ("case_bug", "C-1", "PROJ-9")],
    )
    wb = Workbench(replica, config, _clock(now))
    rows = wb.pane("bugs")
    assert [(r["ref"], r["impact_score"], r["case_count"], r["customer_count"]) for r in rows] == [
        ("PROJ-1", 24 + 8 + 1, 2, 1), ("PROJ-2", 1 + 1, 1, 1), ("PROJ-3", 0, 0, 0)]
    assert [r["priority"] for r in rows] == ["P2", "P4", "P1"]
    assert rows[2]["priority_overridden"]
    # no explicit target: created + 60 days for a P2
    assert rows[0]["target"] == F.ago(days=10 - 60)


def test_kb_review_lists_each_reason_in_order(replica, config, now):
    F.load(replica, config, articles=[
        F.article("KB-flag-low", flags=[{"who": "fl.ana", "reason": "wrong", "at": F.ago(days=1)}]),
        F.article("KB-flag-reused", flags=[{"who": "fl.ana", "reason": "old", "at": F.ago(days=1)}],
                  review_due_at=F.ago(days=1)),
        F.article("KB-overdue", review_due_at=F.ago(days=2)),
        F.article("KB-wip", state="wip", created_at=F.ago(days=3)),
        F.article("KB-old-draft", state="not_validated", created_at=F.ago(days=9)),
        F.article("KB-dead", created_at=F.ago(days=400)),
        F.article("KB-archived", state="archived", created_at=F.ago(days=400)),
        F.article("KB-fine", review_due_at=F.ago(days=-30)),
    ], cases=[F.case("C-1")], links=[("article_case", "KB-flag-reused", "C-1")])
    wb = Workbench(replica, config, _clock(now))
    rows = wb.pane("kb")
    assert [(r["ref"], r["reasons"]) for r in rows] == [
        ("KB-flag-reused", ["flagged", "review overdue"]),
        ("KB-flag-low", ["flagged"]),
        ("KB-overdue", ["review overdue"]),
        ("KB-old-draft", ["awaiting validation"]),
        ("KB-wip", ["awaiting validation"]),
        ("KB-dead", ["archive candidate"]),
    ]


def test_pane_queries_walk_an_index_not_the_table(wb):
    conn = wb.replica.conn
    plans = {
        "help": "SELECT id FROM help_requests WHERE status IN ('new','claimed','answered') "
                "ORDER BY (first_response_at IS NOT NULL), ola_due_at, priority, created_at LIMIT 100",
        "stale": "SELECT id FROM cases WHERE status IN ('open','pending','on_hold') AND severity = 'S1' "
                 "ORDER BY last_activity_at LIMIT 100",
        "bugs": "SELECT id FROM bugs WHERE status IN ('open','in_progress') ORDER BY impact_score DESC, created_at LIMIT 100",
    }
    for name, sql in plans.items():
        detail = " ".join(r["detail"] for r in conn.execute("EXPLAIN QUERY PLAN " + sql))
        assert ("USING INDEX" in detail or "USING COVERING INDEX" in detail) and "TEMP B-TREE" not in detail, (name, detail)


def test_search_finds_every_kind_and_follows_updates(replica, config, now):
    F.load(replica, config, cases=[F.case("C-1", subject="Zebra stripes vanish")],
           help_requests=[F.help_request("H-1", body="the zebra importer hangs")],
           bugs=[F.bug("PROJ-1", title="Zebra codec leak")], articles=[F.article("KB-1", title="Zebra FAQ")])
    wb = Workbench(replica, config, _clock(now))
    assert sorted(h["kind"] for h in wb.search("zebra")) == ["article", "bug", "case", "help_request"]
    assert [h["ref"] for h in wb.search("zeb")] != []  # prefix as you type
    with replica.transaction() as conn:
        conn.execute("UPDATE cases SET subject = 'Okapi' WHERE ref = 'C-1'")
    assert "C-1" not in [h["ref"] for h in wb.search("zebra")]
    assert [h["ref"] for h in wb.search("okapi")] == ["C-1"]
    assert wb.search("   ") == []


def test_search_input_with_fts_syntax_is_taken_as_words(replica, now):
    """FTS5 operators typed into search are words to look for, never query syntax: no error, and
    the record that holds the words is found."""
    F.load(replica, cases=[F.case("C-9", subject="Near the column and NOT the quote")])
    wb = Workbench(replica, Config(me="alice"), _clock(now))
    for text in ['"', "a AND", "NEAR(", "*", "col:x", "-x", "a OR OR"]:
        assert isinstance(wb.search(text), list)
    for text in ["near(", '"column', "NOT the", "quote*"]:
        assert [h["ref"] for h in wb.search(text)] == ["C-9"], text


def test_workbench_config_change_recomputes_ola(replica, now):
    F.load(replica, Config(me="alice"), help_requests=[F.help_request("H-1", priority="P1", created_at=F.ago(hours=1))])
    wb = Workbench(replica, Config(me="alice", ola={"P1": 120}), _clock(now))
    assert wb.pane("help")[0]["ola_due_at"] == F.ago(hours=-1)
