"""`backline import`, `backline export` and `backline schema`: the JSONL interchange format."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from backline_tui.cli.paths import load


def cmd_import(args: argparse.Namespace) -> int:
    from backline_tui.storage import Replica
    from backline_tui.storage.records import RecordError
    from backline_tui.sync.jsonl import InterchangeError, import_records

    name = args.file
    if name == "-":
        data = sys.stdin.buffer.read()
        label = "standard input"
    else:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise RecordError(f"cannot read {name}: {exc.strerror or exc}") from None
        label = name
    db, config = load(args)
    replica = Replica(db)
    try:
        counts = import_records(replica, config, data)
    except (InterchangeError, RecordError) as exc:
        raise RecordError(f"{label}: {exc}; nothing was imported") from None
    finally:
        replica.close()
    total = sum(counts.values())
    detail = ", ".join(f"{v} {k.replace('_', ' ')}{'s' if v != 1 else ''}" for k, v in counts.items())
    print(f"imported {total} records ({detail or 'none'}) from {label} into {db}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from backline_tui.storage import Replica
    from backline_tui.storage.records import RecordError
    from backline_tui.sync.jsonl import dumps_line, export_records

    db, _config = load(args)
    if not db.exists():
        raise RecordError(f"no database at {db}")
    replica = Replica(db)
    try:
        target = getattr(args, "file", "-") or "-"
        if target == "-":
            out = sys.stdout.buffer
            for d in export_records(replica):
                out.write((dumps_line(d) + "\n").encode("utf-8"))
            out.flush()
            return 0
        path = Path(target)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent or ".")
        try:
            with os.fdopen(fd, "wb") as f:
                n = 0
                for d in export_records(replica):
                    f.write((dumps_line(d) + "\n").encode("utf-8"))
                    n += 1
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        print(f"exported {n} records to {path}", file=sys.stderr)
        return 0
    finally:
        replica.close()


def cmd_schema(args: argparse.Namespace) -> int:
    from backline_tui.domain.models import interchange_schema

    print(json.dumps(interchange_schema(), indent=2))
    return 0
