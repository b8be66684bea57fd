"""Record actions (docs/architecture.md §5) shared by the pane screen (the selected row) and the detail screen
(the open record). A screen mixes in RecordActions, adds ACTION_BINDINGS to its BINDINGS and
implements `target()`. The keys of each kind of record are in request_actions.py (help requests
and cases), bug_actions.py, article_actions.py and knowledge_actions.py."""

from __future__ import annotations

from typing import Any

from textual.actions import parse as parse_action
from textual.binding import Binding

from backline_tui.screens.article_actions import ArticleActions
from backline_tui.screens.bug_actions import BugActions
from backline_tui.screens.knowledge_actions import KNOWLEDGE_ACTIONS_FOR, KNOWLEDGE_BINDINGS, KnowledgeActions
from backline_tui.screens.request_actions import RequestActions

# 1–5 everywhere: in a list they switch panes, in a record they go back to the list on that pane
PANE_BINDINGS = [
    Binding("1", "pane('help')", "Help queue", id="pane.help", show=False),
    Binding("2", "pane('stale')", "Stale cases", id="pane.stale", show=False),
    Binding("3", "pane('bugs')", "Bugs", id="pane.bugs", show=False),
    Binding("4", "pane('kb')", "KB review", id="pane.kb", show=False),
    Binding("5", "pane('insights')", "Insights", id="pane.insights", show=False),
]

ACTION_BINDINGS = [
    Binding("c", "claim", "Claim", id="claim"),
    Binding("u", "unclaim", "Unclaim", id="unclaim"),
    Binding("T", "take_over", "Take over", id="take_over", show=False),
    Binding("r", "respond", "Respond", id="respond"),
    Binding("n", "note", "Note", id="note"),
    Binding("x", "resolve", "Resolve", id="resolve"),
    Binding("d", "document", "Document", id="document"),
    Binding("o", "offer", "Offer help", id="offer"),
    Binding("p", "priority", "Priority", id="priority"),
    Binding("t", "target", "Target", id="target"),
    Binding("l", "link", "Link", id="link"),
    Binding("v", "validate", "Validate", id="validate"),
    Binding("f", "flag", "Flag", id="flag"),
    Binding("a", "archive", "Archive", id="archive"),
    Binding("m", "review", "Reviewed", id="review"),
    Binding("e", "edit", "$EDITOR", id="edit"),
    *KNOWLEDGE_BINDINGS,
    Binding("y", "copy_ref", "Copy ref", id="copy.ref", show=False),
    Binding("Y", "copy_url", "Copy URL", id="copy.url", show=False),
    Binding("O", "open_url", "Open upstream", id="open.url", show=False),
]
# on every kind of record
ANY_RECORD = ("copy_ref", "copy_url", "open_url")

ACTIONS_FOR: dict[str, tuple[str, ...]] = {
    "help_request": ("claim", "unclaim", "take_over", "respond", "note", "resolve", "document", "edit"),
    "case": ("note", "offer", "link", "edit"),
    "bug": ("priority", "target", "link"),
    "article": ("validate", "flag", "archive", "review", "edit"),
}
for _kind, _acts in KNOWLEDGE_ACTIONS_FOR.items():
    ACTIONS_FOR[_kind] += tuple(a for a in _acts if a not in ACTIONS_FOR[_kind])
ACTIONS_FOR = {kind: (*acts, *ANY_RECORD) for kind, acts in ACTIONS_FOR.items()}
RECORD_ACTIONS = frozenset(a for acts in ACTIONS_FOR.values() for a in acts)
# actions that open a screen to type into: their keys are run in order (RecordActions.run_key_now)
COMPOSING = frozenset({"respond", "note", "offer", "document", "flag", "target", "link", "link_article", "escalate"})


