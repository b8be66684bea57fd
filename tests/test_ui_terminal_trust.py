"""The two worst of issue 14 in a real terminal (tmux), with the real `backline` command: a
refused reply keeps its text on screen, and U after claim + reply leaves the request mine."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

from backline_tui.clock import Clock, parse_ts
from backline_tui.config import Config
from backline_tui.workbench import Workbench
from tests.test_ui_terminal import BIN, NOW, tmux  # noqa: F401 — tmux is a fixture

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="needs the backline command")

TEXT = "Checked the indexer logs: restart it with --rebuild, then clear the cache."


@pytest.fixture
def started(tmp_path, tmux):  # noqa: F811
    """The workbench on 300 demo cases in tmux, the cursor on the first unclaimed request."""
    db = tmp_path / "ui.db"
    config = tmp_path / "config.toml"
    config.write_text('me = "alice"\n', encoding="utf-8")
    env = {**os.environ, "BACKLINE_NOW": NOW, "BACKLINE_CONFIG": str(config)}
    subprocess.run([str(BIN), "--db", str(db), "demo", "--cases", "300"], check=True, env=env, capture_output=True)
    wb = Workbench.open(db, Config(me="alice"), Clock(parse_ts(NOW)))
    index, ref = next((i, r["ref"]) for i, r in enumerate(wb.pane("help")) if r["owner"] is None)
    wb.close()
    command = " ".join(shlex.quote(x) for x in ["env", "-u", "COLUMNS", "-u", "LINES", f"BACKLINE_NOW={NOW}",
                                                 f"BACKLINE_CONFIG={config}", "TERM=xterm-256color", str(BIN),
                                                 "--db", str(db)])
    tmux.start(f"{command}; echo EXITED $?; sleep 60")
    tmux.wait_for("Help queue ·")
    tmux.keys(*["j"] * index)
    return db, ref


def _open(db):
    return Workbench.open(db, Config(me="alice"), Clock(parse_ts(NOW)))


def test_a_refused_reply_keeps_its_text_in_a_real_terminal(started, tmux):  # noqa: F811
    db, ref = started
    tmux.keys("r")
    tmux.wait_for(f"Reply to {ref}")
    tmux.keys(TEXT, literal=True)
    tmux.wait_for("clear the cache.")
    other = _open(db)  # meanwhile bob takes it (a sync, another process)
    with other.replica.transaction() as conn:
        conn.execute("UPDATE help_requests SET owner = 'bob', status = 'claimed' WHERE ref = ?", (ref,))
    other.close()
    tmux.keys("C-s")
    shown = tmux.wait_for(f"not sent: {ref} is claimed by bob")
    assert "clear the cache." in shown  # the text is still on screen
    tmux.keys("C-n")
    tmux.wait_for("sent as an internal note")
    tmux.keys("q")
    tmux.wait_for("EXITED 0")
    wb = _open(db)
    try:
        last = wb.help_request(ref)["messages"][-1]
        assert last["kind"] == "note" and last["body"] == TEXT
    finally:
        wb.close()


def test_undo_after_claim_and_reply_leaves_the_request_mine_in_a_real_terminal(started, tmux):  # noqa: F811
    db, ref = started
    tmux.keys("c")
    tmux.wait_for(f"claimed {ref}")
    tmux.keys("r")
    tmux.wait_for(f"Reply to {ref}")
    tmux.keys("On it.", literal=True)
    tmux.keys("C-s")
    tmux.wait_for(f"reply sent to {ref}")
    tmux.keys("4")
    tmux.wait_for("KB review ·")
    tmux.keys("U")
    tmux.wait_for("nothing to undo")
    tmux.keys("q")
    tmux.wait_for("EXITED 0")
    wb = _open(db)
    try:
        hr = wb.help_request(ref)
        assert hr["owner"] == "alice" and hr["status"] == "answered"
    finally:
        wb.close()
