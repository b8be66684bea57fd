"""The outbox: every change not yet upstream (pending, sending, in conflict, in error), with its
record, what it was, why it stopped and since when. Retry, edit the text and retry, turn a
refused reply into a note, or discard (asks first)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from backline_tui.screens.sending import Sending
from backline_tui.text import one_line
from backline_tui.widgets.format import BREACHED, DIM, WARN, local_time
from backline_tui.widgets.keybar import KeyBar
from backline_tui.widgets.status import StatusLine
from backline_tui.workbench import ActionError

WHAT = {"claim": "claim", "unclaim": "unclaim", "respond": "reply", "note": "internal note", "resolve": "resolve",
        "document": "KB article", "offer_help": "offer of help", "bug_priority": "priority", "bug_target": "target",
        "link": "link", "validate": "validate", "flag": "flag", "unflag": "remove flag", "archive": "archive",
        "review": "mark reviewed", "edit_article": "article edit", "take_over": "take over"}
STATE_STYLE = {"conflict": BREACHED, "error": BREACHED, "sending": WARN, "pending": ""}
TEXT_OPS = ("respond", "note", "offer_help")


class OutboxScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="outbox.back"),
        Binding("r", "retry", "Retry", id="outbox.retry"),
        Binding("e", "edit", "Edit text", id="outbox.edit"),
        Binding("n", "as_note", "As note", id="outbox.note"),
        Binding("d", "discard", "Discard", id="outbox.discard"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Outbox · loading…", style="bold"), id="outbox-head")
        yield DataTable(id="outbox-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="outbox-why")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("State", "Since", "Record", "Change", "Why it stopped")
        self.query_one(DataTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(self._load, group="outbox", exclusive=True)

    async def _load(self) -> None:
        ok, ops = await self.app.attempt(self.app.workbench.unsent_ops)
        if not ok:
            return
        self.ops = ops
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for op in ops:
            why = op.get("last_error") or ("waiting for the next sync" if op["state"] == "pending" else
                                           "sent, waiting for the answer" if op["state"] == "sending" else "")
            table.add_row(
                Text(op["state"], style=STATE_STYLE.get(op["state"], "")),
                Text(local_time(op["updated_at"])),
                Text(one_line(op["record_ref"], 20), style="bold"),
                Text(one_line(self._what(op), 50)),
                Text(one_line(why, 80)),
            )
        if ops:
            table.move_cursor(row=min(max(row, 0), len(ops) - 1))
        need = sum(1 for o in ops if o["state"] in ("conflict", "error"))
        head = Text(f"Outbox · {len(ops)} change{'s' if len(ops) != 1 else ''} not yet upstream", style="bold")
        if need:
            head.append(f" · {need} need{'s' if need == 1 else ''} you", style=BREACHED)
        if not ops:
            head.append(" · nothing waiting: every change reached upstream", style=DIM)
        self.query_one("#outbox-head", Static).update(head)
        self._show_why()
        self.refresh_bindings()

    def _what(self, op: dict) -> str:
        what = WHAT.get(op["op"], op["op"].replace("_", " "))
        body = op["payload"].get("body")
        return f"{what}: {body}" if body else what

    def _current(self) -> dict | None:
        table = self.query_one(DataTable)
        if not self.ops or table.cursor_row is None or not 0 <= table.cursor_row < len(self.ops):
            return None
        return self.ops[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_why()
        self.refresh_bindings()

    def _show_why(self) -> None:
        op = self._current()
        text = Text()
        if op is not None:
            text.append(one_line(self._what(op), 400) + "\n", style="bold")
            text.append(f"{op['state']} since {local_time(op['updated_at'])} · queued {local_time(op['created_at'])}"
                        f" · tried {op['attempts']}×\n", style=DIM)
            if op.get("last_error"):
                text.append(one_line(op["last_error"], 400), style=BREACHED)
        self.query_one("#outbox-why", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        op = self._current()
        if action == "retry":
            return op is not None and op["state"] in ("conflict", "error")
        if action == "edit":
            return op is not None and op["op"] in TEXT_OPS and op["state"] != "sending"
        if action == "as_note":
            return op is not None and op["op"] == "respond" and op["state"] != "sending"
        if action == "discard":
            return op is not None and op["state"] != "sending"
        return True

    # ------------------------------------------------------------------ keys

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_retry(self) -> None:
        if (op := self._current()) is not None:
            wb = self.app.workbench
            self.app.perform(lambda: _retry(wb, op["id"]), f"{op['record_ref']}: {self._what(op)[:40]} goes at the next sync")

    def action_edit(self) -> None:
        self._rewrite(as_note=False)

    def action_as_note(self) -> None:
        self._rewrite(as_note=True)

    def _rewrite(self, as_note: bool) -> None:
        from backline_tui.screens.compose import ComposeScreen

        op = self._current()
        if op is None:
            return
        wb, op_id, ref = self.app.workbench, op["id"], op["record_ref"]
        sending = Sending(
            send=lambda c: wb.rewrite_op(op_id, c.body, as_note),
            done=lambda _: f"{ref}: {'now an internal note' if as_note else 'text changed'}; it goes at the next sync",
        )
        heading = (f"Internal note on {ref} (was a reply; not shown to the asker)" if as_note
                   else f"Edit the {WHAT.get(op['op'], op['op'])} to {ref}")
        self.app.push_screen(ComposeScreen(heading=one_line(heading, 200), context=op.get("last_error") or "",
                                           body=op["payload"].get("body") or "", sending=sending,
                                           submit_label="Save note" if as_note else "Save"))

    def action_discard(self) -> None:
        from backline_tui.screens.dialogs import ConfirmScreen

        op = self._current()
        if op is None:
            return
        wb = self.app.workbench

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.perform(lambda: wb.discard_op(op["id"]), f"discarded: {self._what(op)[:40]} on {op['record_ref']}")

        self.app.push_screen(ConfirmScreen(f"Discard this change to {op['record_ref']}?",
                                           f"{self._what(op)} — it will never reach upstream", "Discard"), confirmed)


def _retry(wb, op_id: int) -> None:
    if not wb.retry_op(op_id):
        raise ActionError("only a change in conflict or in error can be tried again")