class RecordActions(RequestActions, BugActions, ArticleActions, KnowledgeActions):
    """Mixed into a Screen. `target()` returns the record the keys act on (a pane row or a
    detail dict with at least kind and ref), or None."""

    app: Any

    def target(self) -> dict | None:  # pragma: no cover - implemented by the screens
        raise NotImplementedError

    # which keys apply here (the footer shows only those). A key that applies to the kind of
    # record stays live even when the facade will refuse (claiming bob's request): the refusal
    # then says why, instead of the key silently doing nothing.
    def check_record_action(self, action: str) -> bool | None:
        if action not in RECORD_ACTIONS:
            return True
        rec = self.target()
        if rec is None or action not in ACTIONS_FOR.get(rec.get("kind", ""), ()):
            return False
        return True

    def refusal(self, action: str, rec: dict | None = None, owners: bool = True) -> str | None:
        """Why the selected record refuses `action` (rules.why_not), or None; with `owners`
        False only its own state counts (resolved, archived), not who owns it."""
        from backline_tui.domain.rules import why_not

        rec = rec if rec is not None else self.target()
        if rec is None:
            return None
        wb = self.app.workbench
        return why_not(action, rec, wb.config.me if owners and wb.config_loaded else None)

    def footer_hides(self, action: str) -> bool:
        """Keys a resolved or archived record refuses leave the footer (they stay live and say
        why). Keys refused for being someone else's stay: the footer does not change as the
        cursor moves down a pane of open requests."""
        return action in RECORD_ACTIONS and self.refusal(action, owners=False) is not None

    def swallow_key(self, event) -> bool:
        """Between r (or n, o, d) and its compose screen there is a database read. Keys typed
        ahead in that moment are kept for the compose screen instead of running as commands
        (typing "hello" must not trigger e, l and o)."""
        buffer = getattr(self.app, "typeahead", None)
        if buffer is None:
            return False
        if event.is_printable and event.character:
            buffer.append(event.character)
        elif event.key == "enter":
            buffer.append("\n")
        else:
            return False
        event.stop()
        event.prevent_default()
        return True

    def run_key_now(self, event, actions: frozenset[str] = frozenset()) -> bool:
        """Run the binding of `event` here, in key order, if it is one of `actions` (those that
        open a screen to type into). A binding normally runs only when the key has bubbled up
        to the app, after the keys typed behind it were already handled; typing "rhello" fast
        would then run e, l and o as commands before the reply screen exists."""
        active = self.app.active_bindings.get(event.key)
        if active is None:
            return False
        _, action, params = parse_action(active.binding.action)
        if action not in (actions or COMPOSING) or active.node is not self:
            return False
        if not self.check_action(action, params):
            return False  # not ours here: let the key take its usual way (another widget's binding)
        event.stop()
        event.prevent_default()
        getattr(self, f"action_{action}")(*params)
        return True

    # -- any record: copy and open ---------------------------------------------------------------

    def action_copy_ref(self) -> None:
        if (rec := self._rec()) is not None:
            self._copy(rec["ref"], "ref")

    def _copy(self, text: str, what: str) -> None:
        # OSC 52: most terminals put it on the clipboard; some refuse, silently
        self.app.copy_to_clipboard(text)
        self.app.say(f"copied the {what} {text} (if your terminal refuses OSC 52 clipboard writes, "
                     "select it on screen instead)")

    def action_copy_url(self) -> None:
        self._with_url(lambda url: self._copy(url, "URL"))

    def action_open_url(self) -> None:
        def open_(url: str) -> None:
            import webbrowser

            opened = webbrowser.open(url)
            self.app.say(f"opened {url} in the browser" if opened else f"no browser to open; the URL is {url}")

        self._with_url(open_)

    def _with_url(self, then) -> None:
        if (rec := self._rec()) is None:
            return
        self.app.run_worker(self._url_then(rec, then), group="action")

    async def _url_then(self, rec: dict, then) -> None:
        ok, url = await self.app.attempt(self._wb().record_url, rec["kind"], rec["ref"])
        if not ok:
            return
        if url is None:
            self.app.say(f"{rec['ref']} has no upstream page (demo data, an imported file or a local draft)",
                         severity="warning")
            return
        then(url)

    # -- the facade and the selected record(s) ------------------------------------------------

    def _wb(self):
        return self.app.workbench

    # -- marked rows: one action over all of them ---------------------------------------------------

    BULK_WORDS = {"claim": ("Claim", "claimed"), "validate": ("Validate", "validated"),
                  "archive": ("Archive", "archived"), "review": ("Mark reviewed", "marked reviewed"),
                  "flag": ("Flag", "flagged"), "link": ("Link", "linked")}

    def marked_refs(self) -> list[str]:
        """Refs of the rows marked for a bulk action (the pane screen has them; a record none)."""
        return []

    def after_bulk(self) -> None:
        """Marks are cleared once a bulk action went through."""

    def _bulk(self, action: str, arg: str | None = None) -> bool:
        """Run `action` over the marked rows after one confirmation that says how many; False
        when nothing is marked (the action then applies to the selected row)."""
        refs = self.marked_refs()
        if not refs:
            return False
        from backline_tui.screens.dialogs import ConfirmScreen

        verb, past = self.BULK_WORDS[action]
        n, wb = len(refs), self._wb()
        what = f"{n} marked row{'s' if n != 1 else ''}"
        detail = ("all or nothing: if one of them cannot be, none is" + (f" · {arg}" if arg else ""))

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.bulk(action, refs, arg), f"{past} {what}", after=lambda _: self.after_bulk())

        self.app.push_screen(ConfirmScreen(f"{verb} {what}?", detail, verb), confirmed)
        return True

    def _rec(self) -> dict | None:
        rec = self.target()
        if rec is None:
            self.app.say("nothing selected")
        return rec
