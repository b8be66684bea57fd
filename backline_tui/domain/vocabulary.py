"""The words records are made of, defined once: the models, the config, the connectors and the
demo all import them from here (the tuples are the Literal types' values, in order)."""

from __future__ import annotations

from typing import Literal, get_args

Priority = Literal["P1", "P2", "P3", "P4"]
Severity = Literal["S1", "S2", "S3", "S4"]
Tier = Literal["enterprise", "business", "standard"]
HelpStatus = Literal["new", "claimed", "answered", "resolved"]
CaseStatus = Literal["open", "pending", "on_hold", "solved", "closed"]
BugStatus = Literal["open", "in_progress", "fixed", "closed"]
KCSState = Literal["wip", "not_validated", "validated", "archived"]
RecordKind = Literal["help_request", "case", "bug", "article"]

PRIORITIES: tuple[str, ...] = get_args(Priority)
SEVERITIES: tuple[str, ...] = get_args(Severity)
TIERS: tuple[str, ...] = get_args(Tier)
HELP_STATUSES: tuple[str, ...] = get_args(HelpStatus)
CASE_STATUSES: tuple[str, ...] = get_args(CaseStatus)
BUG_STATUSES: tuple[str, ...] = get_args(BugStatus)
KCS_STATES: tuple[str, ...] = get_args(KCSState)
#: the record kinds a source can provide ([sources.mapping.<kind>] in the config)
RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)
