"""The start-up reference: the smallest Textual app that shows one line, launched the same way
as the workbench. Its line carries the same marker the start-up benchmark waits for."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class MinimalApp(App):
    def compose(self) -> ComposeResult:
        yield Static("HELP-0 minimal Textual app: one line")


if __name__ == "__main__":
    MinimalApp().run()
