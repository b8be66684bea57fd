"""The Insights rollups stay equal to a full recomputation after every kind of write:
demo generation (and --replace), actions, imports, syncs, deletes, renames, a config change
that moves every OLA, and the migration of an existing database.

Two checks each time: every rollup table equals one rebuilt from the record tables
(rollups.differences), and every Insights figure read through the rollups equals the same figure
computed from the record tables alone (Insights(recompute=True), the code that served them before
the rollups), for the default window, a window from a date, and one from a date-time (read live).
"""

from __future__ import annotations

import re
from datetime import timedelta

import json
from pathlib import Path

import pytest

from backline_tui.config import Config, OLAConfig, SourceConfig
from backline_tui.insights import Insights
from backline_tui.storage import Replica, rollups, schema
from backline_tui.storage import records as record_store
from backline_tui.storage.derived import refresh_derived
from backline_tui.sync.demo import generate, wipe_records
from backline_tui.sync.jsonl import export_records, import_records
from backline_tui.workbench import PaneFilter, Workbench
from tests import factories as F

WINDOWS = (None, "2026-09-01", "2026-10-05T13:30:00Z")
# a window from a Monday to a Thursday afternoon: whole weeks from the weekly rollups, the days of
# its last week from the daily ones and its last day live (the default window ends on the Monday
# the tests' clock stands at, so its weeks are all whole)
MIDWEEK = ("2026-09-07", "2026-11-19T15:00:00Z")


def assert_exact(wb: Workbench) -> None:
    assert rollups.differences(wb.replica.conn) == {}
    rolled = Insights(wb.replica, wb.config, wb.clock)
    full = Insights(wb.replica, wb.config, wb.clock, recompute=True)
    for since in WINDOWS:
        a, b = rolled.snapshot(since), full.snapshot(since)
        for section in ("drivers", "bugs", "gaps", "team"):
            assert getattr(a, section) == getattr(b, section), (since, section)
    w = rolled.window(MIDWEEK[0], until=F.parse_ts(MIDWEEK[1]))
    assert (rolled.drivers(w), rolled.gaps(w), rolled.team(w)) == (full.drivers(w), full.gaps(w), full.team(w))


def test_demo_generation_fills_the_rollups(wb):
    n = wb.replica.scalar("SELECT SUM(n) FROM ins_case_day")
    assert n == wb.replica.scalar("SELECT COUNT(*) FROM cases") == 300
    assert wb.replica.scalar("SELECT SUM(requests) FROM ins_hr_day") == wb.replica.scalar("SELECT COUNT(*) FROM help_requests")
    # the figures have something in them (an empty rollup would equal an empty recomputation too)
    snap = Insights(wb.replica, wb.config, wb.clock).snapshot()
    assert snap.drivers.total > 0 and snap.team.overall.requests > 0 and snap.gaps.answered > 0
    assert snap.team.overall.median_resolve is not None and snap.gaps.topics
    assert any(p.median_first_response is not None for p in snap.team.priorities)
    assert_exact(wb)


def test_demo_replace_wipes_and_refills(wb, config, now):
    wipe_records(wb.replica)
    assert wb.replica.scalar("SELECT COUNT(*) FROM ins_hr_time") == 0
    generate(wb.replica, config, now, cases=200, seed=3)
    assert wb.replica.scalar("SELECT SUM(n) FROM ins_case_day") == 200
    assert_exact(wb)


