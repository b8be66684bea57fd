"""Demo data: deterministic, relative to now, and something true in every pane."""

import hashlib

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.storage import Replica
from backline_tui.sync.demo import generate
from backline_tui.workbench import Workbench

from tests.factories import NOW, parse_ts


def _digest(path):
    r = Replica(path)
    h = hashlib.sha256()
    for table in ("cases", "help_requests", "bugs", "articles", "messages", "case_bugs", "article_links", "article_flags"):
        for row in r.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
            h.update(repr(sorted(row.items())).encode())
    r.close()
    return h.hexdigest()


def _make(path, seed=1, now=NOW, cases=400):
    r = Replica(path)
    stats = generate(r, Config(me="alice"), now, cases=cases, seed=seed)
    r.close()
    return stats


def test_same_seed_and_now_give_the_same_data(tmp_path):
    _make(tmp_path / "a.db")
    _make(tmp_path / "b.db")
    _make(tmp_path / "c.db", seed=2)
    assert _digest(tmp_path / "a.db") == _digest(tmp_path / "b.db")
    assert _digest(tmp_path / "a.db") != _digest(tmp_path / "c.db")


def test_demo_is_laid_out_relative_to_now(tmp_path):
    later = parse_ts("2027-06-01T12:00:00Z")
    _make(tmp_path / "a.db", now=NOW)
    _make(tmp_path / "b.db", now=later)
    for path, now in ((tmp_path / "a.db", NOW), (tmp_path / "b.db", later)):
        wb = Workbench.open(path, Config(me="alice"), Clock(now))
        help_rows = wb.pane("help")
        assert any(r["breached"] for r in help_rows) and any(not r["breached"] for r in help_rows if r["breach_seconds"])
        assert wb.pane("stale")[0]["ratio"] >= 1
        wb.close()


def test_every_pane_has_something_true_to_show(tmp_path):
    stats = _make(tmp_path / "a.db", cases=2000)
    assert (stats.cases, stats.help_requests, stats.bugs, stats.articles) == (2000, 400, 20, 40)
    wb = Workbench.open(tmp_path / "a.db", Config(me="alice"), Clock(NOW))
    counts = wb.counts()
    assert all(n > 0 for n in counts.values()), counts
    assert wb.pane("help", wb_filter(mine=True)), "some requests are mine"
    reasons = {reason.split(" ×")[0] for row in wb.pane("kb", limit=500) for reason in row["reasons"]}
    assert reasons >= {"flagged", "review overdue", "awaiting validation", "archive candidate"}
    states = {r["state"] for r in wb.replica.query("SELECT DISTINCT state FROM articles")}
    assert states == {"wip", "not_validated", "validated", "archived"}
    tiers = {r["tier"] for r in wb.replica.query("SELECT DISTINCT tier FROM cases")}
    assert tiers == {"enterprise", "business", "standard"}
    bugs = wb.pane("bugs")
    assert bugs[0]["impact_score"] > 0 and bugs[0]["case_count"] > 0
    stale = wb.pane("stale", limit=500)
    assert any("reopened" in " ".join(r["reasons"]) for r in stale)
    assert any("customer waiting" in r["reasons"] for r in stale)
    hr = wb.help_request(wb.pane("help")[0]["ref"])
    assert hr["subject"] and hr["asker"]
    assert wb.search("timeout")
    wb.close()


def wb_filter(**kw):
    from backline_tui.workbench import PaneFilter

    return PaneFilter(**kw)


def test_zero_cases_still_makes_a_valid_database(tmp_path):
    stats = _make(tmp_path / "a.db", cases=0)
    assert stats.cases == 0
    assert Replica(tmp_path / "a.db").integrity_ok()
