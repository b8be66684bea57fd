"""What a compose screen sends, kept apart from the screen itself (which imports TextArea): the
pane screen builds these at start-up without loading the editor widgets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Composed:
    body: str
    title: str | None = None


@dataclass
class Sending:
    """What the compose screen does with the text itself, so a refusal keeps it on screen.

    `send(composed)` runs on the database thread and raises ActionError to refuse; `done(result)`
    is the sentence said once it went through. `draft` is (record kind, ref, action): the text
    is kept there while typing and after a refusal, until it is sent or discarded. `as_note`,
    when given, is the way forward for a refused reply: the same text as an internal note;
    `take_over` the other one, when someone else owns the request."""

    send: Callable[[Composed], Any]
    done: Callable[[Any], str]
    draft: tuple[str, str, str] | None = None
    as_note: Callable[[Composed], Any] | None = None
    take_over: Callable[[Composed], Any] | None = None  # take the request over, then send
