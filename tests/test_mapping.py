"""The mapping model (sync/mapping.py) and RT's side of it (sync/rt/mapping.py), without a server."""

from __future__ import annotations

import pytest

from backline_tui.config import Config, ConfigError, SourceConfig, validate_config
from backline_tui.sync.mapping import FieldMap, write_refusal
from backline_tui.sync.rt.mapping import mapping_of, read_field


def test_value_map_ranges_default_and_the_reverse():
    sev = FieldMap.model_validate({"from": "CF.Impact", "map": {"Critical": "S1", "High": "S2"}, "default": "S3"})
    assert sev.read("critical") == ("S1", True)
    assert sev.read("Blocker") == ("S3", False)
    assert sev.read(None) == ("S3", True)
    assert sev.upstream_value("S2") == "High" and sev.upstream_value("S4") is None
    prio = FieldMap.model_validate({"from": "Priority", "ranges": [[70, "P1"], [40, "P2"], [10, "P3"], [0, "P4"]]})
    assert [prio.read(v)[0] for v in ("100", "70", "69", "10", "0")] == ["P1", "P1", "P2", "P3", "P4"]
    assert prio.upstream_value("P2") == "40"


@pytest.mark.parametrize("mapping, says", [
    ({"case": {"fields": {}}}, "sources.rt.mapping.case: Value error, say which records: queue or query"),
    ({"case": {"queue": "General", "colour": "red"}}, "sources.rt.mapping.case.colour: unknown key"),
    ({"bug": {"queue": "General", "fields": {"severity": {"from": "CF.X", "map": {"a": "S1"}, "ranges": [[0, "S1"]]}}}},
     "give either map or ranges, not both"),
])
def test_a_mapping_that_cannot_be_read_is_one_line_when_the_config_loads(mapping, says, tmp_path):
    raw = {"sources": [{"name": "rt", "kind": "rt", "url": "http://rt", "mapping": mapping}]}
    with pytest.raises(ConfigError) as err:
        validate_config(raw, tmp_path / "c.toml")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_default_mapping_is_the_projects_layout_with_the_configured_names():
    m = mapping_of(SourceConfig(name="rt", kind="rt", url="http://rt", case_queue="Support Cases"))
    assert m["case"].queue == "Support Cases" and m["help_request"].queue == "Backline Help"
    ticket = {"CustomFields": [{"name": "Severity", "values": ["S9"]}, {"name": "CustomerTier", "values": ["gold"]}],
              "Requestor": [{"id": "carol@customer.example"}]}
    assert read_field(m["case"], "case", "severity", ticket) == ("S3", "S9")  # not one of ours: the default
    assert read_field(m["case"], "case", "customer", ticket) == ("carol@customer.example", None)  # the fallback
    assert read_field(m["case"], "case", "tier", ticket) == ("standard", "gold")


def test_write_refusal_names_the_action_and_the_source():
    config = Config(sources=[
        SourceConfig(name="support", kind="rt", url="http://rt",
                     mapping={"bug": {"queue": "General", "fields": {"target_at": {"from": "Due"},
                              "priority_override": {"from": "CF.Prio", "map": {"Urgent": "P1"}}}}}),
        SourceConfig(name="files", kind="jsonl", path="x.jsonl")])
    assert write_refusal(config, "support", "bug_target") is None
    assert write_refusal(config, "support", "bug_priority", {"priority": "P1"}) is None
    assert write_refusal(config, "support", "bug_priority", {"priority": "P2"}) == \
        "priority override P2 has no value in the map of source support"
    assert write_refusal(config, "support", "claim") == \
        "claim is not mapped for source support (it maps no help requests)"
    assert write_refusal(config, "support", "note") is None  # messages need no field
    assert write_refusal(config, "files", "claim") is None  # sources without a mapping take our records as they are
    assert write_refusal(config, "demo", "claim") is None


def test_sources_check_lines_keep_hostile_upstream_text_inert():
    """Queue names, CF names and values come from the server: each line is one sanitised line."""
    from backline_tui.sync.base import CheckReport
    from backline_tui.sync.sources import report_lines
    from tests.hostile import CORPUS, INJECTIONS

    report = CheckReport("support")
    for name, text in CORPUS.items():
        report.add("warn", f"cases severity: values with no map entry: {text!r} (1) -> read as 'S3'")
        report.add("problem", f"cases: queue {text} not found in RT")
    lines = report_lines(report)
    assert len(lines) == 2 + 2 * len(CORPUS)
    for line in lines:
        assert "\n" not in line and not any(bad in line for bad in INJECTIONS), line


def test_a_case_bug_link_goes_to_each_upstream_that_holds_it():
    from backline_tui.sync.mapping import link_holders

    no_links = {"case": {"queue": "Cases", "fields": {}}}
    config = Config(sources=[
        SourceConfig(name="east", kind="rt", url="http://east"),  # the project's layout: RefersTo
        SourceConfig(name="west", kind="rt", url="http://west", mapping=no_links),
        SourceConfig(name="eng", kind="jira", url="http://jira", token_env="T",
                     mapping={"bug": {"query": "project = ENG"}})])
    assert link_holders(config, "link", "east", "eng") == ["east", "eng"]  # RT to the URL, Jira a remote link
    assert link_holders(config, "link", "east", "east") == ["east"]
    assert link_holders(config, "link", "east", "west") == ["east"]  # an RT bug elsewhere: a URL in east only
    assert link_holders(config, "link", "west", "eng") == ["eng"]  # west writes no links: Jira alone
    assert link_holders(config, "link", "west", "east") == []  # nobody can hold it: the action is refused
    assert link_holders(config, "link", "gone", "eng") == ["eng"]  # a case of a source no longer configured
    assert link_holders(config, "unlink", "east", "eng") == ["east"]  # Jira takes no unlink
