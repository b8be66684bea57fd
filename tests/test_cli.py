"""The `backline` command as a user runs it: exit codes and one-line errors, never a traceback."""

import json
import os
import subprocess
import sys

import pytest

BACKLINE = [sys.executable, "-m", "backline_tui"]


def run(*args, env=None, input=None):
    e = dict(os.environ)
    e.update({"BACKLINE_NOW": "2026-11-23T09:00:00Z"})
    e.update(env or {})
    return subprocess.run(BACKLINE + list(args), capture_output=True, text=True, env=e, input=input, timeout=120)


def assert_one_line_error(p):
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backline: "), p.stderr


def test_demo_status_and_refusal_to_overwrite(tmp_path):
    db = tmp_path / "d.db"
    p = run("--db", str(db), "demo", "--cases", "200")
    assert p.returncode == 0, p.stderr
    assert "200 cases, 40 help requests" in p.stdout
    p = run("demo", "--db", str(db))
    assert_one_line_error(p)
    assert "already holds records" in p.stderr
    p = run("status", "--db", str(db))
    assert p.returncode == 0 and "pending ops: 0" in p.stdout
    p = run("demo", "--db", str(db), "--cases", "100", "--replace")
    assert p.returncode == 0 and "100 cases" in p.stdout


def test_env_variables_choose_db_and_config(tmp_path):
    db = tmp_path / "env.db"
    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "zed"\n')
    p = run("demo", "--cases", "50", env={"BACKLINE_DB": str(db), "BACKLINE_CONFIG": str(cfg)})
    assert p.returncode == 0 and db.exists()
    p = run("status", env={"BACKLINE_DB": str(db), "BACKLINE_CONFIG": str(cfg)})
    assert "me: zed" in p.stdout


@pytest.mark.parametrize("text,expected", [
    ("me = 3\n", "me: Input should be a valid string"),
    ("bogus = 1\n", "bogus: unknown key"),
    ("[stale]\nS9 = 1\n", "stale.S9: unknown key"),
    ("[ola]\nP1 = -5\n", "ola.P1"),
    ("me = \n", "not valid TOML"),
])
def test_a_bad_config_names_the_bad_key(tmp_path, text, expected):
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    p = run("status", "--db", str(tmp_path / "x.db"), "--config", str(cfg))
    assert_one_line_error(p)
    assert expected in p.stderr


def test_a_config_with_a_secret_readable_by_others_is_refused(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[sources]]\nname = "rt"\nkind = "rt"\npassword = "hunter2hunter2"\n')
    cfg.chmod(0o644)
    p = run("status", "--db", str(tmp_path / "x.db"), "--config", str(cfg))
    assert_one_line_error(p)
    assert "readable by others" in p.stderr and "hunter2" not in p.stderr
    cfg.chmod(0o600)
    p = run("status", "--db", str(tmp_path / "x.db"), "--config", str(cfg))
    assert p.returncode == 0 and "hunter2" not in p.stdout


def test_unreadable_config_and_unwritable_data_dir(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads and writes everything")
    cfg = tmp_path / "c.toml"
    cfg.write_text("me = 'x'\n")
    cfg.chmod(0)
    p = run("status", "--db", str(tmp_path / "x.db"), "--config", str(cfg))
    assert_one_line_error(p)


def test_a_database_in_a_directory_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    p = run("status", "--db", str(blocker / "sub" / "x.db"))
    assert_one_line_error(p)
    assert "cannot create the data directory" in p.stderr


def test_a_database_from_a_newer_schema(tmp_path):
    import sqlite3

    db = tmp_path / "new.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    p = run("status", "--db", str(db))
    assert_one_line_error(p)
    assert "newer Backline" in p.stderr


def test_schema_prints_json_schema_of_every_record_type(tmp_path):
    p = run("schema")
    assert p.returncode == 0
    schema = json.loads(p.stdout)
    titles = {d.get("title") for d in schema["$defs"].values()}
    assert {"HelpRequest", "Case", "Bug", "Article", "Message", "Link"} <= titles


def test_help_lists_the_commands():
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("demo", "import", "export", "sync", "schema", "report"):
        assert cmd in p.stdout


@pytest.mark.parametrize("argv", [[], ["--db", "a.db"], ["--config=c.toml", "--db", "a.db"], ["--db"],
                                  ["--db", "a.db", "status"], ["--db", "a.db", "--bogus"], ["--version"]])
def test_opening_the_workbench_parses_as_the_full_parser_does(argv, capsys):
    # `backline` with global options only skips building the subcommands' parsers
    from backline_tui.cli import build_parser, only_global_options

    def parse(commands):
        try:
            return vars(build_parser(commands).parse_args(argv))
        except SystemExit as exc:
            return ("exit", exc.code, capsys.readouterr().err.splitlines()[-1:])

    full = parse(True)
    if only_global_options(argv):
        assert parse(False) == full
    else:
        assert argv[-1] in ("status", "--bogus", "--version")


def test_me_defaults_to_the_login_name_even_without_USER(tmp_path):
    import getpass

    env = {k: v for k, v in os.environ.items() if k not in ("USER", "LOGNAME")}
    env["BACKLINE_NOW"] = "2026-11-23T09:00:00Z"
    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    p = subprocess.run(BACKLINE + ["status", "--db", str(tmp_path / "x.db"), "--config", str(tmp_path / "empty.toml")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0
    assert f"me: {getpass.getuser()}" in p.stdout
