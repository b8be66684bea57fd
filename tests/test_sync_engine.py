"""The sync engine without RT: demo ops, the jsonl source, cursors, and local changes kept."""

from __future__ import annotations

import json
from pathlib import Path

from backline_tui.cli import main
from backline_tui.config import Config, SourceConfig
from backline_tui.sync.base import Batch, PushResult
from backline_tui.storage.records import write_records
from backline_tui.sync.engine import sync_all
from backline_tui.workbench import Workbench

HELP = {"type": "help_request", "ref": "F-1", "subject": "Is this a bug?", "asker": "fl.jo", "priority": "P2",
        "created_at": "2026-11-23T08:00:00Z", "updated_at": "2026-11-23T08:00:00Z"}
CASE = {"type": "case", "ref": "FC-1", "subject": "s", "customer": "Acme", "created_at": "2026-11-01T00:00:00Z",
        "updated_at": "2026-11-01T00:00:00Z", "last_activity_at": "2026-11-01T00:00:00Z"}


def test_demo_ops_are_acknowledged_locally(wb):
    from backline_tui.workbench import PaneFilter

    ref = wb.pane("help", PaneFilter(unclaimed=True), limit=50)[0]["ref"]
    wb.claim(ref)
    wb.respond(ref, "try the workaround")
    art = wb.pane("kb")[0]["ref"]
    wb.flag(art, "screenshots are outdated")
    assert wb.pending_ops() == 3
    result = wb.sync()
    assert (result.pushed, result.pulled, result.conflicts, result.errors) == (3, 0, [], [])
    assert wb.pending_ops() == 0
    assert wb.help_request(ref)["owner"] == "alice"
    assert wb.status()["last_sync"] is not None


def _jsonl_wb(tmp_path: Path, clock) -> tuple[Workbench, Path]:
    src = tmp_path / "upstream.jsonl"
    src.write_text(json.dumps(CASE) + "\n" + json.dumps({**HELP, "case_ref": "FC-1"}) + "\n", encoding="utf-8")
    config = Config(me="alice", sources=[SourceConfig(name="file", kind="jsonl", path=str(src))])
    return Workbench.open(tmp_path / "r.db", config, clock), src


def test_jsonl_source_pulls_when_the_file_changes_and_writes_ops_next_to_it(tmp_path, clock):
    wb, src = _jsonl_wb(tmp_path, clock)
    try:
        first = wb.sync()
        assert (first.pulled, first.errors) == (2, [])
        assert wb.help_request("F-1")["case"]["ref"] == "FC-1"
        assert wb.help_request("F-1")["source"] == "file"
        assert wb.sync().pulled == 0  # unchanged file: nothing transferred
        wb.claim("F-1")
        result = wb.sync()
        assert result.pushed == 1
        ops = [json.loads(x) for x in (tmp_path / "upstream.jsonl.outbox.jsonl").read_text().splitlines()]
        assert [(o["op"], o["record_ref"]) for o in ops] == [("claim", "F-1")]
        # a resend (a sync that died after writing the op) does not write it twice
        wb.replica.conn.execute("UPDATE outbox SET state = 'sending'")
        assert wb.sync().pushed == 1
        assert len((tmp_path / "upstream.jsonl.outbox.jsonl").read_text().splitlines()) == 1
    finally:
        wb.close()


class ScriptedUpstream:
    """An upstream whose pushes fail until told otherwise, and whose records change on demand."""

    name = "file"

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.version = 1
        self.accept = False
        self.pushed: list[str] = []

    def pull(self, cursors):
        if self.records and cursors.get("s") != str(self.version):
            yield Batch("s", list(self.records), str(self.version))

    def push(self, op, *, resend=False):
        if not self.accept:
            return PushResult("error", "upstream refused for now")
        self.pushed.append(op["op"])
        return PushResult("done")

    def close(self):
        pass


def test_a_pull_never_overwrites_a_local_change_still_in_the_outbox(tmp_path, clock):
    wb, _src = _jsonl_wb(tmp_path, clock)
    up = ScriptedUpstream()
    try:
        wb.sync()
        wb.claim("F-1")
        up.version = 2
        up.records = [{**HELP, "source": "file", "remote_version": "2", "subject": "Renamed upstream",
                       "owner": "bob", "status": "claimed"}]
        result = sync_all(wb.replica, wb.config, clock=wb.clock, connectors={"file": up})
        assert result.errors == ["F-1: upstream refused for now"]
        h = wb.help_request("F-1")
        assert (h["owner"], h["subject"]) == ("alice", "Is this a bug?")  # local change kept
        assert wb.pending_ops() == 0 and [o["state"] for o in wb.outbox()] == ["error"]
        # once the op went through, the next change upstream lands
        up.accept = True
        up.version = 3
        up.records = [{**HELP, "source": "file", "remote_version": "3", "subject": "Renamed upstream",
                       "owner": "alice", "status": "answered"}]
        result = sync_all(wb.replica, wb.config, clock=wb.clock, connectors={"file": up})
        assert (result.pushed, result.pulled, result.errors) == (1, 1, [])
        assert (wb.help_request("F-1")["subject"], wb.help_request("F-1")["status"]) == ("Renamed upstream", "answered")
        # the same version again is not written again, nor counted
        up.version = 4
        assert sync_all(wb.replica, wb.config, clock=wb.clock, connectors={"file": up}).pulled == 0
    finally:
        wb.close()


