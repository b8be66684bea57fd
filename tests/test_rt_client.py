"""backline_tui.sync.rt.client against a real RT 5 (fixtures from tests/rt_server.py)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from backline_tui.sync.rt.client import (
    RTAuthError,
    RTClient,
    RTConflict,
    RTError,
    RTRefused,
    RTUnavailable,
    custom_fields,
    parse_rt_datetime,
    rt_datetime,
)

# The RT fixtures (rt_server, rt_server_factory); tests/conftest.py loads the same plugin for
# the other RT tests, and pytest registers a plugin module only once.
pytest_plugins = ["tests.rt_server"]

rt = pytest.mark.rt


class CountingTransport(httpx.HTTPTransport):
    """Records (method, path, query, JSON answer) of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, dict, object]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        try:
            body = response.json()
        except ValueError:
            body = None
        self.calls.append(
            (request.method, request.url.path, dict(request.url.params), body)
        )
        return response


def marker() -> str:
    return "m" + uuid.uuid4().hex[:10]


@pytest.fixture
def alice(rt_server):
    with rt_server.client("alice") as client:
        yield client


@pytest.fixture
def bob(rt_server):
    with rt_server.client("bob") as client:
        yield client


@pytest.fixture
def root(rt_server):
    with rt_server.client("root") as client:
        yield client


# ---------------------------------------------------------------- helpers, no server


def test_rt_datetime_formats_utc_without_z():
    aware = datetime(2026, 11, 23, 2, 14, 38, tzinfo=timezone(timedelta(hours=2)))
    assert rt_datetime(aware) == "2026-11-23 00:14:38"
    assert rt_datetime(datetime(2026, 11, 23, 0, 14, 38)) == "2026-11-23 00:14:38"
    assert rt_datetime("2026-11-23T00:14:38Z") == "2026-11-23 00:14:38"


def test_parse_rt_datetime():
    assert parse_rt_datetime("2026-11-23T00:14:38Z") == datetime(
        2026, 11, 23, 0, 14, 38, tzinfo=timezone.utc
    )
    assert parse_rt_datetime("1970-01-01T00:00:00Z") is None  # RT's "not set"
    assert parse_rt_datetime("") is None


def test_error_str_is_one_line():
    exc = RTRefused(["You can only take\ntickets that are unowned"], [], method="PUT",
                    path="/ticket/1/take", status=200)
    assert str(exc) == "PUT /ticket/1/take, HTTP 200: You can only take tickets that are unowned"


# ---------------------------------------------------------------- tickets


@rt
def test_create_and_get_ticket_with_custom_fields(alice):
    due = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    ticket_id = alice.create_ticket(
        "Backline Cases",
        "Widget crashes on save",
        "Pressing save crashes the widget (v2.3).",
        {"Product": "Widget", "Severity": "S2", "CustomerTier": "enterprise",
         "Customer": "ACME", "Version": "2.3"},
        requestor="carol@customer.example",
        owner="alice",
        due=due,
        status="open",
    )
    ticket, etag = alice.get_ticket(ticket_id)
    assert ticket["id"] == ticket_id
    assert ticket["Subject"] == "Widget crashes on save"
    assert ticket["Status"] == "open"
    assert ticket["Owner"]["id"] == "alice"
    assert ticket["Requestor"][0]["id"] == "carol@customer.example"
    assert parse_rt_datetime(ticket["Due"]) == due
    cfs = custom_fields(ticket)
    assert cfs["Severity"] == ["S2"]
    assert cfs["CustomerTier"] == ["enterprise"]
    assert cfs["Customer"] == ["ACME"]
    assert cfs["BugKey"] == []
    assert re.fullmatch(r'"\d+"', etag)

    # RT silently drops an invalid Select value on create (201 anyway)
    other = alice.create_ticket("Backline Help", "bad select", "x", {"Severity": "S9"})
    assert custom_fields(alice.get_ticket(other)[0])["Severity"] == []


@rt
def test_search_pages_through_all_results(rt_server):
    tag = marker()
    transport = CountingTransport()
    with rt_server.client("alice", transport=transport) as alice:
        since = datetime.now(timezone.utc) - timedelta(seconds=2)
        ids = [alice.create_ticket("Backline Bugs", f"{tag} bug {n}", "body") for n in range(5)]
        query = f"Queue = 'Backline Bugs' AND Subject LIKE '{tag}' AND Created >= '{rt_datetime(since)}'"
        found = list(alice.search_tickets(query, ["Subject", "Status", "LastUpdated"], per_page=2))
    assert [int(t["id"]) for t in found] == ids
    assert all(t["Subject"].startswith(tag) for t in found)
    searches = [c for c in transport.calls if c[1].endswith("/tickets")]
    assert [c[2]["page"] for c in searches] == ["1", "2", "3"]
    assert searches[0][3]["pages"] == 3  # agents get page counts on /tickets


