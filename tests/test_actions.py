"""Every workbench action: what the replica holds after it, the outbox op it queues, and its refusals."""

import json

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.storage import Replica
from backline_tui.workbench import ActionError, Workbench

from tests import factories as F


@pytest.fixture
def setup(tmp_path, now):
    path = tmp_path / "a.db"
    r = Replica(path)
    F.load(
        r, Config(me="alice"),
        cases=[F.case("C-1", severity="S1", tier="enterprise", last_activity_at=F.ago(days=4), owner="fl.ana",
                      version="2.3"),
               F.case("C-closed", status="closed")],
        bugs=[F.bug("PROJ-1")],
        articles=[F.article("KB-1", state="wip"), F.article("KB-2"), F.article("KB-old", state="archived")],
        help_requests=[F.help_request("H-new", case_ref="C-1", body="Customer sees error 42 on save"),
                       F.help_request("H-bob", owner="bob", status="claimed"),
                       F.help_request("H-done", status="resolved", owner="alice", article_ref="KB-2")],
    )
    r.close()
    wb = Workbench.open(path, Config(me="alice"), Clock(now))
    yield wb, path
    wb.close()


def fresh(path, field, table, ref):
    """Read back through a new connection: what is really on disk."""
    r = Replica(path)
    try:
        return r.scalar(f"SELECT {field} FROM {table} WHERE ref = ?", (ref,))
    finally:
        r.close()


def ops(path):
    r = Replica(path)
    try:
        return [(o["op"], o["record_ref"], json.loads(o["payload"])) for o in r.query("SELECT * FROM outbox ORDER BY id")]
    finally:
        r.close()


def test_claim_takes_an_unowned_request(setup):
    wb, path = setup
    row = wb.claim("H-new")
    assert row["owner"] == "alice" and row["status"] == "claimed"
    assert fresh(path, "owner", "help_requests", "H-new") == "alice"
    assert ops(path) == [("claim", "H-new", {})]


@pytest.mark.parametrize("ref,message", [
    ("H-bob", "already claimed by bob"),
    ("H-done", "already resolved"),
])
def test_claim_refusals_change_nothing(setup, ref, message):
    wb, path = setup
    with pytest.raises(ActionError, match=message):
        wb.claim(ref)
    assert ops(path) == []


def test_claiming_what_is_already_mine_is_refused(setup):
    wb, path = setup
    wb.claim("H-new")
    with pytest.raises(ActionError, match="already yours"):
        wb.claim("H-new")
    assert len(ops(path)) == 1


def test_unclaim_gives_it_back(setup):
    wb, path = setup
    wb.claim("H-new")
    row = wb.unclaim("H-new")
    assert row["owner"] is None and row["status"] == "new"
    assert [o[0] for o in ops(path)] == []  # a claim taken back before any sync: no op pair
    with pytest.raises(ActionError, match="not yours to unclaim"):
        wb.unclaim("H-bob")


def test_respond_answers_claims_and_stamps_first_response(setup, now):
    wb, path = setup
    row = wb.respond("H-new", "Known issue; disable autosave.")
    assert row["status"] == "answered" and row["owner"] == "alice"
    assert row["first_response_at"] == F.ago(now, seconds=0)
    assert [m["body"] for m in row["messages"]] == ["Known issue; disable autosave."]
    assert [o[0] for o in ops(path)] == ["claim", "respond"]
    # a second reply keeps the first response time
    later = Workbench.open(path, Config(me="alice"), Clock(F.parse_ts("2026-11-23T10:00:00Z")))
    row = later.respond("H-new", "Also: upgrade to 2.4.")
    assert row["first_response_at"] == F.ago(now, seconds=0)
    assert len(row["messages"]) == 2


def test_respond_refusals(setup):
    wb, path = setup
    with pytest.raises(ActionError, match="needs some text"):
        wb.respond("H-new", "   ")
    with pytest.raises(ActionError, match="claimed by bob"):
        wb.respond("H-bob", "hi")
    with pytest.raises(ActionError, match="resolved"):
        wb.respond("H-done", "hi")
    assert ops(path) == []


def test_internal_note_on_request_and_case(setup):
    wb, path = setup
    wb.note("help_request", "H-bob", "bob is out today")
    wb.note("case", "C-1", "linked to PROJ-1?")
    assert fresh(path, "status", "help_requests", "H-bob") == "claimed"  # notes change no status
    r = Replica(path)
    kinds = r.query("SELECT parent_type, kind, author FROM messages ORDER BY id")
    assert kinds == [{"parent_type": "help_request", "kind": "note", "author": "alice"},
                     {"parent_type": "case", "kind": "note", "author": "alice"}]
    assert [o[0] for o in ops(path)] == ["note", "note"]


def test_resolve_and_refusal(setup, now):
    wb, path = setup
    wb.claim("H-new")
    row = wb.resolve("H-new")
    assert row["status"] == "resolved" and row["resolved_at"]
    with pytest.raises(ActionError, match="already resolved"):
        wb.resolve("H-new")
    with pytest.raises(ActionError, match="claimed by bob"):
        wb.resolve("H-bob")


