"""KeyBar: the keys that apply now, on the bottom line, as one widget.

Textual's Footer mounts a widget per key and restyles each one whenever the keys change, which
held the event loop ~20–40 ms at every pane switch. KeyBar draws the same line as one Text; a
click on a key presses it. Keys show as the app displays them, remapped keys included.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


class KeyBar(Widget):
    ALLOW_SELECT = False
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .keybar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text: Text | None = None
        self._hits: list[tuple[int, int, str, bool]] = []  # start, end, key, enabled
        self._styles: tuple[Style, Style] | None = None  # key, description (worked out once per theme)
        self._shown: list | None = None  # the keys the text was made for
        self._strip: Strip | None = None
        self._strip_for: tuple | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # published at every focus change and refresh_bindings: redraw only if the keys differ
        if screen is self.screen and self.keys() != self._shown:
            self._text = None
            self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._text = None
        self._styles = None
        self._strip = None

    def keys(self) -> list[tuple[str, str, str, bool]]:
        """(key, key as shown, description, enabled) for each key on the bar, in order; the
        command palette's key comes last."""
        out: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        bindings = self.screen.active_bindings
        palette_key = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        hides = getattr(self.screen, "footer_hides", None)
        for key, (_node, binding, enabled, _tooltip) in bindings.items():
            if key == palette_key or not binding.show or binding.action in seen:
                continue
            if hides is not None and hides(binding.action):  # the record's state refuses it
                continue
            seen.add(binding.action)
            out.append((binding.key, self.app.get_key_display(binding), binding.description, enabled))
        if palette_key in bindings:
            _node, binding, enabled, _tooltip = bindings[palette_key]
            out.append((binding.key, self.app.get_key_display(binding), binding.description, enabled))
        return out

    def render_line(self, y: int) -> Strip:
        # one line, drawn straight from its segments (the generic path through a Visual cost
        # ~5 ms a redraw, a sixth of the first frame)
        width = self.size.width
        base = self.rich_style
        if y != 0:
            return Strip.blank(width, base)
        if self._text is None:
            self._build(self.keys())
            self._strip = None
        if self._strip is None or self._strip_for != (width, base):
            text = self._text.copy()
            text.truncate(width, overflow="ellipsis")
            segments = Segment.apply_style(text.render(self.app.console, end=""), style=base)
            self._strip = Strip(segments).extend_cell_length(width, base)
            self._strip_for = (width, base)
        return self._strip

    def _build(self, keys: list[tuple[str, str, str, bool]]) -> None:
        if self._styles is None:
            self._styles = (self.get_component_rich_style("keybar--key"),
                            self.get_component_rich_style("keybar--description"))
        key_style, description_style = self._styles
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        self._hits = []
        self._shown = keys
        for key, shown, description, enabled in keys:
            start = len(text)
            dim = Style(dim=not enabled)
            text.append(f" {shown} ", key_style + dim)
            text.append(f"{description} ", description_style + dim)
            self._hits.append((start, len(text), key, enabled))
        self._text = text

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._hits:
            if start <= event.x < end:
                event.stop()
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
