"""Bad input ends with one clear line naming the problem, a non-zero exit, no traceback, and the
database exactly as it was (its digest before and after)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from backline_tui.storage import Replica
from tests import hostile

BACKLINE = [sys.executable, "-m", "backline_tui"]
NOW = "2026-11-23T09:00:00Z"


def run(*args, env=None, input=None):
    e = dict(os.environ)
    e.update({"BACKLINE_NOW": NOW})
    e.pop("BACKLINE_DEBUG", None)
    e.update(env or {})
    return subprocess.run(BACKLINE + list(args), capture_output=True, env=e, input=input, timeout=120)


def one_line_error(p) -> str:
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode != 0, (p.stdout, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backline: "), err
    assert "internal error" not in err, err
    return lines[0]


def digest(db: Path) -> str:
    """What the database holds, independent of WAL checkpointing: a dump of every row."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    h = hashlib.sha256()
    for line in conn.iterdump():
        h.update(line.encode("utf-8", "surrogatepass"))
    conn.close()
    return h.hexdigest()


GOOD_CASE = {"type": "case", "ref": "CASE-1", "subject": "Crash on save", "customer": "Acme",
             "created_at": NOW, "updated_at": NOW, "last_activity_at": NOW}
GOOD_HELP = {"type": "help_request", "ref": "HELP-1", "subject": "What now?", "asker": "fl.ben",
             "created_at": NOW, "updated_at": NOW, "case_ref": "CASE-1"}


def lines(*objs) -> bytes:
    return b"".join((json.dumps(o) if not isinstance(o, (bytes, str)) else o).encode() + b"\n"
                    if not isinstance(o, bytes) else o + b"\n" for o in objs)


BAD_FILES = {
    "broken json": (lines(GOOD_CASE, '{"type": "case", "ref": '), "line 2", "JSON"),
    "not an object": (lines(GOOD_CASE, "[1, 2, 3]"), "line 2", "object"),
    "wrong type of field": (lines({**GOOD_CASE, "reopen_count": "many"}), "line 1", "reopen_count"),
    "bad enum": (lines({**GOOD_CASE, "severity": "S9"}), "line 1", "severity"),
    "bad timestamp": (lines({**GOOD_CASE, "created_at": "yesterday"}), "line 1", "created_at"),
    "unknown record type": (lines(GOOD_CASE, {"type": "invoice", "ref": "X"}), "line 2", "invoice"),
    "no type": (lines({"ref": "X"}), "line 1", "type"),
    "missing id": (lines({k: v for k, v in GOOD_CASE.items() if k != "ref"}), "line 1", "ref"),
    "empty id": (lines({**GOOD_CASE, "ref": ""}), "line 1", "ref"),
    "unknown field": (lines({**GOOD_CASE, "colour": "red"}), "line 1", "colour"),
    "dangling reference": (lines({**GOOD_HELP, "case_ref": "CASE-404"}), "line 1", "CASE-404"),
    "duplicate ref": (lines(GOOD_CASE, GOOD_CASE), "line 2", "twice"),
    "invalid utf-8": (lines(GOOD_CASE) + b'{"type": "case", "ref": "\xff\xfe"}\n', "line 2", "UTF-8"),
    "latin-1 file": (lines(GOOD_CASE) + '{"type": "case", "ref": "caf\u00e9"}\n'.encode("latin-1"), "line 2", "UTF-8"),
    "truncated last line": (lines(GOOD_CASE, GOOD_HELP)[:-25], "line 2", "JSON"),
    "lone surrogate": (lines({**GOOD_CASE, "subject": "\ud800 x"}), "line 1", "surrogate"),
    "nul byte outside a string": (lines(GOOD_CASE) + b'{"type": "case"\x00}\n', "line 2", "JSON"),
    "huge number": (lines({**GOOD_CASE, "reopen_count": 10**30}), "line 1", "reopen_count"),
}


