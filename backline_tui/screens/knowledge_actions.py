"""Knowledge in the flow of work, from the keyboard: link an article as the answer (with a flag
on reuse), document without duplicating, escalate a case into a bug, pick a case or bug to link,
unlink with undo. Mixed into RecordActions; every database call goes through the facade on the
database thread."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from backline_tui.text import clean

KNOWLEDGE_BINDINGS = [
    Binding("L", "link_article", "Link article", id="link_article"),
    Binding("B", "escalate", "Escalate", id="escalate"),
]
KNOWLEDGE_ACTIONS_FOR: dict[str, tuple[str, ...]] = {
    "help_request": ("link_article", "escalate", "link"),
    "case": ("link_article", "escalate"),
}


class KnowledgeActions:
    app: Any

    # -- link an article as the answer -------------------------------------------------------

    def action_link_article(self) -> None:
        rec = self.target()
        if rec is None:
            self.app.say("nothing selected")
            return
        self.app.typeahead = []
        self.app.run_worker(self._link_article(rec), group="action")

    async def _link_article(self, rec: dict, related: list[dict] | None = None, extra=None, on_choice=None,
                            title: str | None = None) -> None:
        from backline_tui.screens.picker import PickerScreen

        kind, ref, wb = rec["kind"], rec["ref"], self.app.workbench
        if related is None:
            ok, found = await self.app.attempt(wb.related, kind, ref)
            related = found["articles"] if ok else []

        def picked(row: dict | None) -> None:
            if row is None:
                return
            if "choice" in row:
                if on_choice is not None:
                    on_choice(row["choice"])
                return
            self._do_link_article(kind, ref, row["ref"], flag=row.get("flag", False))

        self.app.push_screen(PickerScreen(
            title or f"Link an article as the answer to {ref}", "article", lambda text: wb.pick("article", text),
            initial=related, initial_label="related to this question" if related else "no related article: type to search",
            extra=extra, hint="linking counts as a reuse", flaggable=True), picked)

    def _do_link_article(self, kind: str, ref: str, article_ref: str, flag: bool = False) -> None:
        wb = self.app.workbench

        def after(_art) -> None:
            if flag:
                self._flag_reused(article_ref)

        self.app.perform(lambda: wb.link_article(kind, ref, article_ref),
                         lambda art: f"linked {art['ref']} to {ref} (reused {art['reuse_count']}×)",
                         undo=(f"link of {article_ref} to {ref}", lambda: wb.unlink_article(kind, ref, article_ref)),
                         after=after)

    def _flag_reused(self, article_ref: str) -> None:
        from backline_tui.screens.dialogs import PromptScreen

        wb = self.app.workbench

        def entered(reason: str | None) -> None:
            if reason:
                self.app.perform(lambda: wb.flag(article_ref, reason), f"flagged {article_ref}",
                                 undo=(f"flag on {article_ref}", lambda: wb.unflag(article_ref)))

        self.app.push_screen(PromptScreen(f"Flag {article_ref}: what was wrong or out of date?",
                                          "e.g. step 3 no longer matches the UI", ""), entered)

    # -- document without duplicating --------------------------------------------------------

    async def covered_first(self, rec: dict, draft) -> bool:
        """Before drafting: the articles that already cover the question. Link one, or go on to
        draft (`draft()` is called). True if the choice was offered."""
        ok, found = await self.app.attempt(self.app.workbench.related, rec["kind"], rec["ref"])
        if not ok or not found["articles"]:
            return False

        def choice(value: str) -> None:
            if value == "draft":
                self.app.typeahead = []
                self.app.run_worker(draft(), group="action")

        await self._link_article(rec, related=found["articles"], on_choice=choice,
                                 extra=[("→ none of these: draft a new article", "draft")],
                                 title=f"Document {rec['ref']}: do these articles already cover it? enter links one")
        return True

    # -- escalate ------------------------------------------------------------------------------

    def action_escalate(self) -> None:
        rec = self.target()
        if rec is None:
            self.app.say("nothing selected")
            return
        self.app.typeahead = []
        self.app.run_worker(self._escalate(rec), group="action")

    async def _escalate(self, rec: dict) -> None:
        from backline_tui.screens.picker import PickerScreen

        kind, ref, wb = rec["kind"], rec["ref"], self.app.workbench
        ok, draft = await self.app.attempt(wb.escalation_draft, kind, ref)
        if not ok:
            self.app.typeahead = None  # no screen to type into: keys are keys again
            return
        ok, alike = await self.app.attempt(wb.lookalike_bugs, kind, ref)
        if not ok or not alike:
            self._open_escalation(kind, ref, draft)
            return
        case_ref = draft["case_ref"]

        def picked(row: dict | None) -> None:
            if row is None:
                return
            if "choice" in row:
                self._open_escalation(kind, ref, draft)
            elif case_ref is None:
                self.app.say(f"{ref} has no case to link to {row['ref']}; open the bug instead", severity="warning")
            else:
                self._link_case_bug(case_ref, row["ref"], draft["product"], row.get("product") or "")

        self.app.push_screen(PickerScreen(
            f"Escalate {ref}: is it one of these open bugs?", "bug", lambda text: wb.pick("bug", text),
            initial=alike, initial_label="open bugs that look like the same problem (enter links the case to it)",
            extra=[("→ none of these: draft a new bug", "draft")]), picked)

    def _open_escalation(self, kind: str, ref: str, draft: dict) -> None:
        from backline_tui.screens.escalate import EscalateScreen, heading_for

        wb = self.app.workbench

        def done(result) -> None:
            if result is None:
                return
            self.app.perform(
                lambda: wb.escalate(kind, ref, result.title, result.body, result.product, result.component,
                                    result.severity),
                lambda bug: f"escalated {ref}: {bug['ref']} (impact {bug['impact_score']}, queued for sync)")

        self.app.push_screen(EscalateScreen(heading=heading_for(ref, draft), draft=draft), done)

    # -- case ↔ bug by picker ------------------------------------------------------------------

    def link_by_picker(self, rec: dict) -> None:
        self.app.typeahead = []
        self.app.run_worker(self._link_by_picker(rec), group="action")

    async def _link_by_picker(self, rec: dict) -> None:
        from backline_tui.screens.picker import PickerScreen

        kind, ref, wb = rec["kind"], rec["ref"], self.app.workbench
        other = "case" if kind == "bug" else "bug"
        initial: list[dict] = []
        if kind == "case":
            ok, alike = await self.app.attempt(wb.lookalike_bugs, kind, ref)
            initial = alike if ok else []

        def picked(row: dict | None) -> None:
            if row is None or "choice" in row:
                return
            if kind == "case" and self._bulk("link", row["ref"]):  # every marked case to this one bug
                return
            case_ref, bug_ref = (row["ref"], ref) if kind == "bug" else (ref, row["ref"])
            self._link_case_bug(case_ref, bug_ref, rec.get("product") or "", row.get("product") or "")

        self.app.push_screen(PickerScreen(
            f"Link {ref} to a {other}", other, lambda text: wb.pick(other, text), initial=initial,
            initial_label="open bugs that look like this case" if initial else "type a ref, a number or words"), picked)

    def _link_case_bug(self, case_ref: str, bug_ref: str, product_a: str, product_b: str) -> None:
        from backline_tui.screens.dialogs import ConfirmScreen

        wb = self.app.workbench

        def link() -> None:
            self.app.perform(lambda: wb.link_case_bug(case_ref, bug_ref), f"linked {case_ref} to {bug_ref}",
                             undo=(f"link of {case_ref} to {bug_ref}", lambda: wb.unlink_case_bug(case_ref, bug_ref)))

        if product_a and product_b and product_a != product_b:
            self.app.push_screen(ConfirmScreen(
                f"{bug_ref} is a {clean(product_b)} bug and {case_ref} a {clean(product_a)} case. Link them anyway?",
                "", "Link"), lambda yes: link() if yes else None)
        else:
            link()

    # -- unlink --------------------------------------------------------------------------------

    def unlink(self, rec: dict, other_kind: str, other_ref: str) -> None:
        """Remove the link between the open record and one of its links, with undo."""
        wb = self.app.workbench
        kind, ref = rec["kind"], rec["ref"]
        if {kind, other_kind} == {"case", "bug"}:
            case_ref, bug_ref = (ref, other_ref) if kind == "case" else (other_ref, ref)
            self.app.perform(lambda: wb.unlink_case_bug(case_ref, bug_ref), f"unlinked {case_ref} from {bug_ref}",
                             undo=(f"unlink of {case_ref} from {bug_ref}", lambda: wb.link_case_bug(case_ref, bug_ref)))
        elif other_kind == "article" and kind in ("help_request", "case"):
            self.app.perform(lambda: wb.unlink_article(kind, ref, other_ref), f"unlinked {other_ref} from {ref}",
                             undo=(f"unlink of {other_ref} from {ref}", lambda: wb.link_article(kind, ref, other_ref)))
        else:
            self.app.say(f"{other_ref} is shown here, not linked: nothing to unlink", severity="warning")
