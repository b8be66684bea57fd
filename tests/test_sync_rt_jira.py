"""One replica, two sources: customer cases from the project's real RT (tests/rt_server.py) and
bugs from Jira (jira820, tests/jira_server.py). A case linked to a Jira bug counts in the bug's
impact, and the link reaches Jira as one remote link, even after a sync killed between the push
and its acknowledgement."""

from __future__ import annotations

import os

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.jira_helpers import jira_source, remote_links, sync_killed_after_push
from tests.rt_server import RTServer

pytestmark = [pytest.mark.rt, pytest.mark.jira]

RT_PW_ENV = "BACKLINE_TEST_RT_ALICE"


def test_an_rt_case_linked_to_a_jira_bug_reaches_jira_once_after_a_kill(rt_server_factory, jira_factory, tmp_path):
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
        # the link survives the pulls of both sources, and still counts
        assert wb.sync().errors == []
        bug = wb.bug(key)
        assert [c["ref"] for c in bug["cases"]] == [case_ref] and bug["case_count"] == 1
    finally:
        wb.close()
