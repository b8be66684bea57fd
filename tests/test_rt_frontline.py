"""What a frontline team does to a real RT 5 with RT's own tools (the `rt` command-line client,
REST2), and what Backline's replica must then hold (issue: "What RT actually holds, kept right").

Backline syncs as bob with the default mapping (sync/rt/default-mapping.toml); alice plays the
frontline engineer who asks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.rt_server import RTServer, start_or_skip

pytestmark = pytest.mark.rt

PW_ENV = "BACKLINE_TEST_FRONTLINE_BOB"


@pytest.fixture(scope="module")
def rt(tmp_path_factory, rt_template):
    os.environ[PW_ENV] = RTServer.bob.password
    server = start_or_skip(RTServer(tmp_path_factory.mktemp("rt-frontline"), template=rt_template))
    yield server
    server.stop()


def rt_cli(server: RTServer, *args: str, user: str = "alice") -> str:
    """RT's own command-line client, as a frontline engineer runs it."""
    env = {**os.environ, "RTSERVER": server.url, "RTUSER": user, "RTPASSWD": server.credentials(user).password,
           "RTCONFIG": "/dev/null"}
    proc = subprocess.run(["rt", *args], capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def rt_create(server: RTServer, queue: str, subject: str, *sets: str, user: str = "alice") -> int:
    out = rt_cli(server, "create", "-t", "ticket", "set", f"queue={queue}", f"subject={subject}", *sets, user=user)
    return int(out.split("Ticket ")[1].split()[0])


def config(server: RTServer, mapping: dict | None = None) -> Config:
    return Config(me="bob", sources=[SourceConfig(name="rt", kind="rt", url=server.url, user="bob",
                                                  password_env=PW_ENV, mapping=mapping)])


def open_wb(path: Path, server: RTServer, mapping: dict | None = None) -> Workbench:
    return Workbench.open(path, config(server, mapping), Clock(NOW))


def test_the_askers_own_follow_up_is_not_a_response(rt, tmp_path):
    tid = rt_create(rt, "Backline Help", "Sync stuck at 99%", "requestor=alice")
    rt_cli(rt, "correspond", "-m", "Any news? It is still stuck.", str(tid))  # the asker, again
    wb = open_wb(tmp_path / "r.db", rt)
    try:
        assert wb.sync().errors == []
        hr = wb.help_request(f"RT#{tid}")
        assert (hr["status"], hr["owner"], hr["first_response_at"]) == ("new", None, None)
        assert [(m["kind"], m["author"]) for m in hr["messages"]] == [("question", "alice")]
        rt_cli(rt, "correspond", "-m", "Restart the agent, then it resumes.", str(tid), user="bob")
        assert wb.sync().errors == []
        hr = wb.help_request(f"RT#{tid}")
        assert hr["status"] == "answered" and hr["first_response_at"] is not None
    finally:
        wb.close()


def test_a_case_linked_the_rt_way_is_read_and_a_link_removed_in_rt_goes(rt, tmp_path):
    case = rt_create(rt, "Backline Cases", "Customer cannot log in")
    bug = rt_create(rt, "Backline Bugs", "Login token expires early")
    help_ = rt_create(rt, "Backline Help", "Login loops back to the form", "requestor=alice")
    rt_cli(rt, "link", str(help_), "refersto", str(case))
    rt_cli(rt, "link", str(case), "refersto", str(bug))
    wb = open_wb(tmp_path / "r.db", rt)
    try:
        assert wb.sync().errors == []
        assert wb.help_request(f"RT#{help_}")["case"]["ref"] == f"RT#{case}"
        assert [b["ref"] for b in wb.case(f"RT#{case}")["bugs"]] == [f"RT#{bug}"]
        rt_cli(rt, "link", "-d", str(help_), "refersto", str(case))
        rt_cli(rt, "link", "-d", str(case), "refersto", str(bug))
        assert wb.sync().errors == []
        assert wb.help_request(f"RT#{help_}")["case"] is None
        assert wb.case(f"RT#{case}")["bugs"] == []
        assert wb.bug(f"RT#{bug}")["linked_cases_total"] == 0
    finally:
        wb.close()


def test_a_ticket_moved_to_another_queue_leaves_its_pane(rt, tmp_path):
    tid = rt_create(rt, "Backline Help", "Customer sees error 500 on export")
    wb = open_wb(tmp_path / "r.db", rt)
    try:
        assert wb.sync().errors == []
        assert wb.help_request(f"RT#{tid}")["status"] == "new"
        rt_cli(rt, "edit", f"ticket/{tid}", "set", "queue=Backline Cases")
        assert wb.sync().errors == []
        assert wb.replica.scalar("SELECT COUNT(*) FROM help_requests WHERE ref = ?", (f"RT#{tid}",)) == 0
        assert wb.case(f"RT#{tid}")["subject"] == "Customer sees error 500 on export"
    finally:
        wb.close()


def test_a_merged_ticket_folds_into_its_target(rt, tmp_path):
    target = rt_create(rt, "Backline Help", "Exports time out", "requestor=alice")
    dup = rt_create(rt, "Backline Help", "Exports time out (again)", "requestor=alice")
    rt_cli(rt, "comment", "-m", "Seen at two customers.", str(dup), user="bob")
    wb = open_wb(tmp_path / "r.db", rt)
    try:
        assert wb.sync().errors == []
        rt_cli(rt, "merge", str(dup), str(target))
        assert wb.sync().errors == []
        refs = {r["ref"] for r in wb.replica.query("SELECT ref FROM help_requests")}
        assert f"RT#{target}" in refs and f"RT#{dup}" not in refs
        # the merged ticket's note now belongs to its target, once
        assert [m["body"] for m in wb.help_request(f"RT#{target}")["messages"]] == ["Seen at two customers."]
        wb.respond(f"RT#{target}", "Fixed in 2.4.1.")
        assert wb.sync().errors == []
        assert wb.replica.scalar("SELECT COUNT(*) FROM messages WHERE body = 'Fixed in 2.4.1.'") == 1
    finally:
        wb.close()


def test_html_only_message_is_stored_as_readable_text(rt, tmp_path):
    tid = rt_create(rt, "Backline Help", "Formatting question")
    with rt.client("alice") as alice:
        alice.comment(tid, "<p>Try <b>Settings &gt; Sync</b>:</p><ul><li>pause</li><li>resume</li></ul>"
                           "<script>alert('x')</script><p>\x1b[31m[b]not markup[/b]</p>", content_type="text/html")
    wb = open_wb(tmp_path / "r.db", rt)
    try:
        assert wb.sync().errors == []
        [note] = wb.help_request(f"RT#{tid}")["messages"]
        assert "Try Settings > Sync:" in note["body"]
        assert "* pause" in note["body"] and "* resume" in note["body"]
        assert "<" not in note["body"] and "alert" not in note["body"]
    finally:
        wb.close()


def default_mapping() -> dict:
    import tomllib

    from backline_tui.sync.rt.mapping import DEFAULT_MAPPING_FILE

    return tomllib.loads(DEFAULT_MAPPING_FILE.read_text(encoding="utf-8"))


def test_each_kind_has_its_own_cursor_and_a_failed_sync_says_what_it_did(rt, tmp_path):
    """Cases and help requests read from one queue (by two queries): a sync that fails on the
    help requests keeps the cases it pulled, says it is incomplete, logs the failure; once the
    mapping is fixed the help requests still arrive, from their own cursor."""
    case = rt_create(rt, "Backline Help", "Escalated: data loss at ACME", "CF-Severity=S1")
    question = rt_create(rt, "Backline Help", "How do I read the audit log?")
    mapping = default_mapping()
    mapping["case"]["query"] = "Queue = 'Backline Help' AND 'CF.{Severity}' = 'S1'"
    del mapping["case"]["queue"]
    mapping["help_request"]["query"] = "Queue = 'Backline Help' AND 'CF.{Severity}' IS NULL AND"  # broken
    del mapping["help_request"]["queue"]
    path = tmp_path / "r.db"
    wb = open_wb(path, rt, mapping)
    try:
        result = wb.sync()
        assert len(result.errors) == 1 and "refused GET /tickets" in result.errors[0]
        assert result.pulled >= 1 and "incomplete: 1 failure" in result.summary()
        assert wb.case(f"RT#{case}")["severity"] == "S1"
        log = wb.replica.one("SELECT * FROM sync_log ORDER BY id DESC LIMIT 1")
        assert log["error"] and log["pulled"] == result.pulled
        streams = {r["stream"] for r in wb.replica.query("SELECT stream FROM sync_cursors")}
        assert f"case:query:{mapping['case']['query']}" in streams
        assert not any(s.startswith("help_request:") for s in streams)
    finally:
        wb.close()
    mapping["help_request"]["query"] = "Queue = 'Backline Help' AND 'CF.{Severity}' IS NULL"  # fixed
    wb = open_wb(path, rt, mapping)
    try:
        assert wb.sync().errors == []
        assert wb.help_request(f"RT#{question}")["subject"] == "How do I read the audit log?"
        assert wb.replica.scalar("SELECT COUNT(*) FROM help_requests WHERE ref = ?", (f"RT#{case}",)) == 0
    finally:
        wb.close()


def test_pushes_to_a_field_rt_lacks_or_the_mapping_no_longer_writes_are_refused_with_the_reason(rt, tmp_path):
    bug = rt_create(rt, "Backline Bugs", "Crash on empty export")
    mapping = default_mapping()
    mapping["bug"]["fields"]["priority_override"] = {"from": "CF.Urgency"}  # no such CF in this RT
    path = tmp_path / "r.db"
    wb = open_wb(path, rt, mapping)
    try:
        assert wb.sync().errors == []
        wb.set_bug_priority(f"RT#{bug}", "P1")
        result = wb.sync()
        assert result.errors == [f"RT#{bug}: custom field 'Urgency' does not exist in RT for RT#{bug} (source rt)"]
        assert [o["state"] for o in wb.outbox()] == ["error"]
    finally:
        wb.close()
    # an override queued while the mapping wrote it, pushed after the mapping stopped writing it
    del mapping["bug"]["fields"]["priority_override"]
    wb = open_wb(path, rt, mapping)
    try:
        wb.replica.conn.execute("UPDATE outbox SET state = 'pending'")
        result = wb.sync()
        assert result.errors == [f"RT#{bug}: priority override is not mapped for source rt"]
        with rt.client("bob") as bob:
            ticket, _ = bob.get_ticket(bug)
        assert not any(cf["name"] == "PriorityOverride" and cf["values"] for cf in ticket["CustomFields"])
    finally:
        wb.close()


def test_a_kb_draft_keeps_its_case_link_product_and_component_for_a_teammate(rt, tmp_path):
    case = rt_create(rt, "Backline Cases", "Gadget API returns 502")
    question = rt_create(rt, "Backline Help", "API 502 after upgrade", "CF-Product=Gadget", "CF-Component=API",
                         f"CF-LinkedCase={case}")
    wb = open_wb(tmp_path / "mine.db", rt)
    try:
        assert wb.sync().errors == []
        wb.respond(f"RT#{question}", "Raise the proxy timeout to 60 s.")
        draft = wb.document(f"RT#{question}")
        assert (draft["product"], draft["component"]) == ("Gadget", "API")
        result = wb.sync()
        assert result.errors == [], result.errors
        [art] = wb.replica.query("SELECT ref FROM articles WHERE ref LIKE 'KB#%' AND title = ?", (draft["title"],))
    finally:
        wb.close()
    teammate = open_wb(tmp_path / "teammate.db", rt)
    try:
        assert teammate.sync().errors == []
        a = teammate.article(art["ref"])
        assert (a["product"], a["component"], a["state"]) == ("Gadget", "API", "wip")
        assert [c["ref"] for c in a["cases"]] == [f"RT#{case}"]
        assert [h["ref"] for h in a["help_requests"]] == [f"RT#{question}"]
    finally:
        teammate.close()


def test_sources_check_finds_every_field_of_the_default_mapping_in_the_seeded_rt(rt):
    from backline_tui.sync.sources import check_source, report_lines

    cfg = config(rt)
    report = check_source(cfg.sources[0], cfg)
    text = "\n".join(report_lines(report))
    assert report.ok, text
    assert "articles: class 'Backline KB' holds " in text
    assert "  ok    articles state <- CF.KCSState" in text
    assert "  ok    help requests case ref <- RefersTo" in text and "  ok    help requests case ref <- CF.LinkedCase" in text
    assert "        claim: written to Owner (take/untake)" in text
    assert "not found" not in text
