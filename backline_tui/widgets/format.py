"""Turning pane rows and records into rich Text for display: never markup, always through the
one sanitiser (backline_tui.text)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from backline_tui.clock import duration, parse_ts  # noqa: F401 — duration: the detail view takes it from here
from backline_tui.text import clean, one_line

# Colours that read on dark and on light terminals alike (no yellow, no cyan).
BREACHED = "bold red"
WARN = "dark_orange"
DIM = "dim"
GOOD = "green4"
NOTE = "dark_orange"
OFFER = "dodger_blue2"


def local_time(ts: str | None, with_time: bool = True) -> str:
    """A storage timestamp shown in the local time zone."""
    if not ts:
        return "—"
    try:
        dt: datetime = parse_ts(ts).astimezone()
    except ValueError:
        return one_line(ts, 25)
    return dt.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def cell_text(value: object, width: int | None = None, style: str = "") -> Text:
    """One untrusted value as a one-line Text cell."""
    return Text(one_line("" if value is None else str(value), width), style=style, no_wrap=True, overflow="ellipsis")


# Laying out a body costs time in proportion to its size (a 1 MB body held the event loop
# for ~1.7 s, as Markdown ~3.7 s): a detail shows the first SHOW_MAX characters and says how
# many more there are. The replica keeps the whole text; `backline export` prints it all.
SHOW_MAX = 64_000


def capped(value: object, limit: int = SHOW_MAX) -> tuple[str, int]:
    """The text to show and how many characters were left out."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def more_note(left_out: int) -> str:
    return f"\n… {left_out:,} more characters not shown here (the full text is kept; `backline export` prints it)"


def block(value: object, style: str = "") -> Text:
    """Untrusted multi-line text, cleaned, as Text; very long text is cut at SHOW_MAX."""
    text, left_out = capped(value)
    out = Text(clean(text), style=style)
    if left_out:
        out.append(more_note(left_out), style="italic")
    return out


def ola_cell(row: dict) -> Text:
    if row.get("breach_seconds") is None:
        return Text("answered", style=DIM)
    secs = row["breach_seconds"]
    if secs <= 0:
        return Text(f"-{duration(secs)}", style=BREACHED)
    return Text(duration(secs), style=WARN if secs < 1800 else "")


def ola_sentence(row: dict) -> Text:
    if row.get("first_response_at"):
        return Text(f"first response {local_time(row['first_response_at'])}", style=GOOD)
    secs = row.get("breach_seconds")
    if secs is None:
        return Text("")
    if secs <= 0:
        return Text(f"OLA breached {duration(secs)} ago", style=BREACHED)
    return Text(f"OLA breach in {duration(secs)}", style=WARN if secs < 1800 else "")


def idle_cell(row: dict) -> Text:
    return Text(f"{row['idle_seconds'] / 86400:.1f}d")


def ratio_cell(row: dict) -> Text:
    ratio = row.get("ratio") or 0.0
    return Text(f"{ratio:.1f}×", style=BREACHED if ratio >= 3 else (WARN if ratio >= 1 else ""))


def priority_cell(row: dict) -> Text:
    mark = "*" if row.get("priority_overridden") else ""
    style = BREACHED if row["priority"] == "P1" else (WARN if row["priority"] == "P2" else "")
    return Text(f"{row['priority']}{mark}", style=style)


def target_cell(row: dict) -> Text:
    state = row.get("target_state") or ""
    text = local_time(row.get("target"), with_time=False)
    if state == "overdue":
        return Text(f"{text} overdue", style=BREACHED)
    if state == "near":
        return Text(f"{text} soon", style=WARN)
    return Text(text)


def reasons_cell(reasons: list[str], width: int | None = None) -> Text:
    text = one_line(", ".join(reasons), width)
    style = BREACHED if any(r.startswith("flagged") for r in reasons) else ""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


# Columns per pane: (label, width or None for auto). The cells function below must match.
COLUMNS: dict[str, list[tuple[str, int | None]]] = {
    "help": [("OLA", 8), ("Pri", 3), ("Ref", 10), ("Subject", 38), ("Asker", 12), ("Product", 10),
             ("Owner", 10), ("Status", 8)],
    "stale": [("Idle", 6), ("×Limit", 6), ("Sev", 3), ("Ref", 12), ("Customer", 14), ("Subject", 30),
              ("Why", 20), ("Owner", 10)],
    "bugs": [("Pri", 4), ("Impact", 6), ("Cases", 5), ("Target", 18), ("Ref", 10), ("Title", 35),
             ("Component", 12), ("Status", 11)],
    "kb": [("Why", 22), ("State", 13), ("Ref", 10), ("Title", 34), ("Reuse", 5), ("Owner", 10),
           ("Review due", 10)],
}


