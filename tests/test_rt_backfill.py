"""A first sync from a real RT (tests/rt_server.py) lands open work first, then the history as a
backfill: stopped after the open-work phase the replica holds every open record (panes list
them, actions on them reach RT) and no closed one; the next sync ends identical to a sync that
was never stopped; while the backfill runs the replica says how much history has landed (the
status line too), and a record opened before its history landed fetches it first (offline it
says so)."""

from __future__ import annotations

import os
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from backline_tui.app import BacklineApp
from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.screens.detail import DetailScreen
from backline_tui.storage import history
from backline_tui.sync.rt import open_work, pull
from backline_tui.workbench import Workbench
from tests.conftest import NOW
from tests.fault_proxy import FaultProxy
from tests.rt_server import RTServer, start_or_skip
from tests.test_insights_pane import ready as insights_ready
from tests.test_ui_support import settle

pytest_plugins = ["tests.rt_server"]
pytestmark = pytest.mark.rt
PW = "BACKLINE_TEST_RT_BACKFILL"
N_HELP, N_CASES, N_BUGS, N_ARTICLES = 12, 9, 4, 3


class Stop(Exception):
    """The sync stopped here (as a user quitting, or a crash, would stop it)."""


def config_for(url: str) -> Config:
    return Config(me="alice", sources=[SourceConfig(name="rt", kind="rt", url=url, user="alice", password_env=PW)])


@pytest.fixture(scope="module")
def rt(tmp_path_factory, rt_template):
    """Help requests (a third answered by bob, a third of those resolved), cases (a third
    resolved, half linked to a bug), bugs (one resolved) and articles."""
    os.environ[PW] = RTServer.alice.password
    server = start_or_skip(RTServer(tmp_path_factory.mktemp("rt-backfill"), template=rt_template))
    with server.client("alice") as c:
        bugs = [c.create_ticket("Backline Bugs", f"Bug {i}", f"bug body {i}", {"Product": "Widget", "Severity": "S2"})
                for i in range(N_BUGS)]
        c.update_ticket(bugs[-1], {"Status": "resolved"})
        cases = [c.create_ticket("Backline Cases", f"Case {i}", f"case body {i}",
                                 {"Product": "Widget", "Severity": f"S{i % 4 + 1}", "Customer": f"Customer {i % 3}"},
                                 status="open", extra={"RefersTo": [bugs[i % N_BUGS]]} if i % 2 == 0 else None)
                 for i in range(N_CASES)]
        for t in cases[::3]:
            c.update_ticket(t, {"Status": "resolved"})
        helps = [c.create_ticket("Backline Help", f"Help {i}", f"question {i}",
                                 {"HelpPriority": f"P{i % 4 + 1}", "Asker": f"fl.{i}", "Product": "Widget",
                                  **({"LinkedCase": str(cases[i % N_CASES])} if i % 2 else {})})
                 for i in range(N_HELP)]
        for i in range(N_ARTICLES):
            c.create_article("Backline KB", f"Article {i}", "", f"text {i}", {"KCSState": "validated"})
    with server.client("bob") as bob:
        for t in helps[::3]:
            bob.take(t)
            bob.correspond(t, f"answer to {t}")
        for t in helps[::9]:
            bob.update_ticket(t, {"Status": "resolved"})
    yield server
    server.stop()


def open_refs(server: RTServer) -> dict[str, set[str]]:
    """The refs of the open tickets of each kind, as RT says."""
    queues = {"help_request": "Backline Help", "case": "Backline Cases", "bug": "Backline Bugs"}
    with server.client("alice") as c:
        return {kind: {f"RT#{t['id']}" for t in c.search_tickets(f"Queue = '{q}' AND Status = '__Active__'", fields="id")}
                for kind, q in queues.items()}


def refs(wb: Workbench, table: str) -> set[str]:
    return {r["ref"] for r in wb.replica.conn.execute(f"SELECT ref FROM {table}").fetchall()}


def stop_when(check):
    def progress(stage, done, total):
        if check(stage):
            raise Stop(stage)

    return progress