@rt
def test_transaction_feed_copes_with_short_pages(rt_server, root):
    # interleave tickets alice cannot see (queue General) with tickets she can see
    first = root.create_ticket("General", "feed start", "x")
    start = int(root.ticket_history(first)[-1]["id"])
    visible = []
    for n in range(4):
        root.create_ticket("General", f"hidden {n}", "not for alice")
        visible.append(root.create_ticket("Backline Help", f"visible {n}", "for alice"))
    query = f"ObjectType = 'RT::Ticket' AND id > {start}"

    transport = CountingTransport()
    with rt_server.client("alice", transport=transport) as alice:
        feed = list(alice.transactions(query, ["Type", "ObjectId"], per_page=3))
    assert [int(t["ObjectId"]) for t in feed if t["Type"] == "Create"] == visible
    pages = [c[3] for c in transport.calls if c[1].endswith("/transactions")]
    assert pages[0]["total"] is None and pages[0]["pages"] is None
    assert "next_page" not in pages[0]
    assert any(0 < p["count"] < 3 for p in pages[:-1])  # a short page that was not the end
    assert pages[-1]["count"] == 0
    ids = [int(t["id"]) for t in feed]
    assert ids == sorted(ids)


@rt
def test_take_refused_when_owned_then_steal(alice, bob):
    ticket_id = alice.create_ticket("Backline Help", "take me", "please")
    assert alice.take(ticket_id) == ["Owner changed from Nobody to alice"]
    with pytest.raises(RTRefused) as info:
        bob.take(ticket_id)
    assert info.value.failures == ["You can only take tickets that are unowned"]
    assert "You can only take tickets that are unowned" in str(info.value)
    assert bob.steal(ticket_id) == ["Owner changed from alice to bob"]
    assert bob.untake(ticket_id) == ["Owner changed from bob to Nobody"]
    with pytest.raises(RTRefused, match="may not own tickets"):
        bob.update_ticket(ticket_id, {"Owner": "carol@customer.example"})
    with pytest.raises(RTRefused, match="isn't a valid status"):
        bob.update_ticket(ticket_id, {"Status": "bogus"})


@rt
def test_stale_if_match_raises_conflict(alice, bob):
    ticket_id = alice.create_ticket("Backline Help", "etag", "x", {"Severity": "S2"})
    _, etag = alice.get_ticket(ticket_id)
    messages = alice.update_ticket(
        ticket_id, {"Status": "open", "CustomFields": {"Severity": "S3"}}, if_match=etag
    )
    assert "Severity S2 changed to S3" in messages
    with pytest.raises(RTConflict) as info:
        bob.update_ticket(ticket_id, {"Status": "resolved"}, if_match=etag)
    assert info.value.status == 412
    with pytest.raises(RTConflict):
        bob.take(ticket_id, if_match=etag)
    _, fresh = bob.get_ticket(ticket_id)
    assert fresh != etag
    bob.update_ticket(ticket_id, {"Status": "resolved"}, if_match=fresh.strip('"'))  # bare ok
    assert bob.get_ticket(ticket_id)[0]["Status"] == "resolved"


@rt
def test_correspond_and_comment_land_in_history(rt_server, alice):
    ticket_id = alice.create_ticket(
        "Backline Cases", "reply test", "first message", requestor="carol@customer.example"
    )
    _, etag_before = alice.get_ticket(ticket_id)
    reply = alice.correspond(ticket_id, "Hi Carol, fixed in 2.4.")
    note = alice.comment(ticket_id, "Internal: BUG-42", extra={"CustomFields": {"BugKey": "BUG-42"}})
    assert note > reply
    ticket, etag_after = alice.get_ticket(ticket_id)
    assert etag_after != etag_before  # the ETag is the id of the latest transaction
    assert ticket["Status"] == "open"  # a reply opens a new ticket
    assert custom_fields(ticket)["BugKey"] == ["BUG-42"]

    history = {int(t["id"]): t for t in alice.ticket_history(ticket_id)}
    assert history[reply]["Type"] == "Correspond"
    assert history[note]["Type"] == "Comment"
    assert history[reply]["Creator"]["id"] == "alice"

    bodies = {int(a["TransactionId"]): a["Content"] for a in alice.ticket_attachments(ticket_id)
              if a["ContentType"] == "text/plain"}
    assert bodies[reply] == "Hi Carol, fixed in 2.4."
    assert bodies[note] == "Internal: BUG-42"
    assert "carol@customer.example" in rt_server.mbox_path.read_text()


