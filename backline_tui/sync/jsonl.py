"""JSON Lines interchange: `backline import` (all or nothing), `backline export`, and a `jsonl`
source for `backline sync`.

One record per line, ``{"type": ..., ...fields}``, validated by the pydantic models. Import
checks every line first (UTF-8, JSON, known type, fields, references to records in the file or
the database) and writes nothing unless all of them are good; the first bad line is reported
with its number and the reason. Export writes every character of the text back: control
characters, DEL, C1 controls and U+2028/U+2029 as JSON escapes, everything else as itself, so
export → import → export is byte-for-byte the same.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from pydantic import ValidationError

from backline_tui.config import Config, SourceConfig
from backline_tui.domain.models import RECORD_ADAPTER, RECORD_TYPES
from backline_tui.storage import Replica
from backline_tui.storage import records as record_store
from backline_tui.storage.export import export_rows
from backline_tui.storage.replica import bulk_load
from backline_tui.sync.base import Batch, PushResult, SourceError

__all__ = ["InterchangeError", "dumps_line", "export_records", "import_records",
           "parse_lines", "JsonlConnector"]


class InterchangeError(ValueError):
    """A file that cannot be imported; the message names the line and the reason."""


# JSON leaves these raw with ensure_ascii=False; escaping them (DEL, C1 controls, line/paragraph
# separators, bidi and zero-width format characters, BOM, lone surrogates) keeps the file safe
# to view and still byte-exact after a round trip. (json.dumps escapes C0 controls itself.)
_ESCAPE = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def dumps_line(record: dict[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    if loc and loc[0] in RECORD_TYPES:  # the discriminator's branch name
        loc = loc[1:]
    where = ".".join(loc)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return f"{where}: {msg}{more}" if where else f"{msg}{more}"


def _lines(data: bytes) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes, ends with a newline)"""
    parts = data.split(b"\n")
    last = len(parts) - 1
    for i, part in enumerate(parts):
        if i == last and part == b"":
            return
        yield i + 1, part, i < last