def dump(wb: Workbench) -> dict[str, list]:
    """The replica's content, ids replaced by the refs they point at (ids depend on the order
    rows were first written), sync stamps left out."""
    q = lambda sql: sorted(tuple(r.values()) for r in wb.replica.conn.execute(sql).fetchall())  # noqa: E731
    out = {}
    for table, joins in (("help_requests", ("case_id:cases", "article_id:articles")), ("cases", ()),
                         ("bugs", ()), ("articles", ())):
        cols = [r["name"] for r in wb.replica.conn.execute(f"PRAGMA table_info({table})").fetchall()
                if r["name"] not in ("id", "synced_at")]
        sel = []
        for col in cols:
            target = dict(j.split(":") for j in joins).get(col)
            sel.append(f"(SELECT ref FROM {target} WHERE id = t.{col})" if target else f"t.{col}")
        out[table] = q(f"SELECT {', '.join(sel)} FROM {table} AS t")
    out["messages"] = q("SELECT m.ref, m.source, m.remote_id, m.parent_type, COALESCE(h.ref, c.ref), m.author, m.body, "
                        "m.kind, m.created_at FROM messages m LEFT JOIN help_requests h ON m.parent_type = 'help_request' "
                        "AND h.id = m.parent_id LEFT JOIN cases c ON m.parent_type = 'case' AND c.id = m.parent_id")
    out["case_bugs"] = q("SELECT c.ref, b.ref, cb.created_at FROM case_bugs cb JOIN cases c ON c.id = cb.case_id "
                         "JOIN bugs b ON b.id = cb.bug_id")
    for table in ("ins_case_day", "ins_hr_day", "ins_hr_asker", "ins_hr_subject", "ins_hr_hist", "ins_case_week",
                  "ins_hr_week", "ins_hr_hist_week"):
        out[table] = q(f"SELECT * FROM {table}")
    out["cursors"] = q("SELECT stream, cursor FROM sync_cursors WHERE stream NOT LIKE '%:open'")
    return out


def test_stopped_after_open_work_open_records_are_usable_and_the_next_sync_ends_as_an_unstopped_one(rt, tmp_path):
    config = config_for(rt.url)
    wanted = open_refs(rt)
    wb = Workbench.open(tmp_path / "stopped.db", config, Clock(NOW))
    try:
        with pytest.raises(Stop):
            wb.sync(progress=stop_when(lambda stage: stage == "open work"))
        # every open record of every kind is there, no closed one
        assert refs(wb, "help_requests") == wanted["help_request"]
        assert refs(wb, "cases") == wanted["case"]
        assert refs(wb, "bugs") == wanted["bug"]
        assert len(wanted["help_request"]) == N_HELP - len(range(0, N_HELP, 9))
        # the help pane lists them; each is marked as waiting for its history, none has it yet
        assert {r["ref"] for r in wb.pane("help")} == wanted["help_request"]
        assert wb.history_pending("help_request", sorted(wanted["help_request"])[0])
        landed, total = history.progress(wb.replica.conn)["rt"]
        assert (landed, total) == (0, N_HELP + N_CASES + N_BUGS)
        assert wb.history_words() == "history: 0% synced"
        assert wb.insights_partial() == "partial figures (history: 0% synced)"

        result = wb.sync()
        assert result.errors == [] and wb.history_words() is None
        assert wb.replica.scalar("SELECT COUNT(*) FROM history_pending") == 0
        stopped = dump(wb)
    finally:
        wb.close()
    assert len(stopped["messages"]) == len(range(0, N_HELP, 3))
    same_as_unstopped(rt, tmp_path, stopped)


def same_as_unstopped(rt: RTServer, tmp_path, stopped: dict[str, list]) -> None:
    """``stopped`` (a replica whose first sync was stopped and then resumed) is what a first sync
    never stopped makes of the same RT."""
    whole = Workbench.open(tmp_path / "whole.db", config_for(rt.url), Clock(NOW))
    try:
        first = whole.sync()
        assert first.errors == [] and first.pulled == N_HELP + N_CASES + N_BUGS + N_ARTICLES
        assert whole.history_words() is None
        unstopped = dump(whole)
        # each kind's cursor is past every ticket transaction (the next sync reads only news)
        with rt.client("alice") as c:
            top = c._get_json("/transactions", {"query": "ObjectType = 'RT::Ticket'", "fields": "id", "per_page": 1,
                                                "orderby": "id", "order": "DESC"})["items"][0]["id"]
        cursors = {r["stream"]: r["cursor"] for r in whole.replica.conn.execute("SELECT stream, cursor FROM sync_cursors")}
        assert [cursors[f"{k}:queue:{q}"] for k, q in (("bug", "Backline Bugs"), ("case", "Backline Cases"),
                                                        ("help_request", "Backline Help"))] == [str(top)] * 3
    finally:
        whole.close()
    for table in unstopped:
        assert stopped[table] == unstopped[table], table


