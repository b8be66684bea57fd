"""The fast paths behind the benchmarks (bench/) give the answers the plain ones gave: the stale
and KB panes merged from per-stream index walks, search ranking a bounded window, references
resolved in batches, covering indexes, and a demo that is the same in every process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from backline_tui.clock import parse_ts
from backline_tui.config import SEVERITIES
from backline_tui.storage import Replica
from backline_tui.storage import panes as pane_queries
from backline_tui.storage import records as record_store
from backline_tui.storage import search
from backline_tui.storage.records import RecordError
from backline_tui.workbench import Workbench

from tests import factories as F

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wb(tmp_path_factory):
    """A demo of 3,000 cases: every pane has a few pages and every KB reason shows."""
    from backline_tui.clock import Clock
    from backline_tui.config import Config
    from backline_tui.sync.demo import generate

    path = tmp_path_factory.mktemp("fast") / "demo.db"
    r = Replica(path)
    generate(r, Config(me="alice"), F.NOW, cases=3000, seed=2)
    r.close()
    w = Workbench.open(path, Config(me="alice"), Clock(F.NOW))
    yield w
    w.close()
FILTERS = [pane_queries.PaneFilter(), pane_queries.PaneFilter(text="a"), pane_queries.PaneFilter(text="timeout"), pane_queries.PaneFilter(mine=True),
           pane_queries.PaneFilter(unclaimed=True), pane_queries.PaneFilter(product="Widget")]


def _stale_oracle(wb: Workbench, f: pane_queries.PaneFilter) -> list[str]:
    """Every stale case by the rules, sorted in Python: what the pane must show, in order."""
    now = wb.now()
    # substring semantics (no filter table): the same rows as word prefixes for these filters
    extra, params = pane_queries._filters(f, wb.me, "owner", pane_queries.CASE_TEXT)
    rows = wb.replica.query(f"SELECT * FROM cases WHERE status IN ('open','pending','on_hold'){extra}", params)
    stale = []
    for r in rows:
        idle = (now - parse_ts(r["last_activity_at"])).total_seconds()
        threshold = wb.config.stale.days(r["severity"]) * 86400
        waiting = r["last_customer_update_at"] is not None and r["last_customer_update_at"] > r["last_activity_at"]
        if idle >= threshold or r["reopen_count"] >= wb.config.stale.reopen_threshold or waiting:
            stale.append((-max(idle, 0) / threshold, r["id"], r["ref"]))
    return [ref for *_, ref in sorted(stale)]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.describe())
def test_stale_pane_pages_are_slices_of_the_full_ranking(wb, f):
    expected = _stale_oracle(wb, f)
    assert wb.pane_count("stale", f) == len(expected)
    for offset, limit in ((0, 200), (0, 7), (5, 11), (len(expected) - 3, 10)):
        offset = max(offset, 0)
        rows = wb.pane("stale", f, offset=offset, limit=limit)
        assert [r["ref"] for r in rows] == expected[offset : offset + limit]
    if f == pane_queries.PaneFilter():
        assert len(expected) > 20  # the demo has a real stale pane to page through


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.describe())
def test_kb_pane_streams_give_the_single_sorted_query(wb, f):
    conn, now = wb.replica.conn, wb.now()
    where, params = pane_queries._kb_where(f, wb.me, wb.config, now)
    full = conn.execute(f"SELECT {pane_queries.ARTICLE_COLS} FROM articles WHERE {where} ORDER BY {pane_queries.KB_ORDER}", params).fetchall()
    assert wb.pane_count("kb", f) == len(full)
    for offset, limit in ((0, 200), (0, 5), (3, 9), (max(len(full) - 2, 0), 10)):
        got = pane_queries.kb_review(conn, f, wb.me, wb.config, now, offset, limit)
        assert got == full[offset : offset + limit]
    reasons = {r.split(" ×")[0] for row in wb.pane("kb", limit=500) for r in row["reasons"]}
    if f == pane_queries.PaneFilter():
        assert reasons >= {"flagged", "review overdue", "awaiting validation", "archive candidate"}


def test_pane_pages_and_counts_read_only_the_covering_indexes(wb):
    """The help queue and stale cases, filtered or not, never read the big tables."""
    conn, now = wb.replica.conn, wb.now()
    f = pane_queries.PaneFilter(text="timeout")
    extra, params = pane_queries._filters(f, wb.me, "owner", pane_queries.HELP_TEXT, "help_requests_filter")
    plans = [(f"SELECT {pane_queries.HELP_COLS} FROM help_requests WHERE {pane_queries.OPEN_HELP}{extra} ORDER BY {pane_queries.HELP_ORDER} LIMIT 200", params)]
    for sev in SEVERITIES:
        where, params = pane_queries._stale_where(f, wb.me, wb.config, now, sev)
        plans.append((f"SELECT {pane_queries.CASE_COLS} FROM cases WHERE {where} ORDER BY last_activity_at, id LIMIT 200", params))
        plans.append((f"SELECT COUNT(*) FROM cases WHERE {where}", params))
    for sql, params in plans:
        detail = " ".join(r["detail"] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "COVERING INDEX" in detail and "TEMP B-TREE" not in detail, (sql, detail)


def _cases(n: int, word_in_subject: str | None = None) -> list[dict]:
    rows = [F.case(f"C-{i:03d}", subject=f"Case {i}", body=f"mentions zebra once, case {i}") for i in range(n)]
    if word_in_subject:
        rows.append(F.case("C-best", subject=f"{word_in_subject} {word_in_subject} everywhere", body=word_in_subject))
    return rows


def test_search_ranks_the_best_of_the_newest_matches(replica, config, now):
    F.load(replica, config, cases=_cases(40, "zebra"))
    conn = replica.conn
    hits = search.search(conn, "zebra", limit=10)
    assert len(hits) == 10 and hits[0]["ref"] == "C-best"  # within the window, rank decides
    # a window of the 5 newest matches: only those are ranked (C-best is the newest row)
    small = search.search(conn, "zebra", limit=10, window=5)
    assert [h["ref"] for h in small][0] == "C-best"
    assert {h["ref"] for h in small} == {"C-best", "C-039", "C-038", "C-037", "C-036"}


def test_search_prefix_matching_starts_at_three_letters(replica, config, now):
    F.load(replica, config, cases=[F.case("C-1", subject="Zebra stripes vanish")])
    conn = replica.conn
    assert search.search(conn, "ze") == []  # a two-letter prefix would expand to most of the vocabulary
    assert [h["ref"] for h in search.search(conn, "zeb")] == ["C-1"]
    assert [h["ref"] for h in search.search(conn, "stripes ze")] == []
    assert [h["ref"] for h in search.search(conn, "stripes zeb")] == ["C-1"]


def test_batched_reference_checks_name_the_first_bad_record_and_write_nothing(replica, config):
    F.load(replica, config, cases=[F.case("C-1")], articles=[F.article("KB-1")])
    rows = [F.help_request("H-1", case_ref="C-1"), F.help_request("H-2", case_ref="C-404"),
            F.help_request("H-3", article_ref="KB-404")]
    with pytest.raises(RecordError, match="help request H-2 links case C-404"):
        with replica.transaction() as conn:
            record_store.upsert_help_requests(conn, rows, config)
    assert replica.scalar("SELECT COUNT(*) FROM help_requests") == 0
    with pytest.raises(RecordError, match="help request H-3 links article KB-404"):
        with replica.transaction() as conn:
            record_store.upsert_help_requests(conn, [rows[0], rows[2]], config)
    with replica.transaction() as conn:
        record_store.upsert_help_requests(conn, [rows[0], F.help_request("H-4", article_ref="KB-1")], config)
    got = {r["ref"]: r for r in replica.query(
        "SELECT h.ref, c.ref AS case_ref, a.ref AS article_ref FROM help_requests h "
        "LEFT JOIN cases c ON c.id = h.case_id LEFT JOIN articles a ON a.id = h.article_id")}
    assert (got["H-1"]["case_ref"], got["H-4"]["article_ref"]) == ("C-1", "KB-1")
    msgs = [{"ref": "H-1/m1", "parent_type": "help_request", "parent_ref": "H-1", "author": "alice", "body": "hi",
             "created_at": F.ago(hours=1)},
            {"ref": "X/m1", "parent_type": "case", "parent_ref": "C-404", "author": "bob", "body": "?",
             "created_at": F.ago(hours=1)}]
    with pytest.raises(RecordError, match="message X/m1 belongs to case C-404"):
        with replica.transaction() as conn:
            record_store.upsert_messages(conn, msgs)
    with replica.transaction() as conn:
        record_store.upsert_messages(conn, msgs[:1])
    assert replica.scalar("SELECT COUNT(*) FROM messages") == 1


_DIGEST = """
import hashlib, sys
from backline_tui.clock import parse_ts
from backline_tui.config import Config
from backline_tui.storage import Replica
from backline_tui.sync.demo import generate
r = Replica(sys.argv[1])
generate(r, Config(me="alice"), parse_ts("2026-11-23T09:00:00Z"), cases=400, seed=5)
h = hashlib.sha256()
for t in ("cases", "help_requests", "bugs", "articles", "messages", "case_bugs", "article_links", "article_flags"):
    for row in r.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2"):
        h.update(repr(sorted(row.items())).encode())
