"""Sync with a real RT 5 behind tests/fault_proxy.py: rate limits, a 503 storm, a connection cut.

One private RT for this module with a small purpose-made dataset (a few tickets of each kind, a
case that refers to an article, answered requests); each test puts its own proxy in front.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.sync.rt import pull as rt_pull
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.fault_proxy import FaultProxy
from tests.rt_server import RTServer, start_or_skip
from tests.test_sync_rt import _quiet_notifications

pytest_plugins = ["tests.rt_server"]
pytestmark = pytest.mark.rt

PW_ENV = "BACKLINE_TEST_RT_FAULTS_ALICE"
REST = "/REST/2.0"


def config_for(url: str) -> Config:
    return Config(me="alice", sources=[SourceConfig(name="rt", kind="rt", url=url, user="alice", password_env=PW_ENV)])


def open_wb(path: Path, url: str) -> Workbench:
    return Workbench.open(path, config_for(url), Clock(NOW))


@pytest.fixture(scope="module")
def rt(tmp_path_factory, rt_template):
    os.environ[PW_ENV] = RTServer.alice.password
    server = start_or_skip(RTServer(tmp_path_factory.mktemp("rt-faults"), template=rt_template))
    _quiet_notifications(server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def seeded(rt):
    """3 bugs, 5 cases (two refer to a bug, one to an article), 3 articles (one names its case),
    8 help requests (some linked to a case, two answered by bob with a note)."""
    with rt.client("alice") as alice, rt.client("bob") as bob:
        bugs = [alice.create_ticket("Backline Bugs", f"Bug {i}", f"bug body {i}", {"Severity": "S2"}) for i in range(3)]
        cases = [alice.create_ticket("Backline Cases", f"Case {i}", f"case body {i}", {"Customer": f"Customer {i}"},
                                     status="open", extra={"RefersTo": [bugs[i]]} if i < 2 else None)
                 for i in range(5)]
        arts = [alice.create_article("Backline KB", f"Article {i}", "", f"KB body {i}",
                                     {"KBCase": str(cases[0])} if i == 0 else None) for i in range(3)]
        alice.add_link(cases[4], "RefersTo", alice.get_article(arts[1])[0]["URI"])
        helps = [alice.create_ticket("Backline Help", f"Help {i}", f"question {i}",
                                     {"HelpPriority": "P2", **({"LinkedCase": str(cases[i % 5])} if i % 2 else {})})
                 for i in range(8)]
        for i in (0, 3):
            bob.take(helps[i])
            bob.correspond(helps[i], f"answer {i}")
            bob.comment(helps[i], f"note {i}")
    return {"bugs": bugs, "cases": cases, "articles": arts, "helps": helps}


@pytest.fixture
def proxy(rt):
    p = FaultProxy(rt.url)
    yield p
    p.stop()


@pytest.mark.parametrize("retry_after", ["1", "date"])
def test_a_429_with_retry_after_is_waited_out_and_the_sync_completes(retry_after, rt, seeded, proxy, tmp_path):
    not_before = None  # the wall-clock instant the retry must not come before
    if retry_after == "date":  # the other form: an HTTP-date (1 s resolution), 4 s ahead of now
        when = (datetime.now(timezone.utc) + timedelta(seconds=4)).replace(microsecond=0)
        retry_after, not_before = format_datetime(when, usegmt=True), when.timestamp()
    proxy.fail(lambda m, p: m == "GET" and p == f"{REST}/transactions", times=1, status=429,
               headers={"Retry-After": retry_after})
    wall_offset = time.time() - time.monotonic()  # the proxy's log is on the monotonic clock
    wb = open_wb(tmp_path / "r.db", proxy.url)
    try:
        result = wb.sync()
        assert result.errors == [] and result.pulled == 3 + 5 + 3 + 8
        feed = [(t, s) for t, m, p, s in proxy.log if p.startswith(f"{REST}/transactions?")]
        assert [s for _, s in feed[:2]] == [429, 200]
        if not_before is None:
            assert feed[1][0] - feed[0][0] >= 1.0  # the retry came after the second RT asked for
        else:  # the date may be reached sooner after the 429 than 4 s: the sync starts first
            assert feed[1][0] + wall_offset >= not_before - 0.01  # not before the date RT gave
    finally:
        wb.close()


@pytest.mark.parametrize("status, retry_after", [(429, "1"), (503, None)])
def test_a_refused_reply_is_sent_again_only_where_rt_cannot_have_acted_on_it(status, retry_after, rt, seeded,
                                                                             proxy, tmp_path):
    tid = seeded["helps"][5 if status == 429 else 6]
    text = f"one reply through a {status}"
    wb = open_wb(tmp_path / "r.db", proxy.url)
    try:
        assert wb.sync().errors == []
        wb.respond(f"RT#{tid}", text)
        queued = wb.pending_ops()  # the reply, and the claim that goes with it
        proxy.fail(lambda m, p: m == "POST" and p.endswith(f"/ticket/{tid}/correspond"), times=1, status=status,
                   headers={"Retry-After": retry_after} if retry_after else {})
        result = wb.sync()
        posts = [(t, s) for t, m, p, s in proxy.log if m == "POST" and p.endswith("/correspond")]
        if retry_after:  # refused before RT acted: sent again once the wait is over
            assert (result.errors, result.pushed, wb.pending_ops()) == ([], queued, 0)
            assert [s for _, s in posts] == [429, 201] and posts[1][0] - posts[0][0] >= 1.0
        else:  # a 503 that gives no Retry-After counts as a 500: reported, not repeated
            assert result.errors == [f"rt: RT at {proxy.url} failed with HTTP 503 on POST /ticket/{tid}/correspond"]
            assert [s for _, s in posts] == [503] and wb.pending_ops() == 1
        with rt.client("root") as root:
            bodies = [(a.get("Content") or "").strip() for a in root.ticket_attachments(tid)]
        assert bodies.count(text) == (1 if retry_after else 0)
    finally:
        wb.close()


def _cli_sync(db: Path, url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'me = "alice"\n[[sources]]\nname = "rt"\nkind = "rt"\nurl = "{url}"\nuser = "alice"\n'
                   f'password_env = "{PW_ENV}"\n', encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "backline_tui", "--db", str(db), "--config", str(cfg), "sync"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "BACKLINE_NOW": "2026-11-23T09:00:00Z"})


def test_a_503_storm_ends_the_sync_in_one_sentence_naming_rt_and_the_ops_stay_queued(rt, seeded, proxy, tmp_path):
    db = tmp_path / "r.db"
    ref = f"RT#{seeded['helps'][7]}"
    wb = open_wb(db, proxy.url)
    try:
        assert wb.sync().errors == []
        wb.claim(ref)
        wb.respond(ref, "sent after the storm")
    finally:
        wb.close()
    proxy.seen.clear()
    proxy.log.clear()
    proxy.fail(lambda m, p: True, status=503, headers={"Retry-After": "1"})
    proc = _cli_sync(db, proxy.url, tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"backline: sync failed: rt: RT at {proxy.url}{REST} is unavailable (HTTP 503 on PUT "
        f"/ticket/{seeded['helps'][7]}/take, still after 4 tries); changes stay queued, try again later"], proc.stderr
    assert "Traceback" not in proc.stderr
    # the claim (a 503 with Retry-After: RT did not act on it), tried 4 times, then nothing more
    assert [(m, s) for m, _, s in proxy.seen] == [("PUT", 503)] * 4
    assert [round(b[0] - a[0]) for a, b in zip(proxy.log, proxy.log[1:])] == [1, 1, 1]
    wb = open_wb(db, proxy.url)
    try:
        assert wb.pending_ops() == 2
        proxy.clear()
        result = wb.sync()
        assert (result.errors, result.pushed) == ([], 2)
        with rt.client("root") as root:
            tid = seeded["helps"][7]
            assert root.get_ticket(tid)[0]["Owner"]["id"] == "alice"
            bodies = [(a.get("Content") or "").strip() for a in root.ticket_attachments(tid)]
            assert bodies.count("sent after the storm") == 1
    finally:
        wb.close()


def test_an_html_page_in_place_of_rt_ends_the_sync_in_one_line_and_loses_nothing(rt, seeded, proxy, tmp_path):
    db, tid = tmp_path / "r.db", seeded["helps"][2]
    wb = open_wb(db, proxy.url)
    try:
        assert wb.sync().errors == []
    finally:
        wb.close()
    portal = ("text/html; charset=utf-8", b"<html><body>Please sign in to the guest network</body></html>")
    proxy.fail(lambda m, p: p.startswith(REST), status=200, body=portal)
    proc = _cli_sync(db, proxy.url, tmp_path)  # a pull
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"backline: sync failed: rt: RT at {proxy.url}{REST} did not answer as RT: GET /transactions came back as "
        "text/html, not JSON (a proxy or a login page in between?)"], proc.stderr
    wb = open_wb(db, proxy.url)
    try:
        wb.note("help_request", f"RT#{tid}", "kept through the portal")
    finally:
        wb.close()
    proc = _cli_sync(db, proxy.url, tmp_path)  # a write
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"backline: sync failed: rt: RT at {proxy.url}{REST} did not answer as RT: POST "
        f"/ticket/{tid}/comment came back as text/html, not JSON (a proxy or a login page in between?)"], proc.stderr
    proxy.clear()
    wb = open_wb(db, proxy.url)
    try:  # the note stayed queued, as maybe sent: the next sync looks for it in RT, then sends it once
        assert [(o["op"], o["state"]) for o in wb.outbox()] == [("note", "sending")]
        assert wb.sync().errors == [] and wb.pending_ops() == 0
        with rt.client("root") as root:
            bodies = [(a.get("Content") or "").strip() for a in root.ticket_attachments(tid)]
        assert bodies.count("kept through the portal") == 1
    finally:
        wb.close()


# ------------------------------------------------------------------------- a sync cut mid-stream


_QUEUES = {"bugs": "Backline Bugs", "cases": "Backline Cases", "helps": "Backline Help"}


def _ticket_txns(rt) -> dict[int, int]:
    """Every ticket transaction RT holds now: transaction id -> ticket id."""
    with rt.client("root") as root:
        return {int(t["id"]): int(t["ObjectId"]) for t in root.transactions("ObjectType = 'RT::Ticket'", fields="ObjectId")}


def _reads(proxy: FaultProxy, txns: dict[int, int]) -> dict[str, set]:
    """What the requests the proxy saw asked for: "tickets", the ids of tickets whose fields were
    searched for by id, whose transactions were asked for by ticket id, or whose messages' texts
    were asked for; "feeds", the queues whose whole transaction feed was read (from id 0);
    "open", the queues whose open work was read; "articles", whether articles were."""
    out: dict[str, set] = {"tickets": set(), "feeds": set(), "open": set(), "articles": set()}
    for method, target, body in proxy.sent:
        split = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        sql = query.get("query", "")
        if method == "GET" and split.path == f"{REST}/tickets" and query.get("fields") != "id":
            out["tickets"] |= {int(i) for i in re.findall(r"\bid = (\d+)", sql)}
            out["open"] |= {q for q in _QUEUES.values() if f"'{q}'" in sql and "__Active__" in sql}
        elif method == "GET" and split.path == f"{REST}/transactions":
            out["tickets"] |= {int(i) for i in re.findall(r"\bObjectId = (\d+)", sql)}
            out["feeds"] |= {q for q in _QUEUES.values() if f"TicketQueue = '{q}' AND id > 0" in sql}
        elif method == "POST" and split.path == f"{REST}/attachments":
            out["tickets"] |= {txns[int(c["value"])] for c in json.loads(body) if c["field"] == "TransactionId"}
        elif method == "POST" and split.path == f"{REST}/articles":
            out["articles"].add(True)
    return out


_IDS = {"case_id": "cases", "bug_id": "bugs", "article_id": "articles"}
_SKIP = {"meta", "outbox", "sync_cursors", "sync_log", "drafts"}


def replica_content(path: Path) -> dict[str, list[tuple]]:
    """Every record table and what derives from it, internal ids turned into refs, sync stamps
    left out: what two replicas of the same upstream must agree on. The history backfill's
    tables (history_pending, history_backfill) are in it: both empty once a sync completes."""
    conn = sqlite3.connect(path)
    try:
        refs = {t: dict(conn.execute(f"SELECT id, ref FROM {t}")) for t in ("help_requests", "cases", "bugs", "articles")}
        by_type = {"help_request": "help_requests", "case": "cases", "bug": "bugs", "article": "articles"}
        out = {}
        tables = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if n not in _SKIP and "_fts" not in n and "_filter" not in n]
        for table in tables:
            conn.row_factory = sqlite3.Row
            rows = []
            for row in conn.execute(f"SELECT * FROM {table}"):
                d = dict(row)
                d.pop("synced_at", None)
                if table in refs or table == "messages":
                    d.pop("id")
                elif table == "ins_hr_time":
                    d["id"] = refs["help_requests"].get(d["id"])
                for col, of in _IDS.items():
                    if col in d and table != of:
                        d[col] = refs[of].get(d[col], d[col])
                if "parent_id" in d:
                    d["parent_id"] = refs[by_type[d["parent_type"]]].get(d["parent_id"])
                if "target_id" in d:
                    d["target_id"] = refs[by_type[d["target_type"]]].get(d["target_id"])
                rows.append(tuple(sorted((k, str(v)) for k, v in d.items())))
            conn.row_factory = None
            out[table] = sorted(rows)
        return out
    finally:
        conn.close()


@pytest.fixture(scope="module")
def clean_sync(rt, seeded, tmp_path_factory):
    """A clean first sync into an empty replica."""
    path = tmp_path_factory.mktemp("clean") / "clean.db"
    proxy = FaultProxy(rt.url)
    wb = open_wb(path, proxy.url)
    try:
        assert wb.sync().errors == []
    finally:
        wb.close()
        proxy.stop()
    return path


def _cut_at(where: str, rt, seeded) -> tuple[Callable[[str, str, bytes], bool], set[int]]:
    """A proxy rule (``whole=True``) that drops the connection on every request of one step of a
    first sync, and the tickets whose history lands before it. The steps, in the order they land:
    open work (bugs, cases, help requests: one search each of the kind's open tickets), articles,
    then each kind's history in batches of CHUNK tickets in the order of their latest transaction
    (a POST /attachments for the texts of their messages). Requests run ahead of the step being
    written, so a cut step stops the sync there: the steps before it land whole. "history of
    helps, batch 2" is meant for CHUNK = 3: the help requests' first batch lands, the second is cut."""
    kinds = list(_TABLE)
    if where.startswith("history of "):
        kind = where.split()[2].rstrip(",")
        txns = _ticket_txns(rt)
        done = {t for k in kinds[: kinds.index(kind)] for t in seeded[k]}
        cut = set(seeded[kind])
        if where.endswith("batch 2"):
            last: dict[int, int] = {}
            for txn, tid in txns.items():
                last[tid] = max(last.get(tid, 0), txn)
            ordered = sorted(seeded[kind], key=last.__getitem__)
            done |= set(ordered[:3])
            cut = set(ordered[3:6])
        ids = {t for t, tid in txns.items() if tid in cut}
        return (lambda m, target, body: m == "POST" and urlsplit(target).path == f"{REST}/attachments" and any(
            c["field"] == "TransactionId" and int(c["value"]) in ids for c in json.loads(body))), done
    if where == "articles":
        return (lambda m, target, body: m == "POST" and urlsplit(target).path == f"{REST}/articles"), set()
    assert where == "open work"  # the search for the open help requests, after those of bugs and cases

    def match(m: str, target: str, body: bytes) -> bool:
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        return (m == "GET" and urlsplit(target).path == f"{REST}/tickets" and query.get("fields") != "id"
                and f"'{_QUEUES['helps']}'" in query.get("query", "") and "__Active__" in query.get("query", ""))

    return match, set()


_ALL = {"bugs": 3, "cases": 5, "help_requests": 8, "articles": 3}
_TABLE = {"bugs": "bugs", "cases": "cases", "helps": "help_requests"}
_KIND = {"bugs": "bug", "cases": "case", "helps": "help_request"}


@pytest.mark.parametrize("where, how, kept", [
    ("open work", "reset", {**_ALL, "help_requests": 0, "articles": 0}),
    ("articles", "reset", {**_ALL, "articles": 0}),
    ("history of cases", "reset", _ALL),
    ("history of helps", "reset", _ALL),
    ("history of helps", "truncate", _ALL),  # half an answer, then nothing
    ("history of helps, batch 2", "reset", _ALL),  # a kind's history half landed
])
def test_a_sync_cut_mid_stream_resumes_where_it_stopped_and_ends_as_a_clean_sync(
        where, how, kept, rt, seeded, clean_sync, proxy, tmp_path, monkeypatch):
    """Every ticket the cut sync wrote without its history (open work first) is marked as waiting
    for it, and is what the resumed sync reads again (with the tickets it had not written at
    all): those were in flight. A ticket whose history landed is not read again."""
    if where.endswith("batch 2"):
        monkeypatch.setattr(rt_pull, "CHUNK", 3)
    match, done = _cut_at(where, rt, seeded)
    proxy.fail(match, reset=how == "reset", truncate=how == "truncate", whole=True)
    cut_db = tmp_path / "cut.db"
    written = {k for k in _TABLE if kept[_TABLE[k]]}  # kinds whose open work landed
    waiting = {(_KIND[k], f"RT#{t}") for k in written for t in seeded[k] if t not in done}
    wb = open_wb(cut_db, proxy.url)
    try:
        cut = wb.sync()
        assert cut.errors == cut.unreachable and len(cut.errors) == 1
        assert cut.errors[0].startswith(f"rt: RT at {proxy.url}{REST} is unreachable: "), cut.errors
        for table, n in kept.items():  # what the cut sync wrote stays
            assert wb.replica.scalar(f"SELECT COUNT(*) FROM {table}") == n, table
        assert {(r["kind"], r["ref"]) for r in wb.replica.conn.execute("SELECT kind, ref FROM history_pending")} == waiting
        # the open records it wrote are usable: their fields and links, history or not
        bug, case, help_ = f"RT#{seeded['bugs'][0]}", f"RT#{seeded['cases'][1]}", f"RT#{seeded['helps'][1]}"
        assert wb.bug(bug)["title"] == "Bug 0" and wb.case(case)["subject"] == "Case 1"
        assert [b["ref"] for b in wb.case(case)["bugs"]] == [f"RT#{seeded['bugs'][1]}"]
        if "helps" in written:
            assert wb.help_request(help_)["case"]["ref"] == case
        assert wb.history_pending("case", case) == (seeded["cases"][1] not in done)
        # the next sync, with RT reachable again, goes on from the cursors
        proxy.clear()
        proxy.sent.clear()
        resumed = wb.sync()
        # written (and counted): the tickets without their history, now with it, and what was missing
        assert resumed.errors == [] and resumed.pulled == 16 - len(done) + 3 - kept["articles"]
        # the case that refers to an article (read before the article arrived) holds its link
        art = f"KB#{seeded['articles'][1]}"
        assert [a["ref"] for a in wb.case(f"RT#{seeded['cases'][4]}")["articles"]] == [art]
        for table in ("pending_links", "history_pending", "history_backfill"):
            assert wb.replica.scalar(f"SELECT COUNT(*) FROM {table}") == 0, table
    finally:
        wb.close()
    reads = _reads(proxy, _ticket_txns(rt))
    everything = {t for k in _TABLE for t in seeded[k]}
    assert reads["tickets"] == everything - done, "the resumed sync reads again what had no history, only that"
    # a kind's whole feed is read from the start only where none of its history had landed
    assert reads["feeds"] == {_QUEUES[k] for k in _TABLE if not set(seeded[k]) & done}
    assert reads["open"] == {_QUEUES[k] for k in _TABLE if k not in written}
    assert bool(reads["articles"]) == (kept["articles"] == 0)
    assert replica_content(cut_db) == replica_content(clean_sync)


def test_a_link_removed_in_rt_while_it_waited_for_its_article_does_not_come_back(rt, seeded, proxy, tmp_path):
    case_tid, art = seeded["cases"][4], seeded["articles"][1]
    proxy.fail(_cut_at("articles", rt, seeded)[0], reset=True, whole=True)
    wb = open_wb(tmp_path / "r.db", proxy.url)
    with rt.client("alice") as alice:
        uri = alice.get_article(art)[0]["URI"]
        try:
            assert wb.sync().unreachable
            assert wb.replica.scalar("SELECT COUNT(*) FROM pending_links") == 1
            alice.remove_link(case_tid, "RefersTo", uri)  # meanwhile, in RT
            proxy.clear()
            assert wb.sync().errors == []
            assert wb.case(f"RT#{case_tid}")["articles"] == []  # the case came again, without it
            assert wb.replica.scalar("SELECT COUNT(*) FROM pending_links") == 0
        finally:
            wb.close()
            alice.add_link(case_tid, "RefersTo", uri)


def test_a_ticket_that_left_its_queue_while_the_sync_was_cut_is_gone_once_it_resumes(rt, seeded, proxy, tmp_path):
    tid = seeded["helps"][2]
    proxy.fail(_cut_at("articles", rt, seeded)[0], reset=True, whole=True)
    wb = open_wb(tmp_path / "r.db", proxy.url)
    with rt.client("root") as root:
        try:
            assert wb.sync().unreachable
            assert wb.history_pending("help_request", f"RT#{tid}")  # its open work landed, not its history
            root.update_ticket(tid, {"Queue": "General"})  # meanwhile, in RT: no longer a help request
            proxy.clear()
            assert wb.sync().errors == []
            refs = {r["ref"] for r in wb.replica.conn.execute("SELECT ref FROM help_requests")}
            assert refs == {f"RT#{t}" for t in seeded["helps"] if t != tid}  # as a clean sync has them
        finally:
            wb.close()
            root.update_ticket(tid, {"Queue": "Backline Help"})
