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
