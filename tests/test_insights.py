"""Insights figures against a small hand-made dataset whose right answers are worked out by hand
below (in the comments and literals), never with the code under test.

Window: since Monday 2026-11-02, until NOW (Monday 2026-11-23 09:00 UTC): weeks starting
11-02, 11-09, 11-16 and 11-23 (the last one 9 hours old).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.insights import Insights
from backline_tui.insights.topics import cluster
from backline_tui.storage import Replica
from backline_tui.workbench import Workbench
from tests import factories as F
from tests.factories import NOW

SINCE = "2026-11-02"


def C(ref, created, product="Widget", component="Editor", version="2.3", **kw):
    return F.case(ref, created_at=created, updated_at=created, last_activity_at=created, product=product,
                  component=component, version=version, **kw)


# 10 cases in the window; 2 outside it (before `since` and before the default 26 weeks; after now)
CASES = [
    C("C-E1", "2026-11-03T10:00:00Z"), C("C-E2", "2026-11-04T10:00:00Z"),  # week 0
    C("C-E3", "2026-11-10T10:00:00Z"), C("C-E4", "2026-11-11T10:00:00Z"),  # week 1
    C("C-E5", "2026-11-23T08:00:00Z"),  # week 3
    C("C-S1", "2026-11-17T10:00:00Z", component="Sync", version="3.0"),
    C("C-S2", "2026-11-17T11:00:00Z", component="Sync", version="3.0"),
    C("C-S3", "2026-11-18T10:00:00Z", component="Sync", version="3.0"),  # all week 2
    C("C-A1", "2026-11-12T10:00:00Z", product="Gadget", component="API"),  # week 1
    C("C-A2", "2026-11-16T00:00:00Z", product="Gadget", component="API"),  # week 2 (its first second)
    C("C-OLD", "2026-03-01T10:00:00Z"),
    C("C-FUTURE", "2026-11-24T10:00:00Z"),
]

# cases behind the bugs, created long before the window so they do not count as drivers
BUG_CASES = [
    F.case("B-1", created_at="2026-01-05T00:00:00Z", severity="S1", tier="enterprise", customer="Xco", status="open"),
    F.case("B-2", created_at="2026-01-05T00:00:00Z", severity="S3", tier="standard", customer="Yco", status="pending"),
    F.case("B-3", created_at="2026-01-05T00:00:00Z", severity="S1", tier="enterprise", customer="Zco", status="closed"),
    F.case("B-4", created_at="2026-01-05T00:00:00Z", severity="S4", tier="business", customer="Xco", status="open"),
]
BUGS = [
    # A: open cases S1×enterprise (8×3) + S3×standard (2×1) + 2 customers = 28 -> P2 (>=15), target created + 60 d
    F.bug("PROJ-A", title="Editor crashes", created_at=F.ago(days=100), updated_at=F.ago(days=100)),
    # B: S4×business (1×2) + 1 customer = 3 -> P4, target created + 120 d: far away
    F.bug("PROJ-B", title="Sync slow", created_at=F.ago(days=10), updated_at=F.ago(days=10)),
    # C: closed: not listed
    F.bug("PROJ-C", title="Fixed one", status="closed", created_at=F.ago(days=10), updated_at=F.ago(days=10)),
    # D: no cases, priority set to P1 by hand: target created + 30 d = 5 days from now: near
    F.bug("PROJ-D", title="Hand-picked", priority_override="P1", created_at=F.ago(days=25), updated_at=F.ago(days=25)),
]
LINKS = [("case_bug", "B-1", "PROJ-A"), ("case_bug", "B-2", "PROJ-A"), ("case_bug", "B-3", "PROJ-A"),
         ("case_bug", "B-4", "PROJ-B")]

ARTICLES = [
    F.article("KB-OLD", created_at="2026-10-01T00:00:00Z", updated_at="2026-10-01T00:00:00Z"),
    F.article("KB-NEW", created_at="2026-11-11T00:00:00Z", updated_at="2026-11-11T00:00:00Z"),
]


def H(ref, created, priority, asker, *, fr=None, res=None, status=None, article=None, product="Widget",
      component="Editor", subject=None):
    status = status or ("resolved" if res else "answered" if fr else "new")
    return F.help_request(ref, created_at=created, updated_at=created, priority=priority, asker=asker,
                          first_response_at=fr, resolved_at=res, status=status, article_ref=article,
                          product=product, component=component, subject=subject or f"Question {ref}",
                          owner="alice" if status != "new" else None)


HELP = [
    # week 0. H1: P1, first response after 600 s (OLA 30 min: met), resolved after 7200 s, documented
    #         in an article that already existed when ana asked
    H("H1", "2026-11-03T10:00:00Z", "P1", "ana", fr="2026-11-03T10:10:00Z", res="2026-11-03T12:00:00Z",
      article="KB-OLD", subject="Export fails with error 500 on save"),
    # H2: P1, first response after 3000 s (late), resolved after 86400 s, no article
    H("H2", "2026-11-03T11:00:00Z", "P1", "ana", fr="2026-11-03T11:50:00Z", res="2026-11-04T11:00:00Z",
      subject="Export fails with error 500 again"),
    # week 1. H3: P3 (OLA 8 h), 3600 s (met), resolved after 14400 s, documented in a new article
    H("H3", "2026-11-10T09:00:00Z", "P3", "ben", fr="2026-11-10T10:00:00Z", res="2026-11-10T13:00:00Z",
      article="KB-NEW", product="Widget", component="Sync", subject="Sync stuck at 99%"),
    # H4: P3, 7200 s (met), answered, not resolved, no article
    H("H4", "2026-11-10T12:00:00Z", "P3", "ben", fr="2026-11-10T14:00:00Z", subject="export fails with error 500!"),
    # week 2. H5: P3, never answered, due 17:00 on the 17th: breached by now
    H("H5", "2026-11-17T09:00:00Z", "P3", "ana", product="Gadget", component="API"),
    # H7: P3, 1800 s (met), resolved after 86400 s, no article
    H("H7", "2026-11-17T10:00:00Z", "P3", "cat", fr="2026-11-17T10:30:00Z", res="2026-11-18T10:00:00Z",
      product="Gadget", component="API", subject="How to rotate API keys"),
    # week 3. H6: P3, asked an hour ago, due at 16:00: neither met nor breached yet
    H("H6", "2026-11-23T08:00:00Z", "P3", "cat", product="Gadget", component="API"),
    # before the window: counts nowhere
    H("H-OLD", "2026-03-15T09:00:00Z", "P1", "dan", fr="2026-03-15T12:00:00Z", res="2026-03-16T09:00:00Z"),
]


@pytest.fixture
def hand(tmp_path):
    r = Replica(tmp_path / "hand.db")
    F.load(r, Config(me="alice"), cases=CASES + BUG_CASES, bugs=BUGS, articles=ARTICLES, help_requests=HELP,
           links=LINKS)
    r.close()
    return tmp_path / "hand.db"


@pytest.fixture
def hwb(hand):
    w = Workbench.open(hand, Config(me="alice"), Clock(NOW))
    yield w
    w.close()


@pytest.fixture
def ins(hwb) -> Insights:
    return hwb.insights()


def test_the_window_is_cut_into_weeks_from_since(ins):
    w = ins.window(SINCE)
    assert [d.isoformat() for d in w.weeks] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    # by default: 26 calendar weeks, the last one this (Monday 2026-11-23's) week
    d = ins.window()
    assert d.weeks[0].isoformat() == "2026-06-01" and d.weeks[-1].isoformat() == "2026-11-23"
    assert len(d.weeks) == 26
    with pytest.raises(ValueError, match="not a date"):
        ins.window("last tuesday")


def test_drivers_pareto_by_component_product_and_version(ins):
    d = ins.drivers(ins.window(SINCE))
    assert d.total == 10
    comp = [(x.product, x.component, x.cases, round(x.share, 3), round(x.cumulative, 3)) for x in d.pareto["component"]]
    assert comp == [("Widget", "Editor", 5, 0.5, 0.5), ("Widget", "Sync", 3, 0.3, 0.8), ("Gadget", "API", 2, 0.2, 1.0)]
    assert d.vital_few("component") == 2  # Editor and Sync make 80%
    assert [(x.product, x.cases) for x in d.pareto["product"]] == [("Widget", 8), ("Gadget", 2)]
    assert [(x.product, x.version, x.cases) for x in d.pareto["version"]] == [
        ("Widget", "2.3", 5), ("Widget", "3.0", 3), ("Gadget", "2.3", 2)]


def test_weekly_trend_per_product(ins):
    d = ins.drivers(ins.window(SINCE))
    assert d.trend == {"Widget": [2, 2, 3, 1], "Gadget": [0, 1, 1, 0]}


def test_the_cases_behind_a_driver_newest_first(ins):
    w = ins.window(SINCE)
    rows, total = ins.cases("Widget", "Editor", None, w)
    assert total == 5
    assert [r["ref"] for r in rows] == ["C-E5", "C-E4", "C-E3", "C-E2", "C-E1"]
    rows, total = ins.cases("Widget", None, "3.0", w, limit=2)
    assert total == 3 and [r["ref"] for r in rows] == ["C-S3", "C-S2"]


def test_bugs_by_impact_with_counts_priority_and_overdue_targets(ins):
    bugs = ins.bugs()
    assert [b.ref for b in bugs] == ["PROJ-A", "PROJ-B", "PROJ-D"]  # closed PROJ-C is not there
    a, b, d = bugs
    assert (a.impact_score, a.open_cases, a.linked_cases, a.customers) == (28, 2, 3, 2)
    assert a.priority == "P2" and a.target[:10] == "2026-10-14" and a.target_state == "overdue" and a.overdue
    assert (b.impact_score, b.open_cases, b.linked_cases, b.customers, b.priority) == (3, 1, 1, 1, "P4")
    assert b.target_state == "" and not b.overdue
    assert d.priority == "P1" and d.priority_overridden and d.target_state == "near"


def test_knowledge_gaps_by_product_and_component(ins):
    g = ins.gaps(ins.window(SINCE))
    got = [(x.product, x.component, x.answered, x.undocumented) for x in g.by_component]
    # Editor: H1 (documented), H2, H4; API: H7 (H5 and H6 are not answered); Sync: H3 (documented)
    assert got == [("Widget", "Editor", 3, 2), ("Gadget", "API", 1, 1), ("Widget", "Sync", 1, 0)]
    assert (g.answered, g.undocumented) == (5, 3)


def test_most_asked_undocumented_topics_group_similar_subjects(ins):
    topics = ins.gaps(ins.window(SINCE)).topics
    # H2 and H4 say the same thing in other words; H7 is its own topic; H1 has an article
    assert [(t.product, t.component, t.requests, t.phrasings, sorted(t.refs)) for t in topics] == [
        ("Widget", "Editor", 2, 2, ["H2", "H4"]),
        ("Gadget", "API", 1, 1, ["H7"]),
    ]


def test_topics_never_merge_across_products_and_keep_distinct_subjects_apart():
    rows = [
        {"subject": "Export fails with error 500", "n": 4, "product": "Widget", "component": "Export", "ref": "R1"},
        {"subject": "Export fails with error 500", "n": 3, "product": "Gadget", "component": "Export", "ref": "R2"},
        {"subject": "export fails: error 500", "n": 2, "product": "Widget", "component": "Export", "ref": "R3"},
        {"subject": "License key rejected after renewal", "n": 1, "product": "Widget", "component": "Export", "ref": "R4"},
    ]
    got = [(t.label, t.product, t.requests, t.phrasings) for t in cluster(rows)]
    assert got == [
        ("Export fails with error 500", "Widget", 6, 2),
        ("Export fails with error 500", "Gadget", 3, 1),
        ("License key rejected after renewal", "Widget", 1, 1),
    ]


def test_team_numbers_overall_and_by_priority(ins):
    t = ins.team(ins.window(SINCE))
    o = t.overall
    assert (o.requests, o.responded, o.met, o.breached, o.resolved, o.answered, o.documented) == (7, 5, 4, 2, 4, 5, 2)
    assert o.ola_met_rate == pytest.approx(4 / 6)
    assert o.document_rate == pytest.approx(2 / 5)
    # time to resolve: 7200, 14400, 86400, 86400 -> mean of the middle two
    assert o.median_resolve == pytest.approx((14400 + 86400) / 2)
    p1, p2, p3, p4 = t.priorities
    assert (p1.label, p1.ola_minutes, p1.requests, p1.met, p1.breached) == ("P1", 30, 2, 1, 1)
    assert p1.median_first_response == pytest.approx((600 + 3000) / 2)
    assert p1.median_vs_ola == pytest.approx(1800 / 1800)
    assert (p3.requests, p3.met, p3.breached) == (5, 3, 1)
    assert p3.median_first_response == pytest.approx(3600)  # 1800, 3600, 7200
    assert p2.requests == 0 and p2.median_first_response is None and p2.ola_met_rate is None


def test_team_numbers_per_week(ins):
    t = ins.team(ins.window(SINCE))
    got = [(w.label, w.requests, w.median_first_response, w.median_resolve, w.met, w.breached, w.answered, w.documented)
           for w in t.weeks]
    assert got == [
        ("2026-11-02", 2, 1800, 46800, 1, 1, 2, 1),  # frt 600/3000, ttr 7200/86400
        ("2026-11-09", 2, 5400, 14400, 2, 0, 2, 1),  # frt 3600/7200, ttr 14400
        ("2026-11-16", 2, 1800, 86400, 1, 1, 1, 0),  # H7 1800 s; H5 unanswered past due
        ("2026-11-23", 1, None, None, 0, 0, 0, 0),   # H6 still within its OLA
    ]
    assert t.weeks[3].ola_met_rate is None and t.weeks[3].document_rate is None


def test_requests_per_asker(ins):
    t = ins.team(ins.window(SINCE))
    weeks = (21 * 86400 + 9 * 3600) / (7 * 86400)
    got = [(a.asker, a.requests, a.already_documented, a.products) for a in t.askers]
    # only H1 was answered with an article older than the question (KB-NEW came after H3)
    assert got == [("ana", 3, 1, 2), ("ben", 2, 0, 1), ("cat", 2, 0, 1)]
    assert t.askers[0].per_week == pytest.approx(3 / weeks)


def test_an_empty_replica_gives_zeros_not_errors(empty_wb):
    s = empty_wb.insights().snapshot()
    assert s.drivers.total == 0 and s.drivers.pareto["component"] == [] and s.bugs == []
    assert s.team.overall.requests == 0 and s.team.overall.median_resolve is None
    assert s.gaps.topics == []


# -- the report command ---------------------------------------------------------------------------


def run_cli(*args):
    env = dict(os.environ, BACKLINE_NOW="2026-11-23T09:00:00Z")
    return subprocess.run([sys.executable, "-m", "backline_tui", *args], capture_output=True, text=True, env=env,
                          timeout=120)


HOSTILE_PRODUCT = "Wid|get\x1b]0;pwned\x07"
HOSTILE_SUBJECT = "[click](javascript:alert(1)) <b>x</b>\n# not a heading | `code`"


@pytest.fixture
def hostile_db(hand):
    r = Replica(hand)
    F.load(r, Config(me="alice"), cases=[C("C-H1", "2026-11-20T10:00:00Z", product=HOSTILE_PRODUCT, component="=cmd|' /C calc'!A0")],
           help_requests=[H("H-H1", "2026-11-20T10:00:00Z", "P3", "=HYPERLINK(\"http://evil\")", fr="2026-11-20T10:05:00Z",
                            product=HOSTILE_PRODUCT, component="Core", subject=HOSTILE_SUBJECT)])
    r.close()
    return hand


def test_report_markdown_has_the_figures(hand):
    p = run_cli("--db", str(hand), "report", "--since", SINCE)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "**10 cases** opened; 2 of 3 product/component drivers make 80% of them." in out
    assert "| 1 | Widget | Editor | 5 | 50% | 50% |" in out
    assert "| 2026-11-16 | 3 | 1 | 4 |" in out  # weekly cases: Widget 3, Gadget 1
    assert "| PROJ-A | Editor crashes | Widget | Editor | 28 | 2 | 3 | 2 | P2 | 2026-10-14 **OVERDUE** |" in out
    assert "| P1 | 30m | 2 | 30m | 50% | 50% |" in out  # median first response 1800 s, 1 of 2 in OLA
    assert "| 2026-11-09 | 2 | 1h30m | 100% | 4h00m | 50% |" in out
    assert "| ana | 3 | 1.0 | 1 | 2 |" in out


def test_report_markdown_neutralises_hostile_text(hostile_db):
    p = run_cli("--db", str(hostile_db), "report", "--since", SINCE)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "Wid\\|get" in out  # the pipe cannot split a table cell
    assert "\\[click\\](javascript:alert(1)) \\<b\\>x\\</b\\> \\# not a heading \\| \\`code\\`" in out
    # every table row still has the same number of cells as its header
    for block in out.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("| ")]
        if rows:
            widths = {len(line.replace("\\|", "").split("|")) for line in rows}
            assert len(widths) == 1, block


def test_report_csv_is_one_tidy_table(hostile_db):
    p = run_cli("--db", str(hostile_db), "report", "--format", "csv", "--since", SINCE)
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert set(rows[0]) == {"section", "week", "product", "component", "version", "item", "metric", "value"}

    def value(section, metric, **kw):
        hits = [r["value"] for r in rows if r["section"] == section and r["metric"] == metric
                and all(r[k] == v for k, v in kw.items())]
        assert len(hits) == 1, (section, metric, kw, hits)
        return hits[0]

    assert value("drivers_by_component", "cases", product="Widget", component="Editor") == "5"
    assert value("weekly_cases", "cases", product="Gadget", week="2026-11-09") == "1"
    assert value("bugs", "impact_score", item="PROJ-A") == "28"
    # P3 first responses: 300 (the hostile request), 1800, 3600, 7200 s
    assert value("team_by_priority", "median_first_response_s", item="P3") == "2700.0"
    assert "\x1b" not in p.stdout
    # a cell a spreadsheet would run as a formula is defused
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values())
    assert any(r["item"].startswith("'=HYPERLINK") for r in rows if r["section"] == "askers")


def test_report_refuses_a_bad_date_and_a_missing_database(hand, tmp_path):
    p = run_cli("--db", str(hand), "report", "--since", "yesterday")
    assert p.returncode == 1 and p.stderr.strip() == "backline: --since 'yesterday' is not a date (YYYY-MM-DD)"
    p = run_cli("--db", str(hand), "report", "--since", "2027-01-01")
    assert p.returncode == 1 and p.stderr.strip() == "backline: the start date 2027-01-01 is after now (2026-11-23)"
    p = run_cli("--db", str(tmp_path / "none.db"), "report")
    assert p.returncode == 1 and "no database at" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "none.db").exists()


def test_reading_help_requests_by_full_scan_gives_the_same_figures(ins, monkeypatch):
    """A wide window is read as one table scan instead of index lookups: same answers."""
    from backline_tui.insights import queries

    w = ins.window(SINCE)
    via_index = (ins.team(w), ins.gaps(w))
    monkeypatch.setattr(queries, "SCAN_MIN_ROWS", 0)
    assert queries._help_scan(ins.replica.conn, w.since_ts, w.until_ts) == "NOT INDEXED"
    assert (ins.team(w), ins.gaps(w)) == via_index


def test_sections_computed_side_by_side_equal_those_computed_in_turn(hand):
    from backline_tui.insights.report import render

    r = Replica(hand)
    ins = Insights(r, Config(me="alice"), Clock(NOW))
    try:
        for fmt in ("md", "csv"):
            assert render(ins.snapshot(SINCE, workers=3), fmt) == render(ins.snapshot(SINCE), fmt)
    finally:
        r.close()
