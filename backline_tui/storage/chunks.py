"""The one way to ask SQLite about many ids or refs at once: `WHERE x IN (?, ?, …)` in chunks,
so a statement never binds more parameters than SQLite allows."""

from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
CHUNK = 500


def chunked(values: Iterable[T], size: int = CHUNK) -> Iterator[tuple[list[T], str]]:
    """(chunk, placeholders) for each run of at most `size` distinct values, in first-seen
    order: `f"… IN ({marks})"` with `chunk` as the parameters."""
    distinct = list(dict.fromkeys(values))
    for i in range(0, len(distinct), size):
        chunk = distinct[i : i + size]
        yield chunk, ",".join("?" * len(chunk))
