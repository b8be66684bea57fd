"""Opt-in: the Jira connector against a live Jira, read-only (check, a first sync, a second sync
that transfers nothing). Runs only when these are set, and is skipped (with the reason) otherwise:

    BACKLINE_JIRA_LIVE_URL     https://your-site.atlassian.net or your Data Center's base URL
    BACKLINE_JIRA_LIVE_TOKEN   an API token (Cloud) or a personal access token (Data Center)
    BACKLINE_JIRA_LIVE_EMAIL   Cloud only: the account's email
    BACKLINE_JIRA_LIVE_JQL     the bugs' JQL (default: issuetype = Bug ORDER BY updated DESC)

Nothing is written to that Jira.
"""

from __future__ import annotations

import os

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.sync.jira import JiraConnector
from backline_tui.workbench import Workbench

URL = os.environ.get("BACKLINE_JIRA_LIVE_URL")
TOKEN = os.environ.get("BACKLINE_JIRA_LIVE_TOKEN")

pytestmark = [
    pytest.mark.jira,
    pytest.mark.skipif(not (URL and TOKEN), reason="live Jira test: set BACKLINE_JIRA_LIVE_URL and "
                                                  "BACKLINE_JIRA_LIVE_TOKEN (and BACKLINE_JIRA_LIVE_EMAIL for Cloud)"),
]


def live_config() -> Config:
    jql = os.environ.get("BACKLINE_JIRA_LIVE_JQL") or "issuetype = Bug"
    email = os.environ.get("BACKLINE_JIRA_LIVE_EMAIL")
    return Config(me="live-test", sources=[SourceConfig(
        name="live", kind="jira", url=URL, email=email, deployment="cloud" if email else None,
        token_env="BACKLINE_JIRA_LIVE_TOKEN", mapping={"bug": {"query": jql}})])


def test_live_jira_check_and_first_sync(tmp_path):
    config = live_config()
    conn = JiraConnector(config.sources[0], config)
    try:
        report = conn.check()
    finally:
        conn.close()
    assert report.ok, report.problems
    wb = Workbench.open(tmp_path / "live.db", config, Clock())
    try:
        first = wb.sync()
        assert first.errors == []
        assert wb.replica.scalar("SELECT COUNT(*) FROM bugs WHERE source = 'live'") == first.pulled
        second = wb.sync()
        assert second.errors == [] and second.pulled == 0
    finally:
        wb.close()
