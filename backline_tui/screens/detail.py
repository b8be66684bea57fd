"""One record in full: its text, the message thread, and links to follow
(request → case → bugs → articles and back). The record keys act on it."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from backline_tui.screens.actions import ACTION_BINDINGS, PANE_BINDINGS, RecordActions
from backline_tui.text import clean, one_line
from backline_tui.widgets.format import (BREACHED, DIM, GOOD, NOTE, OFFER, WARN, block, capped, duration, local_time, ola_sentence,
                                         more_note, priority_cell, target_cell)
from backline_tui.widgets.keybar import KeyBar
from backline_tui.widgets.record_facts import fact_line, impact_lines, sync_changes
from backline_tui.widgets.related import RelatedKnowledge
from backline_tui.widgets.status import StatusLine

KIND_NAME = {"help_request": "Help request", "case": "Case", "bug": "Bug", "article": "Article"}


class DetailScreen(RecordActions, Screen):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="detail.back"),
        *PANE_BINDINGS,  # back to the list, on that pane
        Binding("j", "scroll(1)", "Scroll down", id="detail.down", show=False),
        Binding("k", "scroll(-1)", "Scroll up", id="detail.up", show=False),
        Binding("delete", "unlink", "Unlink", id="detail.unlink", show=False),
        *ACTION_BINDINGS,
    ]

    def __init__(self, kind: str, ref: str) -> None:
        super().__init__()
        self.kind = kind
        self.ref = ref
        self.record: dict | None = None
        self.links: list[tuple[str, str]] = []
        self._after_sync = False
        #: "by sync 10:02: status, 1 new message", once a sync changed the record on screen
        self.updated_note: str | None = None
        #: None: not looked at; "": the history is here; else what the thread area says of it
        self.history_note: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{KIND_NAME.get(self.kind, self.kind)} {one_line(self.ref, 40)} · loading…",
                          style="bold"), id="detail-head")
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-facts")
            yield Static(id="detail-text")
            yield Static(id="detail-thread")
        if self.kind in ("help_request", "case"):
            yield RelatedKnowledge(id="detail-related")
        yield Static(Text("Links · enter follows · delete unlinks · tab switches between text and links", style="dim"),
                     id="links-title")
        yield OptionList(id="links")
        yield StatusLine()
        yield KeyBar()

    TICK_SECONDS = 30.0  # the OLA countdown and idle time in the header move on their own

    def on_mount(self) -> None:
        self.set_interval(self.TICK_SECONDS, self._tick, name="countdown")
        self.reload()

    def _tick(self) -> None:
        if self.record is not None and self.app.screen is self:
            rec = self.app.workbench.redecorate(self.kind, [self.record])[0]
            self.record = rec
            self._show_record(rec)

    def reload(self) -> None:
        self.run_worker(self._load, group="detail", exclusive=True)

    def sync_landed(self) -> None:
        """A sync finished: reload, and say so if it changed what is on screen."""
        self._after_sync = True
        self.reload()

    async def _load(self) -> None:
        ok, rec = await self.app.attempt(self.app.workbench.detail, self.kind, self.ref)
        if not ok:
            if self.record is None and self.app.screen is self:
                self.app.pop_screen()
            return
        rec["kind"] = self.kind
        after_sync, self._after_sync = self._after_sync, False
        changed = sync_changes(self.record, rec) if after_sync and self.record is not None else []
        if changed:
            self.updated_note = f"by sync at {datetime.now().astimezone():%H:%M}: {', '.join(changed)}"
            self.app.say(f"{one_line(self.ref, 40)} updated by sync: {', '.join(changed)}", title="updated",
                         timeout=8)
        if rec.get("history_pending") and self.history_note is None:  # fields only so far: fetch its thread
            self.history_note = "history: fetching…"
            self.run_worker(self._fetch_history, thread=True, group="history", exclusive=True)
        self.record = rec
        self._show_record(rec)
        self.refresh_bindings()
        if self.kind in ("help_request", "case"):
            self.run_worker(self._load_related, group="related", exclusive=True)

    def _fetch_history(self) -> None:
        try:
            failed = self.app.workbench.fetch_history(self.kind, self.ref)
        except Exception as exc:  # noqa: BLE001 — said on screen; the record stays as it is
            failed = self.app.internal("history fetch failed", exc)
        self.app.call_from_thread(self._history_fetched, failed)

    def _history_fetched(self, failed: str | None) -> None:
        self.history_note = failed or ""
        self.reload()

    async def _load_related(self) -> None:
        """Related knowledge, computed on the database thread; shown when it arrives."""
        try:
            related = await self.app.call_db(self.app.workbench.related, self.kind, self.ref)
        except Exception:  # noqa: BLE001 — the record vanished or the database is busy: leave it out
            return
        # the user may have left the record meanwhile: its widgets are gone, nothing to show
        for widget in self.query("#detail-related").results(RelatedKnowledge):
            widget.show(related)

    def target(self) -> dict | None:
        return self.record

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.check_record_action(action)

    # ------------------------------------------------------------------ rendering

    def _show_record(self, r: dict) -> None:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{KIND_NAME[self.kind]} ", style="bold")
        head.append(one_line(r["ref"], 40), style="bold reverse")
        head.append("  ")
        facts = Text()
        links: list[tuple[str, str, Text]] = []
        thread: list[dict] = r.get("messages") or []
        body_title = one_line(r.get("subject") or r.get("title") or "", 300)
        if self.updated_note:
            fact_line(facts, "Updated", self.updated_note, WARN)

        if self.kind == "help_request":
            head.append(f"{r['priority']} · {r['status']} · ")
            head.append_text(ola_sentence(r))
            fact_line(facts, "Subject", r["subject"], "bold")
            fact_line(facts, "Asked by", r["asker"])
            fact_line(facts, "Owner", r["owner"] or "unclaimed")
            fact_line(facts, "Product", " / ".join(x for x in (r["product"], r["component"]) if x))
            fact_line(facts, "Created", local_time(r["created_at"]))
            fact_line(facts, "OLA due", local_time(r["ola_due_at"]))
            if r.get("resolved_at"):
                fact_line(facts, "Resolved", local_time(r["resolved_at"]))
            if r.get("article"):
                a = r["article"]
                fact_line(facts, "Documented in", f"{a['ref']} ({a['state']}) {a['title']}", GOOD)
            else:
                fact_line(facts, "Documented in", "not yet (d drafts an article)", DIM)
            if r.get("case"):
                c = r["case"]
                links.append(("case", c["ref"], self._link("case", c["ref"], f"{c['customer']} · {c['severity']} · "
                                                           f"{c['status']} · {c['subject']}")))
            for b in r.get("bugs") or []:
                links.append(("bug", b["ref"], self._link("bug", b["ref"], f"impact {b['impact_score']} · {b['status']}"
                                                          f" · {b['title']}")))
            for a in r.get("articles") or ([r["article"]] if r.get("article") else []):
                links.append(("article", a["ref"], self._link("article", a["ref"], f"{a['state']} · {a['title']}")))
        elif self.kind == "case":
            head.append(f"{r['severity']} · {r['status']} · idle {duration(r['idle_seconds'])}")
            if r.get("reasons"):
                head.append(" · " + ", ".join(r["reasons"]), style=BREACHED if r.get("ratio", 0) >= 3 else WARN)
            fact_line(facts, "Subject", r["subject"], "bold")
            fact_line(facts, "Customer", f"{r['customer']} ({r['tier']})")
            fact_line(facts, "Owner", r["owner"] or "nobody")
            fact_line(facts, "Product", " / ".join(x for x in (r["product"], r["component"], r["version"]) if x))
            fact_line(facts, "Created", local_time(r["created_at"]))
            fact_line(facts, "Last activity", local_time(r["last_activity_at"]))
            fact_line(facts, "Customer said", local_time(r.get("last_customer_update_at")))
            fact_line(facts, "Reopened", f"{r['reopen_count']}×")
            if r.get("offered_by_me"):
                fact_line(facts, "Offer", "you offered help on this case", GOOD)
            for h in r.get("help_requests") or []:
                links.append(("help_request", h["ref"], self._link("help", h["ref"], f"{h['status']} · "
                                                                   f"{h['owner'] or 'unclaimed'} · {h['subject']}")))
            for b in r.get("bugs") or []:
                links.append(("bug", b["ref"], self._link("bug", b["ref"], f"impact {b['impact_score']} · {b['status']}"
                                                          f" · {b['title']}")))
            for a in r.get("articles") or []:
                links.append(("article", a["ref"], self._link("article", a["ref"], f"{a['state']} · {a['title']}")))
            links += self._story(facts, r)
        elif self.kind == "bug":
            head.append_text(priority_cell(r))
            head.append(f" · impact {r['impact_score']} · {r['case_count']} cases, {r['customer_count']} customers"
                        " · target ")
            head.append_text(target_cell(r))
            fact_line(facts, "Title", r["title"], "bold")
            fact_line(facts, "Product", " / ".join(x for x in (r["product"], r["component"]) if x))
            fact_line(facts, "Severity", r["severity"])
            fact_line(facts, "Status", r["status"])
            fact_line(facts, "Engineering", r["eng_owner"] or "nobody")
            fact_line(facts, "Priority", f"{r['priority']}" + (" (override; p changes it)" if r["priority_overridden"]
                                                           else " (from impact)"))
            fact_line(facts, "Target", f"{(r['target'] or '')[:10]}" + ("" if r["target_explicit"] else " (default)"))
            fact_line(facts, "Fix version", r.get("fix_version") or "—")
            fact_line(facts, "Created", local_time(r["created_at"]))
            impact_lines(facts, r)
            for c in r.get("cases") or []:
                links.append(("case", c["ref"], self._link("case", c["ref"], f"{c['customer']} ({c['tier']}) · "
                                                           f"{c['severity']} · {c['status']} · {c['subject']}")))
            more = (r.get("linked_cases_total") or 0) - len(r.get("cases") or [])
            if more > 0:
                facts.append(f"\n… and {more} more linked cases not listed\n", style=DIM)
        elif self.kind == "article":
            head.append(f"{r['state']}")
            if r.get("reasons"):
                head.append(" · " + ", ".join(r["reasons"]), style=WARN)
            fact_line(facts, "Title", r["title"], "bold")
            fact_line(facts, "Owner", r["owner"] or "nobody")
            fact_line(facts, "Product", " / ".join(x for x in (r["product"], r["component"]) if x))
            fact_line(facts, "Created", local_time(r["created_at"]))
            fact_line(facts, "Reviewed", local_time(r.get("last_reviewed_at")))
            fact_line(facts, "Review due", local_time(r.get("review_due_at")))
            fact_line(facts, "Reused", f"{r.get('reuse_count', 0)}× (last {local_time(r.get('last_reused_at'))})")
            for fl in r.get("flags") or []:
                style = DIM if fl["resolved_at"] else BREACHED
                state = "resolved" if fl["resolved_at"] else "open"
                fact_line(facts, "Flag", f"{state} · {fl['who']} · {local_time(fl['created_at'])} · {fl['reason']}", style)
            for h in r.get("help_requests") or []:
                links.append(("help_request", h["ref"], self._link("help", h["ref"], h["subject"])))
            for c in r.get("cases") or []:
                links.append(("case", c["ref"], self._link("case", c["ref"], c["subject"])))

        self.query_one("#detail-head", Static).update(head)
        self.query_one("#detail-facts", Static).update(facts)
        self._render_body(r, body_title)
        self.query_one("#detail-thread", Static).update(self._thread(thread))
        self._render_links(links)

    def _story(self, facts: Text, r: dict) -> list[tuple[str, str, Text]]:
        """The whole story of the case's customer: a line of facts, and links to the customer's
        other open and recent cases, the help requests raised about them, the bugs they wait on."""
        story = r.get("story")
        if not story:
            return []
        own_bugs = {b["ref"] for b in r.get("bugs") or []}
        waits = [b for b in story["bugs"] if b["ref"] not in own_bugs]
        fact_line(facts, "Customer story", f"{story['open_cases']} open case{'s' if story['open_cases'] != 1 else ''} · "
              f"{len(story['cases'])} other open or recent listed in links · {len(story['help_requests'])} help "
              f"request{'s' if len(story['help_requests']) != 1 else ''} about them · {len(story['bugs'])} open "
              f"bug{'s' if len(story['bugs']) != 1 else ''} waited on")
        links = [("case", c["ref"], self._link("customer", c["ref"], f"{c['severity']} · {c['status']} · {c['subject']}"))
                 for c in story["cases"]]
        links += [("help_request", h["ref"], self._link("asked", h["ref"], f"about {h['case_ref']} · {h['status']} · "
                                                        f"{h['subject']}")) for h in story["help_requests"]]
        links += [("bug", b["ref"], self._link("waits on", b["ref"], f"impact {b['impact_score']} · {b['cases']} of "
                                               f"their cases · {b['title']}")) for b in waits]
        return links

    def _render_body(self, r: dict, title: str) -> None:
        box = self.query_one("#detail-text", Static)
        body = r.get("body") or ""
        if self.kind == "article":
            from textual.widgets import Markdown

            shown, left_out = capped(body)
            markdown = clean(shown) + (more_note(left_out) if left_out else "")
            old = self.query("#detail-markdown")
            if old:
                old.first(Markdown).update(markdown)
            else:
                self.query_one("#detail-body", VerticalScroll).mount(
                    Markdown(markdown, open_links=False, id="detail-markdown"), after=box)
            box.update(Text("\nArticle", style="bold underline"))
            return
        text = Text()
        text.append("\n" + ("Question" if self.kind == "help_request" else "Description") + "\n",
                    style="bold underline")
        text.append_text(block(body or "(no text)"))
        box.update(text)

    def _thread(self, messages: list[dict]) -> Text:
        text = Text()
        if self.history_note:
            text.append(f"\n\n{one_line(self.history_note, 300)}\n", style="italic")
        if not messages:
            return text
        text.append(f"\n\nThread · {len(messages)} message{'s' if len(messages) != 1 else ''}\n", style="bold underline")
        for m in messages:
            style = {"note": NOTE, "reply": GOOD, "offer": OFFER}.get(m["kind"], "")
            text.append(f"\n── {m['kind']} · ", style=style)
            text.append(one_line(m["author"], 40), style=f"bold {style}".strip())
            text.append(f" · {local_time(m['created_at'])}", style=style)
            if m["kind"] == "note":
                text.append(" · internal", style=style)
            text.append("\n")
            text.append_text(block(m["body"]))
            text.append("\n")
        return text

    def _link(self, kind: str, ref: str, label: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{kind:<8}", style=DIM)
        text.append(one_line(ref, 20), style="bold")
        text.append("  " + one_line(label, 150))
        return text

    def _render_links(self, links: list[tuple[str, str, Text]]) -> None:
        ol = self.query_one("#links", OptionList)
        highlighted = ol.highlighted
        ol.clear_options()
        self.links = [(k, ref) for k, ref, _ in links]
        if links:
            ol.add_options([Option(label) for _, _, label in links])
            ol.highlighted = min(highlighted or 0, len(links) - 1)
            ol.display = True
            self.query_one("#links-title").display = True
            if self.focused is None:
                ol.focus()
        else:
            ol.display = False
            self.query_one("#links-title").display = False
            self.query_one("#detail-body").focus()

    # ------------------------------------------------------------------ keys

    def on_key(self, event) -> None:
        if not self.swallow_key(event):
            self.run_key_now(event)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        kind, ref = self.links[event.option_index]
        self.app.open_record(kind, ref)

    def action_unlink(self) -> None:
        """delete on a link: unlink it from this record (undo: U)."""
        ol = self.query_one("#links", OptionList)
        if self.record is None or not self.links or ol.highlighted is None or not ol.has_focus:
            return
        kind, ref = self.links[ol.highlighted]
        self.unlink(self.record, kind, ref)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_pane(self, name: str) -> None:
        """Back to the list (past every record opened on the way), on pane `name`."""
        from backline_tui.screens.main import MainScreen

        app = self.app
        while len(app.screen_stack) > 1 and not isinstance(app.screen, MainScreen):
            app.pop_screen()
        if isinstance(app.screen, MainScreen):
            app.screen.action_pane(name)

    def action_scroll(self, step: int) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        body.scroll_relative(y=step * 3, animate=False)