def test_cli_sync_without_sources_says_so(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "alice"\n')
    code = main(["--db", str(tmp_path / "x.db"), "--config", str(cfg), "sync"])
    out, err = capsys.readouterr()
    assert code == 1 and len(err.strip().splitlines()) == 1 and "no sources configured" in err


def test_cli_sync_unknown_source(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "alice"\n[[sources]]\nname = "demo"\nkind = "demo"\n')
    code = main(["--db", str(tmp_path / "x.db"), "--config", str(cfg), "sync", "--source", "nope"])
    _, err = capsys.readouterr()
    assert code == 1 and "no source named 'nope'" in err
    code = main(["--db", str(tmp_path / "x.db"), "--config", str(cfg), "sync"])
    out, err = capsys.readouterr()
    assert code == 0 and out.startswith("pulled 0, pushed 0, conflicts 0")


class ConflictingUpstream(ScriptedUpstream):
    """Someone else claimed every request first: a claim is a conflict, anything else goes in."""

    def push(self, op, *, resend=False):
        if op["op"] == "claim":
            return PushResult("conflict", f"bob claimed {op['record_ref']} first")
        self.pushed.append(op["op"])
        return PushResult("done")


def test_after_a_conflicted_claim_a_note_still_goes_out_and_a_reply_waits(tmp_path, clock):
    """The reply assumed the claim went through, so it is held back with the conflict; an
    internal note stands on its own and is sent."""
    wb, _src = _jsonl_wb(tmp_path, clock)
    up = ConflictingUpstream()
    try:
        wb.sync()
        wb.claim("F-1")
        wb.note("help_request", "F-1", "checked the logs")
        wb.respond("F-1", "please restart the agent")
        result = sync_all(wb.replica, wb.config, clock=wb.clock, connectors={"file": up})
        assert up.pushed == ["note"]
        states = {o["op"]: o["state"] for o in wb.outbox(("pending", "sending", "done", "conflict", "error"))}
        assert states == {"claim": "conflict", "note": "done", "respond": "conflict"}
        assert "bob claimed F-1 first" in result.conflicts[0]
        assert any(c.startswith("your respond on F-1 was not sent") for c in result.conflicts)
    finally:
        wb.close()


class ArticleMakingUpstream(ScriptedUpstream):
    """Files a documented draft as article KB#77 and takes every later op on it."""

    def __init__(self) -> None:
        super().__init__()
        self.accept = True
        self.ops: list[tuple[str, str]] = []

    def push(self, op, *, resend=False):
        self.ops.append((op["op"], op["record_ref"]))
        if op["op"] == "document":
            draft = op["payload"]["article_ref"]
            return PushResult("done", renames=[("article", draft, "KB#77", "77")],
                              records=[{**KB77, "source": "file", "remote_version": "2"}])
        return PushResult("done")


KB77 = {"type": "article", "ref": "KB#77", "title": "Is this a bug? No", "state": "wip", "owner": "alice",
        "created_at": "2026-11-23T08:30:00Z", "updated_at": "2026-11-23T08:30:00Z"}


def test_a_draft_filed_upstream_takes_its_ref_and_the_ops_queued_behind_it_follow(tmp_path, clock):
    """document makes DRAFT-n locally; RT files it as KB#77: the article, its links and the flag
    queued on DRAFT-n before the sync all move to KB#77."""
    wb, _src = _jsonl_wb(tmp_path, clock)
    up = ArticleMakingUpstream()
    try:
        wb.sync()
        wb.respond("F-1", "no: a known limit")
        draft = wb.document("F-1", "Is this a bug? No", "## Resolution\n\nA known limit.")["ref"]
        assert draft.startswith("DRAFT-")
        wb.flag(draft, "needs a screenshot")
        result = sync_all(wb.replica, wb.config, clock=wb.clock, connectors={"file": up})
        assert result.errors == [] and result.conflicts == []
        assert ("flag", "KB#77") in up.ops and all(ref != draft for op, ref in up.ops if op == "flag")
        assert wb.help_request("F-1")["article"]["ref"] == "KB#77"
        art = wb.article("KB#77")
        assert [h["ref"] for h in art["help_requests"]] == ["F-1"] and art["open_flags"] == 1
        assert wb.find_ref(draft) == []
    finally:
        wb.close()


def test_a_draft_whose_upstream_copy_was_pulled_first_merges_into_it(tmp_path, clock):
    """The pull brought KB#77 before the document op's answer named it: one article remains,
    holding the draft's links."""
    wb, _src = _jsonl_wb(tmp_path, clock)
    up = ArticleMakingUpstream()
    try:
        wb.sync()
        wb.respond("F-1", "no: a known limit")
        draft = wb.document("F-1", "Is this a bug? No", "## Resolution\n\nA known limit.")["ref"]
        with wb.replica.transaction() as conn:  # as a pull would write it
            write_records(conn, wb.config, [{**KB77, "source": "file", "remote_version": "1"}], strict=False)
        assert {h["ref"] for h in wb.search("bug") if h["kind"] == "article"} == {"KB#77", draft}
        result = sync_all(wb.replica, wb.config, clock=wb.clock, connectors={"file": up})
        assert result.errors == []
        assert wb.find_ref(draft) == []
        assert wb.help_request("F-1")["article"]["ref"] == "KB#77"
        assert [h["ref"] for h in wb.article("KB#77")["help_requests"]] == ["F-1"]
    finally:
        wb.close()