def test_an_action_on_an_open_record_whose_history_has_not_landed_reaches_rt(rt, tmp_path):
    wb = Workbench.open(tmp_path / "act.db", config_for(rt.url), Clock(NOW))
    try:
        with pytest.raises(Stop):
            wb.sync(progress=stop_when(lambda stage: stage == "open work"))
        wanted = {r["ref"] for r in wb.pane("help")}
        target = next(r["ref"] for r in wb.pane("help") if r["owner"] is None)
        assert wb.history_pending("help_request", target)
        wb.claim(target)
        with pytest.raises(Stop):  # stopped once the claim went out, before the backfill reached it
            wb.sync(progress=stop_when(lambda stage: stage == "pull"))
        assert wb.outbox(("pending", "sending", "error", "conflict")) == []
        assert not wb.history_pending("help_request", target)  # the claim brought it back whole
        assert wb.history_pending("help_request", sorted(wanted - {target})[0])
        result = wb.sync()
        assert (result.errors, result.conflicts) == ([], [])
        with rt.client("alice") as c:
            ticket, _ = c.get_ticket(int(target[3:]))
        assert ticket["Owner"]["id"] == "alice"
        h = wb.help_request(target)
        assert (h["owner"], h["status"], h["body"]) == ("alice", "claimed", f"question {h['subject'].split()[-1]}")
        assert not wb.history_pending("help_request", target)
        with rt.client("alice") as c:
            c.untake(int(target[3:]))
    finally:
        wb.close()


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_the_backfill_figure_the_status_line_and_a_detail_view_fetching_its_history(rt, tmp_path, monkeypatch):
    monkeypatch.setattr(pull, "CHUNK", 2)  # small batches: the sync stops half-way through the cases
    wb = Workbench.open(tmp_path / "half.db", config_for(rt.url), Clock(NOW))

    def cases_landed(stage: str) -> bool:
        return wb.replica.scalar("SELECT COUNT(*) FROM cases WHERE ref NOT IN (SELECT ref FROM history_pending)") >= 2

    try:
        with pytest.raises(Stop):
            wb.sync(progress=stop_when(lambda stage: stage == "pull" and cases_landed(stage)))
        total = N_HELP + N_CASES + N_BUGS
        landed = wb.replica.scalar("SELECT (SELECT COUNT(*) FROM help_requests) + (SELECT COUNT(*) FROM cases) + "
                                   "(SELECT COUNT(*) FROM bugs) - (SELECT COUNT(*) FROM history_pending)")
        assert history.progress(wb.replica.conn)["rt"] == (landed, total)
        assert N_BUGS + 2 <= landed < total
        words = f"history: {landed * 100 // total}% synced"
        assert wb.history_words() == words

        # a help request answered by bob, still waiting for its history
        answered = next(r["ref"] for r in wb.pane("help") if r["owner"] == "bob")
        assert wb.history_pending("help_request", answered) and wb.help_request(answered)["messages"] == []
        app = BacklineApp(wb)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            app.refresh_status()
            await settle(pilot)
            assert words in app.status_text
            await pilot.press("5")  # Insights says its figures are partial
            pane = await insights_ready(pilot)
            assert f"partial figures ({words})" in str(pane.query_one("#insights-head").render())
            screen = DetailScreen("help_request", answered)
            app.push_screen(screen)
            await settle(pilot)
            for _ in range(100):
                if not wb.history_pending("help_request", answered) and screen.record and screen.record["messages"]:
                    break
                await pilot.pause(0.1)
                await settle(pilot)
            assert [m["body"] for m in screen.record["messages"]] == [f"answer to {answered[3:]}"]
            assert f"answer to {answered[3:]}" in str(screen.query_one("#detail-thread").render())
        # the next sync resumes the backfill where it stopped and ends as a sync never stopped
        assert wb.sync().errors == [] and wb.history_words() is None
        resumed = dump(wb)
    finally:
        wb.close()
    same_as_unstopped(rt, tmp_path, resumed)


