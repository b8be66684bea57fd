"""Atlassian Document Format (Jira Cloud bodies and comments) ↔ plain text.

Reading keeps the words and the shape a reader needs (paragraphs, list items, code blocks,
mentions by their text); marks (bold, links' styling) are dropped, a link's URL is kept after its
text. Writing makes one paragraph per block of text separated by a blank line, with hard breaks
for single newlines. The result still goes through the one sanitiser before it is shown.
"""

from __future__ import annotations

from typing import Any

__all__ = ["adf_to_text", "text_to_adf"]

_BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "rule", "panel", "table", "mediaSingle",
           "bulletList", "orderedList", "expand", "nestedExpand", "decisionList", "taskList"}


def adf_to_text(doc: Any) -> str:
    """Plain text of an ADF document (a dict), or of a plain string (Data Center bodies)."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        return ""
    out: list[str] = []
    _walk(doc, out, prefix="")
    text = "".join(out)
    lines = [line.rstrip() for line in text.split("\n")]
    # at most one blank line between blocks, none at the ends
    squeezed: list[str] = []
    for line in lines:
        if line == "" and (not squeezed or squeezed[-1] == ""):
            continue
        squeezed.append(line)
    while squeezed and squeezed[-1] == "":
        squeezed.pop()
    return "\n".join(squeezed)


def _walk(node: dict[str, Any], out: list[str], prefix: str) -> None:
    kind = node.get("type")
    content = node.get("content") or []
    attrs = node.get("attrs") or {}
    if kind == "text":
        text = str(node.get("text") or "")
        href = next((m.get("attrs", {}).get("href") for m in node.get("marks") or []
                     if isinstance(m, dict) and m.get("type") == "link"), None)
        out.append(f"{text} ({href})" if href and href != text else text)
        return
    if kind == "hardBreak":
        out.append("\n" + prefix)
        return
    if kind == "mention":
        out.append(str(attrs.get("text") or "@" + str(attrs.get("id") or "someone")))
        return
    if kind == "emoji":
        out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
        return
    if kind in ("inlineCard", "blockCard", "embedCard"):
        out.append(str(attrs.get("url") or ""))
        return
    if kind == "date":
        out.append(str(attrs.get("timestamp") or ""))
        return
    if kind == "status":
        out.append(f"[{attrs.get('text') or ''}]")
        return
    if kind == "rule":
        out.append(prefix + "----\n\n")
        return
    if kind in ("bulletList", "orderedList"):
        start = int(attrs.get("order") or 1)
        for i, item in enumerate(content):
            bullet = f"{start + i}. " if kind == "orderedList" else "- "
            out.append(prefix + bullet)
            inner: list[str] = []
            for child in (item.get("content") or []) if isinstance(item, dict) else []:
                _walk(child, inner, prefix + "  ")
            out.append("".join(inner).strip() + "\n")
        out.append("\n")
        return
    if kind == "codeBlock":
        out.append(prefix + "".join(str(c.get("text") or "") for c in content if isinstance(c, dict)) + "\n\n")
        return
    if kind == "blockquote":
        inner = []
        for child in content:
            if isinstance(child, dict):
                _walk(child, inner, prefix + "> ")
        out.append("".join(prefix + "> " + line if line else "" for line in "".join(inner).split("\n")) + "\n")
        return
    if kind in ("paragraph", "heading"):
        out.append(prefix if not out or out[-1].endswith("\n") else "")
        for child in content:
            if isinstance(child, dict):
                _walk(child, out, prefix)
        out.append("\n\n")
        return
    for child in content:
        if isinstance(child, dict):
            _walk(child, out, prefix)
    if kind in _BLOCKS:
        out.append("\n")


def text_to_adf(text: str) -> dict[str, Any]:
    """An ADF document holding ``text``: paragraphs at blank lines, hard breaks at newlines."""
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n")]
    content: list[dict[str, Any]] = []
    for block in blocks:
        lines = block.split("\n")
        inline: list[dict[str, Any]] = []
        for i, line in enumerate(lines):
            if i:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        if inline:
            content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}
