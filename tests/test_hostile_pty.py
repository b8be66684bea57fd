"""Hostile text on a real terminal: `backline` runs in a pseudo-terminal (120×40,
TERM=xterm-256color) over a database of hostile records, a user walks through every pane, detail,
compose screen, dialog, the palette and notifications, and the bytes the program wrote are
searched for anything the data could have injected.

Textual writes its own escape sequences; what data could inject is recognised by the unique
payloads of tests/hostile.py (an OSC carrying `pwned` or `cHduZWQ=`, a `file:///etc/passwd`
hyperlink, a screen clear followed by the corpus' own words, raw C1 controls, a bidi override)
and by an allow-list of the OSC commands Textual itself sends.
"""

from __future__ import annotations

import re

import pytest

from backline_tui.config import Config
from backline_tui.storage import Replica
from tests import hostile
from tests.pty_term import Term, backline

NOW = "2026-11-23T09:00:00Z"
# OSC commands Textual itself may send: 22 = pointer shape
TEXTUAL_OSC = {b"22"}


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-pty")
    db = d / "hostile.db"
    r = Replica(db)
    hostile.store(r, Config(me="alice"), hostile.records())
    r.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    r.close()
    cfg = d / "config.toml"
    cfg.write_text('me = "alice"\n')
    return db, cfg


def assert_nothing_injected(raw: bytes) -> None:
    for seq in hostile.INJECTION_BYTES:
        assert seq not in raw, f"hostile sequence {seq!r} reached the terminal"
    oscs = set(re.findall(rb"(?:\x1b\]|\xc2\x9d)([0-9]*)", raw))
    assert oscs <= TEXTUAL_OSC, f"unexpected OSC commands on the terminal: {oscs - TEXTUAL_OSC}"
    assert not re.search(rb"\x1b\][^\x07\x1b]*(pwned|cHduZWQ=|etc/passwd)", raw)
    # DCS, APC, PM, SOS strings and a full terminal reset (ESC c) come only from data
    assert not re.search(rb"\x1b[P_^X]|\x1bc", raw)
    # C1 controls encoded in UTF-8 (U+0080-U+009F): some terminals act on them
    assert not re.search(rb"\xc2[\x80-\x9f]", raw)
    # a screen clear, if Textual ever sends one, is never followed by the corpus' words
    assert not re.search(rb"\x1b\[2J(\x1b\[H)? screen", raw)
    # bidi overrides and isolates never reach the terminal
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert ch.encode() not in raw


def row_of(term: Term, needle: str) -> str:
    for line in term.lines():
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} not on screen:\n{term.text()}")


def goto(term: Term, ref: str, prefix: str = "HOST-") -> None:
    """Move the table cursor (j/k) until the highlighted row is `ref`'s."""
    for _ in range(80):
        term.wait_for(lambda _s: term.highlighted(prefix) is not None)
        line = term.highlighted(prefix)
        if f"{ref} " in line:
            return
        lines = term.lines()
        here = lines.index(line) if line in lines else 0
        there = next((y for y, text in enumerate(lines) if f"{ref} " in text), len(lines))
        term.press("j" if there > here else "k")
        term.wait_for(lambda _s: (term.highlighted(prefix) or line) != line)
    raise AssertionError(f"could not reach {ref}")


def open_and_back(term: Term, title: str, back_to: str) -> str:
    term.press("enter")
    screen = term.wait_for(title)
    term.press("escape")
    term.wait_for(back_to)
    return screen


