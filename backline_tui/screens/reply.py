"""The reply editor of a help request, with the KB at hand: ctrl+o picks an article (the related
ones pre-listed) and inserts its reference or its Resolution text at the cursor. Quoting an
article links it as the answer (a KCS reuse) unless it already is."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import TextArea

from backline_tui.screens.compose import ComposeScreen
from backline_tui.text import clean


class ReplyScreen(ComposeScreen):
    BINDINGS = [Binding("ctrl+o", "insert_article", "Insert article", id="compose.article")]

    def __init__(self, *, record: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.record = record

    def on_mount(self) -> None:  # ComposeScreen's on_mount runs too (Textual calls each class's handler)
        hint = self.query_one("#compose-hint")
        hint.update(hint.content + " · ctrl+o = insert a KB article")

    def action_insert_article(self) -> None:
        self.run_worker(self._insert_article(), group="insert", exclusive=True)

    async def _insert_article(self) -> None:
        from backline_tui.screens.dialogs import ChoiceScreen
        from backline_tui.screens.picker import PickerScreen

        wb, kind, ref = self.app.workbench, self.record["kind"], self.record["ref"]
        ok, found = await self.app.attempt(wb.related, kind, ref)
        related = found["articles"] if ok else []

        def insert(how: str | None, article_ref: str) -> None:
            if how is None:
                return

            def put(quote: dict) -> None:
                area = self.query_one("#compose-body", TextArea)
                snippet = f"{quote['ref']}: {quote['title']}" if how == "link" else quote["text"]
                area.insert(clean(snippet) + "\n")
                area.focus()

            self.app.perform(lambda: wb.quote_article(kind, ref, article_ref),
                             lambda q: f"inserted {q['ref']} into the reply"
                             + (" and linked it as the answer" if q["linked"] else ""),
                             after=put)

        def picked(row: dict | None) -> None:
            if row is None or "choice" in row:
                return
            self.app.push_screen(ChoiceScreen(f"Insert {row['ref']} into the reply", [
                ("link", f"its reference: {row['ref']}: {row.get('title', '')}"),
                ("text", "its Resolution text")]), lambda how: insert(how, row["ref"]))

        self.app.push_screen(PickerScreen(
            f"Insert a KB article into the reply to {ref}", "article", lambda text: wb.pick("article", text),
            initial=related, initial_label="related to this question" if related else "type to search"), picked)
