"""Record actions on KB articles: validate, flag, archive, mark reviewed (one or all marked rows).
Mixed into RecordActions (screens/actions.py), whose `_rec`, `_wb` and `_bulk` they use."""

from __future__ import annotations

from typing import Any

from backline_tui.text import clean


class ArticleActions:
    app: Any

    # -- articles --------------------------------------------------------------------------------

    def action_validate(self) -> None:
        if self._bulk("validate") or (rec := self._rec()) is None:
            return
        self.app.run_worker(self._validate(rec), group="action")

    async def _validate(self, rec: dict) -> None:
        from backline_tui.screens.dialogs import ConfirmScreen

        ref, wb = rec["ref"], self._wb()
        ok, left = await self.app.attempt(wb.placeholders, ref)
        if not ok:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.validate(ref), f"validated {ref}")

        if left:
            self.app.push_screen(ConfirmScreen(
                f"{ref}: {' and '.join(left)} still {'hold' if len(left) > 1 else 'holds'} the draft's placeholder. "
                "Validate anyway?", "", "Validate"), confirmed)
        else:
            confirmed(True)

    def action_flag(self) -> None:
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import PromptScreen

        ref, wb = rec["ref"], self._wb()

        def entered(reason: str | None) -> None:
            if reason is None or self._bulk("flag", reason):
                return
            self.app.perform(lambda: wb.flag(ref, reason), f"flagged {ref}",
                             undo=(f"flag on {ref}", lambda: wb.unflag(ref)))

        self.app.typeahead = []
        self.app.push_screen(PromptScreen(f"Flag {ref}", "why? e.g. steps are wrong for v3.2", ""), entered)

    def action_archive(self) -> None:
        if self._bulk("archive") or (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import ConfirmScreen

        ref, wb = rec["ref"], self._wb()
        if (why := self.refusal("archive", rec)) is not None:
            self.app.say(why, severity="warning")  # before asking, not after
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.archive(ref), f"archived {ref}")

        self.app.push_screen(ConfirmScreen(f"Archive {ref}?", clean(rec.get("title") or ""), "Archive"), confirmed)

    def action_review(self) -> None:
        if self._bulk("review") or (rec := self._rec()) is None:
            return
        ref, wb = rec["ref"], self._wb()
        self.app.perform(lambda: wb.mark_reviewed(ref), f"marked {ref} reviewed; open flags resolved")
