"""Stage a submission (folder, `.zip`, loose `.py` files or `.ipynb`) as a folder of importable modules."""

from __future__ import annotations

import ast
import builtins
import hashlib
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.spec import AssignmentSpec

MAX_FILE_BYTES = 50 * 2**20
MAX_TOTAL_BYTES = 200 * 2**20
MAX_ZIP_MEMBERS = 2000
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", "tests"}
NOTEBOOK_MODULE = "_notebook"
KEPT_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class SubmissionError(ValueError):
    """A submission cannot be staged; the message says what is wrong and what to do."""


@dataclass
class StagedSubmission:
    """A submission laid out as `<path>/<module>.py`, ready to import."""

    name: str
    source: Path
    path: Path
    sha256: str
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"StagedSubmission({self.name!r}, sha256={self.sha256[:12]}, notes={self.notes})"


def submission_name(source: Path) -> str:
    """Return the student's name for a submission path (`alice.zip` -> `alice`)."""
    return source.name[: -len("".join(source.suffixes))] if source.is_file() and source.suffixes else source.name


def _safe_extract(archive: Path, dest: Path) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise SubmissionError(f"{archive.name} is not a valid zip file. Re-create it with your OS's 'compress' tool.") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise SubmissionError(f"{archive.name} holds {len(members)} files; at most {MAX_ZIP_MEMBERS} are accepted.")
        total = 0
        for m in members:
            target = (dest / m.filename).resolve()
            if not target.is_relative_to(dest.resolve()) or m.filename.startswith("/"):
                raise SubmissionError(f"{archive.name} contains the unsafe path {m.filename!r}; zip only your handout folder.")
            total += m.file_size
            if m.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB; submit only your code.")
        try:
            for m in members:
                if not m.is_dir():
                    target = dest / m.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(m) as src, open(target, "wb") as out:
                        _copy_bounded(src, out, m.file_size)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
            raise SubmissionError(f"{archive.name} is damaged ({type(exc).__name__}: {exc}). Re-create the zip and resubmit.") from None


def _copy_bounded(src: Any, out: Any, declared: int) -> None:
    """Copy at most the size a zip member declares (a member may lie about it)."""
    left = declared
    while left > 0 and (chunk := src.read(min(left, 1 << 20))):
        out.write(chunk)
        left -= len(chunk)


def _walk_files(base: Path) -> list[Path]:
    """Return the regular files under `base`, never following a symbolic link."""
    files = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not os.path.islink(os.path.join(dirpath, d)))
        files += [Path(dirpath, f) for f in sorted(filenames) if not os.path.islink(os.path.join(dirpath, f))]
    return files


def _find_base(folder: Path, spec: AssignmentSpec) -> Path:
    """Return the folder inside an unpacked submission that holds the most student files."""
    best, best_count = folder, -1
    for candidate in [folder, *sorted({p.parent for p in _walk_files(folder)})]:
        count = sum((candidate / f).is_file() and not (candidate / f).is_symlink() for f in spec.student_files)
        if count > best_count:
            best, best_count = candidate, count
    return best


def _copy_files(base: Path, dest: Path) -> None:
    total = 0
    for src in _walk_files(base):
        rel = src.relative_to(base)
        total += src.stat().st_size
        if total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"the submission is larger than {MAX_TOTAL_BYTES // 2**20} MiB; submit only your code.")
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest / rel)


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]  # type: ignore[attr-defined]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _is_definition(node: ast.stmt, defined: set[str]) -> bool:
    """Return whether a top-level statement defines something without running anything."""
    if isinstance(node, KEPT_NODES):
        return True
    if not isinstance(node, ast.Assign | ast.AnnAssign) or getattr(node, "value", None) is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    simple = all(isinstance(n, ast.Name | ast.Tuple) for n in targets)
    no_calls = not any(isinstance(n, ast.Call | ast.Await | ast.Yield) for n in ast.walk(node.value))
    return simple and no_calls and _names_used(node.value) <= defined | set(dir(builtins))


