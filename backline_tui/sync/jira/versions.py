"""How the Jira connector knows an issue again: its version string (``updated``, a digest of what
was read, and a digest of each guarded field, so that a push can tell who changed a field since
the op was made) and the globalId of the remote link that ties a case to a bug."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from backline_tui.sync.jira.mapping import plain

#: slots of the version string after the digest: a field's own digest, for conflicts
_GUARDED = ("priority", "duedate", "assignee")


def case_global_id(case_source: str, case_ref: str) -> str:
    """The remote link's globalId for a case: stable, so Jira's upsert makes a resend harmless."""
    return f"backline:{case_source}:{case_ref}"


def _case_of_global_id(global_id: str, sources: set[str] | frozenset[str] = frozenset()) -> str | None:
    """The case a remote link made by Backline names: ``source:REF`` when its source is another
    configured one (the engine binds it to that source's case once every source has synced),
    else REF."""
    if not global_id.startswith("backline:"):
        return None
    rest = global_id[len("backline:"):]
    source, _, ref = rest.partition(":")
    if not ref:
        return None
    return f"{source}:{ref}" if source in sources else ref


def _h(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _version(updated: str | None, digest: str, raw_fields: dict[str, Any]) -> str:
    return f"{updated or ''}#{digest}." + ".".join(_h(plain(raw_fields.get(f))) for f in _GUARDED)


def _version_part(version: str | None, field: str) -> str | None:
    if not version or "#" not in version:
        return None
    parts = version.split("#", 1)[1].split(".")
    try:
        return parts[1 + _GUARDED.index(field)]
    except (ValueError, IndexError):
        return None