def test_every_action_keeps_the_rollups_exact(wb):
    unclaimed = [r["ref"] for r in wb.pane("help", PaneFilter(unclaimed=True), limit=10)]
    a, b, c = unclaimed[:3]
    wb.claim(a)
    wb.respond(a, "try the workaround")  # first response: responded, met or late, frt median
    assert_exact(wb)
    wb.resolve(a)  # answered, resolved, ttr median, an undocumented answer (gaps)
    assert_exact(wb)
    draft = wb.document(a)["ref"]  # KCS: an article, linked: documented, out of the gap subjects
    assert_exact(wb)
    wb.claim(b)
    wb.unclaim(b)
    wb.respond(c, "first answer")
    wb.note("help_request", c, "internal")
    kb = wb.replica.scalar("SELECT ref FROM articles WHERE state IN ('wip', 'not_validated') LIMIT 1")
    wb.flag(kb, "outdated")
    wb.validate(kb)
    stale = wb.pane("stale")[0]["ref"]
    wb.offer_help(stale)
    bug = wb.pane("bugs")[0]["ref"]
    wb.set_bug_priority(bug, "P1")
    wb.set_bug_target(bug, "2026-12-01")
    wb.link_case_bug(stale, bug)
    assert_exact(wb)
    # the article actions, on the article that documents `a` (its answers count as documented)
    wb.flag(draft, "typo")
    wb.unflag(draft)
    wb.edit_article(draft, "Workaround for the sync stall", "Restart the agent.")
    wb.mark_reviewed(draft)
    wb.archive(draft)
    assert_exact(wb)


def test_import_and_reimport_keep_the_rollups_exact(wb, tmp_path, config, clock):
    lines = [json.dumps(r) + "\n" for r in export_records(wb.replica)]
    fresh = Workbench.open(tmp_path / "fresh.db", config, clock)
    try:
        import_records(fresh.replica, config, lines)  # into an empty replica
        assert_exact(fresh)
        changed = []
        for line in lines:  # the same records again, some of them moved in every way a rollup sees
            r = json.loads(line)
            if r["type"] == "help_request" and r["ref"].endswith(("1", "5")):
                r |= {"priority": "P1", "status": "answered", "product": "Moved", "article_ref": None,
                      "first_response_at": None, "created_at": "2026-11-23T08:30:00Z"}
            if r["type"] == "case" and r["ref"].endswith("3"):
                r |= {"created_at": "2026-11-20T01:02:03Z", "version": "9.9", "component": "Other"}
            changed.append(json.dumps(r) + "\n")
        import_records(fresh.replica, config, changed)
        assert fresh.replica.scalar("SELECT COUNT(*) FROM help_requests WHERE product = 'Moved'") > 0
        assert_exact(fresh)
    finally:
        fresh.close()


