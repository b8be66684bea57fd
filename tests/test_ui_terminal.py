"""The real `backline` command in a real terminal (tmux): open the help queue, claim a request,
respond, document it, quit; then check the database. Also: an OSC title sequence in ticket text
does not reach the terminal."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backline_tui.clock import Clock, parse_ts
from backline_tui.config import Config
from backline_tui.domain.models import HelpRequest
from backline_tui.storage import Replica, records
from backline_tui.workbench import Workbench

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

NOW = "2026-11-23T09:00:00Z"
BIN = Path(sys.executable).parent / "backline"


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout

    def start(self, command: str) -> None:
        self.run("new-session", "-d", "-s", self.name, "-x", "120", "-y", "40", command)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear within {timeout}s; the screen shows:\n{shown}")
            time.sleep(0.1)

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(f"backline-test-{os.getpid()}-{tmp_path.name}")
    yield t
    t.kill()


def test_claim_respond_document_in_a_real_terminal(tmp_path, tmux):
    db = tmp_path / "ui.db"
    config = tmp_path / "config.toml"
    config.write_text('me = "alice"\n', encoding="utf-8")
    env = {**os.environ, "BACKLINE_NOW": NOW, "BACKLINE_CONFIG": str(config)}
    subprocess.run([str(BIN), "--db", str(db), "demo", "--cases", "300"], check=True, env=env, capture_output=True)

    # a ticket that tries to retitle the terminal window
    r = Replica(db)
    with r.transaction() as conn:
        records.upsert_help_requests(conn, [HelpRequest(
            ref="HELP-EVIL", subject="title \x1b]0;pwned\x07 and [@click=app.quit]x[/]", asker="mallory",
            priority="P4", created_at="2026-11-23T08:59:00Z", updated_at="2026-11-23T08:59:00Z",
        ).model_dump()], Config(me="alice"))
    r.close()

    wb = Workbench.open(db, Config(me="alice"), Clock(parse_ts(NOW)))
    rows = wb.pane("help")
    index, target = next((i, r) for i, r in enumerate(rows) if r["owner"] is None and r["ref"] != "HELP-EVIL")
    wb.close()
    ref = target["ref"]

    command = " ".join(shlex.quote(x) for x in ["env", "-u", "COLUMNS", "-u", "LINES", f"BACKLINE_NOW={NOW}", f"BACKLINE_CONFIG={config}",
                                                 "TERM=xterm-256color", str(BIN), "--db", str(db)])
    tmux.start(f"{command}; echo EXITED $?; sleep 60")
    title_before = tmux.run("display-message", "-p", "-t", tmux.name, "#{pane_title}")
    tmux.wait_for("Help queue ·")
    shown = tmux.wait_for("HELP-EVIL")
    line = next(x for x in shown.splitlines() if "HELP-EVIL" in x)
    assert "title �]0;pwned� and [@click=app.quit]x[…" in line, line
    assert tmux.run("display-message", "-p", "-t", tmux.name, "#{pane_title}") == title_before
    assert "pwned" not in title_before

    tmux.keys(*["j"] * index)
    tmux.keys("Enter")
    tmux.wait_for("Asked by")  # the record itself, not the "Help request … · loading…" header
    tmux.keys("c")
    tmux.wait_for(f"claimed {ref}")
    tmux.keys("r")
    tmux.wait_for(f"Reply to {ref}")
    tmux.keys("Restart the sync agent, then clear the cache.", literal=True)
    tmux.keys("C-s")
    tmux.wait_for(f"reply sent to {ref}")
    tmux.keys("d")
    if "already cover it" in tmux.wait_for(f"Document {ref}"):
        tmux.keys("Enter")  # none of the articles that cover it: go on to draft
    tmux.wait_for(f"Document {ref} as a KB article")
    tmux.keys("C-s")
    shown = tmux.wait_for(f"documented {ref} in DRAFT-")
    tmux.keys("Escape")
    tmux.wait_for("Help queue ·")
    tmux.keys("q")
    tmux.wait_for("EXITED 0")

    wb = Workbench.open(db, Config(me="alice"), Clock(parse_ts(NOW)))
    try:
        hr = wb.help_request(ref)
        assert hr["owner"] == "alice" and hr["status"] == "answered"
        assert hr["messages"][-1]["body"] == "Restart the sync agent, then clear the cache."
        assert hr["article"] is not None and hr["article"]["state"] == "wip"
        article = wb.article(hr["article"]["ref"])
        assert "Restart the sync agent, then clear the cache." in article["body"]
        assert [o["op"] for o in wb.outbox()] == ["claim", "respond", "document"]
    finally:
        wb.close()
