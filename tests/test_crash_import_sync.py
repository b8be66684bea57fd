"""SIGKILL at random points of an import and of a sync (tests/test_crash.py does actions and demo
generation): the database always opens and passes integrity_check, an import is all or nothing,
every queued op survives, and the next run finishes the work without doing anything twice (for
a sync against a real RT: no reply posted twice).

BACKLINE_CRASH_TRIALS raises the number of trials for a long local run."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.storage import Replica
from backline_tui.workbench import Workbench
from tests.conftest import NOW

TRIALS = int(os.environ.get("BACKLINE_CRASH_TRIALS", "20"))
# trials per test at the default of 20 (with test_crash.py's 25: 50 in all), scaled by the env var
IMPORT_TRIALS = max(3, TRIALS * 13 // 20)
BULK_TRIALS = max(2, TRIALS // 5)
SYNC_TRIALS = max(3, TRIALS * 9 // 20)
REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "BACKLINE_NOW": "2026-11-23T09:00:00Z"}


def _run_and_kill(args: list[str], after: float) -> int | None:
    """Run `backline ARGS`, SIGKILL it after `after` seconds if still running; its exit status
    (None when it was killed)."""
    proc = subprocess.Popen([sys.executable, "-m", "backline_tui", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=ENV, cwd=REPO)
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None
    return proc.returncode


def _full_run_seconds(args: list[str]) -> float:
    """How long `backline ARGS` takes on this machine when left alone: the kills land at random
    fractions of it, so the trials hit the work itself on a fast machine and a slow one alike."""
    import time

    started = time.perf_counter()
    assert _run_and_kill(args, 300) == 0
    return time.perf_counter() - started


def _jsonl(path: Path, n: int, prefix: str) -> Path:
    from backline_tui.sync.jsonl import dumps_line

    ts = "2026-10-01T00:00:00Z"
    lines = []
    for i in range(n):
        lines.append(dumps_line({"type": "case", "ref": f"{prefix}-{i}", "subject": f"imported case {i}",
                                 "customer": f"Customer {i % 40}", "body": "words " * 30, "severity": "S2",
                                 "created_at": ts, "updated_at": ts, "last_activity_at": ts}))
        if i % 10 == 0:
            lines.append(dumps_line({"type": "help_request", "ref": f"{prefix}-H{i}", "subject": f"q {i}",
                                     "asker": "fl.ben", "case_ref": f"{prefix}-{i}", "created_at": ts,
                                     "updated_at": ts}))
            lines.append(dumps_line({"type": "message", "ref": f"{prefix}-M{i}", "parent_type": "help_request",
                                     "parent_ref": f"{prefix}-H{i}", "author": "fl.ben", "body": "details",
                                     "kind": "question", "created_at": ts}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _counts(db: Path, prefix: str) -> tuple[int, int, int]:
    r = Replica(db)
    try:
        assert r.integrity_ok()
        return (r.scalar("SELECT COUNT(*) FROM cases WHERE ref LIKE ?", (f"{prefix}-%",)),
                r.scalar("SELECT COUNT(*) FROM help_requests WHERE ref LIKE ?", (f"{prefix}-H%",)),
                r.scalar("SELECT COUNT(*) FROM messages WHERE ref LIKE ?", (f"{prefix}-M%",)))
    finally:
        r.close()


@pytest.mark.parametrize("kind", ["bulk into an empty database", "into a database with records"])
def test_sigkill_during_import_is_all_or_nothing(kind, demo_db, tmp_path):
    rnd = random.Random(23 if kind.startswith("bulk") else 29)
    bulk = kind.startswith("bulk")
    n = 21000 if bulk else 2000  # over 20,000 records into an empty database take the bulk path
    src = _jsonl(tmp_path / "in.jsonl", n, "IMP")
    expected = (n, n // 10, n // 10)
    empty = tmp_path / "empty.db"
    Replica(empty).close()
    trials = BULK_TRIALS if bulk else IMPORT_TRIALS
    scratch = tmp_path / "scratch.db"
    shutil.copy(empty if bulk else demo_db, scratch)
    full = _full_run_seconds(["import", str(src), "--db", str(scratch)])
    finished = 0
    for i in range(trials):
        db = tmp_path / f"t{i}.db"
        shutil.copy(empty if bulk else demo_db, db)
        before = _counts(db, "IMP")
        rc = _run_and_kill(["import", str(src), "--db", str(db)], rnd.uniform(0.2, 0.95) * full)
        after = _counts(db, "IMP")
        assert after in ((0, 0, 0), expected), f"trial {i}: half an import {after}"
        if rc is None:
            assert after in (before, expected)
        else:
            assert rc == 0 and after == expected
            finished += 1
        if bulk and after == (0, 0, 0):
            r = Replica(db)  # the bulk load's dropped indexes and FTS triggers came back
            # three per search FTS table, three per pane filter table (schema v6: seven), eight for the Insights rollups,
            # nine for their weekly sums (schema v12)
            assert r.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'") == 50
            r.close()
        # the next run completes the work, and a third one changes nothing (no duplicates)
        if i == trials - 1:
            assert _run_and_kill(["import", str(src), "--db", str(db)], 120) == 0
            assert _counts(db, "IMP") == expected
            assert _run_and_kill(["import", str(src), "--db", str(db)], 120) == 0
            assert _counts(db, "IMP") == expected
    assert finished < trials, "no trial was killed mid-import: the kill times are too late"


# -- sync against a real RT --------------------------------------------------------------------


@pytest.mark.rt
def test_sigkill_during_sync_never_loses_or_doubles_a_reply(rt_server_factory, tmp_path):
    rt = rt_server_factory()
    pw_env = "BACKLINE_TEST_CRASH_RT_PW"
    os.environ[pw_env] = rt.alice.password
    ENV[pw_env] = rt.alice.password
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'me = "alice"\n[[sources]]\nname = "rt"\nkind = "rt"\nurl = "{rt.url}"\nuser = "alice"\n'
                   f'password_env = "{pw_env}"\n', encoding="utf-8")
    config = Config(me="alice", sources=[SourceConfig(name="rt", kind="rt", url=rt.url, user="alice",
                                                      password_env=pw_env)])
    trials = SYNC_TRIALS
    with rt.client("alice") as c:
        tickets = [c.create_ticket("Backline Help", f"Crash help {i}", f"question {i}",
                                   {"Product": "Widget", "HelpPriority": "P2", "Asker": "fl.ben"})
                   for i in range(3)]
    db = tmp_path / "replica.db"
    wb = Workbench.open(db, config, Clock(NOW))
    assert wb.sync().errors == []
    wb.close()
    rnd = random.Random(31)
    idle = _full_run_seconds(["sync", "--db", str(db), "--config", str(cfg)])  # start, log in, pull nothing
    sent: dict[int, list[str]] = {t: [] for t in tickets}
    killed = 0
    for i in range(trials):
        wb = Workbench.open(db, config, Clock(NOW))
        for t in (tickets[i % 3], tickets[(i + 1) % 3]):  # two more replies queued each round
            body = f"reply {i} to {t}"
            wb.respond(f"RT#{t}", body)
            sent[t].append(body)
        queued = {(o["id"], o["op"]) for o in wb.outbox(("pending", "sending", "error", "done", "conflict"))}
        wb.close()
        rc = _run_and_kill(["sync", "--db", str(db), "--config", str(cfg)], rnd.uniform(0.4, 2.0) * idle)
        killed += rc is None
        r = Replica(db)
        try:
            assert r.integrity_ok()
            ops = {(o["id"], o["op"]) for o in r.query("SELECT id, op FROM outbox")}
            assert queued <= ops, f"trial {i}: queued ops lost"
            assert r.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'conflict'") == 0
        finally:
            r.close()
    # the next sync finishes the work: every reply in RT exactly once
    assert _run_and_kill(["sync", "--db", str(db), "--config", str(cfg)], 120) == 0
    wb = Workbench.open(db, config, Clock(NOW))
    assert wb.pending_ops() == 0
    wb.close()
    with rt.client("root") as root:
        for t, bodies in sent.items():
            posted = [(a.get("Content") or "").strip() for a in root.ticket_attachments(t)]
            for body in bodies:
                assert posted.count(body) == 1, f"RT#{t}: {body!r} posted {posted.count(body)} times"
    assert killed > 0, "no sync was killed: the kill times are too late"


# -- an upgrade ---------------------------------------------------------------------------------


def test_sigkill_during_a_schema_upgrade_leaves_a_database_that_opens_whole(tmp_path):
    """A schema-1 database big enough that its migration takes a while (its covering indexes are
    rebuilt), killed at random moments of the upgrade: it always opens afterwards at the current
    version with every case and every queued op."""
    import sqlite3

    from backline_tui.storage import schema

    v1 = tmp_path / "v1.db"
    shutil.copy(REPO / "tests" / "data" / "schema-v1.db", v1)
    conn = sqlite3.connect(v1)
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
        "INSERT INTO cases(ref, source, subject, body, customer, tier, product, component, version, severity, "
        "status, created_at, updated_at, last_activity_at, reopen_count) "
        "SELECT 'BIG-' || i, 'local', 'subject ' || i, 'body', 'Cust ' || (i % 97), 'standard', 'Widget', "
        "'Comp' || (i % 13), '2.' || (i % 5), 'S' || (1 + i % 4), 'open', '2026-10-01T00:00:00Z', "
        "'2026-10-01T00:00:00Z', '2026-10-0' || (1 + i % 9) || 'T00:00:00Z', 0 FROM n")
    conn.commit()
    cases, ops = conn.execute("SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM outbox)").fetchone()
    conn.close()
    rnd = random.Random(37)
    scratch = tmp_path / "scratch" / "old.db"
    scratch.parent.mkdir()
    shutil.copy(v1, scratch)
    full = _full_run_seconds(["status", "--db", str(scratch)])
    killed = 0
    for i in range(max(3, TRIALS // 4)):
        db = tmp_path / f"up{i}" / "old.db"
        db.parent.mkdir()
        shutil.copy(v1, db)
        killed += _run_and_kill(["status", "--db", str(db)], rnd.uniform(0.2, 0.95) * full) is None
        r = Replica(db)  # finishes whatever upgrade the kill interrupted
        try:
            assert r.schema_version == schema.SCHEMA_VERSION and r.integrity_ok()
            assert r.scalar("SELECT COUNT(*) FROM cases") == cases
            assert r.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'") == ops
        finally:
            r.close()
    assert killed > 0, "no upgrade was killed: the kill times are too late"
