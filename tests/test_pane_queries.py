"""Pane filters and counts as a user meets them: what a filter word matches (word prefix, ref,
product, short words as substrings), the filter index following every change of a record, the
stale count against a brute-force count over cases on the cutoff boundaries, ties paged in a
stable order, and global search putting title hits first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backline_tui.clock import Clock, parse_ts, to_ts
from backline_tui.config import Config
from backline_tui.storage import panes as pane_queries
from backline_tui.storage import search
from backline_tui.storage.filters import FILTER_WORD_MIN
from backline_tui.workbench import Workbench

from tests import factories as F


def _wb(replica, config, now) -> Workbench:
    return Workbench(replica, config, Clock(now))


def _refs(wb: Workbench, pane: str, text: str, **kw) -> list[str]:
    return sorted(r["ref"] for r in wb.pane(pane, pane_queries.PaneFilter(text=text, **kw), limit=500))


@pytest.fixture
def filtered(replica, config, now):
    F.load(replica, config,
           help_requests=[
               F.help_request("HELP-12", subject="Timeout when exporting", asker="fl.ben", product="Gadget"),
               F.help_request("HELP-123", subject="Login loop", asker="fl.ana", component="Auth"),
               F.help_request("HELP-2", subject="Café menu broken", product="Widget"),
               F.help_request("HELP-9", subject="Timeout again", status="resolved"),
           ],
           cases=[
               F.case("CASE-12", severity="S1", subject="Sync timeout on save", last_activity_at=F.ago(days=5)),
               F.case("CASE-123", severity="S1", subject="Crash", customer="Initech", last_activity_at=F.ago(days=5)),
               F.case("CASE-7", severity="S1", subject="Timeouts", status="closed", last_activity_at=F.ago(days=5)),
           ],
           bugs=[F.bug("PROJ-12", title="Export timeout"), F.bug("PROJ-13", title="Leak", status="closed")],
           articles=[F.article("KB-12", title="Timeouts behind a proxy", review_due_at=F.ago(days=1)),
                     F.article("KB-13", title="Timeout", state="archived")])
    return _wb(replica, config, now)


def test_filter_words_match_word_prefixes_refs_and_products(filtered):
    wb = filtered
    assert _refs(wb, "help", "timeout") == ["HELP-12"]  # resolved HELP-9 is not in the pane
    assert _refs(wb, "help", "TIME") == ["HELP-12"]  # a word prefix, any case
    assert _refs(wb, "help", "meout") == []  # not the middle of a word
    assert _refs(wb, "help", "HELP-12") == ["HELP-12", "HELP-123"]  # a ref, exactly or by prefix
    assert _refs(wb, "help", "help-123") == ["HELP-123"]
    assert _refs(wb, "help", "gadget") == ["HELP-12"]  # product
    assert _refs(wb, "help", "auth") == ["HELP-123"]  # component
    assert _refs(wb, "help", "fl.ana") == ["HELP-123"]  # asker
    assert _refs(wb, "help", "cafe") == ["HELP-2"]  # accents ignored
    assert _refs(wb, "help", "timeout gadget") == ["HELP-12"]  # every word, in any column
    assert _refs(wb, "help", "timeout widget") == []
    assert _refs(wb, "help", "oo") == ["HELP-123"]  # a short word is a substring ("Login loop")
    assert _refs(wb, "help", 'tim"eout') == []  # quotes cannot break the query
    assert _refs(wb, "stale", "timeout") == ["CASE-12"]  # closed CASE-7 is not in the pane
    assert _refs(wb, "stale", "initech") == ["CASE-123"]  # customer
    assert _refs(wb, "stale", "CASE-12") == ["CASE-12", "CASE-123"]
    assert _refs(wb, "bugs", "timeout") == ["PROJ-12"]
    assert _refs(wb, "bugs", "proj-13") == []  # closed
    assert _refs(wb, "kb", "timeout") == ["KB-12"]  # archived KB-13 is not in the pane
    for pane, text in (("help", "timeout"), ("stale", "timeout"), ("bugs", "timeout"), ("kb", "timeout"),
                       ("help", "oo"), ("stale", "CASE-12")):
        assert wb.pane_count(pane, pane_queries.PaneFilter(text=text)) == len(_refs(wb, pane, text))


def test_filter_index_follows_status_and_text_changes(filtered):
    wb = filtered
    wb.claim("HELP-12")
    assert _refs(wb, "help", "timeout", mine=True) == ["HELP-12"]
    wb.resolve("HELP-12")
    assert _refs(wb, "help", "timeout") == []
    assert wb.pane_count("help", pane_queries.PaneFilter(text="timeout")) == 0
    with wb.replica.transaction() as conn:
        conn.execute("UPDATE cases SET status = 'open' WHERE ref = 'CASE-7'")  # reopened
        conn.execute("UPDATE cases SET subject = 'Disk full' WHERE ref = 'CASE-12'")  # edited
        conn.execute("DELETE FROM bugs WHERE ref = 'PROJ-12'")
    assert _refs(wb, "stale", "timeout") == ["CASE-7"]
    assert _refs(wb, "stale", "disk") == ["CASE-12"]
    assert wb.pane_count("stale", pane_queries.PaneFilter(text="timeout")) == 1
    assert _refs(wb, "bugs", "timeout") == []
    with wb.replica.transaction() as conn:  # the filter tables of cases are split by severity
        conn.execute("UPDATE cases SET severity = 'S2' WHERE ref = 'CASE-123'")
    assert _refs(wb, "stale", "initech") == ["CASE-123"]
    assert wb.pane_count("stale", pane_queries.PaneFilter(text="initech")) == 1
    assert [r["severity"] for r in wb.pane("stale", pane_queries.PaneFilter(text="initech"))] == ["S2"]
    wb.archive("KB-12")
    assert _refs(wb, "kb", "timeout") == []


def _words_match(text: str, values: list[str]) -> bool:
    """The documented filter semantics, in Python."""
    toks = [t for v in values for t in search._tokens(v or "")]
    for w in text.split():
        if sum(ch.isalnum() for ch in w) >= FILTER_WORD_MIN:
            want = search._tokens(w)
            k = len(want)
            if not any(toks[i : i + k - 1] == want[:-1] and toks[i + k - 1].startswith(want[-1])
                       for i in range(len(toks) - k + 1)):
                return False
        elif not any(w.lower() in (v or "").lower() for v in values):
            return False
    return True


def _stale_brute(wb: Workbench, f: pane_queries.PaneFilter) -> list[str]:
    now = wb.now()
    stale = []
    for r in wb.replica.query("SELECT * FROM cases WHERE status IN ('open','pending','on_hold')"):
        if f.mine and r["owner"] != wb.me or f.unclaimed and r["owner"] is not None:
            continue
        if f.product and r["product"] != f.product:
            continue
        if f.text and not _words_match(f.text, [r[c] for c in pane_queries.CASE_TEXT]):
            continue
        idle = (now - parse_ts(r["last_activity_at"])).total_seconds()
        threshold = wb.config.stale.days(r["severity"]) * 86400
        waiting = r["last_customer_update_at"] is not None and r["last_customer_update_at"] > r["last_activity_at"]
        if idle >= threshold or r["reopen_count"] >= wb.config.stale.reopen_threshold or waiting:
            stale.append((-max(idle, 0) / threshold, r["id"], r["ref"]))
    return [ref for *_, ref in sorted(stale)]


@pytest.mark.parametrize("reopen_threshold", [1, 2, 3])
def test_stale_count_and_pages_equal_a_brute_force_ranking(replica, now, reopen_threshold):
    config = Config(me="alice", stale={"reopen_threshold": reopen_threshold})
    cases = []
    n = 0
    for sev in ("S1", "S2", "S3", "S4"):
        cutoff = now - timedelta(days=config.stale.days(sev))
        for shift in (-86400, -1, 0, 1, 3600, 0, 0):  # around the cutoff, and ties on it
            la = to_ts(cutoff - timedelta(seconds=shift))
            for reopen, waiting in ((0, False), (1, False), (2, False), (3, True), (0, True)):
                n += 1
                cases.append(F.case(
                    f"CASE-{n}", severity=sev, last_activity_at=la, reopen_count=reopen,
                    last_customer_update_at=to_ts(parse_ts(la) + timedelta(hours=1)) if waiting else None,
                    owner=("alice", None, "bob")[n % 3], product=("Widget", "Gadget")[n % 2],
                    subject=("Sync timeout", "Crash on save", "Timeouts on login")[n % 3],
                    status=("open", "pending", "on_hold", "closed")[n % 4]))
    F.load(replica, config, cases=cases)
    wb = _wb(replica, config, now)
    filters = [pane_queries.PaneFilter(), pane_queries.PaneFilter(mine=True), pane_queries.PaneFilter(unclaimed=True), pane_queries.PaneFilter(product="Gadget"),
               pane_queries.PaneFilter(text="timeout"), pane_queries.PaneFilter(text="time", mine=True), pane_queries.PaneFilter(text="on"),
               pane_queries.PaneFilter(text="crash sav", product="Widget"), pane_queries.PaneFilter(text="zzz")]
    for f in filters:
        expected = _stale_brute(wb, f)
        assert wb.pane_count("stale", f) == len(expected), f
        for offset, limit in ((0, 500), (0, 7), (7, 7), (5, 13), (max(len(expected) - 4, 0), 10)):
            rows = wb.pane("stale", f, offset=offset, limit=limit)
            assert [r["ref"] for r in rows] == expected[offset : offset + limit], (f, offset, limit)
    assert len(_stale_brute(wb, pane_queries.PaneFilter())) > 40


def test_search_puts_title_hits_before_newer_body_hits(replica, config, now):
    F.load(replica, config, cases=[
        F.case("C-title", subject="Replication ERR_LOCKED on failover", body="x"),
        *[F.case(f"C-body-{i}", subject=f"Case {i}", body="saw ERR_LOCKED during replication") for i in range(5)],
    ])
    hits = [h["ref"] for h in search.search(replica.conn, "Replication ERR_LOCKED")]
    assert hits[0] == "C-title" and len(hits) == 6
    assert hits[1:] == [f"C-body-{i}" for i in range(4, -1, -1)]  # then newest first
    assert [h["ref"] for h in search.search(replica.conn, "replication err_lock")][0] == "C-title"  # prefix
