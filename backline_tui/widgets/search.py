"""Global search (FTS5 through Workbench.search) in the command palette.

Hits are built from Content made of cleaned plain text: never markup, never help strings (the
palette renders `Hit.help` as markup)."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider
from textual.content import Content

from backline_tui.text import one_line

KIND_LABEL = {"help_request": "help", "case": "case", "bug": "bug", "article": "article"}


def hit_content(kind: str, ref: str, title: str) -> Content:
    label = f"{KIND_LABEL.get(kind, kind):<8}"
    return Content.assemble((label, "dim"), (f"{one_line(ref, 20):<12}", "bold"), "  ", one_line(title, 90))


class SearchProvider(Provider):
    """Every help request, case, bug and article: type words, pick a hit, open the record."""

    async def search(self, query: str) -> Hits:
        query = query.strip()
        if len(query) < 2:
            return
        app = self.app
        wb = app.workbench  # type: ignore[attr-defined]
        try:
            exact = await app.call_db(wb.find_ref, query) if hasattr(wb, "find_ref") else []  # type: ignore[attr-defined]
            if not exact and query.upper() != query:
                exact = await app.call_db(wb.find_ref, query.upper())  # type: ignore[attr-defined]
            found = await app.call_db(wb.search, query, 20)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 — a search that fails shows nothing rather than crashing
            app.say(app.internal("search failed", exc), severity="error")
            return
        seen = {(h["kind"], h["ref"]) for h in exact}
        hits = exact + [h for h in found if (h["kind"], h["ref"]) not in seen]
        total = len(hits)
        for i, h in enumerate(hits):
            content = hit_content(h["kind"], h["ref"], h["title"])
            yield Hit(
                score=1.0 - i / (total + 1),
                match_display=content,
                command=partial(app.open_record, h["kind"], h["ref"]),  # type: ignore[attr-defined]
                text=content.plain,
            )
