"""JSONL interchange: `backline import` is all or nothing, `backline export` round-trips byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backline_tui.cli import main
from backline_tui.storage import Replica
from backline_tui.sync.jsonl import dumps_line, export_records, import_records

HOSTILE = "A\x1b[2J\x1b]52;c;ZXZpbA==\x07 [@click=app.quit]x[/] \x00nul \x7fdel \x85nel \u2028ls \u202eRTL \r\n crlf \U0001F600 é"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def counts(db: Path) -> dict[str, int]:
    r = Replica(db)
    try:
        return {t: r.scalar(f"SELECT COUNT(*) FROM {t}") for t in
                ("cases", "bugs", "articles", "help_requests", "messages", "case_bugs", "article_links", "article_flags")}
    finally:
        r.close()


def test_export_import_export_is_byte_exact_on_demo_data(demo_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BACKLINE_CONFIG", str(tmp_path / "none.toml"))
    first = tmp_path / "first.jsonl"
    assert run(capsys, "--db", str(demo_db), "export", str(first))[0] == 0
    code, out, err = run(capsys, "--db", str(tmp_path / "new.db"), "import", str(first))
    assert code == 0, err
    assert out.startswith("imported ")
    second = tmp_path / "second.jsonl"
    assert run(capsys, "--db", str(tmp_path / "new.db"), "export", str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()
    assert counts(demo_db) == counts(tmp_path / "new.db")
    assert len(first.read_bytes().splitlines()) > 500
    # stdout is the default and says the same
    code, out, _ = run(capsys, "--db", str(tmp_path / "new.db"), "export")
    assert code == 0 and out.encode("utf-8") == second.read_bytes()


def test_every_character_survives_a_round_trip(tmp_path, config, wb):
    wb.note("help_request", wb.pane("help")[0]["ref"], HOSTILE)
    wb.edit_article(wb.pane("kb")[0]["ref"], "T\x1b]0;title\x07", HOSTILE)
    lines = [dumps_line(d) for d in export_records(wb.replica)]
    text = "\n".join(lines) + "\n"
    # control characters travel as escapes: the file itself holds none but the newlines
    assert not any(ch in text for ch in "\x1b\x00\x7f\x85\u2028\u202e\r")
    assert "\\u001b" in text and "\\u0085" in text and "\\u2028" in text and "😀" in text
    target = Replica(tmp_path / "copy.db")
    try:
        import_records(target, config, text.encode("utf-8"))
        again = "".join(dumps_line(d) + "\n" for d in export_records(target))
        assert again == text
        assert target.scalar("SELECT COUNT(*) FROM messages WHERE body = ?", (HOSTILE,)) == 1
        assert target.scalar("SELECT body FROM articles WHERE title = ?", ("T\x1b]0;title\x07",)) == HOSTILE
    finally:
        target.close()


GOOD_CASE = {"type": "case", "ref": "C-1", "subject": "s", "customer": "Acme", "created_at": "2026-11-01T00:00:00Z",
             "updated_at": "2026-11-01T00:00:00Z", "last_activity_at": "2026-11-01T00:00:00Z"}
GOOD_HELP = {"type": "help_request", "ref": "H-1", "subject": "q", "asker": "fl", "case_ref": "C-1",
             "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"}


def _file(tmp_path: Path, lines: list[bytes], name: str = "in.jsonl", newline_at_end: bool = True) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + (b"\n" if newline_at_end else b""))
    return path


def _j(d: dict) -> bytes:
    return json.dumps(d).encode()


@pytest.mark.parametrize(
    "bad, reason",
    [
        (b"\xff\xfe not utf-8", "line 3: not UTF-8 text (byte 0xff at column 1)"),
        (b'{"type": "case", "ref": ', "line 3: not valid JSON"),
        (_j({"type": "ticket", "ref": "X"}), "line 3: unknown type 'ticket'"),
        (_j({"ref": "X"}), 'line 3: no "type"'),
        (_j({k: v for k, v in GOOD_CASE.items() if k != "ref"} | {"ref": None}), "line 3: case: ref: "),
        (_j({**GOOD_CASE, "ref": "C-2", "severity": "S9"}), "line 3: case C-2: severity: "),
        (_j({**GOOD_CASE, "ref": "C-2", "created_at": "yesterday"}), "line 3: case C-2: created_at: "),
        (_j({**GOOD_HELP, "ref": "H-2", "case_ref": "C-404"}), "line 3: help request H-2 links case C-404, which is neither"),
        (_j({**GOOD_CASE}), "line 3: case C-1 appears twice (first on line 1)"),
        (b"[1, 2]", "line 3: expected a JSON object"),
    ],
)
def test_import_is_all_or_nothing_with_the_line_and_reason(bad, reason, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BACKLINE_CONFIG", str(tmp_path / "none.toml"))
    db = tmp_path / "db.sqlite"
    path = _file(tmp_path, [_j(GOOD_CASE), _j(GOOD_HELP), bad, _j({**GOOD_CASE, "ref": "C-9"})])
    code, out, err = run(capsys, "--db", str(db), "import", str(path))
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert reason in err, err
    assert "nothing was imported" in err
    assert counts(db)["cases"] == 0 and counts(db)["help_requests"] == 0


def test_a_truncated_last_line_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BACKLINE_CONFIG", str(tmp_path / "none.toml"))
    db = tmp_path / "db.sqlite"
    whole = _j(GOOD_HELP)
    path = _file(tmp_path, [_j(GOOD_CASE), whole[: len(whole) // 2]], newline_at_end=False)
    code, _, err = run(capsys, "--db", str(db), "import", str(path))
    assert code == 1 and "line 2: not valid JSON" in err and "cut short" in err
    assert counts(db)["cases"] == 0


def test_import_from_stdin_and_into_a_database_that_has_records(tmp_path, capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setenv("BACKLINE_CONFIG", str(tmp_path / "none.toml"))
    db = tmp_path / "db.sqlite"
    data = b"\n".join([_j(GOOD_CASE), b"", _j(GOOD_HELP)]) + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, err = run(capsys, "--db", str(db), "import", "-")
    assert code == 0, err
    assert "imported 2 records" in out
    # a second file may refer to records already in the database, and updates them
    path = _file(tmp_path, [_j({**GOOD_HELP, "subject": "changed"}),
                            _j({"type": "message", "ref": "M-1", "parent_type": "help_request", "parent_ref": "H-1",
                                "author": "alice", "body": "hi", "created_at": "2026-11-02T00:00:00Z"})])
    code, out, err = run(capsys, "--db", str(db), "import", str(path))
    assert code == 0, err
    r = Replica(db)
    try:
        assert r.scalar("SELECT subject FROM help_requests WHERE ref = 'H-1'") == "changed"
        assert r.scalar("SELECT COUNT(*) FROM messages") == 1
    finally:
        r.close()


def test_schema_is_valid_json_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(schema["discriminator"]["mapping"]) == {"case", "help_request", "bug", "article", "message", "link"}
    assert "$defs" in schema and all("properties" in d for d in schema["$defs"].values() if d.get("type") == "object")
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(GOOD_CASE, schema)
