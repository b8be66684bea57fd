"""Hostile text pulled from a real RT: the replica holds exactly what RT holds, and the CLI
outputs (export, report, status) carry none of it as terminal control sequences."""

from __future__ import annotations

import os

import pytest

from backline_tui.clock import Clock
from backline_tui.config import Config, SourceConfig
from backline_tui.workbench import Workbench
from tests import hostile
from tests.conftest import NOW

pytestmark = pytest.mark.rt
PW_ENV = "BACKLINE_TEST_HOSTILE_RT_PW"
# RT keeps a subject on one line and a body as a MIME part: these are the texts it can hold
NAMES = [n for n in hostile.CORPUS if n not in ("nul",)]


def test_hostile_tickets_pulled_from_rt_are_stored_as_rt_holds_them_and_shown_inert(rt_server_factory, tmp_path):
    rt = rt_server_factory()
    os.environ[PW_ENV] = rt.alice.password
    config = Config(me="alice", sources=[SourceConfig(name="rt", kind="rt", url=rt.url, user="alice",
                                                      password_env=PW_ENV)])
    ids = {}
    with rt.client("alice") as c:
        for name in NAMES:
            text = hostile.CORPUS[name]
            ids[name] = c.create_ticket("Backline Help", text[:200], text + "\n",
                                        {"Product": "Widget", "HelpPriority": "P2", "Asker": "fl.ben"})
        big = c.create_ticket("Backline Help", "HX31 big", hostile.BIG,
                              {"Product": "Widget", "HelpPriority": "P2", "Asker": "fl.ben"})
    db = tmp_path / "rt.db"
    wb = Workbench.open(db, config, Clock(NOW))
    result = wb.sync()
    assert result.errors == [], result.errors
    with rt.client("root") as root:
        for name, tid in list(ids.items()) + [("big", big)]:
            ticket, _ = root.get_ticket(tid)
            hr = wb.help_request(f"RT#{tid}")
            assert hr["subject"] == ticket["Subject"], name
            created = [a for a in root.ticket_attachments(tid) if a.get("Content")]
            assert hr["body"] == created[0]["Content"], name
    wb.close()
    hostile.assert_cli_outputs_inert(db, tmp_path)
