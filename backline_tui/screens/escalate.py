"""The bug drafted from a case or help request, to edit before it is saved: title, product,
component, severity and a Markdown body (ctrl+e continues it in $EDITOR). The draft quotes
upstream text: every field is shown through the sanitiser, never as markup."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from backline_tui.domain.vocabulary import SEVERITIES
from backline_tui.screens.compose import Composed, ComposeScreen
from backline_tui.text import clean


@dataclass
class BugDraft(Composed):
    product: str = ""
    component: str = ""
    severity: str = "S3"


class EscalateScreen(ComposeScreen):
    BINDINGS = [Binding("ctrl+s", "submit", "Save bug", id="compose.submit")]

    def __init__(self, *, heading: str, draft: dict) -> None:
        super().__init__(heading=heading, context="", body=draft["body"], title=draft["title"], submit_label="Save bug")
        self.draft = draft

    def on_mount(self) -> None:  # ComposeScreen's on_mount runs too (Textual calls each class's handler)
        labels = self.query(".compose-label")
        if len(labels) > 1:
            labels[1].update(Text("Bug (Markdown)", style="bold"))
        fields = [Input(value=clean(self.draft["product"]), placeholder="product", id="bug-product"),
                  Input(value=clean(self.draft["component"]), placeholder="component", id="bug-component"),
                  Input(value=self.draft["severity"], placeholder="S1-S4", id="bug-severity")]
        for field, width in zip(fields, ("2fr", "2fr", "1fr")):
            field.styles.width = width
        row = Horizontal(*fields, id="bug-fields")
        row.styles.height = 3
        label = Static(Text("Product · component · severity", style="bold"), classes="compose-label")
        before = labels[1] if len(labels) > 1 else "#compose-body"
        self.query_one("#compose-body").parent.mount_all([label, row], before=before)
        self.call_after_refresh(self.query_one("#compose-title", Input).focus)

    def _field(self, name: str) -> str:
        return self.query_one(f"#bug-{name}", Input).value.strip()

    def action_submit(self) -> None:
        title = self.title_text or ""
        severity = self._field("severity").upper()
        if not title.strip():
            self.app.say("a bug needs a title", severity="warning")
            return
        if severity not in SEVERITIES:
            self.app.say(f"severity must be one of {', '.join(SEVERITIES)}", severity="warning")
            return
        self.dismiss(BugDraft(body=self.body_text, title=title, product=self._field("product"),
                              component=self._field("component"), severity=severity))


def heading_for(ref: str, draft: dict) -> str:
    where = f" (case {draft['case_ref']})" if draft.get("case_ref") and draft["case_ref"] != ref else ""
    linked = ", linked to the case" if draft.get("case_ref") else ""
    return f"Escalate {ref}{where} to sustaining engineering: a new bug in {draft['source']}{linked}"