def test_sync_pulls_keep_the_rollups_exact(tmp_path, clock):
    src = tmp_path / "upstream.jsonl"
    records = [
        F.case("S-C1", created_at="2026-11-02T10:00:00Z") | {"type": "case"},
        F.case("S-C2", created_at="2026-11-23T07:00:00Z", product="Gadget") | {"type": "case"},
        F.article("S-KB1", created_at="2026-11-03T00:00:00Z") | {"type": "article"},
    ] + [
        F.help_request(f"S-H{i}", created_at=f"2026-11-{10 + i:02d}T0{i}:00:00Z", updated_at="2026-11-22T00:00:00Z",
                       priority=f"P{1 + i % 4}", status=("answered", "resolved", "new")[i % 3], subject="Sync stalls",
                       first_response_at=f"2026-11-{10 + i:02d}T0{i}:{10 * i:02d}:00Z" if i % 3 != 2 else None,
                       resolved_at=f"2026-11-{12 + i:02d}T00:00:00Z" if i % 3 == 1 else None,
                       article_ref="S-KB1" if i == 4 else None) | {"type": "help_request"}
        for i in range(6)
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    config = Config(me="alice", sources=[SourceConfig(name="file", kind="jsonl", path=str(src))])
    wb = Workbench.open(tmp_path / "r.db", config, clock)
    try:
        assert wb.sync().pulled == len(records)
        assert wb.replica.scalar("SELECT SUM(n) FROM ins_hr_subject") > 0
        assert_exact(wb)
        # the upstream changes: an answer documented, a request moved to another day and priority, an article older
        records[3 + 4]["article_ref"] = None
        records[3 + 0] |= {"article_ref": "S-KB1", "updated_at": "2026-11-23T08:00:00Z"}
        records[3 + 1] |= {"created_at": "2026-11-23T06:00:00Z", "priority": "P1", "updated_at": "2026-11-23T08:00:00Z"}
        records[2] |= {"created_at": "2026-11-20T00:00:00Z", "updated_at": "2026-11-23T08:00:00Z"}
        src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        result = wb.sync()
        assert result.errors == [] and result.pulled > 0
        assert_exact(wb)
    finally:
        wb.close()


def test_deletes_renames_and_article_dates_keep_the_rollups_exact(wb):
    conn = wb.replica.conn
    documented = conn.execute("SELECT article_id FROM help_requests WHERE article_id IS NOT NULL LIMIT 1").fetchone()["article_id"]
    with wb.replica.transaction():
        # an article made later than the answers it holds, then earlier: "already documented" moves
        conn.execute("UPDATE articles SET created_at = '2026-11-23T08:59:00Z' WHERE id = ?", (documented,))
    assert_exact(wb)
    with wb.replica.transaction():
        conn.execute("UPDATE articles SET created_at = '2020-01-01T00:00:00Z' WHERE id = ?", (documented,))
    assert_exact(wb)
    with wb.replica.transaction():
        conn.execute("DELETE FROM articles WHERE id = ?", (documented,))  # its requests lose article_id (FK)
    assert_exact(wb)
    # one request of a (day, priority, product, component) group of two, both answered in time
    pair = [F.help_request(f"PAIR-{i}", created_at="2026-11-10T10:00:00Z", first_response_at="2026-11-10T10:05:00Z",
                           resolved_at="2026-11-11T10:00:00Z", status="resolved", priority="P2") for i in (1, 2)]
    F.load(wb.replica, wb.config, help_requests=pair)
    with wb.replica.transaction():
        conn.execute("DELETE FROM help_requests WHERE ref = 'PAIR-1'")
    assert_exact(wb)
    with wb.replica.transaction():
        conn.execute("DELETE FROM help_requests WHERE id IN (SELECT id FROM help_requests WHERE status = 'answered' LIMIT 3)")
        conn.execute("DELETE FROM cases WHERE id IN (SELECT id FROM cases ORDER BY created_at DESC LIMIT 5)")
        ref = conn.execute("SELECT ref FROM help_requests WHERE status IN ('answered','resolved') AND article_id IS NULL "
                           "ORDER BY ref DESC LIMIT 1").fetchone()["ref"]
        record_store.rename_record(conn, "help_request", ref, "ZZ-1", remote_id="1", remote_version="1", synced_at=None)
    assert_exact(wb)


def test_a_config_change_that_moves_every_ola_keeps_the_rollups_exact(wb):
    stricter = Config(me="alice", ola=OLAConfig(P1=5, P2=10, P3=20, P4=30))
    with wb.replica.transaction() as conn:
        refresh_derived(conn, stricter)
    wb.config = stricter
    assert_exact(wb)


def _steps_undone(path: Path, step: int, conn_first=None) -> None:
    """Make the database at `path` look as it was before schema step `step` (0-based): what that
    step and the later ones created is dropped (after `conn_first(conn)`, for what else it did)."""
    r = Replica(path)
    with r.transaction() as conn:
        if conn_first:
            conn_first(conn)
        for what, name in re.findall(r"CREATE\s+(TABLE|INDEX|TRIGGER)\s+(\w+)", "\n".join(schema.MIGRATIONS[step:])):
            conn.execute(f"DROP {what} IF EXISTS {name}")
        conn.execute(f"PRAGMA user_version = {step}")
    r.close()


def _migrated_exact(path: Path, config, clock, check) -> None:
    """Open (migrate) the database: `check(wb)` holds, and the rollups are exact, before and after
    a write (the new triggers work)."""
    wb = Workbench.open(path, config, clock)
    try:
        assert wb.replica.schema_version == schema.SCHEMA_VERSION
        check(wb)
        assert_exact(wb)
        wb.claim(wb.pane("help", PaneFilter(unclaimed=True), limit=1)[0]["ref"])
        assert_exact(wb)
    finally:
        wb.close()


def test_the_migration_fills_the_rollups_of_an_existing_database(demo_db: Path, config, clock):
    # the demo database as it was before the rollups' schema step: no rollups
    r = Replica(demo_db)
    assert {n["name"] for n in r.query("SELECT name FROM sqlite_master WHERE type = 'table'")} >= set(rollups.ROLLUP_TABLES)
    r.close()

    def outbox_columns(conn) -> None:
        conn.execute("ALTER TABLE outbox DROP COLUMN next_attempt_at")
        conn.execute("ALTER TABLE outbox DROP COLUMN failures")

    _steps_undone(demo_db, schema.MIGRATION_FILES.index(schema.ROLLUPS_STEP), outbox_columns)

    def check(wb) -> None:
        assert wb.replica.scalar("SELECT SUM(n) FROM ins_case_day") == 300

    _migrated_exact(demo_db, config, clock, check)


def test_the_weekly_step_sums_the_daily_rollups_of_an_existing_database(demo_db: Path, config, clock):
    # the demo database as it was before the weekly rollups: daily ones only
    _steps_undone(demo_db, schema.MIGRATION_FILES.index(schema.WEEKLY_ROLLUPS_STEP))

    def check(wb) -> None:
        assert wb.replica.scalar("SELECT SUM(n) FROM ins_case_week") == 300
        assert wb.replica.scalar("SELECT COUNT(*) FROM ins_hr_week") < wb.replica.scalar("SELECT COUNT(*) FROM ins_hr_day")

    _migrated_exact(demo_db, config, clock, check)


@pytest.mark.parametrize("until", ["2026-11-23T09:00:00Z", "2026-11-23T00:00:00Z"])
def test_a_window_of_today_only_is_equal(wb, until):
    ins = Insights(wb.replica, wb.config, wb.clock)
    w = ins.window("2026-11-23", until=F.parse_ts(until))
    full = Insights(wb.replica, wb.config, wb.clock, recompute=True)
    assert ins.drivers(w) == full.drivers(w) and ins.team(w) == full.team(w) and ins.gaps(w) == full.gaps(w)



@pytest.mark.parametrize("table", ["help_requests", "cases"])
def test_records_created_after_the_window_on_its_last_day_are_not_counted(wb, table):
    # the last day is read from the rollups only when nothing was created later on it: a window
    # that ends just before a record of its last day reads that day live
    since = "2026-09-07"  # a Monday: weeks, days and the live part
    row = wb.replica.query(f"SELECT created_at FROM {table} WHERE created_at > '2026-11-10T01:00:00Z' "
                           "AND created_at < '2026-11-23' AND substr(created_at, 12) > '01:00:00' ORDER BY created_at LIMIT 1")[0]
    until = F.parse_ts(row["created_at"]) - timedelta(seconds=1)
    ins, full = Insights(wb.replica, wb.config, wb.clock), Insights(wb.replica, wb.config, wb.clock, recompute=True)
    w = ins.window(since, until=until)
    if table == "cases":  # nothing else on that day after `until`: only the case tells
        wb.replica.conn.execute("DELETE FROM help_requests WHERE created_at > ? AND substr(created_at, 1, 10) = ?",
                                (w.until_ts, w.until_ts[:10]))
    assert ins.drivers(w) == full.drivers(w) and ins.team(w) == full.team(w) and ins.gaps(w) == full.gaps(w)
    assert ins.drivers(w).total == wb.replica.scalar(
        "SELECT COUNT(*) FROM cases WHERE created_at >= ? AND created_at <= ?", (w.since_ts, w.until_ts))