async def test_offline_a_record_without_its_history_says_so(rt, tmp_path):
    wb = Workbench.open(tmp_path / "off.db", config_for(rt.url), Clock(NOW))
    with pytest.raises(Stop):
        wb.sync(progress=stop_when(lambda stage: stage == "open work"))
    wb.close()
    offline = Workbench.open(tmp_path / "off.db", config_for(_dead_url()), Clock(NOW))
    try:
        ref = sorted(r["ref"] for r in offline.pane("help"))[0]
        app = BacklineApp(offline)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            screen = DetailScreen("help_request", ref)
            app.push_screen(screen)
            for _ in range(100):
                await settle(pilot)
                if screen.history_note:
                    break
                await pilot.pause(0.1)
            assert screen.history_note.startswith("history not synced yet: rt: ")
            assert "history not synced yet" in str(screen.query_one("#detail-thread").render())
        assert offline.history_pending("help_request", ref)
    finally:
        offline.close()


def test_a_ticket_changed_while_the_first_sync_runs_is_never_left_stale(rt, tmp_path):
    """A change made in RT after the open work landed is in the replica after that sync, or
    after the next one: the history never lands with the fields read before it."""
    wb = Workbench.open(tmp_path / "changed.db", config_for(rt.url), Clock(NOW))
    target = sorted(open_refs(rt)["help_request"])[0]
    before = {}

    def change_meanwhile(stage, done, total):
        if stage == "open work":
            before.update(wb.help_request(target))
            with rt.client("bob") as bob:
                bob.update_ticket(int(target[3:]), {"Subject": "Changed while the history came"})

    try:
        assert wb.sync(progress=change_meanwhile).errors == []
        assert before["subject"] != "Changed while the history came"
        assert wb.sync().errors == []
        assert wb.help_request(target)["subject"] == "Changed while the history came"
    finally:
        wb.close()
        with rt.client("bob") as bob:
            bob.update_ticket(int(target[3:]), {"Subject": before.get("subject") or "Help"})


def test_fields_read_for_open_work_serve_the_history_only_while_the_ticket_has_no_newer_transaction(rt):
    """The rule itself, on RT's own feed: fields read at `top` stand in for a search only for a
    ticket whose newest transaction is not after `top`."""
    from backline_tui.sync.rt.connector import RTConnector

    conn = RTConnector(config_for(rt.url).sources[0], config_for(rt.url))
    try:
        feed = list(conn.client.transactions("ObjectType = 'RT::Ticket' AND TicketQueue = 'Backline Help' AND id > 0",
                                             fields=pull.TXN_FIELDS))
        tid = int(feed[0]["ObjectId"])
        newest = max(int(t["id"]) for t in feed if int(t["ObjectId"]) == tid)
        ticket, _ = conn.client.get_ticket(tid)
        read_before = {tid: {**ticket, "Subject": "as read before"}}

        def subject(top: int) -> str:
            batches = list(conn._pull_tickets("help_request", 0, feed, True, read_before, top))
            return next(r["subject"] for b in batches for r in b.records if r.get("ref") == f"RT#{tid}")

        assert subject(newest) == "as read before"  # nothing newer: no search for it
        assert subject(newest - 1) == ticket["Subject"]  # a newer transaction: read again
    finally:
        conn.close()