def test_document_creates_a_linked_wip_article_in_kcs_layout(setup):
    wb, path = setup
    wb.respond("H-new", "Disable autosave until 2.4.")
    title, body = wb.draft_article("H-new")
    assert "Customer sees error 42 on save" in body and "Disable autosave until 2.4." in body
    assert "2.3" in body  # the linked case's version is the environment
    art = wb.document("H-new", title, body)
    assert art["state"] == "wip" and art["owner"] == "alice"
    assert [h["ref"] for h in art["help_requests"]] == ["H-new"]
    assert [c["ref"] for c in art["cases"]] == ["C-1"]
    hr = wb.help_request("H-new")
    assert hr["article"]["ref"] == art["ref"]
    assert ops(path)[-1][0] == "document"
    with pytest.raises(ActionError, match=f"already documented in {art['ref']}"):
        wb.document("H-new", "again", "x")
    with pytest.raises(ActionError, match="already documented in KB-2"):
        wb.document("H-done")


def test_offer_help_on_a_stale_case(setup):
    wb, path = setup
    text = wb.offer_text("C-1")
    assert "fl.ana" in text and "4 days" in text
    case = wb.offer_help("C-1")
    assert case["offered_by_me"]
    assert case["messages"][-1]["kind"] == "offer"
    assert ops(path) == [("offer_help", "C-1", {"message_id": case["messages"][-1]["id"], "body": text, "to": "fl.ana"})]
    with pytest.raises(ActionError, match="already offered"):
        wb.offer_help("C-1")
    with pytest.raises(ActionError, match="closed"):
        wb.offer_help("C-closed")


def test_bug_priority_override_target_and_link(setup, now):
    wb, path = setup
    assert wb.bug("PROJ-1")["priority"] == "P4"
    assert wb.set_bug_priority("PROJ-1", "P1")["priority"] == "P1"
    with pytest.raises(ActionError, match="already P1"):
        wb.set_bug_priority("PROJ-1", "P1")
    with pytest.raises(ActionError, match="must be one of"):
        wb.set_bug_priority("PROJ-1", "P9")
    assert wb.set_bug_priority("PROJ-1", None)["priority"] == "P4"
    bug = wb.set_bug_target("PROJ-1", "2026-12-01")
    assert bug["target"] == "2026-12-01T00:00:00Z" and bug["target_state"] == ""
    with pytest.raises(ActionError, match="not a date"):
        wb.set_bug_target("PROJ-1", "next week")
    bug = wb.link_case_bug("C-1", "PROJ-1")
    assert bug["impact_score"] == 8 * 3 + 1 and bug["case_count"] == 1
    assert fresh(path, "impact_score", "bugs", "PROJ-1") == 25
    with pytest.raises(ActionError, match="already linked"):
        wb.link_case_bug("C-1", "PROJ-1")
    # the override and its removal cancel out before any sync
    assert [o[0] for o in ops(path)] == ["bug_target", "link"]


def test_article_validate_flag_unflag_review_archive(setup, now):
    wb, path = setup
    art = wb.validate("KB-1")
    assert art["state"] == "validated" and art["review_due_at"] == F.ago(now, days=-180)
    with pytest.raises(ActionError, match="already validated"):
        wb.validate("KB-1")
    with pytest.raises(ActionError, match="needs a reason"):
        wb.flag("KB-1", " ")
    art = wb.flag("KB-1", "Steps changed in 3.0")
    assert art["open_flags"] == 1 and art["reasons"][0] == "flagged"
    art = wb.unflag("KB-1")
    assert art["open_flags"] == 0
    with pytest.raises(ActionError, match="no open flag"):
        wb.unflag("KB-1")
    wb.flag("KB-1", "again")
    art = wb.mark_reviewed("KB-1")
    assert art["open_flags"] == 0 and art["last_reviewed_at"] == F.ago(now, seconds=0)
    art = wb.archive("KB-1")
    assert art["state"] == "archived" and art["reasons"] == []
    with pytest.raises(ActionError, match="already archived"):
        wb.archive("KB-1")
    with pytest.raises(ActionError, match="archived"):
        wb.validate("KB-old")
    # the first flag and its unflag cancel out before any sync
    assert [o[0] for o in ops(path)] == ["validate", "flag", "review", "archive"]


def test_unknown_records_are_refused_in_words(setup):
    wb, _ = setup
    with pytest.raises(ActionError, match="help request H-nope is not in the replica"):
        wb.claim("H-nope")


def test_an_action_that_fails_midway_leaves_no_trace(setup, monkeypatch):
    wb, path = setup

    def boom(*a, **k):
        raise RuntimeError("disk full")

    import backline_tui.workbench.core as core

    monkeypatch.setattr(core.outbox, "enqueue", boom)  # the write went in; the op fails after it
    with pytest.raises(RuntimeError):
        wb.claim("H-new")
    assert fresh(path, "owner", "help_requests", "H-new") is None


def test_status_counts_pending_ops(setup):
    wb, _ = setup
    wb.claim("H-new")
    st = wb.status()
    assert st["me"] == "alice" and st["pending"] == 1 and st["last_sync"] is None