def _definitions_only(code: str, own_modules: set[str], where: str) -> str:
    """Keep imports, functions, classes and constant tables; drop top-level statements such as training runs."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise SubmissionError(f"{where} has a syntax error at line {exc.lineno}: {exc.msg}. Fix it and resubmit.") from None
    except (RecursionError, MemoryError):
        raise SubmissionError(f"{where} is nested too deeply to read. Split long expressions and resubmit.") from None
    kept, defined = [], set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in own_modules:
            continue
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in own_modules for a in node.names):
            continue
        if _is_definition(node, defined):
            kept.append(node)
            defined |= _bound_names(node)
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def _notebook_code(path: Path) -> str:
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a corrupt file
        raise SubmissionError(f"{path.name} is not a readable notebook ({type(exc).__name__}). Save it again from Jupyter.") from None
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    lines = [ln for cell in cells for ln in cell.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def _write_combined(code: str, dest: Path, spec: AssignmentSpec, where: str) -> None:
    """Stage one file of definitions as every student module (`layers.py` re-exports it)."""
    own = set(spec.modules) | {NOTEBOOK_MODULE}
    (dest / f"{NOTEBOOK_MODULE}.py").write_text(_definitions_only(code, own, where) + "\n", encoding="utf-8")
    for module in spec.modules:
        if not (dest / f"{module}.py").exists():
            (dest / f"{module}.py").write_text(f"from {NOTEBOOK_MODULE} import *  # staged from {where}\n", encoding="utf-8")


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"{path.name} is not UTF-8 text. Save it as UTF-8 and resubmit.") from None


def _stage_into(source: Path, dest: Path, spec: AssignmentSpec) -> list[str]:
    notes: list[str] = []
    if source.is_dir():
        _copy_files(_find_base(source, spec), dest)
    elif source.suffix == ".zip":
        unpacked = dest.parent / (dest.name + ".unzipped")
        unpacked.mkdir()
        _safe_extract(source, unpacked)
        _copy_files(_find_base(unpacked, spec), dest)
        shutil.rmtree(unpacked)
    elif source.suffix == ".ipynb":
        _write_combined(_notebook_code(source), dest, spec, source.name)
        notes.append("staged from a notebook: only imports, functions, classes and constants were kept")
    elif source.suffix == ".py" and source.name in spec.student_files:
        shutil.copyfile(source, dest / source.name)
    elif source.suffix == ".py":
        _write_combined(_read_source(source), dest, spec, source.name)
        notes.append(f"{source.name} is not a handout file name; its definitions serve every module")
    else:
        raise SubmissionError(f"{source.name}: submit a folder, a .zip, .py files or a .ipynb notebook.")
    for ipynb in sorted(dest.glob("*.ipynb")):
        if not all((dest / f).exists() for f in spec.student_files):
            _write_combined(_notebook_code(ipynb), dest, spec, ipynb.name)
            notes.append(f"modules missing from the folder were staged from {ipynb.name}")
    return notes


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def stage(source: str | Path, spec: AssignmentSpec, dest: str | Path, name: str | None = None) -> StagedSubmission:
    """Lay out `source` under `dest` as importable modules named by the spec."""
    source, dest = Path(source), Path(dest)
    if not source.exists():
        raise SubmissionError(f"{source} does not exist.")
    dest.mkdir(parents=True, exist_ok=True)
    notes = _stage_into(source, dest, spec)
    missing = [f for f in spec.student_files if not (dest / f).is_file()]
    if len(missing) == len(spec.student_files):
        raise SubmissionError(
            f"{source.name} holds none of the handout files ({', '.join(spec.student_files)}). Submit your handout folder."
        )
    if missing:
        notes.append(f"missing files: {', '.join(missing)}")
    return StagedSubmission(name or submission_name(source), source, dest, _digest(dest), notes)