# The column that takes the width there is (wide terminals), and how narrow each column may get
# (narrow ones: at 80 columns every column stays on screen, the subject shrinks first)
FLEX = {"help": "Subject", "stale": "Subject", "bugs": "Title", "kb": "Title"}
FLEX_MAX = 120
MIN_WIDTH = {"Subject": 10, "Title": 12, "Asker": 7, "Product": 7, "Owner": 7, "Status": 7, "Customer": 7,
             "Why": 8, "Component": 7, "Target": 11, "Review due": 10, "State": 9}


def fit_columns(pane: str, width: int | None) -> list[tuple[str, int]]:
    """The pane's columns for a list `width` cells wide: the flexible column (Subject, Title)
    takes what is left; when there is too little, it shrinks first, then the others, each
    down to its minimum (None: the default widths)."""
    cols = list(COLUMNS[pane])
    if not width:
        return cols
    widths = [w for _, w in cols]
    labels = [label for label, _ in cols]
    flex = labels.index(FLEX[pane])
    spare = width - sum(w + 2 * GAP for w in widths)
    if spare >= 0:
        widths[flex] = min(widths[flex] + spare, FLEX_MAX)
    else:
        need = -spare
        order = [flex] + [i for i, label in enumerate(labels) if i != flex and label in MIN_WIDTH]
        for i in order:
            give = min(need, widths[i] - MIN_WIDTH.get(labels[i], widths[i]))
            widths[i] -= max(give, 0)
            need -= max(give, 0)
            if need <= 0:
                break
    return list(zip(labels, widths))


def cells(pane: str, row: dict) -> list[Text]:
    if pane == "help":
        owner = row.get("owner")
        return [ola_cell(row), cell_text(row["priority"]), cell_text(row["ref"], 10), cell_text(row["subject"], FLEX_MAX), cell_text(row["asker"], 12),
                cell_text(row["product"], 10), cell_text(owner or "—", 10, "" if owner else DIM), cell_text(row["status"])]
    if pane == "stale":
        # the idle ratio has its own columns: Why lists the other reasons, or says that idle
        # time alone put the case here (most rows)
        reasons = row.get("reasons") or []
        why = [r for r in reasons if not r.startswith("idle ")]
        if not why and reasons:
            why = [f"idle past {row['severity']} limit"]
        return [idle_cell(row), ratio_cell(row), cell_text(row["severity"]), cell_text(row["ref"], 12), cell_text(row["customer"], 14),
                cell_text(row["subject"], FLEX_MAX), reasons_cell(why, 20), cell_text(row.get("owner") or "—", 10)]
    if pane == "bugs":
        return [priority_cell(row), cell_text(row["impact_score"]), cell_text(row["case_count"]), target_cell(row), cell_text(row["ref"], 10),
                cell_text(row["title"], FLEX_MAX), cell_text(row["component"], 12), cell_text(row["status"])]
    if pane == "kb":
        return [reasons_cell(row.get("reasons") or [], 22), cell_text(row["state"]), cell_text(row["ref"], 10), cell_text(row["title"], FLEX_MAX),
                cell_text(row["reuse_count"]), cell_text(row.get("owner") or "—", 10), cell_text(local_time(row.get("review_due_at"), False))]
    raise ValueError(pane)


GAP = 1  # blank cells each side of a column


def line_text(columns: list[tuple[str, int]], row_cells: list) -> Text:
    """One row as a line: each cell cut (with …) or padded to its column's width."""
    line = Text(no_wrap=True, end="")
    pad = " " * GAP
    for (_, width), cell in zip(columns, row_cells):
        text = cell.copy() if isinstance(cell, Text) else Text(str(cell))
        text.truncate(width, overflow="ellipsis", pad=True)
        line.append(pad)
        line.append_text(text)
        line.append(pad)
    return line


def page_cells(pane: str, rows: list[dict], width: int | None = None,
               lines: int | None = None) -> tuple[list[list[Text]], list[Text]]:
    """The cells of a page of a pane and its rows made into lines for a list `width` cells
    wide (fit_columns): every row's, or the first `lines` rows' (the list makes the others
    when they scroll into view). Pure: it runs on the database thread, off the event loop."""
    row_cells = [cells(pane, row) for row in rows]
    columns = fit_columns(pane, width)
    return row_cells, [line_text(columns, c) for c in row_cells[:lines]]
