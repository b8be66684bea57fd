"""One replica, two sources: customer cases from the project's real RT (tests/rt_server.py) and
bugs from Jira (jira820, tests/jira_server.py). A case linked to a Jira bug counts in the bug's
impact, and the link reaches each upstream once, the way it holds it: Jira as one remote link, the
RT case as one RefersTo the bug's Jira URL, even after a sync killed between a push and its
acknowledgement; a link Jira refuses backs off without holding the case's RT changes."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from backline_tui.clock import Clock, parse_ts
from backline_tui.config import Config, SourceConfig, SyncConfig
from backline_tui.workbench import Workbench
from tests import factories as F
from tests.conftest import NOW
from tests.jira_helpers import jira_source, remote_links, sync_killed_after_push
from tests.rt_server import RTServer

pytestmark = [pytest.mark.rt, pytest.mark.jira]

RT_PW_ENV = "BACKLINE_TEST_RT_ALICE"


def test_an_rt_case_linked_to_a_jira_bug_reaches_jira_and_rt_once_after_a_kill(rt_server_factory, jira_factory, tmp_path):
    os.environ[RT_PW_ENV] = RTServer.alice.password
    rt, jira = rt_server_factory(), jira_factory()
    with rt.client("alice") as alice:
        tid = alice.create_ticket("Backline Cases", "Checkout fails for Acme", "500 on /checkout",
                                  {"Severity": "S1", "Customer": "Acme", "CustomerTier": "enterprise"}, status="open")
    config = Config(me="alice", sources=[
        SourceConfig(name="support", kind="rt", url=rt.url, user="alice", password_env=RT_PW_ENV),
        jira_source(jira.url)])
    db = tmp_path / "r.db"
    wb = Workbench.open(db, config, Clock(NOW))
    case_ref = f"RT#{tid}"
    try:
        assert wb.sync().errors == []
        key = sorted(r["ref"] for r in wb.replica.query("SELECT ref FROM bugs WHERE source = 'eng' AND status = 'open'"))[0]
        before = wb.bug(key)
        wb.link_case_bug(case_ref, key)
        after = wb.bug(key)
        assert after["case_count"] == before["case_count"] + 1 and after["impact_score"] > before["impact_score"]
    finally:
        wb.close()
    sync_killed_after_push(db, config.sources, tmp_path)
    wb = Workbench.open(db, config, Clock(NOW))
    try:
        assert [(o["op"], o["source"], o["state"]) for o in wb.outbox()] == [("link", "support", "sending")]
        result = wb.sync()
        assert result.errors == [] and result.conflicts == [] and wb.pending_ops() == 0
        with jira.client() as http:
            links = [link for link in remote_links(http, key) if link["globalId"].startswith("backline:")]
        assert [(link["globalId"], link["object"]["url"]) for link in links] == [
            (f"backline:support:{case_ref}", f"{rt.url}/Ticket/Display.html?id={tid}")]
        with rt.client("alice") as alice:  # the case's RT holds it too: a link to the bug's URL
            assert alice.ticket_links(tid).get("RefersTo") == [f"{jira.url}/browse/{key}"]
        # the link survives the pulls of both sources, and still counts
        assert wb.sync().errors == []
        bug = wb.bug(key)
        assert [c["ref"] for c in bug["cases"]] == [case_ref] and bug["case_count"] == 1
    finally:
        wb.close()


def test_a_jira_link_backing_off_waits_alone(rt_server_factory, jira_factory, tmp_path):
    """A case↔bug link that Jira refused backs off on its own: the case's own changes still reach
    RT meanwhile, and the link is not sent again before its next attempt is due."""
    os.environ[RT_PW_ENV] = RTServer.alice.password
    rt, jira = rt_server_factory(), jira_factory()
    with rt.client("alice") as alice:
        tid = alice.create_ticket("Backline Cases", "Exports stall for Acme", "stuck at 99%",
                                  {"Severity": "S2", "Customer": "Acme", "CustomerTier": "enterprise"}, status="open")
    config = Config(me="alice", sync=SyncConfig(retry_base=60, retry_max=600, retry_limit=3), sources=[
        SourceConfig(name="support", kind="rt", url=rt.url, user="alice", password_env=RT_PW_ENV),
        jira_source(jira.url)])
    wb = Workbench.open(tmp_path / "r.db", config, Clock(NOW))
    case_ref = f"RT#{tid}"

    def link_op() -> dict:
        return wb.replica.one("SELECT * FROM outbox WHERE op = 'link'")

    try:
        assert wb.sync().errors == []
        # a bug the replica believes Jira holds, which Jira does not have
        F.load(wb.replica, config, bugs=[F.bug("ENG-99999", source="eng", remote_id="99999")])
        wb.link_case_bug(case_ref, "ENG-99999")
        result = wb.sync()
        link = link_op()
        # two attempts: the case's RT took it (a RefersTo the bug's URL), Jira refused it once
        assert (link["state"], link["attempts"], link["failures"]) == ("error", 2, 1)
        assert json.loads(link["payload"])["reached"] == ["support"]
        assert "not in Jira" in link["last_error"] and any("ENG-99999" in e or case_ref in e for e in result.errors)
        due = parse_ts(link["next_attempt_at"])

        wb.clock = Clock(due - timedelta(seconds=1))
        wb.note("case", case_ref, "Acme confirmed the workaround")
        assert wb.sync().errors == []
        assert wb.replica.one("SELECT state FROM outbox WHERE op = 'note'")["state"] == "done"
        with rt.client("alice") as alice:
            assert "Acme confirmed the workaround" in [(a.get("Content") or "").strip()
                                                        for a in alice.ticket_attachments(tid)]
        assert link_op()["attempts"] == 2  # not yet due: left alone

        wb.clock = Clock(due)
        wb.sync()
        assert (link_op()["attempts"], link_op()["failures"]) == (3, 2)  # Jira again, RT not again
        with rt.client("alice") as alice:
            assert alice.ticket_links(tid).get("RefersTo") == [f"{jira.url}/browse/ENG-99999"]
    finally:
        wb.close()