async def test_the_help_pane_shows_open_work_while_the_history_is_still_coming(rt, tmp_path):
    """S on an empty replica: once the open work has landed the pane lists it and the status line
    says how much history there is, while the sync is still running."""
    wanted = open_refs(rt)["help_request"]
    wb = Workbench.open(tmp_path / "ui.db", config_for(rt.url), Clock(NOW))
    reached, go_on = threading.Event(), threading.Event()
    real_sync = wb.sync

    def held_sync(progress=None, source=None):
        def hold(stage, done, total):
            progress(stage, done, total)
            if stage == "open work":  # the sync waits here until the test has looked
                reached.set()
                go_on.wait(600)

        return real_sync(progress=hold, source=source)

    wb.sync = held_sync
    try:
        app = BacklineApp(wb)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            assert app.screen.rows == []
            await pilot.press("S")
            for _ in range(600):
                if reached.is_set() and {r["ref"] for r in app.screen.rows} == wanted:
                    break
                await pilot.pause(0.1)
            try:  # the sync is still held at the end of the open work
                assert reached.is_set() and app._syncing
                assert {r["ref"] for r in app.screen.rows} == wanted
                for _ in range(100):
                    if "history: 0% synced" in app.status_text:
                        break
                    await pilot.pause(0.1)
                assert "history: 0% synced" in app.status_text
                assert app._syncing
            finally:
                go_on.set()
            for _ in range(1200):
                if not app._syncing:
                    break
                await pilot.pause(0.1)
            await settle(pilot)
            assert "history:" not in app.status_text
    finally:
        go_on.set()
        wb.close()


def test_an_open_ticket_the_paging_skips_while_rt_changes_still_lands_with_the_open_work(rt_server_factory, tmp_path,
                                                                                         monkeypatch):
    """The open work's pages are asked for at once, by offset. A help request resolved after the
    first page was read shifts the rest back by one, so one falls between two pages; a case
    reopened meanwhile pushes the last one past the last page. Both land with the open work."""
    server = rt_server_factory()
    os.environ[PW] = RTServer.alice.password
    with server.client("alice") as c:
        helps = [c.create_ticket("Backline Help", f"Paged {i}", "q", {"HelpPriority": "P3", "Asker": "fl.p"})
                 for i in range(5)]
        cases = [c.create_ticket("Backline Cases", f"Case {i}", "body", {"Product": "Widget", "Severity": "S3",
                                                                          "Customer": "C"}, status="open")
                 for i in range(5)]
        c.update_ticket(cases[1], {"Status": "resolved"})
    assert open_refs(server)["help_request"] == {f"RT#{t}" for t in helps}  # pages of 2: h0 h1 | h2 h3 | h4
    assert open_refs(server)["case"] == {f"RT#{t}" for t in cases if t != cases[1]}  # c0 c2 | c3 c4
    monkeypatch.setattr(open_work, "OPEN_PAGE", 2)
    proxy = FaultProxy(server.url)

    def page(queue: str, n: int):
        def match(method, target, body) -> bool:
            q = parse_qs(urlsplit(target).query)
            return (method == "GET" and "__Active__" in (q.get("query") or [""])[0] and queue in q["query"][0]
                    and q.get("page") == [str(n)])
        return match

    def after_page_one(queue: str, change):
        def before() -> None:  # page 1 is in; the change lands before page 2 is read
            for _ in range(200):
                if any(page(queue, 1)(m, p, b"") and s == 200 for _, m, p, s in list(proxy.log)):
                    break
                time.sleep(0.05)
            with server.client("alice") as c:
                change(c)
        return before

    proxy.fail(page("Backline Help", 2), whole=True, times=1,
               before=after_page_one("Backline Help", lambda c: c.update_ticket(helps[0], {"Status": "resolved"})))
    proxy.fail(page("Backline Cases", 2), whole=True, times=1,
               before=after_page_one("Backline Cases", lambda c: c.update_ticket(cases[1], {"Status": "open"})))
    wb = Workbench.open(tmp_path / "r.db", config_for(proxy.url), Clock(NOW))
    try:
        with pytest.raises(Stop):
            wb.sync(progress=stop_when(lambda stage: stage == "open work"))
        assert all(rule.times == 0 for rule in proxy.rules)  # both changes were made mid-paging
        now = open_refs(server)
        assert f"RT#{helps[2]}" in refs(wb, "help_requests") and now["help_request"] <= refs(wb, "help_requests")
        # the reopened case itself joined the open set after its page was read: a change made
        # during the sync, which its history (or the next sync) brings like any other
        assert f"RT#{cases[4]}" in refs(wb, "cases") and now["case"] - {f"RT#{cases[1]}"} <= refs(wb, "cases")
    finally:
        wb.close()
        proxy.stop()
