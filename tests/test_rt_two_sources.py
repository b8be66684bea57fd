"""Two RT servers feeding one replica, whose refs collide (both have RT#1 and RT#2)."""

from __future__ import annotations

import os

import pytest

from backline_tui.live import source_state
from backline_tui.cli import main
from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.workbench import ActionError, Workbench
from tests.conftest import NOW

pytestmark = pytest.mark.rt

PW_ENV = "BACKLINE_TEST_TWO_ALICE"


def two_sources(east, west) -> Config:
    return Config(me="alice", sources=[
        SourceConfig(name=name, kind="rt", url=server.url, user="alice", password_env=PW_ENV)
        for name, server in (("east", east), ("west", west))])


def test_two_rt_sources_with_colliding_refs(rt_server_factory, tmp_path, capsys):
    os.environ[PW_ENV] = "alicepw123"
    east, west = rt_server_factory(), rt_server_factory()
    with east.client("alice") as e, west.client("alice") as w:
        assert e.create_ticket("Backline Cases", "East: login fails", "body", {"Customer": "Acme"}) == 1
        assert e.create_ticket("Backline Help", "East: how to reset MFA?", "body") == 2
        assert w.create_ticket("Backline Cases", "West: printing hangs", "body", {"Customer": "Globex"}) == 1
        assert w.create_ticket("Backline Help", "West: where is the audit log?", "body") == 2
        assert w.create_ticket("Backline Bugs", "West: token expires early", "body") == 3
    config = two_sources(east, west)
    wb = Workbench.open(tmp_path / "r.db", config, Clock(NOW))
    try:
        assert wb.sync().errors == []
        # both appear, qualified where they share a ref; short where not
        cases = {r["ref"]: r["subject"] for r in wb.replica.query("SELECT ref, subject FROM cases")}
        assert cases == {"east:RT#1": "East: login fails", "west:RT#1": "West: printing hangs"}
        assert {r["ref"] for r in wb.replica.query("SELECT ref FROM bugs")} == {"RT#3"}
        assert sorted(h["ref"] for h in wb.find_ref("RT#1")) == ["east:RT#1", "west:RT#1"]
        assert [h["ref"] for h in wb.find_ref("west:RT#2")] == ["west:RT#2"]
        assert [h["ref"] for h in wb.find_ref("west:rt#2")] == ["west:RT#2"]  # as typed in the search box
        with pytest.raises(ActionError, match=r"RT#2 names 2 help requests \(east:RT#2, west:RT#2\); say which"):
            wb.claim("RT#2")
        # a claim goes to the right server
        wb.claim("west:RT#2")
        # a link across sources: east's case, west's bug
        wb.link_case_bug("east:RT#1", "RT#3")
        result = wb.sync()
        assert result.errors == [] and result.pushed == 2
        with east.client("alice") as e, west.client("alice") as w:
            assert w.get_ticket(2)[0]["Owner"]["id"] == "alice"
            assert e.get_ticket(2)[0]["Owner"]["id"] == "Nobody"
            assert e.ticket_links(1)["RefersTo"] == [f"{west.url}/Ticket/Display.html?id=3"]
        assert [b["ref"] for b in wb.case("east:RT#1")["bugs"]] == ["RT#3"]
        assert wb.help_request("west:RT#2")["owner"] == "alice"
        assert wb.help_request("east:RT#2")["owner"] is None
        assert wb.sync().errors == []  # and a later sync keeps it
        assert [b["ref"] for b in wb.case("east:RT#1")["bugs"]] == ["RT#3"]
    finally:
        wb.close()
    # a new replica gets the link back from RT (east holds it as a link to west's URL)
    fresh = Workbench.open(tmp_path / "fresh.db", config, Clock(NOW))
    try:
        assert fresh.sync().errors == []
        assert [b["ref"] for b in fresh.case("east:RT#1")["bugs"]] == ["RT#3"]
        assert fresh.bug("RT#3")["linked_cases_total"] == 1
    finally:
        fresh.close()
    # each source's last success or failure, in `backline status` and on the status line
    west.stop()
    wb = Workbench.open(tmp_path / "r.db", config, Clock(NOW))
    try:
        assert len(wb.sync().errors) == 1
        state = wb.status()["source_status"]
        assert state["east"]["error"] is None and state["east"]["ok_at"]
        assert "is unreachable" in state["west"]["error"] and state["west"]["ok_at"]
        assert source_state("west", state["west"], str).startswith("west failed ")
        assert source_state("east", state["east"], str).startswith("east ok ")
    finally:
        wb.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text("".join(f'[[sources]]\nname = "{n}"\nkind = "rt"\nurl = "{s.url}"\nuser = "alice"\n'
                           f'password_env = "{PW_ENV}"\n' for n, s in (("east", east), ("west", west))), encoding="utf-8")
    assert main(["--config", str(cfg), "--db", str(tmp_path / "r.db"), "status"]) == 0
    out = capsys.readouterr().out
    assert "source east: ok at 20" in out
    assert "source west: failed at 20" in out and f"RT at {west.url}/REST/2.0 is unreachable" in out
    # west leaves the config: its records stay, and status says so
    cfg.write_text("[[sources]]" + cfg.read_text().split("[[sources]]")[1], encoding="utf-8")
    assert main(["--config", str(cfg), "--db", str(tmp_path / "r.db"), "status"]) == 0
    out = capsys.readouterr().out
    assert "source west: not in the config; its records stay until `backline sources forget west`" in out
    assert "source east: ok at 20" in out
