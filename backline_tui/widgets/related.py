"""Related knowledge in a record's detail: the articles most likely to answer it and the closest
answered help requests with their answers. Every row is upstream text: one_line, no markup."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from backline_tui.text import one_line
from backline_tui.widgets.format import DIM, GOOD, WARN

STATE_STYLE = {"validated": GOOD, "wip": WARN, "not_validated": WARN}


SHOW_ARTICLES = 4
SHOW_ANSWERS = 2


def related_text(related: dict | None) -> Text:
    """One line a row: articles (ref, KCS state, reuse count, title, excerpt), then answered
    requests (ref, subject, who answered and how)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Related knowledge", style="bold")
    if related is None:
        text.append(" · looking…", style=DIM)
        return text
    articles, answers = related.get("articles") or [], related.get("answers") or []
    if not articles and not answers:
        text.append(" · no article or past answer matches this question", style=DIM)
        return text
    text.append(" · L links an article as the answer", style=DIM)
    for a in articles[:SHOW_ARTICLES]:
        text.append("\n")
        text.append(f"{one_line(a['ref'], 14):<14}", style="bold")
        text.append(f"{one_line(a['state'], 13):<14}", style=STATE_STYLE.get(a["state"], ""))
        text.append(f"{a['reuse_count']:>4}× ", style=DIM)
        if a.get("open_flags"):
            text.append("flagged ", style=WARN)
        text.append(one_line(a["title"], 90))
        if a.get("excerpt"):
            text.append(" — " + one_line(a["excerpt"], 120), style=DIM)
    for h in answers[:SHOW_ANSWERS]:
        text.append("\n")
        text.append(f"{one_line(h['ref'], 14):<14}", style="bold")
        text.append(f"{'answered':<14}", style=GOOD)
        text.append(" " * 6)  # under the articles' reuse count
        text.append(one_line(h["subject"], 70))
        text.append(" ↳ " + one_line(h.get("answered_by") or "", 20) + ": " + one_line(h.get("answer") or "", 120),
                    style=DIM)
    return text


class RelatedKnowledge(Static):
    """Filled when the database thread has the answer (`show`); never blocks the screen."""

    DEFAULT_CSS = """
    RelatedKnowledge {
        height: auto;
        max-height: 8;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        border-top: solid $boost;
    }
    """

    def on_mount(self) -> None:
        self.update(related_text(None))

    def show(self, related: dict) -> None:
        self.update(related_text(related))
