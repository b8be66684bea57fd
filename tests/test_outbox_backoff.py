"""Ops the upstream refuses are retried with exponential back-off and jitter, their next attempt
stored on the op, and one that fails the same way `retry_limit` times in a row waits for the user.

The refusal is real: a claim of a ticket the real RT (tests/rt_server.py) does not have answers
404, which the connector turns into an op in error. Time moves with the injectable clock.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta

import pytest

from backline_tui.cli import main
from backline_tui.clock import Clock, parse_ts
from backline_tui.config import Config, SourceConfig, SyncConfig
from backline_tui.storage import outbox
from backline_tui.workbench import Workbench
from tests import factories as F
from tests.conftest import NOW
from tests.hostile import CORPUS
from tests.rt_server import RTServer

pytest_plugins = ["tests.rt_server"]
pytestmark = pytest.mark.rt
PW = "BACKLINE_TEST_RT_BACKOFF"


def test_backoff_doubles_within_its_jitter_and_is_capped():
    rnd = random.Random(3)
    for failures, lo, hi in ((1, 15, 30), (2, 30, 60), (3, 60, 120), (4, 120, 240), (9, 150, 300)):
        waits = [outbox.backoff_seconds(failures, 30, 300, rnd) for _ in range(200)]
        assert lo <= min(waits) and max(waits) <= hi
        assert max(waits) - min(waits) > (hi - lo) / 2  # jittered, not one fixed delay


@pytest.fixture
def wb(tmp_path, rt_server):
    os.environ[PW] = RTServer.alice.password
    config = Config(me="alice", sync=SyncConfig(retry_base=60, retry_max=600, retry_limit=3),
                    sources=[SourceConfig(name="rt", kind="rt", url=rt_server.url, user="alice", password_env=PW)])
    w = Workbench.open(tmp_path / "r.db", config, Clock(NOW))
    # a request the replica believes is in RT as ticket 999999, which RT does not have
    F.load(w.replica, config, help_requests=[F.help_request("RT#999999", source="rt", remote_id="999999")])
    yield w
    w.close()


def _op(wb) -> dict:
    return wb.replica.one("SELECT * FROM outbox WHERE record_ref = 'RT#999999' AND op = 'claim'")


def _sync_at(wb, when):
    wb.clock = Clock(when)
    return wb.sync(source="rt")


def test_an_op_in_error_backs_off_then_waits_for_the_user(wb):
    wb.claim("RT#999999")
    wb.note("help_request", "RT#999999", "queued behind the claim")  # a later op on the same record
    result = _sync_at(wb, NOW)
    op = _op(wb)
    assert op["state"] == "error" and op["failures"] == 1 and op["attempts"] == 1
    assert "not in RT" in op["last_error"] and result.errors
    wait = (parse_ts(op["next_attempt_at"]) - NOW).total_seconds()
    assert 30 <= wait <= 60  # base 60 s, equal jitter
    note = wb.replica.one("SELECT * FROM outbox WHERE op = 'note'")
    assert note["state"] == "pending" and note["attempts"] == 0  # it waits behind the claim, in order

    # before the next attempt is due, a sync leaves the op (and the one behind it) alone
    _sync_at(wb, parse_ts(op["next_attempt_at"]) - timedelta(seconds=1))
    assert _op(wb)["attempts"] == 1
    assert wb.replica.one("SELECT attempts FROM outbox WHERE op = 'note'")["attempts"] == 0

    # once due it is tried again, fails the same way, and waits about twice as long
    due = parse_ts(op["next_attempt_at"])
    _sync_at(wb, due)
    op = _op(wb)
    assert (op["attempts"], op["failures"]) == (2, 2)
    wait = (parse_ts(op["next_attempt_at"]) - due).total_seconds()
    assert 60 <= wait <= 120

    # the third failure the same way (retry_limit = 3): no next attempt, it waits for the user
    _sync_at(wb, parse_ts(op["next_attempt_at"]))
    op = _op(wb)
    assert (op["attempts"], op["failures"], op["state"], op["next_attempt_at"]) == (3, 3, "error", None)
    _sync_at(wb, NOW + timedelta(days=30))
    assert _op(wb)["attempts"] == 3

    # the user asks for it again: sent at the next sync, counting from one
    assert wb.retry_op(op["id"])
    _sync_at(wb, NOW + timedelta(days=30))
    op = _op(wb)
    assert (op["attempts"], op["failures"]) == (4, 1) and op["next_attempt_at"] is not None


def test_a_different_failure_starts_the_count_again(wb):
    wb.claim("RT#999999")
    _sync_at(wb, NOW)
    with wb.replica.transaction() as conn:  # as if RT had refused it another way last time
        conn.execute("UPDATE outbox SET last_error = 'RT refused the claim: busy', failures = 2")
    _sync_at(wb, NOW + timedelta(hours=1))
    op = _op(wb)
    assert op["failures"] == 1 and "not in RT" in op["last_error"] and op["next_attempt_at"] is not None


def test_status_lists_an_op_waiting_for_the_user_and_retry_releases_it(wb, tmp_path, capsys):
    wb.claim("RT#999999")
    _sync_at(wb, NOW)
    for _ in range(2):  # retry_limit = 3
        _sync_at(wb, parse_ts(_op(wb)["next_attempt_at"]))
    op = _op(wb)
    assert op["next_attempt_at"] is None
    with wb.replica.transaction() as conn:  # the upstream's answer is untrusted text
        conn.execute("UPDATE outbox SET last_error = ? WHERE id = ?", ("refused " + CORPUS["osc52_clipboard"], op["id"]))
    cfg = tmp_path / "c.toml"
    cfg.write_text('me = "alice"\n')
    where = ["--db", str(wb.replica.path), "--config", str(cfg)]

    assert main(["status", *where]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith(f"refused op {op['id']}: claim on RT#999999, 3× "))
    assert line.endswith(f"(waits for you: backline retry {op['id']})") and "\x1b" not in out

    assert main(["retry", str(op["id"]), str(op["id"] + 100), *where]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"op {op['id']} goes out at the next sync\n"
    assert captured.err == f"backline: no refused op {op['id'] + 100} (`backline status` lists them)\n"
    _sync_at(wb, NOW + timedelta(days=30))
    assert _op(wb)["attempts"] == 4
    assert main(["status", *where]) == 0
    assert "(next attempt 2026-" in capsys.readouterr().out
