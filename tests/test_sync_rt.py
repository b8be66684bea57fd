"""Sync with a real Request Tracker 5 on 127.0.0.1 (tests/rt_server.py).

One private RT for this module, filled through rt_client with a few hundred tickets and
articles; a replica synced from it once is copied for each test that needs one.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.storage import Replica
from backline_tui.sync.rt.client import custom_fields
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.rt_server import RTServer, start_or_skip

pytest_plugins = ["tests.rt_server"]
pytestmark = pytest.mark.rt

REPO = Path(__file__).resolve().parent.parent
N_BUGS, N_CASES, N_HELP, N_ARTICLES = 8, 30, 45, 120
PW_ENV = {"alice": "BACKLINE_TEST_RT_ALICE", "bob": "BACKLINE_TEST_RT_BOB"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_config(url: str, me: str = "alice", env: str | None = None) -> Config:
    return Config(me=me, sources=[SourceConfig(name="rt", kind="rt", url=url, user=me,
                                               password_env=env or PW_ENV[me])])


def write_config(path: Path, url: str, me: str = "alice", env: str | None = None) -> Path:
    path.write_text(
        f'me = "{me}"\n[[sources]]\nname = "rt"\nkind = "rt"\nurl = "{url}"\nuser = "{me}"\n'
        f'password_env = "{env or PW_ENV[me]}"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rt(tmp_path_factory, rt_template):
    os.environ[PW_ENV["alice"]] = RTServer.alice.password
    os.environ[PW_ENV["bob"]] = RTServer.bob.password
    server = start_or_skip(RTServer(tmp_path_factory.mktemp("rt-sync"), template=rt_template))
    _quiet_notifications(server)
    yield server
    server.stop()


def _quiet_notifications(server: RTServer) -> None:
    """Turn off RT's mail scrips (notify, autoreply) in this private RT: composing those mails is
    half of what a ticket creation costs, and the sync never reads them. The other scrips (a
    reply opens a new ticket, ...) stay on. Best effort: without it the setup is only slower."""
    script = (
        "use strict; use lib '/usr/share/request-tracker5/lib'; use RT; RT::LoadConfig(); RT::Init();"
        "my $s = RT::Scrips->new(RT->SystemUser); $s->UnLimit;"
        "while (my $x = $s->Next) { $x->SetDisabled(1) if $x->ActionObj->Name =~ /^(Notify|Autoreply)/ }"
    )
    env = {**os.environ, "RT_SITE_CONFIG": str(server.data_dir / "RT_SiteConfig.pm"),
           "RT_SITE_CONFIG_DIR": str(server.data_dir / "siteconfig.d")}
    subprocess.run(["perl", "-e", script], env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def seeded(rt):
    """Bugs, cases linked to bugs, help requests (some linked to cases, claimed, answered, with
    notes), and KB articles with flags, created in RT through rt_client, 4 at a time."""
    clients = [rt.client("alice") for _ in range(4)]
    pool = ThreadPoolExecutor(4)

    def run(fn, items):
        return list(pool.map(lambda ix: fn(clients[ix[0] % 4], ix[1]), enumerate(items)))

    bugs = run(lambda c, i: c.create_ticket(
        "Backline Bugs", f"Bug {i}: Sync drops records", f"bug body {i}",
        {"Product": "Widget", "Component": "Sync", "Severity": f"S{i % 4 + 1}", "FixVersion": "2.5"},
        due="2027-01-15T00:00:00Z" if i % 3 == 0 else None), range(N_BUGS))
    cases = run(lambda c, i: c.create_ticket(
        "Backline Cases", f"Case {i}: customer sees error", f"case body {i}",
        {"Product": "Gadget", "Component": "API", "Version": "3.1", "Severity": f"S{i % 4 + 1}",
         "Customer": f"Customer {i % 7}", "CustomerTier": ("enterprise", "business", "standard")[i % 3]},
        requestor="carol@customer.example" if i % 4 == 0 else None, status="open",
        extra={"RefersTo": [bugs[i % N_BUGS]]} if i % 2 == 0 else None), range(N_CASES))
    helps = run(lambda c, i: c.create_ticket(
        "Backline Help", f"Help {i}: what now? [b]x[/b]", f"question {i}\nline two",
        {"Product": "Gadget", "Component": "API", "HelpPriority": f"P{i % 4 + 1}", "Asker": f"fl.{i % 9}",
         **({"LinkedCase": str(cases[i % N_CASES])} if i % 3 == 0 else {})}), range(N_HELP))
    # a third of the requests claimed and answered by bob, some with a note
    with rt.client("bob") as bob:
        for i in range(0, N_HELP, 3):
            bob.take(helps[i])
            bob.correspond(helps[i], f"answer {i}")
            if i % 2 == 0:
                bob.comment(helps[i], f"note {i}")
    arts = run(lambda c, i: c.create_article(
        "Backline KB", f"Article {i}", "", f"# KB {i}\nResolution text {i}",
        {"KCSState": ("wip", "not_validated", "validated")[i % 3], "ArticleOwner": "bob",
         "ReviewDue": "2027-03-01T00:00:00Z",
         "Flags": json.dumps([{"who": "bob", "reason": f"outdated {i}", "at": "2026-11-01T10:00:00Z"}]) if i % 5 == 0 else "[]"}),
        range(N_ARTICLES))
    pool.shutdown()
    for c in clients:
        c.close()
    return {"bugs": bugs, "cases": cases, "helps": helps, "articles": arts}


@pytest.fixture(scope="module")
def synced_db(rt, seeded, tmp_path_factory):
    """A replica after the first sync (and the figures of that sync)."""
    path = tmp_path_factory.mktemp("synced") / "alice.db"
    wb = Workbench.open(path, make_config(rt.url), Clock(NOW))
    first = wb.sync()
    second = wb.sync()
    wb.replica.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wb.close()
    return path, first, second


def copy_db(src: Path, dest_dir: Path, name: str = "replica.db") -> Path:
    dest = dest_dir / name
    shutil.copy(src, dest)
    return dest


def open_wb(path: Path, url: str, me: str = "alice") -> Workbench:
    return Workbench.open(path, make_config(url, me), Clock(NOW))


# ------------------------------------------------------------------------------------ pull


def test_first_sync_lands_every_record_with_fields_messages_and_links(rt, seeded, synced_db, tmp_path):
    path, first, second = synced_db
    total = N_BUGS + N_CASES + N_HELP + N_ARTICLES
    assert first.errors == [] and first.conflicts == []
    assert first.pulled == total
    print(f"\nfirst sync: {total} records in {first.seconds:.2f}s ({total / first.seconds:.0f} records/s); "
          f"no-op sync {second.seconds:.2f}s")
    wb = open_wb(copy_db(path, tmp_path), rt.url)
    try:
        r = wb.replica
        assert r.scalar("SELECT COUNT(*) FROM help_requests") == N_HELP
        assert r.scalar("SELECT COUNT(*) FROM cases") == N_CASES
        assert r.scalar("SELECT COUNT(*) FROM bugs") == N_BUGS
        assert r.scalar("SELECT COUNT(*) FROM articles") == N_ARTICLES
        # a request answered by bob, with his reply and note, linked to its case
        h0 = wb.help_request(f"RT#{seeded['helps'][0]}")
        assert h0["subject"] == "Help 0: what now? [b]x[/b]"
        assert h0["body"] == "question 0\nline two"
        assert (h0["status"], h0["owner"], h0["priority"], h0["asker"]) == ("answered", "bob", "P1", "fl.0")
        assert h0["first_response_at"] is not None
        assert h0["case"]["ref"] == f"RT#{seeded['cases'][0]}"
        kinds = [(m["kind"], m["author"], m["body"]) for m in h0["messages"]]
        assert kinds == [("reply", "bob", "answer 0"), ("note", "bob", "note 0")]
        h1 = wb.help_request(f"RT#{seeded['helps'][1]}")
        assert (h1["status"], h1["owner"], h1["priority"], h1["messages"]) == ("new", None, "P2", [])
        # cases with their CFs and bug links; bug impact computed from them
        c0 = wb.case(f"RT#{seeded['cases'][0]}")
        assert (c0["customer"], c0["tier"], c0["severity"], c0["version"], c0["status"]) == (
            "Customer 0", "enterprise", "S1", "3.1", "open")
        assert [b["ref"] for b in c0["bugs"]] == [f"RT#{seeded['bugs'][0]}"]
        b0 = wb.bug(f"RT#{seeded['bugs'][0]}")
        assert b0["target_at"] == "2027-01-15T00:00:00Z" and b0["fix_version"] == "2.5"
        assert b0["linked_cases_total"] == len([i for i in range(0, N_CASES, 2) if i % N_BUGS == 0])
        assert b0["impact_score"] > 0
        assert r.scalar("SELECT COUNT(*) FROM case_bugs") == N_CASES // 2
        # articles with their KCS state, owner, review date and flags
        a0 = wb.article(f"KB#{seeded['articles'][0]}")
        assert (a0["state"], a0["owner"], a0["review_due_at"]) == ("wip", "bob", "2027-03-01T00:00:00Z")
        assert [(f["who"], f["reason"]) for f in a0["flags"]] == [("bob", "outdated 0")]
        assert wb.article(f"KB#{seeded['articles'][2]}")["state"] == "validated"
        assert r.scalar("SELECT COUNT(*) FROM messages") == len(range(0, N_HELP, 3)) + len(range(0, N_HELP, 6))
        # every record remembers the RT version it was pulled at
        assert r.scalar("SELECT COUNT(*) FROM help_requests WHERE remote_version IS NULL") == 0
    finally:
        wb.close()


def test_second_sync_transfers_nothing_and_a_change_in_rt_arrives_alone(rt, seeded, synced_db, tmp_path):
    path, _first, second = synced_db
    assert (second.pulled, second.pushed, second.errors) == (0, 0, [])
    wb = open_wb(copy_db(path, tmp_path), rt.url)
    try:
        assert wb.sync().pulled == 0
        target = seeded["helps"][4]
        with rt.client("bob") as bob:
            bob.update_ticket(target, {"CustomFields": {"HelpPriority": "P1"}})
            bob.take(target)
        result = wb.sync()
        assert result.pulled == 1 and result.errors == []
        h = wb.help_request(f"RT#{target}")
        assert (h["priority"], h["owner"], h["status"]) == ("P1", "bob", "claimed")
        assert wb.sync().pulled == 0
        with rt.client("bob") as bob:
            bob.untake(target)
    finally:
        wb.close()


# ------------------------------------------------------------------------------------ push


def test_offline_actions_are_queued_survive_a_restart_and_reach_rt_once(rt, seeded, synced_db, tmp_path):
    db = copy_db(synced_db[0], tmp_path)
    closed = f"http://127.0.0.1:{_free_port()}"
    help_ref = f"RT#{seeded['helps'][1]}"
    case_ref = f"RT#{seeded['cases'][1]}"   # odd case: not linked to a bug yet
    bug_ref = f"RT#{seeded['bugs'][2]}"
    wb = open_wb(db, closed)
    wb.claim(help_ref)
    wb.respond(help_ref, "Try the 2.5 build — it fixes the sync drop.\nThanks!")
    wb.note("help_request", help_ref, "internal: seen twice this week")
    draft = wb.document(help_ref, "Sync drops records on 2.4", "Issue: ...\nResolution: upgrade")["ref"]
    wb.set_bug_priority(bug_ref, "P1")
    wb.set_bug_target(bug_ref, "2027-02-01")
    wb.link_case_bug(case_ref, bug_ref)
    ops = wb.pending_ops()
    assert ops >= 7
    offline = wb.sync()
    assert offline.pushed == 0 and len(offline.errors) == 1 and "unreachable" in offline.errors[0]
    assert wb.pending_ops() == ops
    wb.close()

    wb = open_wb(db, rt.url)  # the app was closed and opened again, RT is back
    assert wb.pending_ops() == ops
    result = wb.sync()
    assert result.errors == [] and result.conflicts == [] and result.pushed == ops
    assert wb.pending_ops() == 0
    again = wb.sync()
    assert (again.pushed, again.errors) == (0, [])

    tid = seeded["helps"][1]
    with rt.client("root") as root:
        ticket, _ = root.get_ticket(tid)
        assert ticket["Owner"]["id"] == "alice"
        history = root.ticket_history(tid, fields="Type,Creator")
        assert [t["Type"] for t in history].count("Correspond") == 1
        assert [t["Type"] for t in history].count("Comment") == 1
        texts = [a["Content"] for a in root.ticket_attachments(tid)]
        assert "Try the 2.5 build — it fixes the sync drop.\nThanks!" in [t.rstrip("\n") for t in texts]
        links = root.links_of(ticket)
        assert len([x for x in links["RefersTo"]]) == 1
        bug, _ = root.get_ticket(seeded["bugs"][2])
        assert custom_fields(bug)["PriorityOverride"] == ["P1"]
        assert bug["Due"] == "2027-02-01T00:00:00Z"
        case, _ = root.get_ticket(seeded["cases"][1])
        assert seeded["bugs"][2] in root.links_of(case)["RefersTo"]
    # the draft is now the RT article, linked to the request; the reply kept one copy locally
    h = wb.help_request(help_ref)
    assert h["article"]["ref"].startswith("KB#") and h["article"]["ref"] != draft
    assert wb.replica.scalar("SELECT COUNT(*) FROM articles WHERE ref = ?", (draft,)) == 0
    art = wb.article(h["article"]["ref"])
    assert art["title"] == "Sync drops records on 2.4" and art["owner"] == "alice"
    assert [m["kind"] for m in h["messages"]] == ["reply", "note"]
    assert all(m["ref"].startswith(f"{help_ref}/txn/") for m in h["messages"])
    assert (h["status"], h["owner"]) == ("answered", "alice")
    wb.close()


def test_alice_and_bob_claim_the_same_request(rt, seeded, synced_db, tmp_path):
    ref = f"RT#{seeded['helps'][7]}"
    alice = open_wb(copy_db(synced_db[0], tmp_path, "alice.db"), rt.url, "alice")
    bob = open_wb(copy_db(synced_db[0], tmp_path, "bob.db"), rt.url, "bob")
    try:
        alice.claim(ref)
        bob.claim(ref)
        bob.respond(ref, "bob's answer")
        assert alice.sync().conflicts == []
        result = bob.sync()
        assert result.conflicts[0] == f"alice claimed {ref} first"
        conflicts = bob.conflicts()
        assert [c["op"] for c in conflicts] == ["claim", "respond"]
        assert conflicts[0]["last_error"] == f"alice claimed {ref} first"
        assert bob.help_request(ref)["owner"] == "alice"  # the replica took RT's state
        with rt.client("root") as root:
            ticket, _ = root.get_ticket(seeded["helps"][7])
            assert ticket["Owner"]["id"] == "alice"
            assert "Correspond" not in [t["Type"] for t in root.ticket_history(seeded["helps"][7], fields="Type")]
    finally:
        alice.close()
        bob.close()


def test_a_sync_killed_after_pushing_a_reply_does_not_post_it_twice(rt, seeded, synced_db, tmp_path):
    db = copy_db(synced_db[0], tmp_path)
    cfg = write_config(tmp_path / "config.toml", rt.url)
    ref = f"RT#{seeded['helps'][10]}"
    wb = open_wb(db, rt.url)
    wb.respond(ref, "exactly once, please")
    wb.close()
    env = {**os.environ, "BACKLINE_SYNC_CRASH": "after_push", "BACKLINE_NOW": "2026-11-23T09:00:00Z"}
    proc = subprocess.run([sys.executable, "-m", "backline_tui", "--db", str(db), "--config", str(cfg), "sync"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    wb = open_wb(db, rt.url)
    try:
        states = [(o["op"], o["state"]) for o in wb.outbox()]
        assert ("claim", "sending") in states or ("respond", "pending") in states
        result = wb.sync()
        assert result.errors == [] and wb.pending_ops() == 0
        with rt.client("root") as root:
            tid = seeded["helps"][10]
            replies = [a for a in root.ticket_attachments(tid) if (a.get("Content") or "").strip() == "exactly once, please"]
            assert len(replies) == 1
        # and a crash right after the reply itself went out
        wb.respond(ref, "second reply, also once")
    finally:
        wb.close()
    proc = subprocess.run([sys.executable, "-m", "backline_tui", "--db", str(db), "--config", str(cfg), "sync"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9
    wb = open_wb(db, rt.url)
    try:
        assert [(o["op"], o["state"]) for o in wb.outbox()] == [("respond", "sending")]
        assert wb.sync().errors == []
        with rt.client("root") as root:
            bodies = [(a.get("Content") or "").strip() for a in root.ticket_attachments(seeded["helps"][10])]
            assert bodies.count("second reply, also once") == 1
            assert bodies.count("exactly once, please") == 1
        assert [m["body"] for m in wb.help_request(ref)["messages"]] == ["exactly once, please", "second reply, also once"]
    finally:
        wb.close()


# ------------------------------------------------------------------------------- failures


class _Answer500(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b'{"message":"Internal Server Error"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def http_500():
    server = HTTPServer(("127.0.0.1", 0), _Answer500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _cli_sync(db: Path, cfg: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backline_tui", "--db", str(db), "--config", str(cfg), "sync"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "BACKLINE_WRONG_PW": "not-the-password"})


@pytest.mark.parametrize("case", ["bad password", "rt down", "http 500"])
def test_sync_failures_end_with_one_clear_line_and_lose_nothing(case, rt, seeded, synced_db, tmp_path, http_500):
    db = copy_db(synced_db[0], tmp_path)
    wb = open_wb(db, rt.url)
    wb.claim(f"RT#{seeded['helps'][13]}")
    wb.respond(f"RT#{seeded['helps'][13]}", "queued reply")
    wb.close()
    if case == "bad password":
        cfg = write_config(tmp_path / "c.toml", rt.url, env="BACKLINE_WRONG_PW")
        expect = "did not accept the credentials of alice"
    elif case == "rt down":
        cfg = write_config(tmp_path / "c.toml", f"http://127.0.0.1:{_free_port()}")
        expect = "is unreachable"
    else:
        cfg = write_config(tmp_path / "c.toml", http_500)
        expect = "failed with HTTP 500"
    proc = _cli_sync(db, cfg)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "not-the-password" not in proc.stderr + proc.stdout
    r = Replica(db)
    try:
        assert r.scalar("SELECT COUNT(*) FROM outbox WHERE state IN ('pending','sending')") == 2
        assert r.scalar("SELECT COUNT(*) FROM messages WHERE body = 'queued reply'") == 1
    finally:
        r.close()
    # and once RT answers again, everything goes through
    ok = _cli_sync(db, write_config(tmp_path / "ok.toml", rt.url))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("pulled ")
    assert ", pushed 2, conflicts 0" in ok.stdout


def test_article_changes_reach_rt_and_a_stale_one_is_a_conflict(rt, seeded, synced_db, tmp_path):
    ids = seeded["articles"]
    wb = open_wb(copy_db(synced_db[0], tmp_path), rt.url)
    try:
        wb.validate(f"KB#{ids[1]}")                     # not_validated -> validated
        wb.flag(f"KB#{ids[1]}", "step 3 is wrong")      # a second op on the same article
        wb.mark_reviewed(f"KB#{ids[5]}")                # resolves bob's open flag
        wb.archive(f"KB#{ids[4]}")
        wb.validate(f"KB#{ids[7]}")                     # bob edits this one in RT meanwhile
        with rt.client("bob") as bob:
            bob.update_article(ids[7], {"Summary": "bob was here"})
        result = wb.sync()
        assert result.errors == []
        assert result.conflicts == [f"bob changed KB#{ids[7]} first; your validate was not applied"]
        assert wb.article(f"KB#{ids[7]}")["state"] == "not_validated"   # RT's state won
        with rt.client("root") as root:
            def cfs(aid):
                return custom_fields(root.get_article(aid)[0])
            one = cfs(ids[1])
            assert one["KCSState"] == ["validated"] and one["LastReviewed"] == ["2026-11-23T09:00:00Z"]
            assert [(f["who"], f["reason"]) for f in json.loads(one["Flags"][0])] == [("alice", "step 3 is wrong")]
            five = json.loads(cfs(ids[5])["Flags"][0])
            assert five[0]["who"] == "bob" and five[0]["resolved_at"] == "2026-11-23T09:00:00Z"
            assert cfs(ids[4])["KCSState"] == ["archived"]
            assert cfs(ids[7])["KCSState"] == ["not_validated"]
        a1 = wb.article(f"KB#{ids[1]}")
        assert (a1["state"], a1["open_flags"]) == ("validated", 1)
    finally:
        wb.close()


def test_unclaim_resolve_offer_edit_and_unflag_reach_rt(rt, seeded, synced_db, tmp_path):
    helps, cases, ids = seeded["helps"], seeded["cases"], seeded["articles"]
    wb = open_wb(copy_db(synced_db[0], tmp_path), rt.url)
    try:
        wb.claim(f"RT#{helps[16]}")
        wb.unclaim(f"RT#{helps[16]}")
        wb.resolve(f"RT#{helps[19]}")
        wb.offer_help(f"RT#{cases[3]}", "Happy to help with a repro.")
        wb.edit_article(f"KB#{ids[10]}", "Article 10, rewritten", "New body\n\nwith steps")
        wb.unflag(f"KB#{ids[15]}")
        result = wb.sync()
        # the claim and its unclaim cancelled out before the sync: four ops left
        assert (result.errors, result.conflicts, result.pushed) == ([], [], 4)
        with rt.client("root") as root:
            assert root.get_ticket(helps[16])[0]["Owner"]["id"] == "Nobody"
            assert root.get_ticket(helps[19])[0]["Status"] == "resolved"
            offer = [a for a in root.ticket_attachments(cases[3]) if a.get("Subject") == "Backline: offer of help"]
            assert [a["Content"].strip() for a in offer] == ["Happy to help with a repro."]
            art = root.get_article(ids[10])[0]
            assert art["Name"] == "Article 10, rewritten"
            assert custom_fields(art)["Content"] == ["New body\n\nwith steps"]
            flags = json.loads(custom_fields(root.get_article(ids[15])[0])["Flags"][0])
            assert flags[0]["resolved_at"] == "2026-11-23T09:00:00Z"
        assert wb.help_request(f"RT#{helps[19]}")["status"] == "resolved"
        assert wb.help_request(f"RT#{helps[16]}")["owner"] is None
        # another replica, pulled from scratch, sees the offer as an offer and the edit
        other = open_wb(tmp_path / "fresh.db", rt.url)
        try:
            assert other.sync().errors == []
            case = other.case(f"RT#{cases[3]}")
            assert [(m["kind"], m["author"]) for m in case["messages"]] == [("offer", "alice")]
            assert case["offered_by_me"]
            assert other.article(f"KB#{ids[10]}")["body"] == "New body\n\nwith steps"
            assert other.article(f"KB#{ids[15]}")["open_flags"] == 0
        finally:
            other.close()
    finally:
        wb.close()


# ---------------------------------------------------------------- knowledge in the flow of work


def _history_types(root, tid: int) -> list[str]:
    return [t["Type"] for t in root.ticket_history(tid, fields="Type")]


def test_an_article_linked_to_a_request_reaches_rt_once_as_a_refersto(rt, seeded, synced_db, tmp_path):
    wb = open_wb(copy_db(synced_db[0], tmp_path), rt.url)
    try:
        tid = seeded["helps"][4]  # never answered, never documented
        help_ref, art_ref = f"RT#{tid}", f"KB#{seeded['articles'][2]}"
        assert wb.help_request(help_ref)["article"] is None
        before = wb.article(art_ref)["reuse_count"]
        wb.link_article("help_request", help_ref, art_ref)
        assert [o["op"] for o in wb.outbox()] == ["link_article"]
        first, second = wb.sync(), wb.sync()
        assert (first.pushed, first.errors, first.conflicts) == (1, [], [])
        assert (second.pushed, second.errors) == (0, [])
        with rt.client("root") as root:
            ticket, _ = root.get_ticket(tid)
            refers = root.links_of(ticket)["RefersTo"]
            assert len(refers) == 1 and str(refers[0]).endswith(f"/article/{seeded['articles'][2]}")
            assert _history_types(root, tid).count("AddLink") == 1
        h = wb.help_request(help_ref)  # the pull kept it: documented in the article, one reuse more
        assert h["article"]["ref"] == art_ref
        assert wb.article(art_ref)["reuse_count"] == before + 1
    finally:
        wb.close()


def test_a_bug_escalated_from_a_case_reaches_rt_once_with_its_refersto(rt, seeded, synced_db, tmp_path):
    wb = open_wb(copy_db(synced_db[0], tmp_path), rt.url)
    try:
        case_tid = seeded["cases"][3]  # odd: linked to no bug
        case_ref = f"RT#{case_tid}"
        draft = wb.escalation_draft("case", case_ref)
        title = f"Escalated: {draft['title']}"
        bug = wb.escalate("case", case_ref, title, draft["body"])
        assert bug["ref"].startswith("NEW-BUG-") and [c["ref"] for c in bug["cases"]] == [case_ref]
        assert [o["op"] for o in wb.outbox()] == ["escalate"]
        first, second = wb.sync(), wb.sync()
        assert (first.pushed, first.errors, first.conflicts) == (1, [], [])
        assert (second.pushed, second.errors) == (0, [])
        with rt.client("root") as root:
            made = [t for t in root.search_tickets(f"Queue = 'Backline Bugs' AND Subject = '{title}'",
                                                   fields="Subject,CustomFields")]
            assert len(made) == 1
            bug_tid = int(made[0]["id"])
            cfs = custom_fields(made[0])
            assert (cfs["Product"], cfs["Component"], cfs["Severity"]) == (["Gadget"], ["API"], [draft["severity"]])
            case, _ = root.get_ticket(case_tid)
            assert root.links_of(case)["RefersTo"] == [bug_tid]
            assert _history_types(root, case_tid).count("AddLink") == 1
        # locally the draft became the RT ticket, still linked to the case
        assert wb.replica.scalar("SELECT COUNT(*) FROM bugs WHERE ref LIKE 'NEW-BUG-%'") == 0
        got = wb.bug(f"RT#{bug_tid}")
        assert got["title"] == title and [c["ref"] for c in got["cases"]] == [case_ref]
    finally:
        wb.close()


def test_an_unlink_reaches_rt_once(rt, seeded, synced_db, tmp_path):
    wb = open_wb(copy_db(synced_db[0], tmp_path), rt.url)
    try:
        case_tid, bug_tid = seeded["cases"][6], seeded["bugs"][6 % N_BUGS]  # seeded: case 6 RefersTo bug 6
        assert f"RT#{bug_tid}" in [b["ref"] for b in wb.case(f"RT#{case_tid}")["bugs"]]
        wb.unlink_case_bug(f"RT#{case_tid}", f"RT#{bug_tid}")
        assert [o["op"] for o in wb.outbox()] == ["unlink"]
        first, second = wb.sync(), wb.sync()
        assert (first.pushed, first.errors, first.conflicts) == (1, [], [])
        assert (second.pushed, second.errors) == (0, [])
        with rt.client("root") as root:
            case, _ = root.get_ticket(case_tid)
            assert bug_tid not in root.links_of(case)["RefersTo"]
            assert _history_types(root, case_tid).count("DeleteLink") == 1
        assert f"RT#{bug_tid}" not in [b["ref"] for b in wb.case(f"RT#{case_tid}")["bugs"]]
    finally:
        wb.close()


def test_an_article_linked_to_a_case_comes_back_in_a_fresh_replica(rt, seeded, synced_db, tmp_path):
    wb = open_wb(copy_db(synced_db[0], tmp_path), rt.url)
    case_ref, art_ref = f"RT#{seeded['cases'][5]}", f"KB#{seeded['articles'][3]}"
    try:
        wb.link_article("case", case_ref, art_ref)
        assert (wb.sync().pushed, wb.sync().pushed) == (1, 0)
    finally:
        wb.close()
    again = open_wb(tmp_path / "fresh.db", rt.url)  # another machine: everything from RT
    try:
        again.sync()
        assert art_ref in [a["ref"] for a in again.case(case_ref)["articles"]]
        assert case_ref in [c["ref"] for c in again.article(art_ref)["cases"]]
    finally:
        again.close()
def test_take_over_reaches_rt_as_a_reassignment_naming_the_previous_owner(rt, seeded, synced_db, tmp_path):
    tid = seeded["helps"][21]  # claimed and answered by bob
    ref = f"RT#{tid}"
    wb = open_wb(copy_db(synced_db[0], tmp_path), rt.url)
    try:
        assert wb.help_request(ref)["owner"] == "bob"
        wb.take_over_and_respond(ref, "Taking this one: bob is out today.")
        result = wb.sync()
        assert (result.errors, result.conflicts) == ([], [])
        with rt.client("root") as root:
            assert root.get_ticket(tid)[0]["Owner"]["id"] == "alice"
            texts = [(a.get("Content") or "").strip() for a in root.ticket_attachments(tid)]
            assert "Taken over from bob by alice." in texts
            assert "Taking this one: bob is out today." in texts
        assert wb.help_request(ref)["owner"] == "alice"
        assert wb.pending_ops() == 0
    finally:
        wb.close()