@rt
def test_links_round_trip(alice):
    case = alice.create_ticket("Backline Cases", "case", "x")
    bug = alice.create_ticket("Backline Bugs", "bug", "x")
    help_ = alice.create_ticket("Backline Help", "help", "x")
    assert alice.add_link(help_, "RefersTo", case) == [f"Ticket {help_} refers to Ticket {case}."]
    alice.add_link(case, "DependsOn", bug)
    alice.add_link(case, "RefersTo", "https://jira.example/browse/BUG-42")
    assert alice.add_link(help_, "RefersTo", case) == ["Link already exists"]

    links = alice.ticket_links(case)
    assert links["DependsOn"] == [bug]
    assert links["ReferredToBy"] == [help_]
    assert links["RefersTo"] == ["https://jira.example/browse/BUG-42"]
    assert alice.ticket_links(bug)["DependedOnBy"] == [case]
    history = alice.ticket_history(case)
    assert any(t["Type"] == "AddLink" and t["Field"] == "DependsOn" for t in history)

    alice.remove_link(help_, "RefersTo", case)
    alice.remove_link(help_, "RefersTo", case)  # idempotent
    assert alice.ticket_links(case)["ReferredToBy"] == []
    with pytest.raises(RTRefused, match="Couldn't resolve"):
        alice.add_link(case, "RefersTo", 999999)
    with pytest.raises(ValueError):
        alice.add_link(case, "Likes", bug)


# ---------------------------------------------------------------- articles


@rt
def test_article_create_update_conflict_search(alice, bob):
    since = datetime.now(timezone.utc) - timedelta(seconds=2)
    name = f"Widget save crash {marker()}"
    flags = json.dumps({"needs_review": True, "tags": ["widget"]})
    article_id = alice.create_article(
        "Backline KB", name, "Known issue in 2.3", "Fixed in 2.4.\nWorkaround: no autosave.",
        {"KCSState": "wip", "Flags": flags, "ArticleOwner": "alice"},
    )
    article, etag = alice.get_article(article_id)
    assert article["Name"] == name and article["Summary"] == "Known issue in 2.3"
    cfs = custom_fields(article)
    assert cfs["Content"] == ["Fixed in 2.4.\nWorkaround: no autosave."]
    assert cfs["KCSState"] == ["wip"]
    assert json.loads(cfs["Flags"][0]) == {"needs_review": True, "tags": ["widget"]}

    messages = bob.update_article(
        article_id, {"Summary": "Fixed in 2.4", "CustomFields": {"KCSState": "validated"}},
        if_match=etag,
    )
    assert "KCSState wip changed to validated" in messages
    with pytest.raises(RTConflict):
        alice.update_article(article_id, {"Summary": "stale"}, if_match=etag)
    with pytest.raises(RTRefused, match="Invalid value"):
        alice.update_article(article_id, {"CustomFields": {"KCSState": "bogus"}})

    found = list(alice.search_articles("Backline KB", since=since))
    assert article_id in [int(a["id"]) for a in found]
    hit = next(a for a in found if int(a["id"]) == article_id)
    assert hit["Summary"] == "Fixed in 2.4"
    class_id = alice.class_id("Backline KB")
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert list(alice.search_articles(class_id, since=later)) == []

    with pytest.raises(RTError) as info:  # duplicate Name in the class
        alice.create_article("Backline KB", name, "dup", "dup")
    assert info.value.status == 400


# ---------------------------------------------------------------- auth and outages


@rt
def test_bad_password_raises_auth_error(rt_server):
    with RTClient(rt_server.url, user="alice", password="wrong-secret-pw") as client:
        with pytest.raises(RTAuthError) as info:
            client.get_ticket(1)
    assert info.value.status == 401
    assert "wrong-secret-pw" not in str(info.value)
    assert "\n" not in str(info.value)


@rt
def test_token_auth(rt_server):
    token = rt_server.make_token("alice")
    with RTClient(rt_server.rest2, token=token) as client:
        assert client.server_info()["Version"].startswith("5.0")
        ticket_id = client.create_ticket("Backline Help", "via token", "x")
        assert client.get_ticket(ticket_id)[0]["Creator"]["id"] == "alice"
    with RTClient(rt_server.url, token=token[:-4] + "0000") as client:
        with pytest.raises(RTAuthError) as info:
            client.server_info()
    assert token[:-4] not in str(info.value)


@rt
def test_stopped_server_raises_unavailable_then_recovers(rt_server_factory):
    server = rt_server_factory()
    with server.client("bob", timeout=5) as bob:
        ticket_id = bob.create_ticket("Backline Help", "survives a restart", "x")
        server.stop()
        with pytest.raises(RTUnavailable) as info:
            bob.get_ticket(ticket_id)
        assert "bobpw12345" not in str(info.value)
        assert "\n" not in str(info.value)
        server.start()
        assert bob.get_ticket(ticket_id)[0]["Subject"] == "survives a restart"
