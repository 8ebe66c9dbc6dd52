"""A student's install from the handout alone: a fresh venv, `pip install -r requirements.txt`, then the public tests.

For each assignment: build the handout zip, unpack it, create a venv, install from the handout (the
course's wheel from its `wheels/`, third-party packages from the package index, pip's cache off), and
print the install time, the venv's size, and how `pytest` and `autograder check` end on the stubs
(both exit 1: the stubs fail every public test).
Run: .venv/bin/python bench/handout_install.py [a1_mlp_numpy a3_cnn ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from autograder.course import find_assignment
from autograder.release import REQUIREMENTS, build_handout


def _size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _run(cmd: list[str], cwd: Path) -> tuple[int, float]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PIP_NO_CACHE_DIR": "1"})
    if done.returncode not in (0, 1):
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return done.returncode, time.perf_counter() - start


def measure(assignment_id: str, tmp: Path) -> None:
    """Install one assignment's handout into a fresh venv and print time, size and test exits."""
    assignment = find_assignment(assignment_id)
    with zipfile.ZipFile(build_handout(assignment, tmp / "dist")) as zf:
        zf.extractall(tmp)
    handout, venv = tmp / assignment.id, tmp / f"{assignment.id}-env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    base = _size(venv)
    rc, seconds = _run([str(venv / "bin" / "pip"), "install", "--quiet", "-r", REQUIREMENTS], handout)
    if rc != 0:
        raise SystemExit(f"{assignment.id}: pip install -r {REQUIREMENTS} failed (exit {rc})")
    size = _size(venv)
    pytest_rc, pytest_s = _run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], handout)
    check_rc, check_s = _run([str(venv / "bin" / "autograder"), "check"], handout)
    print(f"{assignment.id:14s} ({assignment.spec.framework:5s}): install {seconds:6.1f} s, venv {size / 2**20:7.0f} MiB "
          f"({(size - base) / 2**20:.0f} MiB installed); pytest exit {pytest_rc} in {pytest_s:.1f} s, "
          f"autograder check exit {check_rc} in {check_s:.1f} s")  # fmt: skip


def main(ids: list[str]) -> None:
    print(f"Python {sys.version.split()[0]}, pip cache off; third-party packages from the configured package index")
    for assignment_id in ids or ["a1_mlp_numpy", "a3_cnn"]:
        with tempfile.TemporaryDirectory(prefix="handout-install-") as tmp:
            measure(assignment_id, Path(tmp))


if __name__ == "__main__":
    main(sys.argv[1:])
