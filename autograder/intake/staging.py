"""Stage a submission (folder, `.zip`, loose `.py` files or `.ipynb`) as a folder of importable modules.

Every step is linear in the size of what was handed in and capped (files, bytes, notebook cells,
code to parse); `stage` runs it in a bounded child (`intake.bounded`), so a hostile file costs
that child, never the grading process.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.intake import SubmissionError, add_note
from autograder.intake.archive import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, SKIP_DIRS, is_junk, safe_extract
from autograder.intake.bounded import BoundedFailure, Bounds, run_bounded
from autograder.intake.layouts import choose_base, handout_name
from autograder.intake.names import printable
from autograder.intake.source import Chunk, definitions_only, loose_py_chunks, normalise_sources, notebook_chunks
from autograder.spec import AssignmentSpec

__all__ = ["StagedSubmission", "SubmissionError", "stage", "stage_here", "submission_name"]

NOTEBOOK_MODULE = "_notebook"
STAGING_BOUNDS = Bounds(memory_bytes=2**30, cpu_s=60, wall_s=90.0, file_bytes=MAX_FILE_BYTES)
BOUNDED_MSG = {
    "timeout": "reading it took {detail}. Submit only your code (no large data files) and resubmit.",
    "cpu": "reading it took {detail}. Submit only your code (no large data files) and resubmit.",
    "memory": "reading it needs {detail} of memory. Keep data out of your code and notebook, and resubmit.",
    "crash": "reading it failed ({detail}). Resubmit your handout folder as a plain .zip.",
}


@dataclass
class StagedSubmission:
    """A submission laid out as `<path>/<module>.py`, ready to import."""

    name: str
    source: Path
    path: Path
    sha256: str
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __repr__(self) -> str:
        return f"StagedSubmission({self.name!r}, sha256={self.sha256[:12]}, notes={self.notes}, seconds={self.seconds:.2f})"


def submission_name(source: Path) -> str:
    """Return the student's name for a submission path (`alice.zip` -> `alice`)."""
    return source.name[: -len("".join(source.suffixes))] if source.is_file() and source.suffixes else source.name


def _name_is_clean(name: str) -> bool:
    return printable(name) == name and name.isprintable()


def _walk_files(base: Path, notes: list[str]) -> list[Path]:
    """Return the regular files under `base`, never following a link; pipes, devices and names that are not UTF-8 are skipped with a note."""
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        keep = []
        for d in sorted(dirnames):
            if d in SKIP_DIRS or os.path.islink(os.path.join(dirpath, d)):
                continue
            if _name_is_clean(d):
                keep.append(d)
            else:
                add_note(notes, f"the folder `{printable(d)}` was left out: its name is not plain UTF-8 text")
        dirnames[:] = keep
        for f in sorted(filenames):
            path = Path(dirpath, f)
            if is_junk((f,)) or path.is_symlink():
                continue
            if not stat.S_ISREG(path.lstat().st_mode):  # a named pipe would block a reader, a device is no file
                add_note(notes, f"`{printable(f)}` was left out: it is not a regular file")
                continue
            if not _name_is_clean(f):
                add_note(notes, f"the file `{printable(f)}` was left out: its name is not plain UTF-8 text")
                continue
            files.append(path)
            if len(files) > MAX_FILES:
                raise SubmissionError(f"the submission holds more than {MAX_FILES} files; submit only your code.")
    return files


def _weights_left_out(src: Path, base: Path, size: int, spec: AssignmentSpec, notes: list[str]) -> bool:
    """Return whether a declared weights file is left out (over `max_weights_mb`), with a note; note one in the wrong folder."""
    if handout_name(src.name, spec) not in spec.weight_files:
        return False
    if src.parent != base:
        add_note(notes, f"`{printable(src.relative_to(base).as_posix())}` is not beside your modules, so the tests will not find it; put `{src.name}` next to {spec.student_files[0]}")
        return False
    if size <= spec.max_weights_mb * 2**20:
        return False
    add_note(notes, f"`{src.name}` was left out: it is {size / 2**20:.1f} MiB, over the {spec.max_weights_mb} MiB allowed for weights; the tests that load it fail, the others are graded")
    return True


def _handout_path(rel: Path, base: Path, spec: AssignmentSpec, notes: list[str]) -> Path:
    """Return where a file goes: under the handout's name when only its letter case differs (`Layers.py`), with a note."""
    name = handout_name(rel.name, spec) if len(rel.parts) == 1 else None
    if not name or name == rel.name or (base / name).exists():
        return rel
    add_note(notes, f"`{printable(rel.name)}` was graded as `{name}`, the handout's name; name your files exactly as the handout does")
    return Path(name)


def _copy_files(source: Path, dest: Path, spec: AssignmentSpec, notes: list[str]) -> None:
    files = _walk_files(source, notes)
    base, note = choose_base(source, files, spec)
    if note:
        add_note(notes, note)
    total = 0
    for src in (f for f in files if f.is_relative_to(base)):
        size = src.stat().st_size
        if _weights_left_out(src, base, size, spec, notes):
            continue
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"the submission is larger than {MAX_TOTAL_BYTES // 2**20} MiB or holds a file over {MAX_FILE_BYTES // 2**20} MiB; submit only your code.")
        target = dest / _handout_path(src.relative_to(base), base, spec, notes)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target, follow_symlinks=False)