def test_hostile_records_reach_the_terminal_inert(hostile_db):
    db, cfg = hostile_db
    with backline("--db", str(db), "--config", str(cfg), env={"BACKLINE_NOW": NOW}) as term:
        term.wait_for("HOST-H1 ")
        term.wait_for("Help queue · 1–31 of 31")
        # markup shows as the characters it is made of, nothing lost
        assert "HX01 [@click=app.quit]press me[/] and" in row_of(term, "HOST-H1 ")
        assert "HX02 [link=file:///etc/passwd]open me" in row_of(term, "HOST-H2 ")
        assert "HX03 x [/ y" in row_of(term, "HOST-H3 ")
        assert "HX04 [INFO] [1/3] [bold]not bold" in row_of(term, "HOST-H4 ")
        assert "HX06 :smile: :warning:" in row_of(term, "HOST-H6 ")
        # control sequences show as visible replacement characters
        assert "HX12 \ufffd[2J\ufffd[H screen cleared" in row_of(term, "HOST-H12 ")

        # click on the would-be action link in the list: nothing but a row selection happens
        y, x = term.find("press me")
        term.click(y, x + 2)  # that row is under the cursor: the click opens it, and nothing else
        term.wait_for("Help request HOST-H1")
        assert term.alive
        term.press("escape")
        term.wait_for("Help queue ·")
        term.press("2")
        term.wait_for("Stale cases ·")
        term.press("1")
        term.wait_for("Help queue ·")
        assert term.alive

        # details of every kind of hostile text (the 1 MB bodies: the next test)
        # (visited in list order: rows with equal urgency are ordered by ref)
        for i in sorted((1, 2, 9, 10, 11, 12, 16, 17, 19, 21, 24, 26), key=str):
            goto(term, f"HOST-H{i}")
            term.press("enter")
            term.wait_for(f"Help request HOST-H{i} ")
            if i == 1:
                term.wait_for("Question")
                # click every would-be action link in the record's text (the link list below
                # "Links ·" really does open records on a click)
                lines = term.lines()
                links_at = next(n for n, line in enumerate(lines) if line.startswith(" Links ·"))
                for row, line in enumerate(lines[:links_at]):
                    col = line.find("press me")
                    if col >= 0:
                        term.click(row, col + 1)
                assert "HX01 [@click=app.quit]press me[/] and [@click=app.bell]ring[/]" in term.wait_for(
                    f"Help request HOST-H{i} ")
                # compose a reply: the question is quoted inertly
                term.press("r")
                term.wait_for("Reply to HOST-H1")
                term.press("escape")
                term.wait_for(f"Help request HOST-H{i} ")
                # a KCS draft from hostile text: title input and body text area
                term.press("d")
                term.wait_for("Document HOST-H1")
                term.press("escape")
                term.wait_for(f"Help request HOST-H{i} ")
            term.press("escape")
            term.wait_for("Help queue ·")
        assert term.alive

        # a notification and a dialog quoting hostile subjects
        goto(term, "HOST-H30")
        term.press("c")
        term.wait_for("claimed")
        term.press("x")
        term.wait_for("Resolve HOST-H")
        term.press("escape")
        term.wait_for(lambda screen: "Resolve HOST-H" not in screen)

        # the other panes and one detail each
        term.press("2")
        term.wait_for("Stale cases ·")
        term.wait_for("HOST-C")
        open_and_back(term, "Case HOST-C", "Stale cases ·")
        term.press("3")
        term.wait_for("Sustaining bugs ·")
        term.wait_for("HOST-B")
        open_and_back(term, "Bug HOST-B", "Sustaining bugs ·")
        term.press("4")
        term.wait_for("KB review ·")
        term.wait_for("HOST-K1 ")
        open_and_back(term, "Article HOST-K1 ", "KB review ·")
        goto(term, "HOST-K7")
        term.press("enter")  # HOST-K7: Markdown links to file:// and an image
        term.wait_for("Article HOST-K7 ")
        pos = term.find("click")
        if pos:
            term.click(*pos)
        term.press("escape")
        term.wait_for("KB review ·")

        # insights: hostile component names in charts and tables
        term.press("5")
        term.wait_for("Top drivers")

        # the command palette searching hostile records
        term.press("ctrl+p")
        term.wait_for("Search for")
        term.send("HX10")
        term.wait_for("HOST-H10")
        term.press("escape")
        term.wait_for(lambda screen: "HOST-H10" not in screen)
        assert term.alive, "the app ended while showing hostile text"
        term.press("1")
        term.wait_for("Help queue ·")
        term.press("q")
        assert term.wait_exit() == 0
        raw = bytes(term.raw)
    assert len(raw) > 100_000  # it did draw all of that
    assert_nothing_injected(raw)
    assert b"Traceback" not in raw


def test_one_megabyte_of_hostile_text_in_a_detail_and_in_markdown(hostile_db):
    """The 1 MB body (OSC 52, action markup, bidi overrides all along) as a help request's
    question and as an article's Markdown: shown, inert, and the app answers keys afterwards."""
    db, cfg = hostile_db
    with backline("--db", str(db), "--config", str(cfg), env={"BACKLINE_NOW": NOW}) as term:
        term.wait_for("HOST-H1 ")
        goto(term, "HOST-H31")
        term.press("enter")
        term.wait_for("Help request HOST-H31 ")
        term.wait_for("Question", timeout=120)
        term.press("escape")
        term.wait_for("Help queue ·", timeout=120)
        term.press("4")
        term.wait_for("HOST-K1 ")
        goto(term, "HOST-K31")
        term.press("enter")
        term.wait_for("Article HOST-K31 ")
        term.wait_for("HX31 HX10", timeout=120)
        term.press("escape")
        term.wait_for("KB review ·", timeout=120)
        term.press("q")
        assert term.wait_exit() == 0
        raw = bytes(term.raw)
    assert_nothing_injected(raw)
    assert b"Traceback" not in raw
