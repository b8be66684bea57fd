"""Hostile text pulled from Jira (jira820): the replica holds exactly what Jira holds, and the CLI
outputs (export, report, status) carry none of it as terminal control sequences."""

from __future__ import annotations

import pytest

from backline_tui.clock import Clock
from backline_tui.workbench import Workbench
from tests import hostile
from tests.conftest import NOW
from tests.jira_helpers import issue, jira_config

pytestmark = pytest.mark.jira
NAMES = [n for n in hostile.CORPUS if n not in ("nul",)]


def test_hostile_bugs_pulled_from_jira_are_stored_as_jira_holds_them_and_shown_inert(jira_factory, tmp_path):
    jira = jira_factory()
    keys = {}
    with jira.client() as http:
        for name in NAMES:
            text = hostile.CORPUS[name]
            made = http.post("/rest/api/2/issue", json={"fields": {
                "project": {"key": "JIRA820"}, "issuetype": {"name": "Bug"}, "summary": text[:250],
                "description": text}})
            made.raise_for_status()
            keys[name] = made.json()["key"]
        db = tmp_path / "jira.db"
        wb = Workbench.open(db, jira_config(jira.url), Clock(NOW))
        try:
            result = wb.sync()
            assert result.errors == [], result.errors
            for name, key in keys.items():
                f = issue(http, key)["fields"]
                bug = wb.bug(key)
                assert bug["title"] == f["summary"], name
                assert bug["body"] == f["description"], name
        finally:
            wb.close()
    hostile.assert_cli_outputs_inert(db, tmp_path)
