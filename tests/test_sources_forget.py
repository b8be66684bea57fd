"""`backline sources forget NAME`: a source's records go only after a confirmation that says how many."""

from __future__ import annotations

from backline_tui.cli import main
from backline_tui.storage import Replica


def counts(db) -> dict[str, int]:
    r = Replica(db)
    try:
        return {t: r.scalar(f"SELECT COUNT(*) FROM {t} WHERE source = 'demo'")
                for t in ("help_requests", "cases", "bugs", "articles", "messages")}
    finally:
        r.close()


def search_word(db) -> str:
    r = Replica(db)
    try:
        return r.scalar("SELECT subject FROM cases ORDER BY id LIMIT 1").split()[0]
    finally:
        r.close()


def search(db, text: str) -> list[dict]:
    from backline_tui.config import Config
    from backline_tui.workbench import Workbench

    wb = Workbench.open(db, Config(me="alice"))
    try:
        return wb.search(text)
    finally:
        wb.close()


def test_forget_asks_with_the_counts_and_removes_only_with_yes(demo_db, tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('me = "alice"\n', encoding="utf-8")
    before = counts(demo_db)
    assert all(before.values())
    word = search_word(demo_db)
    assert search(demo_db, word)
    args = ["--db", str(demo_db), "--config", str(cfg), "sources", "forget", "demo"]
    # no terminal to ask: refused, nothing removed
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(args) == 1
    err = capsys.readouterr().err
    total = before["help_requests"] + before["cases"] + before["bugs"] + before["articles"]
    assert f"forget {total} records of source demo ({before['help_requests']} help requests, " in err
    assert "Not without --yes" in err
    assert counts(demo_db) == before
    # asked, and the answer is no
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(args) == 1 and counts(demo_db) == before
    assert "nothing forgotten" in capsys.readouterr().out
    # --yes
    assert main([*args, "--yes"]) == 0
    assert f"forgot {before['help_requests']} help requests, {before['cases']} cases" in capsys.readouterr().out
    assert set(counts(demo_db).values()) == {0}
    r = Replica(demo_db)
    try:
        assert r.scalar("SELECT COUNT(*) FROM case_bugs") == 0 and r.scalar("SELECT COUNT(*) FROM article_links") == 0
    finally:
        r.close()
    assert search(demo_db, word) == []  # the search index forgot them too
