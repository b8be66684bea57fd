"""A Jira project as a help queue (the optional mapping): help requests from a JQL; claim →
assignee, respond → comment, note → comment restricted to a role, resolve → the transition named
in the mapping. Data Center against jira820; Cloud through the spec-validating v3 front."""

from __future__ import annotations

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.jira_cloud import JiraCloud
from tests.jira_helpers import HELP_JQL, comments, help_mapping, issue, jira_source, search_keys

pytestmark = pytest.mark.jira


def requests_of(wb: Workbench) -> dict[str, dict]:
    return {r["ref"]: r for r in wb.replica.query("SELECT * FROM help_requests WHERE source = 'eng'")}


def asked_by_others(http) -> list[str]:
    """Requests not raised by jira820's session user (admin): an asker's own comment is no answer."""
    return [k for k in search_keys(http, HELP_JQL) if issue(http, k)["fields"]["reporter"]["name"] != "admin"]


def unassign(http, keys: list[str]) -> None:
    for key in keys:
        http.put(f"/rest/api/2/issue/{key}", json={"fields": {"assignee": None}}).raise_for_status()


def test_help_requests_from_a_jql_claim_answer_note_and_resolve_reach_jira_once(jira_factory, tmp_path):
    jira = jira_factory()
    http = jira.client()
    keys = asked_by_others(http)
    unassign(http, keys[:3])
    # a request whose only comment is the asker's own follow-up: not answered
    own = http.post("/rest/api/2/issue", json={"fields": {
        "project": {"key": "JIRA820"}, "issuetype": {"name": "Task"}, "summary": "Password reset loops"}}).json()["key"]
    http.post(f"/rest/api/2/issue/{own}/comment", json={"body": "any news?"}).raise_for_status()
    # jira820's session user is "admin": so is `me`
    config = Config(me="admin", sources=[jira_source(jira.url, mapping=help_mapping())])
    wb = Workbench.open(tmp_path / "r.db", config, Clock(NOW))
    try:
        assert wb.sync().errors == []
        held = requests_of(wb)
        assert sorted(held) == sorted(search_keys(http, HELP_JQL))
        assert held[own]["asker"] == "admin" and held[own]["status"] == "new" and held[own]["first_response_at"] is None
        k1, k2, k3 = keys[:3]
        f = issue(http, k1)["fields"]
        assert held[k1]["subject"] == f["summary"] and held[k1]["asker"] == f["reporter"]["name"]
        assert held[k1]["status"] in ("new", "answered") and held[k1]["owner"] is None
        thread = comments(http, k1)
        assert [m["body"] for m in wb.help_request(k1)["messages"]] == thread
        wb.respond(k1, "Try clearing the cache, then log in again.")  # claims it too
        wb.note("help_request", k1, "Engineering says it is the SSO change.")
        wb.claim(k2)
        wb.resolve(k2)
        # meanwhile u03 takes k3 in Jira; our claim of it comes second
        wb.claim(k3)
        http.put(f"/rest/api/2/issue/{k3}", json={"fields": {"assignee": {"name": "u03"}}}).raise_for_status()
        result = wb.sync()
        assert result.errors == []
        assert result.conflicts == [f"u03 claimed {k3} first"]
        assert issue(http, k1)["fields"]["assignee"]["name"] == "admin"
        bodies = comments(http, k1)
        assert bodies.count("Try clearing the cache, then log in again.") == 1
        assert bodies.count("Engineering says it is the SSO change.") == 1
        assert issue(http, k2)["fields"]["status"]["statusCategory"]["key"] == "done"
        held = requests_of(wb)
        assert held[k1]["owner"] == "admin" and held[k1]["status"] == "answered"
        assert held[k3]["owner"] == "u03"
        assert k2 not in held  # done: it left the JQL (statusCategory != Done), so it left the queue
        assert wb.replica.scalar("SELECT COUNT(*) FROM messages WHERE ref LIKE ?", (f"{k2}/comment/%",)) == 0
        # the posted messages are known by their Jira ids: the next sync doubles none
        assert wb.sync().errors == []
        kinds = [(m["kind"], m["body"]) for m in wb.help_request(k1)["messages"]]
        assert kinds.count(("reply", "Try clearing the cache, then log in again.")) == 1
        assert kinds.count(("note", "Engineering says it is the SSO change.")) + kinds.count(
            ("reply", "Engineering says it is the SSO change.")) == 1
    finally:
        http.close()
        wb.close()


def test_cloud_notes_carry_their_visibility_and_claims_an_account_id(jira_factory, tmp_path):
    jira = jira_factory()
    front = JiraCloud(jira.url)
    http = jira.client()
    try:
        keys = asked_by_others(http)
        unassign(http, keys[:1])
        config = Config(me="Administrator", sources=[jira_source(front.url, mapping=help_mapping(), deployment="cloud",
                                                                 email="alice@example.com")])
        wb = Workbench.open(tmp_path / "r.db", config, Clock(NOW))
        try:
            assert wb.sync().errors == []
            wb.claim(keys[0])
            wb.note("help_request", keys[0], "Visible to developers only.")
            result = wb.sync()
            assert result.errors == [] and result.conflicts == []
            assert issue(http, keys[0])["fields"]["assignee"]["name"] == "admin"
            assert comments(http, keys[0]).count("Visible to developers only.") == 1
            sent = [p for m, p, s in front.seen if m == "POST" and p.endswith("/comment")]
            assert sent == [f"/rest/api/3/issue/{keys[0]}/comment"]
            assert list(front.visibility.values()) == [{"type": "role", "value": "Developers"}]
            # read back as a note, not as a reply to the asker
            assert wb.sync().errors == []
            thread = [(m["kind"], m["body"]) for m in wb.help_request(keys[0])["messages"]]
            assert thread.count(("note", "Visible to developers only.")) == 1
            assert wb.help_request(keys[0])["owner"] == "Administrator"  # Cloud shows display names
        finally:
            wb.close()
    finally:
        http.close()
        front.stop()
    assert front.violations == []


def test_take_over_reassigns_in_jira_and_a_third_owner_is_a_conflict(jira_factory, tmp_path):
    jira = jira_factory()
    http = jira.client()
    try:
        k1, k2 = asked_by_others(http)[:2]
        for key in (k1, k2):
            http.put(f"/rest/api/2/issue/{key}", json={"fields": {"assignee": {"name": "u03"}}}).raise_for_status()
        config = Config(me="admin", sources=[jira_source(jira.url, mapping=help_mapping())])
        wb = Workbench.open(tmp_path / "r.db", config, Clock(NOW))
        try:
            assert wb.sync().errors == []
            assert requests_of(wb)[k1]["owner"] == "u03"
            wb.take_over(k1)
            wb.take_over(k2)
            # meanwhile u04 takes k2 in Jira: our take-over from u03 is not applied over them
            http.put(f"/rest/api/2/issue/{k2}", json={"fields": {"assignee": {"name": "u04"}}}).raise_for_status()
            result = wb.sync()
            assert result.errors == []
            assert result.conflicts == [f"u04 owns {k2} now; your take-over from u03 was not applied"]
            assert issue(http, k1)["fields"]["assignee"]["name"] == "admin"
            assert issue(http, k2)["fields"]["assignee"]["name"] == "u04"
            held = requests_of(wb)
            assert held[k1]["owner"] == "admin" and held[k2]["owner"] == "u04"
        finally:
            wb.close()
    finally:
        http.close()
