"""One database, several writers at once: the workbench, `backline sync` from cron, a second sync.

No "database is locked" reaches the user, and no outbox op reaches upstream twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.storage import Replica
from backline_tui.sync.base import Batch, PushResult
from backline_tui.sync.engine import sync_all
from backline_tui.workbench import Workbench
from tests.conftest import NOW

BACKLINE = [sys.executable, "-m", "backline_tui"]
DEADLINE = 120  # seconds a blocked helper thread may wait before the test gives up (never reached)


class Upstream:
    """An upstream shared by two connectors (two sync processes): remembers every op applied,
    checks itself on a resend, as a real connector must."""

    def __init__(self) -> None:
        self.applied: list[int] = []
        self.lock = threading.Lock()


class SlowConnector:
    """Pushes to `Upstream`; the first push of the first sync holds until told to go on, so the
    second sync runs while the first one is in the middle of pushing."""

    def __init__(self, name: str, upstream: Upstream, hold: threading.Event | None = None,
                 holding: threading.Event | None = None) -> None:
        self.name = name
        self.upstream = upstream
        self.hold = hold
        self.holding = holding

    def pull(self, cursors):
        return iter(())

    def push(self, op, *, resend=False):
        if resend:
            with self.upstream.lock:
                if op["id"] in self.upstream.applied:
                    return PushResult("done", already_applied=True)
        if self.hold is not None:
            self.holding.set()
            assert self.hold.wait(DEADLINE)
            self.hold = None
        with self.upstream.lock:
            self.upstream.applied.append(op["id"])
        return PushResult("done")

    def close(self):
        pass


def _config(tmp_path: Path) -> Config:
    return Config(me="alice", sources=[SourceConfig(name="up", kind="jsonl", path=str(tmp_path / "up.jsonl"))])


def _queue_ops(db: Path, config: Config, n: int) -> list[int]:
    wb = Workbench.open(db, config, Clock(NOW))
    refs = [r["ref"] for r in wb.replica.query("SELECT ref FROM cases ORDER BY id LIMIT ?", (n,))]
    for ref in refs:
        wb.note("case", ref, f"note on {ref}")
    wb.replica.conn.execute("UPDATE outbox SET source = 'up' WHERE state = 'pending'")
    ids = [r["id"] for r in wb.replica.query("SELECT id FROM outbox WHERE state = 'pending' ORDER BY id")]
    wb.close()
    return ids


def test_a_second_sync_while_one_is_pushing_sends_nothing_twice(demo_db, tmp_path):
    config = _config(tmp_path)
    ids = _queue_ops(demo_db, config, 5)
    assert len(ids) == 5
    upstream = Upstream()
    hold, holding = threading.Event(), threading.Event()
    first = Replica(demo_db)
    second = Replica(demo_db)  # another process's connection
    results = {}

    def run_first():
        results["first"] = sync_all(first, config, clock=Clock(NOW),
                                    connectors={"up": SlowConnector("up", upstream, hold, holding)})

    t = threading.Thread(target=run_first)
    t.start()
    try:
        assert holding.wait(DEADLINE), "the first sync never pushed"
        # the first sync is in the middle of its first push: a second sync starts (cron)
        results["second"] = sync_all(second, config, clock=Clock(NOW),
                                     connectors={"up": SlowConnector("up", upstream)})
    finally:
        hold.set()
        t.join(DEADLINE)
    assert sorted(upstream.applied) == ids, f"ops pushed twice or lost: {upstream.applied}"
    states = {r["state"] for r in first.query("SELECT state FROM outbox WHERE id IN (%s)" % ",".join(map(str, ids)))}
    assert states == {"done"}
    # the second sync said why it did nothing, in words
    said = " ".join(results["second"].errors + results["second"].conflicts)
    assert results["second"].pushed == 0 and "sync" in said.lower(), said
    first.close()
    second.close()


def test_workbench_actions_while_two_cli_syncs_run(demo_db, tmp_path):
    """The workbench keeps working while two `backline sync` processes import a big JSONL source
    into the same database: no action fails with "database is locked", each sync ends cleanly."""
    from backline_tui.sync.jsonl import dumps_line

    src = tmp_path / "up.jsonl"
    rows = []
    for i in range(6000):
        rows.append({"type": "case", "ref": f"UP-{i}", "subject": f"upstream case {i}", "customer": "Acme",
                     "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z",
                     "last_activity_at": "2026-11-01T00:00:00Z", "remote_version": "1"})
    src.write_text("".join(dumps_line(r) + "\n" for r in rows), encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'me = "alice"\n[[sources]]\nname = "up"\nkind = "jsonl"\npath = "{src}"\n')
    env = {**os.environ, "BACKLINE_NOW": "2026-11-23T09:00:00Z"}
    procs = [subprocess.Popen(BACKLINE + ["sync", "--db", str(demo_db), "--config", str(cfg)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    wb = Workbench.open(demo_db, Config(me="alice"), Clock(NOW))
    refs = [r["ref"] for r in wb.replica.query("SELECT ref FROM cases ORDER BY id LIMIT 40")]
    for ref in refs:  # actions while the syncs write
        wb.note("case", ref, "looking")
        wb.counts()
    outs = [p.communicate(timeout=DEADLINE) for p in procs]
    for p, (out, err) in zip(procs, outs):
        text = (out + err).decode()
        assert "locked" not in text.lower() and "Traceback" not in text, text
    # one sync did the work; the other either found it done or said another sync was running
    assert any(p.returncode == 0 for p in procs), outs
    for p, (out, err) in zip(procs, outs):
        if p.returncode != 0:
            lines = err.decode().strip().splitlines()
            assert len(lines) == 1 and "sync" in lines[0], err
    assert wb.replica.scalar("SELECT COUNT(*) FROM cases WHERE ref LIKE 'UP-%'") == 6000
    assert wb.replica.scalar("SELECT COUNT(*) FROM outbox WHERE op = 'note' AND record_ref IN (%s)"
                             % ",".join("?" * len(refs)), refs) == len(refs)
    assert wb.replica.integrity_ok()
    wb.close()


def test_opening_the_workbench_does_not_wait_for_a_writer(tmp_path):
    """A sync (any writer) holding the write lock must not hold up opening the workbench."""
    import time

    from backline_tui.clock import Clock
    from backline_tui.config import Config
    from backline_tui.storage import Replica
    from backline_tui.workbench import Workbench
    from tests.factories import NOW

    db = tmp_path / "w.db"
    Workbench.open(db, Config(me="alice"), Clock(NOW)).close()
    writer = Replica(db)
    writer.conn.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        wb = Workbench.open(db, Config(me="alice"), Clock(NOW))
        assert wb.counts() == {"help": 0, "stale": 0, "bugs": 0, "kb": 0}
        assert time.monotonic() - started < 5  # busy_timeout is 30 s: it did not wait for the lock
        wb.close()
    finally:
        writer.conn.execute("ROLLBACK")
        writer.close()
