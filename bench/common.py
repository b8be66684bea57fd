"""Shared plumbing for the benchmarks: the cached demo databases, timing helpers, results."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".data"
RESULTS = BENCH / "results"
PY = sys.executable
BACKLINE = str(Path(PY).with_name("backline"))
DEFAULT_NOW = "2026-11-23T09:00:00Z"
SCALES = (10_000, 100_000, 1_000_000)


def bench_now() -> str:
    return os.environ.get("BACKLINE_NOW") or DEFAULT_NOW


def bench_env(**extra: str) -> dict[str, str]:
    """The environment every measured process gets: the pinned clock, and nothing from the
    user's own database or config (the Makefile exports BACKLINE_DB/BACKLINE_CONFIG). Python
    may cache bytecode, as it does on a user's machine: with PYTHONDONTWRITEBYTECODE set (some
    sandboxes and CI images set it) every launch compiled the workbench's own modules again,
    ~50 ms of its start-up that the minimal app, whose modules pip compiled, never pays."""
    drop = ("BACKLINE_DB", "BACKLINE_CONFIG", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["BACKLINE_NOW"] = bench_now()
    env.update(extra)
    return env


def config_path() -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / "config.toml"
    text = 'me = "alice"\n'
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def db_key(scale: int, seed: int) -> str:
    """scale + seed + BACKLINE_NOW, and the schema version (a migration would otherwise run,
    and leave a backup the size of the database, on the first launch we time)."""
    from backline_tui.storage.schema import SCHEMA_VERSION

    now = bench_now().replace(":", "").replace("-", "")
    return f"demo-{scale}-s{seed}-{now}-v{SCHEMA_VERSION}"


def run_demo(path: Path, scale: int, seed: int) -> float:
    """`backline demo` into a fresh file; returns its wall time in seconds."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [BACKLINE, "--db", str(path), "--config", str(config_path()), "demo", "--cases", str(scale), "--seed", str(seed)],
        check=True, env=bench_env(), stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def demo_db(scale: int, seed: int, log=print) -> Path:
    """The cached demo database for this scale, seed and BACKLINE_NOW (generated once)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{db_key(scale, seed)}.db"
    if path.exists():
        return path
    tmp = DATA / f"{db_key(scale, seed)}.tmp.db"
    log(f"  generating the {scale:,}-case demo database (cached in {DATA.relative_to(ROOT)}) …")
    run_demo(tmp, scale, seed)
    tmp.rename(path)
    return path


def scratch_copy(src: Path, name: str) -> Path:
    """A throwaway copy of a cached database for benchmarks that write."""
    dest = DATA / "scratch" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    for p in (dest, Path(f"{dest}-wal"), Path(f"{dest}-shm")):
        p.unlink(missing_ok=True)
    shutil.copyfile(src, dest)
    return dest


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return s[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Result:
    """One line of the table. `value` and `reference` are in `unit`; `ratio` is value/reference
    (or reference/value for rates, so that > 1 always means "slower than the reference")."""

    figure: str
    scale: int
    value: float | None
    unit: str
    target: str
    passed: bool | None
    reference: float | None = None
    ratio: float | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def limit_check(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit
