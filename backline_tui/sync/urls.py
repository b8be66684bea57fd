"""Where a record lives upstream, for a person's browser (`Y` copies it, `O` opens it). One rule
per kind of source; a record from demo data or a file has no such place."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backline_tui.config import SourceConfig


def web_url(source: SourceConfig | None, kind: str, ref: str) -> str | None:
    """The upstream page of record `ref` of `kind`, or None where there is none."""
    if source is None or not source.url:
        return None
    base = source.url.rstrip("/")
    if source.kind == "rt":
        if kind == "article" and (m := re.fullmatch(r"KB#(\d+)", ref)):
            return f"{base}/Articles/Article/Display.html?id={m.group(1)}"
        if (m := re.fullmatch(r"RT#(\d+)", ref)):
            return f"{base}/Ticket/Display.html?id={m.group(1)}"
        return None
    if source.kind == "jira" and re.fullmatch(r"[A-Z][A-Z0-9_]*-\d+", ref):
        return f"{base}/browse/{ref}"
    return None
