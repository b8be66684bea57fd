"""Sync with Jira Cloud (REST v3): every request the connector sends and every response it reads
is validated against Atlassian's OpenAPI spec (tests/data/jira), by the v3 front of
tests/jira_cloud.py over a jira820 that holds the state. What Jira holds is checked on that
jira820 by plain REST, not through the connector."""

from __future__ import annotations

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.sync.jira.adf import adf_to_text, text_to_adf
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.jira_cloud import JiraCloud
from tests.jira_helpers import (
    BUG_JQL, add_case, bug_mapping, check_texts, comments, issue, jira_source, remote_links, search_keys,
    sync_killed_after_push,
)

pytestmark = pytest.mark.jira


def cloud_config(url: str, mapping=None, **kw) -> Config:
    return Config(me="alice", sources=[jira_source(url, mapping=mapping, deployment="cloud",
                                                   email="alice@example.com", **kw)])


@pytest.fixture
def cloud(jira_factory):
    jira = jira_factory()
    front = JiraCloud(jira.url)
    front.http = jira.client()
    yield front
    front.http.close()
    front.stop()
    assert front.violations == []


def open_wb(tmp_path, config: Config) -> Workbench:
    return Workbench.open(tmp_path / "r.db", config, Clock(NOW))


def held(wb: Workbench) -> dict[str, dict]:
    return {r["ref"]: r for r in wb.replica.query("SELECT * FROM bugs WHERE source = 'eng'")}


def test_cloud_sync_pages_by_token_reads_adf_and_transfers_nothing_twice(cloud, tmp_path):
    # every issue of the project: several pages of /search/jql
    wb = open_wb(tmp_path, cloud_config(cloud.url, mapping=bug_mapping("project = JIRA820")))
    try:
        result = wb.sync()
        assert result.errors == []
        keys = search_keys(cloud.http, "project = JIRA820")
        assert len(keys) > 200 and sorted(held(wb)) == sorted(keys) and result.pulled == len(keys)
        searches = [s for m, p, s in cloud.seen if p == "/rest/api/3/search/jql"]
        assert len(searches) >= 3  # 100 a page: followed nextPageToken to the end
        for key in keys[:15]:
            f = issue(cloud.http, key)["fields"]
            b = held(wb)[key]
            # ADF on the wire (a paragraph a line here): the same words in the replica
            assert b["body"] == "\n\n".join(line for line in (f["description"] or "").split("\n") if line)
            assert b["eng_owner"] == ((f["assignee"] or {}).get("displayName"))  # Cloud has no user names
            assert b["title"] == f["summary"]
        cloud.http.put(f"/rest/api/2/issue/{keys[5]}", json={"fields": {"description": "line one\nline two"}}).raise_for_status()
        result = wb.sync()
        assert result.errors == [] and result.pulled == 1
        assert held(wb)[keys[5]]["body"] == "line one\n\nline two"
        assert wb.sync().pulled == 0
        assert cloud.validated > 10
    finally:
        wb.close()


def test_cloud_push_ops_reach_jira_once_with_adf_bodies_and_account_ids(cloud, tmp_path):
    wb = open_wb(tmp_path, cloud_config(cloud.url))
    try:
        assert wb.sync().errors == []
        add_case(wb.replica, "RT#9", "Login loop")
        k1, k2, k3 = sorted(held(wb))[:3]
        wb.set_bug_target(k1, "2026-07-01")
        wb.set_bug_priority(k2, "P1" if held(wb)[k2]["priority_override"] != "P1" else "P2")
        wb.comment_bug(k3, "First line.\n\nSecond paragraph.")
        wb.link_case_bug("RT#9", k3)
        wb.create_bug("RT#9", "eng", "Login loop after SSO change", "Seen on RT#9.")
        result = wb.sync()
        assert result.errors == [] and result.conflicts == [] and result.pushed == 5
        assert issue(cloud.http, k1)["fields"]["duedate"] == "2026-07-01"
        assert comments(cloud.http, k3).count("First line.\n\nSecond paragraph.") == 1
        assert [link["globalId"] for link in remote_links(cloud.http, k3)].count("backline:support:RT#9") == 1
        made = search_keys(cloud.http, 'summary ~ "Login loop after SSO change"')
        assert len(made) == 1 and made[0] in held(wb)
        assert wb.sync().pushed == 0
        posted = [p for m, p, s in cloud.seen if m in ("POST", "PUT") and p.startswith("/rest/api/3/")]
        assert posted and not [p for m, p, s in cloud.seen if p.startswith("/rest/api/2/")]
    finally:
        wb.close()


