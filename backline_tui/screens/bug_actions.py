"""Record actions on bugs: priority override, resolution target; link (a case or bug to the other,
or on a help request the article that answers it). Mixed into RecordActions (screens/actions.py),
whose `_rec` and `_wb` they use."""

from __future__ import annotations

from typing import Any


class BugActions:
    app: Any

    # -- bugs ------------------------------------------------------------------------------------

    def action_priority(self) -> None:
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import ChoiceScreen

        ref, wb = rec["ref"], self._wb()
        before = rec.get("priority_override")
        choices = [("P1", "P1 — fix first"), ("P2", "P2"), ("P3", "P3"), ("P4", "P4"),
                   ("", "follow impact (no override)")]

        def chosen(value: str | None) -> None:
            if value is None:
                return
            new = value or None
            self.app.perform(
                lambda: wb.set_bug_priority(ref, new),
                f"{ref} priority: {new or 'follows impact'}",
                undo=(f"priority of {ref}", lambda: wb.set_bug_priority(ref, before)),
            )

        self.app.push_screen(ChoiceScreen(f"Priority of {ref}", choices, current=before or ""), chosen)

    def action_target(self) -> None:
        if (rec := self._rec()) is None:
            return
        from backline_tui.screens.dialogs import PromptScreen

        ref, wb = rec["ref"], self._wb()
        before = rec.get("target_at")
        current = (rec.get("target") or "")[:10]

        def entered(value: str | None) -> None:
            if value is None:
                return
            new = value.strip() or None
            past = bool(new) and new[:10] < wb.now().strftime("%Y-%m-%d")
            self.app.perform(
                lambda: wb.set_bug_target(ref, new),
                f"{ref} target: {new or 'default for its priority'}"
                + (" — that date is already past: the bug shows as overdue" if past else ""),
                undo=(f"target of {ref}", lambda: wb.set_bug_target(ref, before)),
            )

        self.app.typeahead = []
        self.app.push_screen(
            PromptScreen(f"Resolution target for {ref}", "YYYY-MM-DD (empty: the default for its priority)", current),
            entered)

    def action_link(self) -> None:
        if (rec := self._rec()) is None:
            return
        if rec["kind"] == "help_request":  # on a request, l links the article that answers it
            self.action_link_article()
        else:
            self.link_by_picker(rec)
