"""Knowledge in the flow of work through the facade, on a hand-made world (tests/knowledge_world):
related knowledge, picker search, article links as reuse, unlinks, escalation, and Insights'
document rate counting linked answers."""

from __future__ import annotations

import pytest

from backline_tui.workbench import ActionError
from tests.knowledge_world import kw  # noqa: F401 (fixture)




def refs(rows) -> list[str]:
    return [r["ref"] for r in rows]


def test_related_articles_prefer_validated_same_product_and_leave_archived_out(kw):
    rel = kw.related("help_request", "HELP-1")
    got = refs(rel["articles"])
    assert got[:2] == ["KB-1", "KB-2"]  # validated before the draft at the same text match
    assert "KB-3" not in got  # archived
    assert got.index("KB-5") > got.index("KB-2") if "KB-5" in got else True  # another product comes after
    kb1 = rel["articles"][0]
    assert (kb1["state"], kb1["reuse_count"]) == ("validated", 0)
    assert kb1["excerpt"] == "Raise search.timeout to 60 s and rebuild the index."
    # and the closest answered request, with its answer
    assert [(a["ref"], a["answer"]) for a in rel["answers"]] == [
        ("HELP-2", "Raise search.timeout to 60 s, then rebuild the index.")]


def test_related_knowledge_of_a_case_and_of_a_question_nothing_answers(kw):
    assert refs(kw.related("case", "CASE-1")["articles"])[0] == "KB-1"
    rel = kw.related("help_request", "HELP-3")
    assert refs(rel["articles"]) == ["KB-4"] and rel["answers"] == []


def test_picker_finds_refs_numbers_and_words_in_any_case(kw):
    assert refs(kw.pick("bug", "proj-11"))[0] == "PROJ-11"
    assert set(refs(kw.pick("bug", "proj-11"))) == {"PROJ-11", "PROJ-110"}
    assert refs(kw.pick("bug", "1383")) == ["PROJ-1383"]
    assert refs(kw.pick("bug", "EDITOR crash")) == ["PROJ-1383"]
    assert refs(kw.pick("article", "kb-4")) == ["KB-4"]
    assert "KB-3" not in refs(kw.pick("article", "timeout"))  # archived articles are not offered
    assert refs(kw.pick("case", "acme")) == ["CASE-1"]
    assert refs(kw.pick("case", "acm")) == ["CASE-1"]  # a word of 3+ letters is a prefix
    assert kw.pick("case", "ac") == []  # a shorter one only a whole word: "a*" would read most of the index
    assert kw.pick("bug", '"[(') == []  # not a query FTS5 reads: nothing, no error


def test_linking_an_article_is_a_reuse_documents_the_request_and_is_queued(kw):
    art = kw.link_article("help_request", "HELP-1", "KB-1")
    assert (art["reuse_count"], art["last_reused_at"]) == (1, "2026-11-23T09:00:00Z")
    assert kw.help_request("HELP-1")["article"]["ref"] == "KB-1"
    [op] = kw.outbox()
    assert (op["op"], op["record_ref"], op["payload"]["article_ref"]) == ("link_article", "HELP-1", "KB-1")
    with pytest.raises(ActionError, match="already linked"):
        kw.link_article("help_request", "HELP-1", "KB-1")
    with pytest.raises(ActionError, match="archived"):
        kw.link_article("help_request", "HELP-3", "KB-3")
    # the undo takes it back, and says so upstream
    kw.unlink_article("help_request", "HELP-1", "KB-1")
    assert kw.article("KB-1")["reuse_count"] == 0 and kw.help_request("HELP-1")["article"] is None
    assert [o["op"] for o in kw.outbox()] == ["link_article", "unlink_article"]


def test_a_draft_starts_at_no_reuse_and_its_placeholders_are_known(kw):
    art = kw.document("HELP-2")
    assert art["reuse_count"] == 0 and art["last_reused_at"] is None
    assert kw.placeholders(art["ref"]) == ["Cause"]  # the answer filled the Resolution
    assert kw.placeholders("KB-1") == []
    kw.link_article("help_request", "HELP-1", art["ref"])
    assert kw.article(art["ref"])["reuse_count"] == 1


def test_escalation_drafts_a_bug_from_the_case_and_saves_it_linked_with_one_op(kw):
    draft = kw.escalation_draft("help_request", "HELP-1")  # a request escalates its case
    assert (draft["title"], draft["product"], draft["component"], draft["version"], draft["severity"]) == (
        "Flux search timeout on a big customer", "Flux", "Search", "3.1", "S2")
    assert draft["case_ref"] == "CASE-1"
    body = draft["body"]
    assert "- Customer: Acme (enterprise), case CASE-1 at S2, open" in body
    assert "Steps: search for * and wait 30 s." in body and "Searches time out after 30 s at Acme." in body
    assert "Escalated from HELP-1 (case CASE-1)" in body
    assert refs(kw.lookalike_bugs("case", "CASE-1"))[0] == "PROJ-11"

    bug = kw.escalate("help_request", "HELP-1", "Search times out for Acme", body + "\nmore")
    assert bug["ref"].startswith("NEW-BUG-") and bug["status"] == "open"
    assert (bug["product"], bug["component"], bug["severity"]) == ("Flux", "Search", "S2")
    assert [c["ref"] for c in bug["cases"]] == ["CASE-1"]
    assert bug["impact_score"] == 4 * 3 + 1  # S2 × enterprise + one customer
    assert bug["ref"] in refs(kw.pane("bugs"))
    [op] = kw.outbox()
    assert (op["op"], op["record_type"], op["record_ref"]) == ("escalate", "bug", bug["ref"])
    assert op["payload"]["case_ref"] == "CASE-1" and op["payload"]["body"].endswith("\nmore")
    with pytest.raises(ActionError, match="title"):
        kw.escalate("case", "CASE-1", "  ", "x")