@pytest.fixture
def filled_db(demo_db, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "alice"\n')
    return demo_db, cfg


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_jsonl_file_is_refused_whole_with_its_line_and_reason(name, filled_db, tmp_path):
    db, cfg = filled_db
    data, where, what = BAD_FILES[name]
    f = tmp_path / "in.jsonl"
    f.write_bytes(lines({**GOOD_CASE, "ref": "FIRST-GOOD"}) + data)  # a good line first: all or nothing
    before = digest(db)
    p = run("import", str(f), "--db", str(db), "--config", str(cfg))
    line = one_line_error(p)
    n = int(where.split()[1]) + 1  # the good line shifts every number by one
    assert f"line {n}" in line, line
    assert what.lower() in line.lower(), line
    assert "nothing was imported" in line
    assert digest(db) == before


def test_a_bad_file_on_standard_input_is_refused_too(filled_db):
    db, cfg = filled_db
    before = digest(db)
    p = run("import", "-", "--db", str(db), "--config", str(cfg), input=b'{"type": "case"\n')
    assert "line 1" in one_line_error(p)
    assert digest(db) == before


def test_import_of_a_missing_or_unreadable_file(filled_db, tmp_path):
    db, cfg = filled_db
    before = digest(db)
    p = run("import", str(tmp_path / "nope.jsonl"), "--db", str(db), "--config", str(cfg))
    assert "nope.jsonl" in one_line_error(p)
    p = run("import", str(tmp_path), "--db", str(db), "--config", str(cfg))  # a directory
    one_line_error(p)
    assert digest(db) == before


def test_a_good_file_after_all_that_imports(filled_db, tmp_path):
    db, cfg = filled_db
    f = tmp_path / "ok.jsonl"
    f.write_bytes(lines(GOOD_CASE, GOOD_HELP))
    p = run("import", str(f), "--db", str(db), "--config", str(cfg))
    assert p.returncode == 0, p.stderr
    r = Replica(db)
    assert r.scalar("SELECT case_id IS NOT NULL FROM help_requests WHERE ref = 'HELP-1'") == 1
    r.close()


# -- hostile text through the interchange format ------------------------------------------


def test_hostile_text_imports_and_exports_byte_for_byte(tmp_path):
    """Every hostile string (NULs, escapes, C1, bidi, the 1 MB body) survives import → export
    exactly, and export → import → export gives the same bytes."""
    from backline_tui.sync.jsonl import dumps_line

    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "alice"\n')
    src = tmp_path / "hostile.jsonl"
    src.write_text("".join(dumps_line(r) + "\n" for r in hostile.records()), encoding="utf-8")
    db1, db2 = tmp_path / "one.db", tmp_path / "two.db"
    p = run("import", str(src), "--db", str(db1), "--config", str(cfg))
    assert p.returncode == 0, p.stderr
    out1 = run("export", "--db", str(db1), "--config", str(cfg))
    assert out1.returncode == 0, out1.stderr
    exported = [json.loads(x) for x in out1.stdout.decode("utf-8").splitlines()]
    by_ref = {(r["type"], r.get("ref")): r for r in exported}
    for original in hostile.records():
        if original["type"] == "link":
            continue
        got = by_ref[(original["type"], original["ref"])]
        for key, value in original.items():
            if key == "flags":
                assert [f["reason"] for f in got["flags"]] == [f["reason"] for f in value]
            else:
                assert got[key] == value, (original["ref"], key)
    # the export escapes every control and bidi character: safe to cat to a terminal
    raw = out1.stdout
    for seq in hostile.INJECTION_BYTES:
        assert seq not in raw
    assert not any(0x80 <= cp <= 0x9F for cp in map(ord, raw.decode("utf-8")))
    f2 = tmp_path / "again.jsonl"
    f2.write_bytes(raw)
    assert run("import", str(f2), "--db", str(db2), "--config", str(cfg)).returncode == 0
    out2 = run("export", "--db", str(db2), "--config", str(cfg))
    assert out2.stdout == raw


# -- config, data directory, database ---------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    (b"\xff\xfe m = 1", "not UTF-8"),
    (b"[[sources]]\nname = 'x'\n", "sources.0.kind"),
    (b"[[sources]]\nname = 'rt'\nkind = 'zendesk'\n", "sources.0.kind"),
    (b"me = 'a'\nme = 'b'\n", "not valid TOML"),
    (b"[ola]\nP1 = 'soon'\n", "ola.P1"),
    (b"sources = 3\n", "sources"),
])
def test_a_malformed_config_names_the_problem_and_changes_nothing(text, expected, filled_db, tmp_path):
    db, _ = filled_db
    cfg = tmp_path / "bad.toml"
    cfg.write_bytes(text)
    before = digest(db)
    good = tmp_path / "good.jsonl"
    good.write_bytes(lines(GOOD_CASE))
    # every command refuses it; one config goes through them all, the others through two
    commands = [["status"], ["import", str(good)]]
    if expected == "not UTF-8":
        commands += [["sync"], ["export"], ["report"], []]
    for args in commands:
        p = run(*args, "--db", str(db), "--config", str(cfg))
        line = one_line_error(p)
        assert expected in line, (args, line)
        assert str(cfg) in line or "config" in line
    assert digest(db) == before


def test_a_config_path_that_is_a_directory(filled_db, tmp_path):
    db, _ = filled_db
    p = run("status", "--db", str(db), "--config", str(tmp_path))
    one_line_error(p)


def test_an_unwritable_data_directory(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes everywhere")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        p = run("demo", "--cases", "10", "--db", str(ro / "x.db"))
        line = one_line_error(p)
        assert "ro" in line
    finally:
        ro.chmod(0o700)


def test_a_database_file_that_is_not_a_database(tmp_path):
    db = tmp_path / "junk.db"
    db.write_bytes(b"this is not sqlite" * 100)
    before = db.read_bytes()
    p = run("status", "--db", str(db))
    assert "not a Backline database" in one_line_error(p) or "cannot open" in p.stderr.decode()
    assert db.read_bytes() == before


def test_a_database_from_a_newer_schema_is_left_untouched(filled_db):
    db, cfg = filled_db
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = digest(db)
    for args in (["status"], ["import", "-"], ["export"], ["report"], ["demo", "--replace", "--cases", "5"]):
        p = run(*args, "--db", str(db), "--config", str(cfg), input=lines(GOOD_CASE))
        line = one_line_error(p)
        assert "newer Backline" in line, (args, line)
    assert digest(db) == before
    assert not list(db.parent.glob("*.bak"))


@pytest.mark.parametrize("bad", [
    {**GOOD_CASE, "ref": "\x1b]0;pwned\x07\x1b[2J", "severity": "S9"},           # invalid record
    {**GOOD_HELP, "ref": "H\x1b]52;c;cHduZWQ=\x07", "case_ref": "\x9b2J\u202eX"},  # dangling reference
])
def test_an_error_message_quoting_hostile_text_is_inert_and_one_line(bad, filled_db, tmp_path):
    """Error messages quote refs from the file: what reaches stderr has no control sequence and
    stays on one line."""
    db, cfg = filled_db
    f = tmp_path / "evil.jsonl"
    f.write_bytes(lines(bad))
    p = run("import", str(f), "--db", str(db), "--config", str(cfg))
    one_line_error(p)
    assert b"\x1b" not in p.stderr and b"\x07" not in p.stderr
    assert b"\xc2\x9b" not in p.stderr and "\u202e".encode() not in p.stderr
