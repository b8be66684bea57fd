"""Every binding id, its default key(s), what it does and where: the one list the config's
[keys] table is checked against, `backline keys` prints and the README's table is made from.
No textual here (the config is validated without loading the UI); tests/test_keys.py checks
that this list is exactly the live bindings of the screens.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    id: str
    keys: str  # Textual key names, comma-separated: the first is the one hints show
    what: str
    where: str


KEYS: tuple[Key, ...] = (
    Key("quit", "q", "quit (what you are writing is kept)", "everywhere"),
    Key("help", "question_mark", "every key", "everywhere"),
    Key("sync", "S", "sync now: push my actions, pull changes", "everywhere"),
    Key("undo", "U,ctrl+z", "undo the most recent action, named first", "everywhere"),
    Key("outbox", "b", "outbox: what is not upstream yet", "everywhere"),
    Key("pane.help", "1", "help queue", "lists and records"),
    Key("pane.stale", "2", "stale cases", "lists and records"),
    Key("pane.bugs", "3", "sustaining bugs", "lists and records"),
    Key("pane.kb", "4", "KB review", "lists and records"),
    Key("pane.insights", "5", "insights", "lists and records"),
    Key("cursor.down", "j", "move down (on to the next page)", "lists"),
    Key("cursor.up", "k", "move up", "lists"),
    Key("nav.top", "g", "the first row of the whole list", "lists"),
    Key("nav.bottom", "G", "the last row of the whole list", "lists"),
    Key("nav.half_down", "ctrl+d", "half a screen down", "lists"),
    Key("nav.half_up", "ctrl+u", "half a screen up", "lists"),
    Key("open", "enter", "open the record", "lists"),
    Key("sort", "s", "sort by the next column (shown in the header), then the pane's own order", "lists"),
    Key("mark", "space", "mark the row for a bulk action", "lists"),
    Key("mark.all", "A", "mark every row shown", "lists"),
    Key("mark.clear", "X", "clear the marks", "lists"),
    Key("back", "escape", "clear the text filter", "lists"),
    Key("filter", "slash", "filter as you type (word starts)", "lists"),
    Key("filter.mine", "M", "mine only (on/off)", "lists"),
    Key("filter.unclaimed", "F", "unclaimed only (on/off)", "lists"),
    Key("filter.product", "P", "one product", "lists"),
    Key("filter.clear", "0", "clear every filter", "lists"),
    Key("page.next", "right_square_bracket", "next page", "lists"),
    Key("page.prev", "left_square_bracket", "previous page", "lists"),
    Key("claim", "c", "claim", "help requests"),
    Key("unclaim", "u", "unclaim", "help requests"),
    Key("take_over", "T", "take over from its owner (asks)", "help requests"),
    Key("respond", "r", "respond to the asker (answering claims it)", "help requests"),
    Key("note", "n", "internal note", "help requests, stale cases"),
    Key("resolve", "x", "resolve (asks first)", "help requests"),
    Key("document", "d", "document: KCS article from the question and answer", "help requests"),
    Key("offer", "o", "offer help to the case owner", "stale cases"),
    Key("priority", "p", "priority override (or back to impact)", "sustaining bugs"),
    Key("target", "t", "resolution target date", "sustaining bugs"),
    Key("link", "l", "link a case and a bug", "stale cases, sustaining bugs"),
    Key("validate", "v", "validate", "KB review"),
    Key("flag", "f", "flag with a reason", "KB review"),
    Key("archive", "a", "archive (asks first)", "KB review"),
    Key("review", "m", "mark reviewed (resolves open flags)", "KB review"),
    Key("edit", "e", "write in $EDITOR", "help requests, stale cases, KB review"),
    Key("link_article", "L", "link a KB article as the answer (a reuse); on a request l does too",
        "help requests, stale cases"),
    Key("escalate", "B", "escalate: draft a bug for sustaining (look-alike open bugs first)",
        "help requests, stale cases"),
    Key("copy.ref", "y", "copy the ref (OSC 52)", "any record"),
    Key("copy.url", "Y", "copy the upstream URL (OSC 52)", "any record"),
    Key("open.url", "O", "open the upstream page in the browser", "any record"),
    Key("detail.back", "escape,q", "back to the list", "a record"),
    Key("detail.down", "j", "scroll down", "a record"),
    Key("detail.up", "k", "scroll up", "a record"),
    Key("detail.unlink", "delete", "on a link: unlink it (undo: U)", "a record"),
    Key("compose.submit", "ctrl+s", "send / save", "writing"),
    Key("compose.editor", "ctrl+e", "continue in $EDITOR", "writing"),
    Key("compose.cancel", "escape", "cancel (asks if you typed)", "writing"),
    Key("compose.as_note", "ctrl+n", "send a refused reply as an internal note", "writing"),
    Key("compose.take_over", "ctrl+t", "take over, then send the reply", "writing"),
    Key("compose.article", "ctrl+o", "reply: insert a KB article's reference or Resolution (links it)", "writing"),
    Key("insights.level", "g", "group drivers by component, product or version", "insights"),
    Key("insights.next", "right_square_bracket", "next section", "insights"),
    Key("insights.prev", "left_square_bracket", "previous section", "insights"),
    Key("insights.reload", "R", "recompute", "insights"),
    Key("outbox.back", "escape,q", "back", "outbox"),
    Key("outbox.retry", "r", "try a change in conflict or error again at the next sync", "outbox"),
    Key("outbox.edit", "e", "edit the text of a reply, note or offer, then it goes again", "outbox"),
    Key("outbox.note", "n", "turn a refused reply into an internal note", "outbox"),
    Key("outbox.discard", "d", "discard a change (asks first)", "outbox"),
    Key("confirm.yes", "y", "yes", "dialogs"),
    Key("confirm.no", "n,escape", "no", "dialogs"),
    Key("prompt.cancel", "escape", "cancel", "dialogs"),
    Key("choice.cancel", "escape", "cancel", "dialogs"),
    Key("help.close", "escape,q,question_mark", "close help", "dialogs"),
    Key("picker.cancel", "escape", "cancel", "dialogs"),
    Key("picker.down", "down", "next match", "dialogs"),
    Key("picker.up", "up", "previous match", "dialogs"),
    Key("picker.flag", "ctrl+f", "link the article, then flag it (reuse is review)", "dialogs"),
)

BY_ID = {k.id: k for k in KEYS}

# bindings live at the same time (a key may mean one thing in each of these groups only)
_RECORDS = ("any record", "help requests", "help requests, stale cases", "stale cases", "sustaining bugs", "KB review",
            "stale cases, sustaining bugs", "help requests, stale cases, KB review")
TOGETHER: tuple[tuple[str, ...], ...] = (
    ("everywhere", "lists", "lists and records", *_RECORDS),
    ("everywhere", "lists", "lists and records", "insights"),
    ("everywhere", "a record", "lists and records", *_RECORDS),
    ("everywhere", "writing"),
    ("everywhere", "outbox"),
    ("dialogs",),
)

_DISPLAY = {"question_mark": "?", "slash": "/", "right_square_bracket": "]", "left_square_bracket": "[",
            "escape": "esc", "space": "space"}


def normal_key(key: str) -> str:
    """A key as Textual names it: "?" is question_mark, "]" right_square_bracket."""
    key = key.strip()
    if len(key) == 1 and not key.isalnum():
        return unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    return key


def display_key(key: str) -> str:
    """A Textual key name as a person reads it in hints: ? ] esc ctrl+s."""
    return _DISPLAY.get(key, key)


def key_list(keys: str) -> list[str]:
    return [normal_key(k) for k in keys.split(",") if k.strip()]


def live_keys(keymap: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Each binding id's keys with the user's remapping applied."""
    keymap = keymap or {}
    return {k.id: key_list(keymap.get(k.id, k.keys)) for k in KEYS}