def test_unlink_case_bug_then_link_again(kw):
    assert kw.bug("PROJ-11")["impact_score"] == 13
    kw.unlink_case_bug("CASE-1", "PROJ-11")
    assert kw.bug("PROJ-11")["cases"] == [] and kw.bug("PROJ-11")["impact_score"] == 0
    with pytest.raises(ActionError, match="not linked"):
        kw.unlink_case_bug("CASE-1", "PROJ-11")
    kw.link_case_bug("CASE-1", "PROJ-11")
    assert refs(kw.bug("PROJ-11")["cases"]) == ["CASE-1"]
    assert [o["op"] for o in kw.outbox()] == ["unlink", "link"]


def test_document_rate_counts_linked_answers(kw):
    """Three answered requests: HELP-3 documented in a new article, HELP-2 answered by linking
    KB-1, HELP-1 not documented. The rate goes 1/3 → 2/3 with the link."""
    kw.respond("HELP-1", "Raise the timeout.")
    kw.respond("HELP-3", "Disable the autosave plugins.")
    kw.document("HELP-3")

    def rate():
        ins = kw.insights()
        return ins.team(ins.window("2026-11-01")).overall.document_rate

    assert rate() == pytest.approx(1 / 3)
    kw.link_article("help_request", "HELP-2", "KB-1")
    assert rate() == pytest.approx(2 / 3)


def test_a_drafts_source_link_stays_no_reuse_through_export_and_import(kw, tmp_path, config, clock):
    from backline_tui.domain.models import RECORD_ADAPTER
    from backline_tui.storage import export, records
    from backline_tui.workbench import Workbench

    draft = kw.document("HELP-2")["ref"]
    kw.link_article("help_request", "HELP-1", draft)
    rows = [RECORD_ADAPTER.validate_python(r).model_dump() for r in export.export_rows(kw.replica.conn)]
    links = {(r["from_ref"], r["to_ref"]): r["reuse"] for r in rows if r["type"] == "link" and r["from_ref"] == draft}
    assert links == {(draft, "HELP-2"): False, (draft, "HELP-1"): True}
    other = Workbench.open(tmp_path / "other.db", config, clock)
    try:
        with other.replica.transaction() as conn:
            records.write_records(conn, other.config, rows)
        assert other.article(draft)["reuse_count"] == 1
    finally:
        other.close()


def test_escalate_and_create_bug_write_bugs_the_same_way_and_escalation_goes_to_the_bug_tracker(kw):
    from backline_tui.config import Config, SourceConfig

    # no bug tracker configured: the bug stays in the case's own source
    assert kw.escalation_draft("case", "CASE-1")["source"] == "local"
    # with a Jira source that maps bugs, escalation files there by default
    kw.config = Config(me="alice", sources=[
        SourceConfig(name="support", kind="rt", url="http://127.0.0.1:9"),
        SourceConfig(name="eng", kind="jira", url="http://127.0.0.1:9", mapping={"bug": {"queue": "ENG"}})])
    assert kw.escalation_draft("help_request", "HELP-1")["source"] == "eng"
    escalated = kw.escalate("case", "CASE-1", "Search times out for Acme", "body", severity="S1")
    filed = kw.create_bug("CASE-1", "eng", "Search index corrupt", "seen on CASE-1")
    for bug in (escalated, filed):
        assert bug["ref"].startswith("NEW-BUG-") and (bug["source"], bug["status"]) == ("eng", "open")
        assert [c["ref"] for c in bug["cases"]] == ["CASE-1"] and bug["impact_score"] > 0
    assert (escalated["severity"], filed["severity"]) == ("S1", "S2")  # the draft's edit; the case's
    assert [(o["op"], o["record_ref"], o["source"]) for o in kw.outbox()] == [
        ("escalate", escalated["ref"], "eng"), ("create_bug", filed["ref"], "eng")]
    with pytest.raises(ActionError, match="no source named 'nowhere'"):
        kw.escalate("case", "CASE-1", "Elsewhere", "x", source="nowhere")


def test_a_request_without_a_case_escalates_into_an_unlinked_bug(kw):
    draft = kw.escalation_draft("help_request", "HELP-3")
    assert draft["case_ref"] is None and "No customer case yet" in draft["body"]
    bug = kw.escalate("help_request", "HELP-3", draft["title"], draft["body"])
    assert (bug["product"], bug["component"], bug["severity"], bug["cases"]) == ("Widget", "Editor", "S3", [])
    [op] = kw.outbox()
    assert (op["op"], op["payload"]["case_ref"], op["payload"]["from_ref"]) == ("escalate", None, "HELP-3")


def test_no_bug_is_filed_in_a_jira_source_that_maps_no_bugs(kw):
    from backline_tui.config import Config, SourceConfig

    # a Jira project used only as a help queue holds the request; nothing maps bugs anywhere
    kw.config = Config(me="alice", sources=[SourceConfig(
        name="desk", kind="jira", url="http://127.0.0.1:9", mapping={"help_request": {"queue": "DESK"}})])
    with kw.replica.transaction() as conn:
        conn.execute("UPDATE help_requests SET source = 'desk' WHERE ref = 'HELP-3'")
    with pytest.raises(ActionError, match="desk maps no bugs"):  # said before the form opens
        kw.escalation_draft("help_request", "HELP-3")
    with pytest.raises(ActionError, match="desk maps no bugs"):
        kw.create_bug("CASE-1", "desk", "Search index corrupt", "")
    assert kw.outbox() == [] and not [b for b in kw.pane("bugs") if b["ref"].startswith("NEW-BUG-")]