def _write_combined(chunks: list[Chunk], dest: Path, spec: AssignmentSpec, where: str) -> None:
    """Stage one module of definitions as every student module (`layers.py` re-exports it)."""
    own = set(spec.modules) | {NOTEBOOK_MODULE}
    try:
        code = definitions_only(chunks, own)
    except (RecursionError, MemoryError, ValueError) as exc:
        raise SubmissionError(f"{where} could not be read ({type(exc).__name__}): it is nested too deeply. Split long expressions and resubmit.") from None
    (dest / f"{NOTEBOOK_MODULE}.py").write_text(code + "\n", encoding="utf-8")
    for module in spec.modules:
        if not (dest / f"{module}.py").exists():
            (dest / f"{module}.py").write_text(f"from {NOTEBOOK_MODULE} import *  # staged from {where}\n", encoding="utf-8")


def _stage_zip(source: Path, dest: Path, spec: AssignmentSpec, notes: list[str]) -> None:
    unpacked = dest.parent / (dest.name + ".unzipped")
    unpacked.mkdir()
    try:
        safe_extract(source, unpacked, notes)
        _copy_files(unpacked, dest, spec, notes)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def _stage_into(source: Path, dest: Path, spec: AssignmentSpec) -> list[str]:
    notes: list[str] = []
    suffix, name = source.suffix.casefold(), handout_name(source.name, spec)
    if source.is_dir():
        _copy_files(source, dest, spec, notes)
    elif suffix == ".zip":
        _stage_zip(source, dest, spec, notes)
    elif suffix == ".ipynb":
        _write_combined(notebook_chunks(source, notes), dest, spec, source.name)
        notes.append("staged from a notebook: only imports, functions, classes and constants were kept")
    elif suffix == ".py" and name in spec.student_files:
        shutil.copyfile(source, dest / _handout_path(Path(source.name), dest, spec, notes))
    elif suffix == ".py":
        _write_combined(loose_py_chunks(source), dest, spec, source.name)
        notes.append(f"{source.name} is not a handout file name; its definitions serve every module")
    else:
        raise SubmissionError(f"{printable(source.name)}: submit a folder, a .zip, .py files or a .ipynb notebook.")
    for ipynb in sorted(p for p in dest.iterdir() if p.suffix.casefold() == ".ipynb" and p.is_file()):
        if not all((dest / f).exists() for f in spec.student_files):
            _write_combined(notebook_chunks(ipynb, notes), dest, spec, ipynb.name)
            notes.append(f"modules missing from the folder were staged from {ipynb.name}")
    normalise_sources(dest, notes)
    return notes


def _digest(folder: Path) -> str:
    """Return a sha256 over the staged files' relative paths and contents, read in chunks."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode("utf-8", "surrogatepass") + b"\0")
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def _check_complete(source: Path, dest: Path, spec: AssignmentSpec, notes: list[str]) -> None:
    missing = [f for f in spec.student_files if not (dest / f).is_file()]
    if len(missing) == len(spec.student_files):
        raise SubmissionError(
            f"{printable(source.name)} holds none of the handout files ({', '.join(spec.student_files)}). Submit your handout folder."
        )
    if missing:
        notes.append(f"missing files: {', '.join(missing)}")


def stage_here(source: Path, spec: AssignmentSpec, dest: Path) -> tuple[str, list[str]]:
    """Stage `source` into `dest` in this process; return the staged folder's sha256 and notes."""
    was_enabled = gc.isenabled()
    gc.disable()  # a parsed file is a million young objects and no cycles: collecting them makes parsing 3x slower
    try:
        dest.mkdir(parents=True, exist_ok=True)
        notes = _stage_into(source, dest, spec)
        _check_complete(source, dest, spec, notes)
        return _digest(dest), notes
    finally:
        if was_enabled:
            gc.enable()


def _staging_child(source: Path, spec: AssignmentSpec, dest: Path) -> dict[str, Any]:
    """Body of the bounded child: stage, and answer with the digest and notes, or the student's error."""
    try:
        digest, notes = stage_here(source, spec, dest)
    except SubmissionError as exc:
        return {"error": str(exc)}
    except (RecursionError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)  # never our own temp path
        return {"error": f"{printable(source.name)} could not be read ({type(exc).__name__}: {why}). Resubmit your handout folder as a plain .zip."}
    return {"sha256": digest, "notes": notes}


def stage(
    source: str | Path, spec: AssignmentSpec, dest: str | Path, name: str | None = None, bounds: Bounds | None = STAGING_BOUNDS
) -> StagedSubmission:
    """Lay out `source` under `dest` as importable modules named by the spec, in a bounded child (or here, with `bounds=None`)."""
    source, dest = Path(source), Path(dest)
    start = time.perf_counter()
    if not source.exists():
        raise SubmissionError(f"{printable(str(source))} does not exist.")
    if bounds is None:
        answer = _staging_child(source, spec, dest)
    else:
        try:
            answer = run_bounded(lambda: _staging_child(source, spec, dest), bounds)
        except BoundedFailure as exc:
            raise SubmissionError(f"{printable(source.name)}: {BOUNDED_MSG[exc.why].format(detail=exc.detail)}") from None
    if "error" in answer:
        raise SubmissionError(answer["error"])
    staged = StagedSubmission(name or submission_name(source), source, dest, answer["sha256"], answer["notes"])
    staged.seconds = time.perf_counter() - start
    return staged
