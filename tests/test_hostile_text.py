"""Hostile text (tests/hostile.py) is stored exactly and made inert by the one sanitiser.

The screen itself is checked on a real terminal stream in test_hostile_pty.py; here: the
sanitiser's promises one string at a time, what Rich writes for a cleaned string, and the
replica keeping every hostile byte as it came."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from rich.console import Console
from rich.text import Text

from backline_tui.clock import Clock
from backline_tui.config import Config
from backline_tui.text import MAX_COMBINING, REPLACEMENT, clean, one_line
from backline_tui.workbench import Workbench
from tests import hostile
from tests.factories import NOW

TEXTS = hostile.all_texts()
IDS = [name for name, _ in TEXTS]
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# what a terminal acts on: every escape/control introducer Rich could pass through
TERMINAL_CONTROL = re.compile(r"\x1b\][^\x07\x1b]*|\x1b[P_^X]|[\x80-\x9f]")


def _unsafe_chars(s: str) -> list[str]:
    return [ch for ch in s if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F or ch in BIDI_CONTROLS
            or ch in "\u2028\u2029"]


@pytest.mark.parametrize("name,text", TEXTS, ids=IDS)
def test_clean_leaves_no_control_character_and_keeps_the_marker(name, text):
    out = clean(text)
    assert _unsafe_chars(out) == []
    assert out.startswith(text.split(" ", 1)[0])  # the marker survives
    line = one_line(text, 120)
    assert _unsafe_chars(line) == [] and "\n" not in line and "\t" not in line
    for injected in hostile.INJECTIONS:
        assert injected not in out


@pytest.mark.parametrize("name", ["click_quit", "link_file", "unbalanced", "looks_like_markup", "nested_brackets",
                                  "rich_emoji_code", "markdown_link", "html", "wide_emoji", "tabs_newlines"])
def test_text_that_only_looks_like_markup_is_kept_exactly(name):
    text = hostile.CORPUS[name]
    assert clean(text) == text


def test_each_control_becomes_one_replacement_character_and_nothing_else_is_lost():
    out = clean(hostile.CORPUS["osc52_clipboard"])
    assert out == f"HX10 {REPLACEMENT}]52;c;cHduZWQ={REPLACEMENT} clipboard written"
    assert clean(hostile.CORPUS["c1_all_del"]) == "HX20 " + REPLACEMENT * 33
    assert clean(hostile.CORPUS["nul"]) == f"HX27 before{REPLACEMENT}after{REPLACEMENT}"
    assert clean(hostile.CORPUS["crlf"]) == "HX29 line one\nline two\n"
    assert clean(hostile.CORPUS["line_separators"]) == f"HX26 one\ntwo\nthree{REPLACEMENT}four"
    assert clean(hostile.CORPUS["bidi_override"]) == f"HX21 invoice{REPLACEMENT}fdp.exe{REPLACEMENT} done"


def test_combining_floods_are_cut_but_ordinary_accents_kept():
    out = clean(hostile.CORPUS["combining_flood"])
    assert out.startswith("HX24 Z") and out.endswith("alg")
    longest = max(len(m) for m in re.findall(r"[\u0300-\u036f]+", out))
    assert longest == MAX_COMBINING
    # Vietnamese stacks two marks, Hebrew with cantillation a few: untouched
    for s in ("Tiếng Việt ệ ẫ ở", "e\u0301\u0302", "\u05e9\u05c1\u05b8\u0591"):
        assert clean(s) == s
    # decomposed text survives as typed (no normalisation)
    assert clean(unicodedata.normalize("NFD", "café")) == unicodedata.normalize("NFD", "café")


def test_a_one_megabyte_body_is_cleaned_whole():
    out = clean(hostile.BIG)
    assert len(hostile.BIG) == 1_000_000
    assert _unsafe_chars(out) == []
    assert len(out) == len(hostile.BIG)  # one replacement per control, no growth, no loss


@pytest.mark.parametrize("name,text", TEXTS, ids=IDS)
def test_rich_writes_a_cleaned_string_without_any_terminal_control(name, text):
    """What a widget renders from clean() output: only Rich's own SGR styling reaches the stream."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system="truecolor", width=120, legacy_windows=False)
    console.print(Text(clean(text[:20000]), style="bold"))
    console.print(Text(one_line(text, 80)))
    written = buf.getvalue()
    assert TERMINAL_CONTROL.findall(written) == []
    # the only escapes left are SGR (style) sequences
    assert set(re.findall(r"\x1b(.)", written)) <= {"["}
    assert re.findall(r"\x1b\[[0-9;]*[^0-9;m]", written) == []


def test_the_replica_keeps_hostile_text_exactly(tmp_path):
    """Storage keeps text as it came (the sanitiser is for display): every field reads back
    byte for byte, the 1 MB body and NULs included."""
    wb = Workbench.open(tmp_path / "h.db", Config(me="alice"), Clock(NOW))
    hostile.store(wb.replica, wb.config, hostile.records())
    for i, (name, text) in enumerate(TEXTS, 1):
        short = text if len(text) < 2000 else text[:2000]
        hr = wb.help_request(f"HOST-H{i}")
        assert hr["subject"] == short and hr["body"] == text and hr["asker"] == short[:100], name
        assert [m["body"] for m in hr["messages"]] == [text]
        case = wb.case(f"HOST-C{i}")
        assert case["customer"] == short[:200] and case["body"] == text
        assert wb.bug(f"HOST-B{i}")["title"] == short
        art = wb.article(f"HOST-K{i}")
        assert art["title"] == short and art["body"] == text
    assert wb.replica.integrity_ok()
    # search finds hostile records by their marker without choking on their text
    hits = wb.search("HX10")
    assert any(h["ref"].startswith("HOST-") for h in hits)
    wb.close()
