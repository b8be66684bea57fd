"""Sync with a real RT 5 behind tests/fault_proxy.py: rate limits and a 503 storm.

One private RT for this module with a small purpose-made dataset (a few tickets of each kind, a
case that refers to an article, answered requests); each test puts its own proxy in front.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
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
    if retry_after == "date":  # the other form: an HTTP-date, here 2 s ahead (1 s resolution: 1 to 2 s away)
        retry_after = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=2), usegmt=True)
    proxy.fail(lambda m, p: m == "GET" and p == f"{REST}/transactions", times=1, status=429,
               headers={"Retry-After": retry_after})
    wb = open_wb(tmp_path / "r.db", proxy.url)
    try:
        result = wb.sync()
        assert result.errors == [] and result.pulled == 3 + 5 + 3 + 8
        feed = [(t, s) for t, m, p, s in proxy.log if p.startswith(f"{REST}/transactions?")]
        assert [s for _, s in feed[:2]] == [429, 200]
        assert feed[1][0] - feed[0][0] >= 1.0  # the retry came after the second RT asked for
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
