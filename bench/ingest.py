"""Ingest rates: `backline demo`, `backline import` of a JSONL file, and the local write path of a
sync pull (storage.records.write_records, one transaction per batch as the sync engine does),
against raw sqlite-utils `upsert_all` of the same records into the same schema, in the same run."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from common import BACKLINE, DATA, Result, bench_env, config_path, run_demo

RATE_RATIO = 0.5
SYNC_BATCH = 500  # records per pulled batch (one transaction each)
TABLES = ("cases", "bugs", "articles", "article_flags", "help_requests", "messages", "case_bugs", "article_links")
PKS = {"case_bugs": ("case_id", "bug_id"), "article_links": ("article_id", "target_type", "target_id"),
       "article_flags": "id"}


def _fresh(name: str) -> Path:
    path = DATA / "scratch" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    return path


def record_count(db: Path) -> int:
    from backline_tui.storage import Replica

    r = Replica(db)
    n = sum(r.scalar(f"SELECT COUNT(*) FROM {t}") for t in TABLES if t != "article_flags")
    r.close()
    return n


def raw_upsert(src: Path, batch: int = SYNC_BATCH) -> tuple[int, float]:
    """sqlite-utils upsert_all of every stored row of `src` into a fresh database with our
    schema (indexes and FTS triggers included), one transaction per batch. Only the writes are
    timed; reading the source rows is not."""
    from backline_tui.storage import Replica

    import sqlite3

    import sqlite_utils

    src_r = Replica(src)
    path = _fresh("raw.db")
    Replica(path).close()  # the same schema: tables, indexes, FTS tables and triggers
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON", "temp_store = MEMORY",
                   "cache_size = -32000"):
        conn.execute(f"PRAGMA {pragma}")
    db = sqlite_utils.Database(conn)
    n, spent = 0, 0.0
    for table in TABLES:
        pk = PKS.get(table, "ref")
        drop_id = pk != "id"
        order = "" if table in ("case_bugs", "article_links") else " ORDER BY id"
        cur = src_r.conn.execute(f"SELECT * FROM {table}{order}")
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                break
            if drop_id:
                for r in rows:
                    r.pop("id", None)
            t = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            db[table].upsert_all(rows, pk=pk, batch_size=batch)
            conn.execute("COMMIT")
            spent += time.perf_counter() - t
            n += len(rows)
    src_r.close()
    conn.close()
    return (n - _flag_rows(src)), spent


def _flag_rows(db: Path) -> int:
    from backline_tui.storage import Replica

    r = Replica(db)
    n = r.scalar("SELECT COUNT(*) FROM article_flags")
    r.close()
    return n


def export_jsonl(db: Path, scale: int) -> Path:
    out = DATA / f"{db.stem}.jsonl"
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        subprocess.run([BACKLINE, "--db", str(db), "--config", str(config_path()), "export", str(tmp)],
                       check=True, env=bench_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tmp.rename(out)
    return out


def sync_write(jsonl: Path, batch: int = SYNC_BATCH) -> tuple[int, float]:
    """The sync engine's local write path, batch by batch, into a fresh replica."""
    from backline_tui.config import load_config
    from backline_tui.storage import Replica
    from backline_tui.storage import records as record_store

    config = load_config(config_path())
    dst = Replica(_fresh("sync.db"))
    n, spent = 0, 0.0
    with jsonl.open("rb") as fh:
        while True:
            records = []
            for line in fh:
                records.append(json.loads(line))
                if len(records) >= batch:
                    break
            if not records:
                break
            t = time.perf_counter()
            with dst.transaction() as conn:
                record_store.write_records(conn, config, records, strict=False)
            spent += time.perf_counter() - t
            n += len(records)
    dst.close()
    return n, spent


IMPORT_RUNS = 3


def cli_import(jsonl: Path, runs: int = 1) -> tuple[int, float] | None:
    """The whole `backline import` command into a fresh database; the median of `runs`."""
    lines = sum(1 for _ in jsonl.open("rb"))
    times = []
    for _ in range(runs):
        path = _fresh("import.db")
        t = time.perf_counter()
        proc = subprocess.run([BACKLINE, "--db", str(path), "--config", str(config_path()), "import", str(jsonl)],
                              env=bench_env(), capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            return None
    return lines, sorted(times)[len(times) // 2]


def run(db: Path, scale: int, seed: int, log=print) -> list[Result]:
    out: list[Result] = []
    log("    raw sqlite-utils upsert_all …")
    raw_n, raw_s = raw_upsert(db)
    raw_rate = raw_n / raw_s

    def rate_result(figure: str, n: int | None, secs: float | None, note: str = "") -> Result:
        if n is None or secs is None:
            return Result(figure, scale, None, "rec/s", f"≥ {RATE_RATIO}× raw upsert_all", None,
                          reference=round(raw_rate), note=note or "n/a")
        r = n / secs
        return Result(figure, scale, round(r), "rec/s", f"≥ {RATE_RATIO}× raw upsert_all", r >= RATE_RATIO * raw_rate,
                      reference=round(raw_rate), ratio=round(r / raw_rate, 2),
                      note=note or f"{n:,} records in {secs:.1f} s")

    log("    backline demo …")
    demo_path = _fresh("demo.db")
    secs = run_demo(demo_path, scale, seed)
    out.append(rate_result("ingest: backline demo", record_count(demo_path), secs,
                           note=f"{scale:,} cases in {secs:.1f} s (whole command)"))
    demo_path.unlink(missing_ok=True)

    jsonl = export_jsonl(db, scale)
    log("    backline import …")
    runs = IMPORT_RUNS if scale <= 100_000 else 1  # a million records take ~2 minutes a run
    imp = cli_import(jsonl, runs)
    out.append(rate_result("ingest: backline import (JSONL)", *(imp or (None, None)),
                           note="" if imp else "n/a: import failed"))
    if imp:
        out[-1].note += f" (whole command, median of {runs})"
    log("    sync write path …")
    n, secs = sync_write(jsonl)
    out.append(rate_result("ingest: sync write path (records.write_records)", n, secs))
    out.append(Result("ingest: raw sqlite-utils upsert_all (reference)", scale, round(raw_rate), "rec/s", "—", None,
                      note=f"{raw_n:,} rows in {raw_s:.1f} s, batches of {SYNC_BATCH}"))
    return out