def check_keymap(keymap: dict[str, str]) -> None:
    """Raise ValueError (one sentence) for an unknown binding id, an empty key, or a remapped key
    that another action already has where both are live (claim = "r" would steal respond)."""
    for bid, keys in keymap.items():
        if bid not in BY_ID:
            raise ValueError(f"unknown binding id {bid!r}; known ids: {', '.join(sorted(BY_ID))}")
        if not isinstance(keys, str) or not key_list(keys):
            raise ValueError(f"binding {bid!r} needs a key")
    default = live_keys()
    now = live_keys(keymap)
    for group in TOGETHER:
        ids = [k.id for k in KEYS if k.where in group]
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if a not in keymap and b not in keymap:
                    continue
                shared = (set(now[a]) & set(now[b])) - (set(default[a]) & set(default[b]))
                if shared:
                    key = display_key(sorted(shared)[0])
                    remapped = a if a in keymap else b
                    other = b if remapped == a else a
                    raise ValueError(
                        f"{remapped} = {key!r} clashes with {other} ({BY_ID[other].what}), which has that key "
                        "where both apply; choose another key")


def help_sections(keymap: dict[str, str] | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """`?` help: (where, [(keys as shown, what it does)]) from the live bindings, dialogs left out."""
    now = live_keys(keymap)
    sections: dict[str, list[tuple[str, str]]] = {}
    for k in KEYS:
        if k.where != "dialogs":
            sections.setdefault(k.where, []).append((" ".join(display_key(x) for x in now[k.id]), k.what))
    return list(sections.items())


def markdown_table(keymap: dict[str, str] | None = None) -> str:
    """The binding ids as a Markdown table (the README's, and `backline keys --markdown`)."""
    now = live_keys(keymap)
    lines = ["| binding id | key | where | does |", "|---|---|---|---|"]
    for k in KEYS:
        keys = " ".join(f"`{display_key(x)}`" for x in now[k.id]).replace("`|`", "`\\|`")
        lines.append(f"| `{k.id}` | {keys} | {k.where} | {k.what} |")
    return "\n".join(lines) + "\n"


def plain_table(keymap: dict[str, str] | None = None) -> str:
    """The binding ids as aligned text (`backline keys`)."""
    now = live_keys(keymap)
    rows = [(k.id, " ".join(display_key(x) for x in now[k.id]), k.where, k.what) for k in KEYS]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    return "".join(f"{a:<{w[0]}}  {b:<{w[1]}}  {c:<{w[2]}}  {d}\n" for a, b, c, d in rows)
