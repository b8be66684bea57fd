"""Configs and checks shared by the Jira tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from backline_tui.config import Config, SourceConfig

TOKEN_ENV = "BACKLINE_TEST_JIRA_TOKEN"
os.environ.setdefault(TOKEN_ENV, "test-token")  # jira820 takes any token; the connector must send one

BUG_JQL = "project = JIRA820 AND issuetype = Bug"
PRIORITIES = {"Highest": "P1", "High": "P2", "Medium": "P3", "Low": "P4"}


def bug_mapping(jql: str = BUG_JQL, **options: Any) -> dict[str, Any]:
    return {"bug": {
        "query": jql, "queue": "JIRA820",
        "fields": {
            "priority_override": {"from": "priority", "map": dict(PRIORITIES)},
            # jira820 has no Severity field: a numeric custom field by its name shows the path
            "severity": {"from": "Story Points", "ranges": [[8, "S1"], [5, "S2"], [2, "S3"], [0, "S4"]],
                         "default": "S3"},
            "status": {"from": "status", "map": {"In Review": "in_progress"}},
        },
        "options": {"reconcile_minutes": 0, **options},
    }}


def jira_source(url: str, name: str = "eng", mapping: dict[str, Any] | None = None, **kw: Any) -> SourceConfig:
    return SourceConfig(name=name, kind="jira", url=url, deployment=kw.pop("deployment", "datacenter"),
                        token_env=TOKEN_ENV, mapping=mapping or bug_mapping(), **kw)


def jira_config(url: str, me: str = "alice", **kw: Any) -> Config:
    return Config(me=me, sources=[jira_source(url, **kw)])


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def write_config(path: Path, sources: list[SourceConfig], me: str = "alice") -> Path:
    """The config file a user would write for these sources (for the CLI in a subprocess)."""
    lines = [f'me = "{me}"']
    for s in sources:
        lines += ["[[sources]]", f"name = {json.dumps(s.name)}", f"kind = {json.dumps(s.kind)}", f"url = {json.dumps(s.url)}"]
        for key in ("deployment", "user", "token_env", "password_env", "email"):
            if getattr(s, key):
                lines.append(f"{key} = {json.dumps(getattr(s, key))}")
        if s.mapping:
            lines.append(f"mapping = {_toml(s.mapping)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def issue(http: httpx.Client, key: str) -> dict[str, Any]:
    r = http.get(f"/rest/api/2/issue/{key}")
    r.raise_for_status()
    return r.json()


def comments(http: httpx.Client, key: str) -> list[str]:
    r = http.get(f"/rest/api/2/issue/{key}/comment", params={"maxResults": 1000})
    r.raise_for_status()
    return [c["body"] for c in r.json()["comments"]]


def remote_links(http: httpx.Client, key: str) -> list[dict[str, Any]]:
    r = http.get(f"/rest/api/2/issue/{key}/remotelink")
    r.raise_for_status()
    return r.json()


def search_keys(http: httpx.Client, jql: str) -> list[str]:
    r = http.get("/rest/api/2/search", params={"jql": jql, "fields": "key", "maxResults": 1000})
    r.raise_for_status()
    return [i["key"] for i in r.json()["issues"]]


def add_case(replica, ref: str, subject: str = "Customer case") -> None:
    """A case of another source ('support', an RT) in the replica, for links to Jira bugs."""
    replica.conn.execute(
        "INSERT INTO cases(ref, source, subject, customer, created_at, updated_at, last_activity_at) "
        "VALUES (?, 'support', ?, 'Acme', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z', '2026-01-10T00:00:00Z')",
        (ref, subject))
    replica.conn.commit()


def sync_killed_after_push(db: Path, sources: list[SourceConfig], tmp_path: Path) -> None:
    """`backline sync` in a process SIGKILLed right after its first push, before the acknowledgement."""
    import subprocess
    import sys

    cfg = write_config(tmp_path / "config.toml", sources)
    env = {**os.environ, "BACKLINE_SYNC_CRASH": "after_push", "BACKLINE_NOW": "2026-11-23T09:00:00Z"}
    proc = subprocess.run([sys.executable, "-m", "backline_tui", "--db", str(db), "--config", str(cfg), "sync"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr


def check_texts(config: Config) -> tuple[bool, list[str], list[str]]:
    """(ok, every line's text, the problems) of the Jira connector's check() for the config's first source."""
    from backline_tui.sync.jira import JiraConnector

    conn = JiraConnector(config.sources[0], config)
    try:
        report = conn.check()
    finally:
        conn.close()
    return report.ok, [line.text for line in report.lines], report.problems


HELP_JQL = "project = JIRA820 AND issuetype = Task AND statusCategory != Done"


def help_mapping(jql: str = HELP_JQL) -> dict[str, Any]:
    """Help requests from a Jira project: a JQL, priorities both ways, notes visible to a role,
    resolve by the transition named Done."""
    return {"help_request": {
        "query": jql,
        "fields": {"priority": {"from": "priority", "map": {"Highest": "P1", "High": "P2", "Medium": "P3", "Low": "P4",
                                                            "Lowest": "P4"}}},
        "transitions": {"resolved": "Done"},
        "options": {"note_visibility": {"type": "role", "value": "Developers"}, "reconcile_minutes": 0},
    }}
