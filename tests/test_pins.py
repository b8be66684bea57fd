"""The stack is pinned: with a newer Textual on offer, installing from constraints.txt (as the
Makefile does) still picks the Textual the snapshots were drawn with. The newer one is a wheel made
here (metadata only), offered beside the package index through --find-links."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pinned(name: str) -> str:
    text = (ROOT / "constraints.txt").read_text()
    return re.search(rf"^{name}==(\S+)$", text, re.M).group(1)


def _newer(version: str) -> str:
    major, minor, *_ = version.split(".")
    return f"{major}.{int(minor) + 1}.0"


def _wheel(folder: Path, name: str, version: str) -> Path:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(f"{name}/__init__.py", "")
        whl.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{info}/RECORD", "")
    return path


def _chosen(folder: Path, *extra: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", "--no-deps",
         "--report", "-", "--find-links", str(folder), *extra, "textual"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    return next(i["metadata"]["version"] for i in report["install"] if i["metadata"]["name"] == "textual")


def test_a_newer_textual_on_offer_is_not_installed_over_the_pinned_one(tmp_path):
    pinned = _pinned("textual")
    newer = _newer(pinned)
    _wheel(tmp_path, "textual", newer)
    assert _chosen(tmp_path) == newer  # without the constraints pip takes the newer one
    assert _chosen(tmp_path, "-c", "constraints.txt") == pinned