def test_cloud_comment_resent_after_a_kill_is_found_by_its_author_and_text(cloud, tmp_path):
    config = cloud_config(cloud.url)
    wb = open_wb(tmp_path, config)
    assert wb.sync().errors == []
    key = sorted(held(wb))[4]
    wb.comment_bug(key, "exactly once on Cloud")
    db = wb.replica.path
    wb.close()
    sync_killed_after_push(db, config.sources, tmp_path)
    wb = open_wb(tmp_path, config)
    try:
        result = wb.sync()
        assert result.errors == [] and result.conflicts == [] and wb.pending_ops() == 0
        assert comments(cloud.http, key).count("exactly once on Cloud") == 1
    finally:
        wb.close()


def test_cloud_conflict_is_said_in_words(cloud, tmp_path):
    wb = open_wb(tmp_path, cloud_config(cloud.url))
    try:
        assert wb.sync().errors == []
        key = sorted(held(wb))[6]
        wb.set_bug_target(key, "2026-08-01")
        cloud.http.put(f"/rest/api/2/issue/{key}", json={"fields": {"duedate": "2026-09-09"}}).raise_for_status()
        result = wb.sync()
        assert result.conflicts == [f"someone set {key}'s due date to 2026-09-09 first; your change to 2026-08-01 "
                                    "was not sent"]
        assert held(wb)[key]["target_at"] == "2026-09-09T00:00:00Z"
    finally:
        wb.close()


def test_the_retired_search_endpoint_is_said_plainly(cloud, tmp_path):
    # a Cloud site configured as Data Center: its v2 search answers 410 Gone
    config = Config(me="alice", sources=[jira_source(cloud.url, deployment="datacenter")])
    wb = open_wb(tmp_path, config)
    try:
        result = wb.sync()
        assert result.errors == [f'eng: Jira at {cloud.url} retired /rest/api/2/search (HTTP 410); this Jira needs '
                                 'deployment = "cloud" (search by /rest/api/3/search/jql)']
    finally:
        wb.close()


def test_cloud_check_counts_the_jql_and_resolves_fields(cloud):
    ok, texts, problems = check_texts(cloud_config(cloud.url))
    assert ok, problems
    assert texts[0].startswith("Jira Cloud ")
    assert f"bug: {BUG_JQL} matches {len(search_keys(cloud.http, BUG_JQL))} issue(s)" in texts


def test_adf_round_trip_keeps_paragraphs_lists_mentions_and_links():
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Steps"}]},
        {"type": "orderedList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Open the app"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "Ask "}, {"type": "mention", "attrs": {"id": "abc", "text": "@Bob"}}]}]}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "See ", "marks": []},
            {"type": "text", "text": "the runbook", "marks": [{"type": "link", "attrs": {"href": "https://wiki/x"}}]},
            {"type": "hardBreak"}, {"type": "text", "text": "thanks"}]},
        {"type": "codeBlock", "content": [{"type": "text", "text": "ERR 42"}]},
    ]}
    assert adf_to_text(doc) == "Steps\n\n1. Open the app\n2. Ask @Bob\n\nSee the runbook (https://wiki/x)\nthanks\n\nERR 42"
    assert adf_to_text(text_to_adf("a\nb\n\nc")) == "a\nb\n\nc"
    assert text_to_adf("a\nb\n\nc")["content"] == [
        {"type": "paragraph", "content": [{"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "c"}]}]


def test_a_refused_api_token_is_said_in_one_line(cloud, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKLINE_TEST_JIRA_BAD_TOKEN", "not-the-token")
    config = Config(me="alice", sources=[SourceConfig(
        name="eng", kind="jira", url=cloud.url, deployment="cloud", email="alice@example.com",
        token_env="BACKLINE_TEST_JIRA_BAD_TOKEN", mapping=bug_mapping())])
    wb = open_wb(tmp_path, config)
    try:
        result = wb.sync()
        assert result.errors == [f"eng: Jira at {cloud.url} did not accept the credentials of source eng "
                                 "(check the token, and the email for Cloud)"]
        assert "not-the-token" not in result.errors[0]
    finally:
        wb.close()


def test_the_incremental_jql_is_written_in_the_accounts_time_zone(jira_factory, tmp_path):
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    jira = jira_factory()
    front = JiraCloud(jira.url, time_zone="Asia/Seoul")
    wb = open_wb(tmp_path, cloud_config(front.url))
    try:
        assert wb.sync().errors == []
        newest = max(r["updated_at"] for r in held(wb).values())
        front.searches.clear()
        assert wb.sync().errors == []
        since = datetime.strptime(newest, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) - timedelta(minutes=5)
        local = since.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M")
        assert front.searches[0] == f'({BUG_JQL}) AND updated >= "{local}" ORDER BY updated ASC, key ASC'
    finally:
        wb.close()
        front.stop()
    assert front.violations == []
