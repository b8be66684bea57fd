"""The pane's text filter: a field over the list, hidden until `/`, mounted only when first
needed (it is not part of the first frame)."""

from __future__ import annotations

from textual.widgets import Input

class FilterBar(Input):
    """Type to narrow the pane; enter keeps the filter, esc clears it."""

    def __init__(self) -> None:
        super().__init__(placeholder="filter: type to narrow this pane · enter keeps it · esc clears it", id="filter")
        self.display = False
