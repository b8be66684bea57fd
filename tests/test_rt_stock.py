"""A stock Request Tracker 5, as a new team runs it: RT's own "General" queue and nothing of
Backline's. An admin adds two custom fields through REST2 (Impact, a select with a value our map
lacks; Kind, which tells cases, questions and defects apart), frontline files tickets, and
Backline reads it through a mapping in the config: cases and help requests from two TicketSQL
queries, severity from a CF through a value map, priority from RT's numeric Priority by ranges.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backline_tui.cli import main
from backline_tui.clock import Clock
from backline_tui.config import load_config
from backline_tui.workbench import ActionError, Workbench
from tests.conftest import NOW
from tests.rt_server import RTServer, start_or_skip

pytestmark = pytest.mark.rt

PW_ENV = "BACKLINE_TEST_STOCK_RT"
CASES = "Queue = 'General' AND 'CF.{Kind}' = 'Case'"
QUESTIONS = "Queue = 'General' AND 'CF.{Kind}' = 'Question'"
DEFECTS = "Queue = 'General' AND 'CF.{Kind}' = 'Defect'"

MAPPING = f'''
[sources.mapping.case]
query = "{CASES}"
[sources.mapping.case.fields]
severity = {{ from = "CF.Impact", map = {{ Critical = "S1", High = "S2", Medium = "S3", Low = "S4" }}, default = "S3" }}
owner = {{ from = "Owner" }}
customer = {{ from = "Requestor" }}
status = {{ from = "Status", map = {{ new = "open", open = "open", stalled = "on_hold", resolved = "solved", rejected = "closed" }} }}

[sources.mapping.help_request]
query = "{QUESTIONS}"
[sources.mapping.help_request.fields]
priority = {{ from = "Priority", ranges = [[70, "P1"], [40, "P2"], [10, "P3"], [0, "P4"]] }}
owner = {{ from = "Owner" }}
status = {{ from = "Status", map = {{ new = "new", open = "new", stalled = "new", resolved = "resolved" }} }}

[sources.mapping.bug]
query = "{DEFECTS}"
[sources.mapping.bug.fields]
target_at = {{ from = "Due" }}
eng_owner = {{ from = "Owner" }}
'''


def config_text(url: str, mapping: str = MAPPING, password_env: str = PW_ENV) -> str:
    return (f'me = "root"\n[[sources]]\nname = "stock"\nkind = "rt"\nurl = "{url}"\nuser = "root"\n'
            f'password_env = "{password_env}"\n{mapping}')


@pytest.fixture(scope="module")
def stock(tmp_path_factory, rt_stock_template):
    os.environ[PW_ENV] = RTServer.root.password
    server = start_or_skip(RTServer(tmp_path_factory.mktemp("rt-stock"), template=rt_stock_template, seed=False))
    with server.client("root") as rt:
        # what an RT admin does through REST2: two select CFs on the General queue
        impact = rt._create("/customfield", {"Name": "Impact", "Type": "Select", "MaxValues": 1,
                                             "LookupType": "RT::Queue-RT::Ticket", "Queue": "General"})
        for value in ("Critical", "High", "Medium", "Low", "Blocker"):
            rt._create(f"/customfield/{impact}/value", {"Name": value})
        kind = rt._create("/customfield", {"Name": "Kind", "Type": "Select", "MaxValues": 1,
                                           "LookupType": "RT::Queue-RT::Ticket", "Queue": "General"})
        for value in ("Case", "Question", "Defect"):
            rt._create(f"/customfield/{kind}/value", {"Name": value})
        # what frontline files
        server.ids = {
            name: rt.create_ticket("General", subject, f"{subject}, details", cfs, requestor=req,
                                   extra={"Priority": prio})
            for name, subject, cfs, req, prio in [
                ("case1", "Checkout fails for all users", {"Kind": "Case", "Impact": "Critical"}, "carol@customer.example", 50),
                ("case2", "Export is slow", {"Kind": "Case", "Impact": "Blocker"}, "dan@customer.example", 50),
                ("q1", "How do I rotate the API key?", {"Kind": "Question"}, "fl.erin@example.com", 80),
                ("q2", "Which log shows the sync?", {"Kind": "Question"}, "fl.erin@example.com", 20),
                ("q3", "Is 2.4 supported on ARM?", {"Kind": "Question"}, "fl.finn@example.com", 0),
                ("bug1", "Export drops the last row", {"Kind": "Defect", "Impact": "High"}, None, 30),
                ("other", "Printer on floor 3", {}, "gus@example.com", 10),
            ]}
    yield server
    server.stop()


@pytest.fixture
def cfg(stock, tmp_path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(stock.url), encoding="utf-8")
    return path


def open_wb(path: Path, cfg: Path) -> Workbench:
    return Workbench.open(path, load_config(cfg), Clock(NOW))


def test_kinds_come_from_two_queries_and_fields_through_value_maps_and_ranges(stock, cfg, tmp_path):
    wb = open_wb(tmp_path / "r.db", cfg)
    try:
        result = wb.sync()
        assert result.errors == []
        ids = stock.ids
        refs = lambda table: {r["ref"] for r in wb.replica.query(f"SELECT ref FROM {table}")}  # noqa: E731
        assert refs("cases") == {f"RT#{ids['case1']}", f"RT#{ids['case2']}"}
        assert refs("help_requests") == {f"RT#{ids[q]}" for q in ("q1", "q2", "q3")}
        assert refs("bugs") == {f"RT#{ids['bug1']}"}
        case1, case2 = wb.case(f"RT#{ids['case1']}"), wb.case(f"RT#{ids['case2']}")
        assert (case1["severity"], case1["customer"]) == ("S1", "carol@customer.example")
        assert case2["severity"] == "S3"  # "Blocker" has no map entry: the default
        assert [wb.help_request(f"RT#{ids[q]}")["priority"] for q in ("q1", "q2", "q3")] == ["P1", "P3", "P4"]
        assert wb.help_request(f"RT#{ids['q1']}")["asker"] == "fl.erin@example.com"
    finally:
        wb.close()


def test_claim_respond_and_target_reach_rt_through_the_map_and_unmapped_writes_are_refused(stock, cfg, tmp_path):
    ids = stock.ids
    wb = open_wb(tmp_path / "r.db", cfg)
    try:
        wb.sync()
        q2 = f"RT#{ids['q2']}"
        wb.claim(q2)
        wb.respond(q2, "The sync writes to sync.log in the data dir.")
        wb.set_bug_target(f"RT#{ids['bug1']}", "2027-02-01")
        with pytest.raises(ActionError, match="^priority override is not mapped for source stock$"):
            wb.set_bug_priority(f"RT#{ids['bug1']}", "P1")
        assert wb.bug(f"RT#{ids['bug1']}")["priority_override"] is None
        ops = [o["op"] for o in wb.outbox()]
        assert ops == ["claim", "respond", "bug_target"]  # nothing queued for the refused action
        result = wb.sync()
        assert result.errors == [] and result.conflicts == [] and result.pushed == 3
        with stock.client("root") as rt:
            ticket, _ = rt.get_ticket(ids["q2"])
            assert ticket["Owner"]["id"] == "root"
            replies = [t for t in rt.ticket_history(ids["q2"]) if t["Type"] == "Correspond"]
            assert len(replies) == 1 and replies[0]["Creator"]["id"] == "root"
            bug, _ = rt.get_ticket(ids["bug1"])
            assert bug["Due"] == "2027-02-01T00:00:00Z"
        hr = wb.help_request(q2)
        assert (hr["status"], hr["owner"]) == ("answered", "root") and hr["first_response_at"]
    finally:
        wb.close()


def run_check(cfg: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["--config", str(cfg), "--db", str(cfg.parent / "check.db"), "sources", "check", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in out + err
    return code, out, err


def test_sources_check_of_a_correct_mapping_says_what_it_found(stock, cfg, capsys):
    code, out, err = run_check(cfg, capsys)
    print(out)
    assert code == 0 and err == ""
    assert "  ok    connected to RT 5.0.3" in out
    assert f"  ok    cases: {CASES} matches 2 tickets" in out
    assert f"  ok    help requests: {QUESTIONS} matches 3 tickets" in out
    assert "  ok    cases severity <- CF.Impact" in out
    assert "        cases tier: not mapped, takes its default: standard" in out
    assert "  warn  cases severity: values with no map entry: 'Blocker' (1) -> read as 'S3'" in out
    assert "        claim: written to Owner (take/untake)" in out
    assert "        target: written to Due" in out
    assert "        priority override: not mapped, the action is refused" in out
    assert "        articles: not mapped (none come from this source)" in out
    assert out.rstrip().endswith("=> usable")


def test_sources_check_names_a_missing_cf_and_a_wrong_queue_with_close_names(stock, cfg, capsys):
    cfg.write_text(config_text(stock.url, MAPPING.replace('"CF.Impact"', '"CF.Impct"').replace(
        f'query = "{DEFECTS}"', 'queue = "Genral"')), encoding="utf-8")
    code, out, err = run_check(cfg, capsys, "stock")
    assert code == 1
    assert "  FAIL  cases severity: custom field 'Impct' not found (close: 'Impact')" in out
    assert "  FAIL  bugs: queue 'Genral' not found in RT (close: 'General')" in out
    assert err.splitlines() == [
        "backline: stock: cases severity: custom field 'Impct' not found (close: 'Impact')",
        "backline: stock: bugs: queue 'Genral' not found in RT (close: 'General')",
    ]


@pytest.mark.parametrize("what", ["url", "password", "query"])
def test_sources_check_of_a_wrong_url_password_or_query_is_one_line(stock, cfg, capsys, what):
    url, mapping = stock.url, MAPPING
    if what == "url":
        url = "http://127.0.0.1:9"  # discard port: nothing listens
    elif what == "password":
        os.environ["BACKLINE_TEST_STOCK_WRONG"] = "not-the-password"
    else:
        mapping = MAPPING.replace(CASES, "Queue = 'General' AND")
    cfg.write_text(config_text(url, mapping, "BACKLINE_TEST_STOCK_WRONG" if what == "password" else PW_ENV),
                   encoding="utf-8")
    code, out, err = run_check(cfg, capsys)
    assert code == 1
    expected = {
        "url": "backline: stock: RT at http://127.0.0.1:9 is unreachable",
        "password": f"backline: stock: RT at {stock.url} did not accept the credentials of root",
        "query": "backline: stock: cases: TicketSQL \"Queue = 'General' AND\" is not valid: Incomplete query",
    }[what]
    assert len(err.splitlines()) == 1 and err.startswith(expected), err
