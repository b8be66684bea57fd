"""Sync with Jira Data Center: against jira820, an independent emulator of Jira DC 8.20 on
127.0.0.1 (tests/jira_server.py). What Jira holds is checked by plain REST calls, as a Jira admin
would check it, never through the connector under test."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.storage import Replica
from backline_tui.sync.engine import sync_all
from backline_tui.sync.jira import JiraConnector
from backline_tui.sync.jira.client import Patience
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.jira_helpers import (
    BUG_JQL, PRIORITIES, add_case, bug_mapping, check_texts, comments, issue, jira_config, jira_source, remote_links,
    search_keys, sync_killed_after_push,
)

pytestmark = pytest.mark.jira


def open_wb(db: Path, config: Config) -> Workbench:
    return Workbench.open(db, config, Clock(NOW))


def bugs(wb: Workbench) -> dict[str, dict]:
    return {r["ref"]: r for r in wb.replica.query("SELECT * FROM bugs WHERE source = 'eng'")}


@pytest.fixture
def jira(jira_factory):
    """A fresh emulator for a test that writes to it."""
    return jira_factory()


@pytest.fixture
def synced(jira, tmp_path):
    """A replica after a first sync with a fresh emulator: (workbench, admin http client)."""
    wb = open_wb(tmp_path / "r.db", jira_config(jira.url))
    assert wb.sync().errors == []
    http = jira.client()
    yield wb, http
    http.close()
    wb.close()


# ------------------------------------------------------------------------------ pull


def test_first_sync_lands_every_mapped_bug_with_its_fields(jira_server, tmp_path):
    wb = open_wb(tmp_path / "r.db", jira_config(jira_server.url))
    try:
        result = wb.sync()
        assert result.errors == []
        with jira_server.client() as http:
            keys = search_keys(http, BUG_JQL)
            held = bugs(wb)
            assert keys and sorted(held) == sorted(keys)
            assert result.pulled == len(keys)
            for key in keys[:10]:
                f = issue(http, key)["fields"]
                b = held[key]
                assert b["title"] == f["summary"]
                assert b["body"] == (f["description"] or "")
                assert b["component"] == (f["components"][0]["name"] if f["components"] else "")
                assert b["eng_owner"] == (f["assignee"] or {}).get("name")
                assert b["target_at"] == (f"{f['duedate']}T00:00:00Z" if f["duedate"] else None)
                assert b["priority_override"] == PRIORITIES.get(f["priority"]["name"])
                cat = f["status"]["statusCategory"]["key"]
                want = {"new": "open", "indeterminate": "in_progress", "done": "fixed"}[cat]
                assert b["status"] == want
                points = f.get("customfield_10004")
                sev = "S3" if points is None else next(s for lo, s in ((8, "S1"), (5, "S2"), (2, "S3"), (0, "S4")) if points >= lo)
                assert b["severity"] == sev
        # open bugs are in the Sustaining bugs pane
        shown = {r["ref"] for r in wb.pane("bugs", limit=500)}
        assert shown == {k for k, b in held.items() if b["status"] in ("open", "in_progress")}
    finally:
        wb.close()


def test_a_second_sync_transfers_nothing(jira_server, tmp_path):
    wb = open_wb(tmp_path / "r.db", jira_config(jira_server.url))
    try:
        assert wb.sync().errors == []
        before = {ref: (b["remote_version"], b["synced_at"]) for ref, b in bugs(wb).items()}
        wb.clock = Clock(NOW.replace(hour=10))
        result = wb.sync()
        assert result.errors == [] and result.pulled == 0
        assert {ref: (b["remote_version"], b["synced_at"]) for ref, b in bugs(wb).items()} == before
    finally:
        wb.close()


def test_a_change_in_jira_arrives_alone_even_twice_in_the_same_minute(synced, jira):
    wb, http = synced
    key = sorted(bugs(wb))[3]
    http.put(f"/rest/api/2/issue/{key}", json={"fields": {"summary": "Checkout fails on retry"}}).raise_for_status()
    first_updated = issue(http, key)["fields"]["updated"]
    result = wb.sync()
    assert result.errors == [] and result.pulled == 1
    assert bugs(wb)[key]["title"] == "Checkout fails on retry"
    # a second change with the very same `updated` (jira820 stamps every write alike)
    http.put(f"/rest/api/2/issue/{key}", json={"fields": {"summary": "Checkout fails on every retry"}}).raise_for_status()
    assert issue(http, key)["fields"]["updated"] == first_updated
    result = wb.sync()
    assert result.errors == [] and result.pulled == 1
    assert bugs(wb)[key]["title"] == "Checkout fails on every retry"
    assert wb.sync().pulled == 0


def test_issues_that_left_the_jql_leave_the_pane(jira, tmp_path):
    jql = BUG_JQL + " AND statusCategory != Done"
    wb = open_wb(tmp_path / "r.db", jira_config(jira.url, mapping=bug_mapping(jql)))
    http = jira.client()
    try:
        assert wb.sync().errors == []
        keys = sorted(bugs(wb))
        done_key, deleted_key, kept_key = keys[0], keys[1], keys[2]
        transitions = http.get(f"/rest/api/2/issue/{done_key}/transitions").json()["transitions"]
        to_done = next(t["id"] for t in transitions if t["to"]["statusCategory"]["key"] == "done")
        http.post(f"/rest/api/2/issue/{done_key}/transitions", json={"transition": {"id": to_done}}).raise_for_status()
        http.delete(f"/rest/api/2/issue/{deleted_key}").raise_for_status()
        http.delete(f"/rest/api/2/issue/{kept_key}").raise_for_status()
        wb.comment_bug(kept_key, "still looking at this one")  # a local change keeps it until pushed
        result = wb.sync()
        held = bugs(wb)
        assert done_key not in held and deleted_key not in held
        assert kept_key in held
        assert sorted(held) == sorted(search_keys(http, jql) + [kept_key])
        assert any(kept_key in e for e in result.errors)  # the comment could not be sent, and says so
        shown = {r["ref"] for r in wb.pane("bugs", limit=500)}
        assert done_key not in shown and deleted_key not in shown
    finally:
        http.close()
        wb.close()


# ------------------------------------------------------------------------------ push


def test_each_push_op_reaches_jira_exactly_once(synced, tmp_path):
    wb, http = synced
    keys = sorted(bugs(wb))
    k1, k2, k3 = keys[4], keys[5], keys[6]
    add_case(wb.replica, "RT#42", "Checkout broken")
    current = bugs(wb)
    new_priority = next(p for p in ("P1", "P2") if p != current[k1]["priority_override"])
    wb.set_bug_priority(k1, new_priority)
    wb.set_bug_target(k2, "2026-03-31")
    wb.comment_bug(k3, "Customer Acme hit this twice today.")
    wb.link_case_bug("RT#42", k3)
    made = wb.create_bug("RT#42", "eng", "Export times out for large accounts", "Seen on RT#42.")
    add_case(wb.replica, "RT#43", "Export slow too")
    wb.link_case_bug("RT#43", made["ref"])  # a second case linked to the bug before Jira has it
    result = wb.sync()
    assert result.errors == [] and result.conflicts == [] and result.pushed == 6
    assert issue(http, k1)["fields"]["priority"]["name"] == {v: k for k, v in PRIORITIES.items()}[new_priority]
    assert issue(http, k2)["fields"]["duedate"] == "2026-03-31"
    assert comments(http, k3).count("Customer Acme hit this twice today.") == 1
    links = remote_links(http, k3)
    assert [link["globalId"] for link in links if link["globalId"].startswith("backline:")] == ["backline:support:RT#42"]
    created = search_keys(http, 'summary ~ "Export times out for large accounts"')
    assert len(created) == 1
    new_key = created[0]
    assert issue(http, new_key)["fields"]["description"] == "Seen on RT#42."
    assert sorted(link["globalId"] for link in remote_links(http, new_key)) == [
        "backline:support:RT#42", "backline:support:RT#43"]
    # the replica now knows the new bug by its Jira key, still linked to the cases
    held = bugs(wb)
    assert made["ref"] not in held and new_key in held
    assert {c["ref"] for c in wb.bug(new_key)["cases"]} == {"RT#42", "RT#43"}
    assert wb.pending_ops() == 0
    # and nothing is sent twice by the next syncs
    assert wb.sync().pushed == 0 and wb.sync().errors == []
    assert comments(http, k3).count("Customer Acme hit this twice today.") == 1
    assert len(search_keys(http, 'summary ~ "Export times out for large accounts"')) == 1


@pytest.mark.parametrize("action", ["comment", "link", "create_bug", "target"])
def test_a_sync_killed_between_push_and_acknowledgement_sends_nothing_twice(action, synced, tmp_path):
    wb, http = synced
    db = Path(wb.replica.path)
    key = sorted(bugs(wb))[7]
    add_case(wb.replica, "RT#7", "Slow export")
    if action == "comment":
        wb.comment_bug(key, "exactly once, please")
    elif action == "link":
        wb.link_case_bug("RT#7", key)
    elif action == "create_bug":
        wb.create_bug("RT#7", "eng", "Exports stall after a crash", "From RT#7")
    else:
        wb.set_bug_target(key, "2026-04-30")
    config = wb.config
    wb.close()
    sync_killed_after_push(db, config.sources, tmp_path)
    wb2 = open_wb(db, config)
    try:
        assert [o["state"] for o in wb2.outbox()] == ["sending"]
        result = wb2.sync()
        assert result.errors == [] and result.conflicts == [] and wb2.pending_ops() == 0
        if action == "comment":
            assert comments(http, key).count("exactly once, please") == 1
        elif action == "link":
            assert [link["globalId"] for link in remote_links(http, key)].count("backline:support:RT#7") == 1
            assert "RT#7" in {c["ref"] for c in wb2.bug(key)["cases"]}
        elif action == "create_bug":
            made = search_keys(http, 'summary ~ "Exports stall after a crash"')
            assert len(made) == 1
            assert made[0] in bugs(wb2) and not [r for r in bugs(wb2) if r.startswith("NEW-BUG-")]
        else:
            assert issue(http, key)["fields"]["duedate"] == "2026-04-30"
            assert bugs(wb2)[key]["target_at"] == "2026-04-30T00:00:00Z"
    finally:
        wb2.close()


def test_a_conflicting_change_is_said_in_words_and_jira_wins(synced):
    wb, http = synced
    key = sorted(bugs(wb))[8]
    wb.set_bug_target(key, "2026-05-01")
    # meanwhile, in Jira, someone else sets the due date
    http.put(f"/rest/api/2/issue/{key}", json={"fields": {"duedate": "2026-06-15"}}).raise_for_status()
    result = wb.sync()
    assert result.errors == []
    assert result.conflicts == [f"someone set {key}'s due date to 2026-06-15 first; your change to 2026-05-01 was not sent"]
    assert issue(http, key)["fields"]["duedate"] == "2026-06-15"
    assert bugs(wb)[key]["target_at"] == "2026-06-15T00:00:00Z"
    # a change to another field in between is no conflict for the priority
    http.put(f"/rest/api/2/issue/{key}", json={"fields": {"summary": "renamed upstream"}}).raise_for_status()
    wb.set_bug_priority(key, "P1")
    result = wb.sync()
    assert result.conflicts == [] and result.errors == []
    assert issue(http, key)["fields"]["priority"]["name"] == "Highest"


def test_a_comment_on_a_bug_outside_jira_is_refused_at_once(empty_wb):
    from backline_tui.workbench import ActionError

    empty_wb.replica.conn.execute("INSERT INTO bugs(ref, source, title, created_at, updated_at) "
                                  "VALUES ('RT#5', 'support', 'Sync drops records', '2026-01-10T00:00:00Z', "
                                  "'2026-01-10T00:00:00Z')")
    empty_wb.replica.conn.commit()
    with pytest.raises(ActionError, match="RT#5 is not in a Jira source; comment on it where it lives"):
        empty_wb.comment_bug("RT#5", "hello")
    assert empty_wb.pending_ops() == 0


def test_a_write_that_is_not_mapped_is_refused_in_one_line(jira, tmp_path):
    mapping = bug_mapping()
    del mapping["bug"]["fields"]["priority_override"]
    wb = open_wb(tmp_path / "r.db", jira_config(jira.url, mapping=mapping))
    try:
        assert wb.sync().errors == []
        key = sorted(bugs(wb))[0]
        wb.set_bug_priority(key, "P1")
        result = wb.sync()
        assert result.errors == [f"{key}: priority override is not mapped for source eng"]
    finally:
        wb.close()


# ------------------------------------------------------------------------------ check


def test_check_reports_a_correct_mapping_an_unknown_field_and_unmapped_values(jira_server):
    ok, texts, problems = check_texts(jira_config(jira_server.url))
    assert ok, problems
    assert any(t.startswith("bug: project = JIRA820 AND issuetype = Bug matches ") for t in texts)
    assert "bug.severity ← Story Points (customfield_10004)" in texts

    mapping = bug_mapping()
    mapping["bug"]["fields"]["severity"]["from"] = "Story Pionts"
    mapping["bug"]["fields"]["priority_override"]["map"] = {"Highest": "P1", "High": "P2"}
    ok, _, problems = check_texts(jira_config(jira_server.url, mapping=mapping))
    assert not ok
    assert problems == ["bug.severity: field 'Story Pionts' not found in Jira (close: Story Points)"]

    mapping["bug"]["fields"]["severity"]["from"] = "customfield_10004"
    ok, texts, _ = check_texts(jira_config(jira_server.url, mapping=mapping))
    assert ok
    unmapped = [t.split(":")[0] for t in texts if "values with no map entry" in t]
    assert sorted(unmapped) == ["bug.priority_override", "bug.status"]  # status: the rest go by category
    assert any(t.startswith("bug.priority_override: values with no map entry: Medium (") for t in texts)


def test_check_says_in_one_line_that_the_credentials_or_the_url_are_wrong(tmp_path):
    config = jira_config("http://127.0.0.1:9")
    conn = JiraConnector(config.sources[0], config, patience=Patience(attempts=2, base=0.01))
    report = conn.check()
    conn.close()
    assert not report.ok and len(report.problems) == 1
    assert report.problems[0] == ("Jira at http://127.0.0.1:9: connection broke on GET /rest/api/2/serverInfo; "
                                  "gave up for now, changes stay queued")


# ------------------------------------------------------------------------------ faults


@pytest.fixture
def proxied(jira, tmp_path):
    from tests.fault_proxy import FaultProxy

    proxy = FaultProxy(jira.url)
    yield proxy
    proxy.stop()


def sync_through(replica: Replica, config: Config, patience: Patience):
    src = config.sources[0]
    conn = JiraConnector(src, config, patience=patience)
    try:
        return sync_all(replica, config, clock=Clock(NOW), connectors={src.name: conn})
    finally:
        conn.close()


def test_a_retry_after_beyond_our_patience_ends_the_sync_at_once_in_one_line(proxied, tmp_path):
    import time

    config = jira_config(proxied.url)
    proxied.fail(lambda m, p: p.endswith("/search"), status=429, headers={"Retry-After": "600"})
    replica = Replica(tmp_path / "r.db")
    try:
        started = time.monotonic()
        result = sync_through(replica, config, Patience(budget=120))
        assert time.monotonic() - started < 10
        assert result.errors == [f"eng: Jira at {proxied.url}: rate limited (HTTP 429 on GET /rest/api/2/search); "
                                 "gave up for now, changes stay queued"]
    finally:
        replica.close()


def sent_once(wb: Workbench, config: Config, proxied, key: str, text: str) -> None:
    """The next sync sends the queued comment, and Jira holds it once."""
    result = sync_through(wb.replica, config, Patience(attempts=3, base=0.01))
    assert result.errors == [] and wb.pending_ops() == 0
    with httpx.Client(base_url=proxied.upstream) as http:
        assert comments(http, key).count(text) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_with_retry_after_are_waited_out(status, proxied, tmp_path):
    import time

    config = jira_config(proxied.url)
    proxied.fail(lambda m, p: p.endswith("/search"), times=2, status=status, headers={"Retry-After": "1"})
    replica = Replica(tmp_path / "r.db")
    try:
        started = time.monotonic()
        result = sync_through(replica, config, Patience(attempts=4, base=0.05))
        assert result.errors == [] and result.pulled > 0
        assert time.monotonic() - started >= 2.0  # both Retry-After seconds were waited
        assert [s for _, p, s in proxied.seen if p.startswith("/rest/api/2/search")][:3] == [status, status, 200]
    finally:
        replica.close()


def test_a_5xx_storm_ends_in_one_line_with_the_ops_still_queued(proxied, tmp_path):
    config = jira_config(proxied.url)
    wb = open_wb(tmp_path / "r.db", config)
    try:
        assert wb.sync().errors == []
        key = sorted(bugs(wb))[2]
        wb.comment_bug(key, "sent once the storm is over")
        proxied.fail(lambda m, p: True, status=500)
        result = sync_through(wb.replica, config, Patience(attempts=3, base=0.01))
        # the comment itself got a 500: it may have landed, so it is not repeated blindly
        assert result.errors == [f"eng: Jira at {proxied.url} failed on a change (HTTP 500 on POST "
                                 f"/rest/api/2/issue/{key}/comment); it stays queued and is checked before it is "
                                 "sent again"]
        assert [m for m, p, _ in proxied.seen if p.endswith("/comment")] == ["POST"]
        assert wb.pending_ops() == 1
        # the next sync reads first (is the comment there?): the storm ends it in one line
        proxied.seen.clear()
        result = sync_through(wb.replica, config, Patience(attempts=3, base=0.01))
        assert result.errors == [f"eng: Jira at {proxied.url} kept failing (HTTP 500 on GET "
                                 f"/rest/api/2/issue/{key}/comment); changes stay queued, try again later"]
        # a read is tried again, within patience
        assert [(m, p.split("?")[0], s) for m, p, s in proxied.seen] == [("GET", f"/rest/api/2/issue/{key}/comment", 500)] * 3
        assert wb.pending_ops() == 1
        proxied.clear()
        sent_once(wb, config, proxied, key, "sent once the storm is over")
    finally:
        wb.close()


def test_reads_are_retried_after_a_reset_but_a_write_that_timed_out_is_not_repeated(proxied, tmp_path):
    config = Config(me="alice", sources=[jira_source(proxied.url, timeout=1.0)])
    wb = open_wb(tmp_path / "r.db", config)
    try:
        proxied.fail(lambda m, p: p.endswith("/search"), times=1, reset=True)
        assert wb.sync().errors == []
        assert [s for _, p, s in proxied.seen if p.startswith("/rest/api/2/search")][:2] == [None, 200]
        key = sorted(bugs(wb))[1]
        wb.comment_bug(key, "one comment, even after a timeout")
        # the comment reaches Jira but its answer never comes back in time
        proxied.fail(lambda m, p: m == "POST" and p.endswith("/comment"), times=1, stall=2.0)
        result = sync_through(wb.replica, config, Patience(attempts=3, base=0.01))
        assert len(result.errors) == 1 and "may or may not have been applied" in result.errors[0]
        assert [m for m, p, _ in proxied.seen if p.endswith("/comment")].count("POST") == 1
        assert [o["state"] for o in wb.outbox()] == ["sending"]
        sent_once(wb, config, proxied, key, "one comment, even after a timeout")
    finally:
        wb.close()


@pytest.mark.parametrize("concurrency", [1, 3])
def test_requests_in_flight_never_exceed_the_configured_concurrency(concurrency, jira_factory, tmp_path):
    from tests.fault_proxy import FaultProxy

    slow = jira_factory(latency_ms=40)  # a slow server: requests overlap if they may
    proxy = FaultProxy(slow.url)
    config = Config(me="alice", sources=[jira_source(proxy.url, concurrency=concurrency)])
    replica = Replica(tmp_path / "r.db")
    try:
        result = sync_through(replica, config, Patience())
        assert result.errors == [] and result.pulled > 20  # a search, then each bug's remote links
        assert proxy.most_in_flight == concurrency
    finally:
        replica.close()
        proxy.stop()


def test_backoff_is_jittered_exponential_within_the_cap_and_follows_retry_after():
    slept: list[float] = []
    patience = Patience(base=0.5, cap=8, budget=10, sleep=slept.append)
    for attempt in range(6):
        samples = [patience.delay(attempt, None) for _ in range(200)]
        assert all(0.25 <= d <= min(8, 0.5 * 2 ** attempt) for d in samples)
        assert len(set(samples)) > 100  # jittered, not in lockstep with other clients
    assert max(patience.delay(5, None) for _ in range(200)) > 4  # grows with the attempt
    assert 7 <= patience.delay(0, "7") < 7.2  # Retry-After wins over the backoff
    assert patience.wait(6) and not patience.wait(6)  # the budget is for the whole sync
    assert slept == [6]