def parse_lines(data: bytes) -> list[dict[str, Any]]:
    """Validate a whole file. Returns the records as model dumps; raises InterchangeError at the
    first bad line."""
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for n, raw, terminated in _lines(data):
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InterchangeError(
                f"line {n}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            hint = "; the file looks cut short" if not terminated else ""
            raise InterchangeError(f"line {n}: not valid JSON ({exc.msg} at column {exc.colno}){hint}") from None
        if not isinstance(obj, dict):
            raise InterchangeError(f"line {n}: expected a JSON object, got {type(obj).__name__}")
        kind = obj.get("type")
        if kind is None:
            raise InterchangeError(f"line {n}: no \"type\" (one of {', '.join(RECORD_TYPES)})")
        if kind not in RECORD_TYPES:
            raise InterchangeError(f"line {n}: unknown type {str(kind)[:40]!r} (one of {', '.join(RECORD_TYPES)})")
        try:
            model = RECORD_ADAPTER.validate_python(obj)
        except ValidationError as exc:
            ref = obj.get("ref")
            what = f"{kind} {str(ref)[:60]}" if isinstance(ref, str) else kind
            raise InterchangeError(f"line {n}: {what}: {_first_error(exc)}") from None
        record = model.model_dump(mode="json")
        try:
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InterchangeError(f"line {n}: text holds an unpaired UTF-16 surrogate escape, which cannot be stored") from None
        if kind != "link":
            key = (kind, record["ref"])
            if key in seen:
                raise InterchangeError(f"line {n}: {kind} {record['ref']} appears twice (first on line {seen[key]})")
            seen[key] = n
        record["_line"] = n
        out.append(record)
    return out


_REFS = {
    "help_request": (("case_ref", "case"), ("article_ref", "article")),
}
_LINK_ENDS = {"case_bug": ("case", "bug"), "article_case": ("article", "case"), "article_request": ("article", "help_request")}


def _check_references(conn, records: list[dict[str, Any]]) -> None:
    in_file: dict[str, set[str]] = {k: set() for k in ("case", "bug", "article", "help_request")}
    wanted: dict[str, set[str]] = {k: set() for k in in_file}
    for r in records:
        if r["type"] in in_file:
            in_file[r["type"]].add(r["ref"])
    refs: list[tuple[int, str, str, str]] = []  # (line, what, kind, ref)
    for r in records:
        t = r["type"]
        if t == "help_request":
            for key, kind in _REFS[t]:
                if r.get(key):
                    refs.append((r["_line"], f"help request {r['ref']} links {kind.replace('_', ' ')}", kind, r[key]))
        elif t == "message":
            refs.append((r["_line"], f"message {r['ref']} belongs to {r['parent_type'].replace('_', ' ')}",
                         r["parent_type"], r["parent_ref"]))
        elif t == "link":
            a, b = _LINK_ENDS[r["kind"]]
            refs.append((r["_line"], f"{r['kind']} link from {a.replace('_', ' ')}", a, r["from_ref"]))
            refs.append((r["_line"], f"{r['kind']} link to {b.replace('_', ' ')}", b, r["to_ref"]))
    for _, _, kind, ref in refs:
        if ref not in in_file[kind]:
            wanted[kind].add(ref)
    known = {kind: record_store.known_refs(conn, kind, want) for kind, want in wanted.items() if want}
    for line, what, kind, ref in refs:
        if ref not in in_file[kind] and ref not in known.get(kind, set()):
            raise InterchangeError(f"line {line}: {what} {ref}, which is neither in the file nor in the database")


def import_records(replica: Replica, config: Config, lines: bytes | Iterable[bytes] | Iterable[str]) -> dict[str, int]:
    """Import a whole file (bytes, or an iterable of lines); all or nothing. Returns counts by type."""
    if isinstance(lines, (bytes, bytearray)):
        data = bytes(lines)
    else:
        data = b"".join(x.encode("utf-8") if isinstance(x, str) else x for x in lines)
    records = parse_lines(data)
    with replica.transaction() as conn:
        _check_references(conn, records)
        for r in records:
            r.pop("_line", None)
        empty = not conn.execute("SELECT EXISTS(SELECT 1 FROM cases) OR EXISTS(SELECT 1 FROM help_requests) "
                                 "OR EXISTS(SELECT 1 FROM articles) OR EXISTS(SELECT 1 FROM bugs) AS x").fetchone()["x"]
        if empty and len(records) > 20000:
            with bulk_load(conn):
                counts = record_store.write_records(conn, config, records, strict=True)
        else:
            counts = record_store.write_records(conn, config, records, strict=True)
    return {k: v for k, v in counts.items() if v}


def export_records(replica: Replica) -> Iterator[dict[str, Any]]:
    """Every record of the replica as an interchange dict, validated, in an order import reads."""
    for row in export_rows(replica.conn):
        try:
            model = RECORD_ADAPTER.validate_python(row)
        except ValidationError as exc:
            raise record_store.RecordError(f"{row['type']} {row.get('ref', '')} cannot be exported: {_first_error(exc)}") from None
        d = model.model_dump(mode="json")
        yield {"type": d.pop("type"), **d}


# ------------------------------------------------------------------------------------- CLI


# ------------------------------------------------------------------------------ connector


class JsonlConnector:
    """A JSONL file as a source: a pull reads it again when its content changed; local changes to
    its records are appended, one op per line, to ``<path>.outbox.jsonl`` next to it."""

    def __init__(self, src: SourceConfig, config: Config) -> None:
        if not src.path:
            raise SourceError(f"source {src.name} (jsonl) needs a path")
        self.name = src.name
        self.path = Path(src.path).expanduser()

    def pull(self, cursors: dict[str, str | None]) -> Iterator[Batch]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        digest = hashlib.sha256(data).hexdigest()
        if cursors.get("file") == digest:
            return
        try:
            records = parse_lines(data)
        except InterchangeError as exc:
            raise SourceError(f"{self.path}: {exc}") from None
        for r in records:
            r.pop("_line", None)
            if r["type"] != "link" and r.get("source") in (None, "local"):
                r["source"] = self.name
        yield Batch("file", records, digest)

    def push(self, op: dict[str, Any], *, resend: bool = False) -> PushResult:
        out = self.path.with_name(self.path.name + ".outbox.jsonl")
        line = {k: op[k] for k in ("id", "op", "record_type", "record_ref", "created_at", "payload")}
        if resend and out.exists():
            needle = dumps_line(line)
            with out.open(encoding="utf-8") as f:
                if any(x.rstrip("\n") == needle for x in f):
                    return PushResult("done", already_applied=True)
        try:
            with out.open("a", encoding="utf-8") as f:
                f.write(dumps_line(line) + "\n")
        except OSError as exc:
            raise SourceError(f"cannot write {out}: {exc.strerror or exc}") from None
        return PushResult("done")

    def close(self) -> None:
        pass