print(h.hexdigest())
print(r.scalar("PRAGMA journal_mode"))
"""


def test_demo_is_the_same_in_every_process_and_stays_in_wal_mode(tmp_path):
    """Python salts string hashes per process: the demo must not depend on set order."""
    out = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        p = subprocess.run([sys.executable, "-c", _DIGEST, str(tmp_path / f"d{seed}.db")], env=env, cwd=ROOT,
                           capture_output=True, text=True, check=True)
        out.append(p.stdout.split())
    assert out[0] == out[1]
    assert out[0][1] == "wal"
    assert sqlite3.connect(tmp_path / "d1.db").execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_pane_counts_follow_every_change_to_the_database(tmp_path, config, now):
    """Counts are remembered between changes; any write, here or by another process, shows."""
    from backline_tui.clock import Clock

    path = tmp_path / "c.db"
    r = Replica(path)
    F.load(r, config, help_requests=[F.help_request(f"H-{i}") for i in range(5)],
           cases=[F.case("C-1", severity="S1", last_activity_at=F.ago(days=3))])
    wb = Workbench(r, config, Clock(now))
    assert (wb.pane_count("help"), wb.pane_count("stale")) == (5, 1)
    assert wb.pane_count("help", pane_queries.PaneFilter(text="question")) == 5
    wb.claim("H-1")
    wb.resolve("H-1")  # this connection's own write
    assert wb.pane_count("help") == 4
    assert wb.pane_count("help", pane_queries.PaneFilter(text="question")) == 4
    other = Replica(path)  # another connection, as a sync in another process would be
    F.load(other, config, help_requests=[F.help_request("H-new")],
           cases=[F.case("C-2", severity="S1", last_activity_at=F.ago(days=5))])
    assert (wb.pane_count("help"), wb.pane_count("stale")) == (5, 2)
    with pytest.raises(RuntimeError):
        with other.transaction() as conn:
            conn.execute("DELETE FROM help_requests")
            raise RuntimeError("rolled back")
    assert wb.pane_count("help") == 5
    with other.transaction() as conn:
        conn.execute("UPDATE cases SET status = 'closed' WHERE ref = 'C-2'")
    assert wb.counts()["stale"] == 1
    other.close()
    wb.close()
