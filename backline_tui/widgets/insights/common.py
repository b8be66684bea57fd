"""What the Insights sections share: sanitised cells and numbers for their tables, sanitised
plot labels, the table they use, and the one way a plot is redrawn."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from rich.text import Text
from textual.widgets import DataTable
from textual_plotext import PlotextPlot

from backline_tui.text import one_line

LEVEL_NAMES = {"product": "product", "component": "product / component", "version": "product / version"}


def cell(value: object, width: int | None = None, style: str = "") -> Text:
    return Text(one_line("" if value is None else str(value), width), style=style, no_wrap=True, overflow="ellipsis")


def num(value: object, style: str = "") -> Text:
    if isinstance(value, float):
        value = f"{value:,.1f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return Text("–" if value is None else str(value), style=style, justify="right")


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f}%"


def label(value: object, width: int = 18) -> str:
    """A plot label: sanitised (no control characters reach the ANSI parser) and short."""
    return one_line("" if value is None else str(value), width) or "(none)"


class InsightsTable(DataTable):
    DEFAULT_CSS = "InsightsTable { height: 1fr; }"

    def __init__(self, **kw: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)


@contextmanager
def drawing(plot: PlotextPlot, title: str, frames: int = 1) -> Iterator[Any]:
    """Redraw `plot`: cleared, filled by the caller through the plotext object it yields, then
    titled and refreshed."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    yield plt
    plt.title(title)
    refresh_later(plot, frames)


def refresh_later(widget: Any, frames: int = 1) -> None:
    """Refresh ``widget`` ``frames`` screen updates from now, not in this one: a section's table
    and its plots then reach the screen in turn, and no single update holds the event loop for
    all of them (a plot's render is plotext drawing its whole canvas in Python). A `Plot` is not
    drawn until then, even when the update before lays out its tab for the first time: it shows
    its last drawing meanwhile (nothing, before its first)."""
    if frames <= 0:
        widget.held = False
        widget.refresh()
    else:
        widget.held = True
        widget.call_after_refresh(refresh_later, widget, frames - 1)


class Plot(PlotextPlot):
    """A plotext plot that is not drawn while `held` (see refresh_later): until then it shows
    what it drew last, so a redraw (`g` regroups the drivers) never blanks it; blank only before
    its first drawing."""

    held = False
    _drawn: Any = None

    def render(self) -> Any:
        if not self.held:
            self._drawn = self.draw()
        return "" if self._drawn is None else self._drawn

    def draw(self) -> Any:
        return super().render()


class BarsPlot(Plot):
    """Horizontal bars, the first label at the top, drawn for the plot's size at each render: as
    many as its rows can hold with each label beside its own bar. Squeezed into fewer than about
    1.5 rows a bar, plotext draws some bars over their neighbours' label rows (checked at every
    height from 6 to 40 rows for up to 10 bars); the table beside the plot lists them all."""

    _bars: tuple[str, list[str], list[int]] = ("", [], [])

    def show_bars(self, title: str, labels: list[str], values: list[int]) -> None:
        self._bars = (title, labels, values)
        refresh_later(self)

    def draw(self) -> Any:
        title, labels, values = self._bars
        keep = max(1, (self.size.height - 4) * 2 // 3)  # the title, the frame's top and the axis take 4
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if labels:  # plotext draws the first bar at the bottom
            plt.bar(labels[:keep][::-1], values[:keep][::-1], orientation="horizontal", color="orange", width=0.6)
        plt.title(title)
        return super().draw()
