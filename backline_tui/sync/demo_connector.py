"""The `demo` connector: demo and local records have no upstream, so their ops are acknowledged
here and nothing is ever pulled (the demo data is made by `backline demo`)."""

from __future__ import annotations

from typing import Any, Iterator

from backline_tui.sync.base import Batch, PushResult

LOCAL_SOURCES = ("demo", "local")


class DemoConnector:
    def __init__(self, name: str = "demo") -> None:
        self.name = name

    def pull(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        return iter(())

    def push(self, op: dict[str, Any], *, resend: bool = False) -> PushResult:
        return PushResult("done")

    def close(self) -> None:
        pass
