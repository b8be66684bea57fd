"""Source passwords and tokens come from environment variables, the keyring, or a config file
only its owner can read. They never reach the database (nor its -wal), an export, an error
message, standard output or the screen — also when the sync fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pty_term import backline

BACKLINE = [sys.executable, "-m", "backline_tui"]
SECRET = "Zq9-not-a-real-password-Xk7"


def run(*args, env=None, input=None):
    e = {**os.environ, "BACKLINE_NOW": "2026-11-23T09:00:00Z"}
    e.pop("BACKLINE_DEBUG", None)
    e.update(env or {})
    return subprocess.run(BACKLINE + list(args), capture_output=True, text=True, env=e, input=input, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_nowhere(secret: str, *texts: str, files: list[Path] = ()) -> None:
    for t in texts:
        assert secret not in t
    for f in files:
        if f.exists():
            assert secret.encode() not in f.read_bytes(), f"{f.name} holds the secret"


def db_files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + "*"))


# -- the config file ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
@pytest.mark.parametrize("key", ["password", "token"])
def test_a_config_holding_a_secret_that_others_can_read_is_refused(tmp_path, mode, key):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[sources]]\nname = "rt"\nkind = "rt"\nurl = "http://127.0.0.1:9"\n{key} = "{SECRET}"\n')
    cfg.chmod(mode)
    p = run("status", "--db", str(tmp_path / "x.db"), "--config", str(cfg))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert "readable by others" in p.stderr and f"chmod 600 {cfg}" in p.stderr
    assert_nowhere(SECRET, p.stdout, p.stderr)
    assert not (tmp_path / "x.db").exists()


def test_a_config_without_secrets_may_be_readable_and_an_owner_only_one_may_hold_them(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "alice"\n[[sources]]\nname = "rt"\nkind = "rt"\nurl = "http://127.0.0.1:9"\n'
                   'password_env = "RT_PW"\n')
    cfg.chmod(0o644)
    assert run("status", "--db", str(tmp_path / "x.db"), "--config", str(cfg)).returncode == 0
    cfg.write_text(f'me = "alice"\n[[sources]]\nname = "rt"\nkind = "rt"\nurl = "http://127.0.0.1:9"\n'
                   f'password = "{SECRET}"\n')
    cfg.chmod(0o600)
    p = run("status", "--db", str(tmp_path / "x.db"), "--config", str(cfg))
    assert p.returncode == 0, p.stderr
    assert_nowhere(SECRET, p.stdout, p.stderr, files=db_files(tmp_path / "x.db"))


def test_a_password_inside_the_url_is_refused_without_being_repeated(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[sources]]\nname = "rt"\nkind = "rt"\nurl = "http://alice:{SECRET}@127.0.0.1:9"\n')
    cfg.chmod(0o600)
    p = run("sync", "--db", str(tmp_path / "x.db"), "--config", str(cfg))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "sources.0.url" in p.stderr and "password_env" in p.stderr
    assert_nowhere(SECRET, p.stdout, p.stderr)


# -- failing and working syncs against RT -------------------------------------------------------


def _rt_config(path: Path, url: str, *, env_name: str | None = "BACKLINE_SECRET_TEST_PW",
               inline: str | None = None) -> Path:
    text = f'me = "alice"\n[[sources]]\nname = "rt"\nkind = "rt"\nurl = "{url}"\nuser = "alice"\n'
    if env_name:
        text += f'password_env = "{env_name}"\n'
    if inline:
        text += f'password = "{inline}"\n'
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.rt
def test_a_wrong_password_or_rt_down_never_shows_the_secret(rt_server, tmp_path):
    db = tmp_path / "s.db"
    env = {"BACKLINE_SECRET_TEST_PW": SECRET}
    for url, expect in ((rt_server.url, "did not accept the credentials"),
                        (f"http://127.0.0.1:{_free_port()}", "unreachable")):
        cfg = _rt_config(tmp_path / "c.toml", url)
        p = run("sync", "--db", str(db), "--config", str(cfg), env=env)
        assert p.returncode == 1 and expect in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
        assert_nowhere(SECRET, p.stdout, p.stderr, files=db_files(db))
        st = run("status", "--db", str(db), "--config", str(cfg), env=env)
        assert_nowhere(SECRET, st.stdout, st.stderr)
    # what the sync log keeps is the sentence, not the secret
    import sqlite3

    conn = sqlite3.connect(db)
    errors = [r[0] for r in conn.execute("SELECT error FROM sync_log")]
    conn.close()
    assert len(errors) == 2 and all(e and SECRET not in e for e in errors)


@pytest.mark.rt
@pytest.mark.parametrize("how", ["environment", "config file"])
def test_a_working_sync_leaves_the_secret_in_no_file_and_no_output(rt_server, tmp_path, how):
    db = tmp_path / "ok.db"
    password = rt_server.alice.password
    if how == "environment":
        cfg = _rt_config(tmp_path / "c.toml", rt_server.url)
        env = {"BACKLINE_SECRET_TEST_PW": password}
    else:
        cfg = _rt_config(tmp_path / "c.toml", rt_server.url, env_name=None, inline=password)
        env = {}
    p = run("sync", "--db", str(db), "--config", str(cfg), env=env)
    assert p.returncode == 0, p.stderr
    out = run("export", "--db", str(db), "--config", str(cfg), env=env)
    rep = run("report", "--db", str(db), "--config", str(cfg), env=env)
    st = run("status", "--db", str(db), "--config", str(cfg), env=env)
    assert_nowhere(password, p.stdout, p.stderr, out.stdout, out.stderr, rep.stdout, rep.stderr, st.stdout,
                   files=db_files(db))


@pytest.mark.rt
def test_the_workbench_says_the_sync_failed_without_showing_the_secret(rt_server, tmp_path):
    """S in the workbench with a wrong password: the notification names the problem; the bytes
    written to the terminal never hold the password."""
    db = tmp_path / "ui.db"
    from tests.hostile import records, store
    from backline_tui.config import Config
    from backline_tui.storage import Replica

    r = Replica(db)
    store(r, Config(me="alice"), records(big=False)[:12])
    r.close()
    cfg = _rt_config(tmp_path / "c.toml", rt_server.url)
    with backline("--db", str(db), "--config", str(cfg),
                  env={"BACKLINE_SECRET_TEST_PW": SECRET, "BACKLINE_NOW": "2026-11-23T09:00:00Z"}) as term:
        term.wait_for("Help queue ·")
        term.press("S")
        term.wait_for("did not accept")
        term.press("q")
        assert term.wait_exit() == 0
        raw = bytes(term.raw)
    assert SECRET.encode() not in raw
    assert_nowhere(SECRET, files=db_files(db))
