"""Stage a submission (folder, `.zip`, loose `.py` files or `.ipynb`) as a folder of importable modules.

Every step is linear in the size of what was handed in and capped (files, bytes, notebook cells,
code to parse); `stage` runs it in a bounded child (`intake.bounded`), so a hostile file costs
that child, never the grading process.
"""

from __future__ import annotations

import ast
import builtins
import codecs
import gc
import hashlib
import json
import os
import re
import shutil
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.intake.bounded import BoundedFailure, Bounds, run_bounded
from autograder.intake.names import printable
from autograder.spec import AssignmentSpec

MAX_FILE_BYTES = 50 * 2**20
MAX_TOTAL_BYTES = 200 * 2**20
MAX_FILES = 2000  # zip members, or files in a folder
MAX_CODE_BYTES = 4 * 2**20  # Python source parsed to extract definitions (a loose .py or a notebook's code)
MAX_CELLS = 5000
MAX_NOTES = 50
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", "tests"}
SKIP_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
NOTEBOOK_MODULE = "_notebook"
KEPT_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
BUILTIN_NAMES = frozenset(dir(builtins))
STAGING_BOUNDS = Bounds(memory_bytes=2**30, cpu_s=60, wall_s=90.0, file_bytes=MAX_FILE_BYTES)
_MAGIC_LINE = re.compile(r"^\s*[%!]")
Chunk = tuple[str, list[ast.stmt]]  # a file's or a notebook cell's code, and its parsed statements
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")  # PEP 263
BOUNDED_MSG = {
    "timeout": "reading it took {detail}. Submit only your code (no large data files) and resubmit.",
    "cpu": "reading it took {detail}. Submit only your code (no large data files) and resubmit.",
    "memory": "reading it needs {detail} of memory. Keep data out of your code and notebook, and resubmit.",
    "crash": "it could not be read ({detail}). Resubmit your handout folder as a plain .zip.",
}


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
    seconds: float = 0.0

    def __repr__(self) -> str:
        return f"StagedSubmission({self.name!r}, sha256={self.sha256[:12]}, notes={self.notes}, seconds={self.seconds:.2f})"


def submission_name(source: Path) -> str:
    """Return the student's name for a submission path (`alice.zip` -> `alice`)."""
    return source.name[: -len("".join(source.suffixes))] if source.is_file() and source.suffixes else source.name


def _shown(name: str) -> str:
    """Return a file name as a student can read it: undecodable bytes as `\\xNN`."""
    return printable(name)


# ---------------------------------------------------------------- zip archives


def _skipped(parts: tuple[str, ...]) -> bool:
    """Return whether a path inside a submission is junk: caches, `__MACOSX`, AppleDouble `._x` files."""
    return any(p in SKIP_DIRS for p in parts[:-1]) or parts[-1] in SKIP_FILES or parts[-1].startswith("._")


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise SubmissionError(f"{archive.name} is not a valid zip file. Re-create it with your OS's 'compress' tool.") from None
    except UnicodeDecodeError:
        raise SubmissionError(
            f"{archive.name} names a file in bytes that are not UTF-8 although the zip says they are. "
            "Rename files with accents or symbols in their names and zip the folder again."
        ) from None


def _check_members(archive: Path, dest: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_FILES:
        raise SubmissionError(f"{archive.name} holds {len(members)} files; at most {MAX_FILES} are accepted.")
    total, root = 0, dest.resolve()
    for m in members:
        target = (dest / m.filename).resolve()
        if not target.is_relative_to(root) or m.filename.startswith(("/", "\\")):
            raise SubmissionError(f"{archive.name} contains the unsafe path {m.filename!r}; zip only your handout folder.")
        total += m.file_size
        if m.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB; submit only your code.")


def _safe_extract(archive: Path, dest: Path) -> None:
    with _open_zip(archive) as zf:
        members = zf.infolist()
        _check_members(archive, dest, members)
        try:
            for m in members:
                if not m.is_dir() and not _skipped(Path(m.filename).parts or ("",)):
                    target = dest / m.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(m) as src, open(target, "wb") as out:
                        _copy_bounded(src, out, m.file_size)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, ValueError) as exc:
            raise SubmissionError(f"{archive.name} is damaged ({type(exc).__name__}: {exc}). Re-create the zip and resubmit.") from None


def _copy_bounded(src: Any, out: Any, declared: int) -> None:
    """Copy at most the size a zip member declares (a member may lie about it)."""
    left = declared
    while left > 0 and (chunk := src.read(min(left, 1 << 20))):
        out.write(chunk)
        left -= len(chunk)


# ---------------------------------------------------------------- folders


def _name_is_clean(name: str) -> bool:
    return printable(name) == name and name.isprintable()


def _walk_files(base: Path, notes: list[str]) -> list[Path]:
    """Return the regular files under `base`, never following a link; names that are not UTF-8 are skipped with a note."""
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        keep = []
        for d in sorted(dirnames):
            if d in SKIP_DIRS or os.path.islink(os.path.join(dirpath, d)):
                continue
            if _name_is_clean(d):
                keep.append(d)
            else:
                _note(notes, f"the folder {_shown(d)!r} was left out: its name is not plain UTF-8 text")
        dirnames[:] = keep
        for f in sorted(filenames):
            path = Path(dirpath, f)
            if _skipped((f,)) or path.is_symlink():
                continue
            if not _name_is_clean(f):
                _note(notes, f"the file {_shown(f)!r} was left out: its name is not plain UTF-8 text")
                continue
            files.append(path)
            if len(files) > MAX_FILES:
                raise SubmissionError(f"the submission holds more than {MAX_FILES} files; submit only your code.")
    return files


def _find_base(folder: Path, files: list[Path], spec: AssignmentSpec) -> Path:
    """Return the folder that holds the most handout files (a zip often wraps them in a top folder)."""
    counts: dict[Path, int] = {}
    wanted = set(spec.student_files)
    for path in files:
        if path.name in wanted:
            counts[path.parent] = counts.get(path.parent, 0) + 1
    return max(counts, key=lambda p: (counts[p], -len(p.parts))) if counts else folder


def _copy_files(source: Path, dest: Path, spec: AssignmentSpec, notes: list[str]) -> None:
    files = _walk_files(source, notes)
    base = _find_base(source, files, spec)
    total = 0
    for src in (f for f in files if f.is_relative_to(base)):
        size = src.stat().st_size
        total += size
        if size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"the submission is larger than {MAX_TOTAL_BYTES // 2**20} MiB or holds a file over {MAX_FILE_BYTES // 2**20} MiB; submit only your code.")
        target = dest / src.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target, follow_symlinks=False)


# ---------------------------------------------------------------- Python source


def _note(notes: list[str], text: str) -> None:
    if len(notes) < MAX_NOTES:
        notes.append(text)
    elif len(notes) == MAX_NOTES:
        notes.append("more notes were left out")


def _undecodable(raw: bytes, exc: UnicodeDecodeError) -> str:
    line = raw.count(b"\n", 0, exc.start) + 1
    return f"byte 0x{raw[exc.start]:02x} on line {line}"


def _decode(raw: bytes, where: str) -> str:
    """Return Python source as text: a UTF-8 BOM dropped, CRLF and CR turned into LF (what Python itself reads)."""
    try:
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"{where} is not UTF-8 text ({_undecodable(raw, exc)}). Save it as UTF-8 (in your editor: 'Save with encoding', UTF-8) and resubmit."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _declared_encoding(raw: bytes) -> str | None:
    """Return the encoding a PEP 263 line declares in the first two lines, if Python can use it."""
    for line in raw.split(b"\n", 2)[:2]:
        if m := _CODING.match(line):
            try:
                return codecs.lookup(m.group(1).decode("ascii")).name
            except (LookupError, UnicodeDecodeError):
                return None
    return None


def _normalise_sources(dest: Path, notes: list[str]) -> None:
    """Rewrite staged `.py` files saved with a BOM or CRLF line endings as plain UTF-8 with LF; note any that Python cannot decode."""
    for path in sorted(p for p in dest.rglob("*.py") if p.is_file()):
        raw = path.read_bytes()
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _declared_encoding(raw) in (None, "utf-8"):
                rel = path.relative_to(dest).as_posix()
                _note(notes, f"{rel} is not UTF-8 ({_undecodable(raw, exc)}), so Python cannot import it. Save it as UTF-8 and resubmit.")
            continue
        if raw.startswith(codecs.BOM_UTF8) or b"\r" in raw:
            path.write_text(_decode(raw, path.name), encoding="utf-8")


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    names: set[str] = set()
    for t in node.targets if isinstance(node, ast.Assign) else [node.target]:  # type: ignore[attr-defined]
        names |= {t.id} if isinstance(t, ast.Name) else {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _runs_nothing(value: ast.expr, defined: set[str]) -> bool:
    """Return whether an expression only combines constants and names already defined (one walk)."""
    if isinstance(value, ast.Constant):
        return True
    for n in ast.walk(value):
        if isinstance(n, ast.Call | ast.Await | ast.Yield | ast.YieldFrom):
            return False
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in defined and n.id not in BUILTIN_NAMES:
            return False
    return True


def _is_definition(node: ast.stmt, defined: set[str]) -> bool:
    """Return whether a top-level statement defines something without running anything (linear in the statement)."""
    if isinstance(node, KEPT_NODES):
        return True
    if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return all(isinstance(n, ast.Name | ast.Tuple) for n in targets) and _runs_nothing(node.value, defined)


def _is_own_import(node: ast.stmt, own_modules: set[str]) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] in own_modules and node.level == 0
    return isinstance(node, ast.Import) and any(a.name.split(".")[0] in own_modules for a in node.names)


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


def _segment(body: list[ast.stmt], i: int, lines: list[str]) -> str:
    """Return a top-level statement's own source lines, or its unparsed form when it shares a line with another."""
    node = body[i]
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    end = node.end_lineno or node.lineno
    shares = (i > 0 and (body[i - 1].end_lineno or 0) >= start) or (i + 1 < len(body) and body[i + 1].lineno <= end)
    return ast.unparse(node) if shares or node.col_offset else "\n".join(lines[start - 1 : end])


def _definitions_only(chunks: list[Chunk], own_modules: set[str]) -> str:
    """Keep imports, functions, classes and constant tables as written, `from __future__` first; drop statements such as training runs."""
    futures = {a.name: a.name for _, body in chunks for node in body if _is_future(node) for a in node.names}  # type: ignore[attr-defined]
    kept = [f"from __future__ import {', '.join(futures)}"] if futures else []
    defined: set[str] = set()
    for code, body in chunks:
        lines = code.split("\n")  # the parser's own line numbering once CR and CRLF are LF
        for i, node in enumerate(body):
            if _is_future(node) or _is_own_import(node, own_modules) or not _is_definition(node, defined):
                continue
            kept.append(_segment(body, i, lines))
            defined |= _bound_names(node)
    return "\n".join(kept)


def _parse(code: str, where: str) -> list[ast.stmt]:
    try:
        return ast.parse(code).body
    except SyntaxError as exc:
        raise SubmissionError(f"{where} has a syntax error at line {exc.lineno}: {exc.msg}. Fix it and resubmit.") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise SubmissionError(f"{where} could not be read ({type(exc).__name__}): split long expressions and resubmit.") from None


def _check_code_size(size: int, where: str) -> None:
    if size > MAX_CODE_BYTES:
        raise SubmissionError(
            f"{where} holds {size / 2**20:.1f} MiB of code; at most {MAX_CODE_BYTES // 2**20} MiB is read. "
            "Keep data out of your code (save arrays to an .npy file) and resubmit."
        )


# ---------------------------------------------------------------- notebooks


def _cell_text(source: Any) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _notebook_cells(path: Path) -> list[str]:
    """Return the code cells' sources of a notebook (nbformat 4, or 3's worksheets), read as plain JSON."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MiB. Clear its outputs (Kernel > Restart & Clear Output), save and resubmit.")
    try:
        nb = json.loads(path.read_bytes().removeprefix(codecs.BOM_UTF8))
    except (ValueError, RecursionError):
        raise SubmissionError(f"{path.name} is not a readable notebook (its JSON is broken). Save it again from Jupyter.") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if isinstance(nb, dict) and cells is None and isinstance(nb.get("worksheets"), list):
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) for c in ws.get("cells") or []]
    if not isinstance(cells, list):
        raise SubmissionError(f"{path.name} is not a readable notebook (no list of cells). Save it again from Jupyter.")
    if len(cells) > MAX_CELLS:
        raise SubmissionError(f"{path.name} has {len(cells)} cells; at most {MAX_CELLS} are read. Remove scratch cells and resubmit.")
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    return [_cell_text(c.get("source", c.get("input"))) for c in code]


def _notebook_chunks(path: Path, notes: list[str]) -> list[Chunk]:
    """Parse each code cell on its own, IPython magics and shell lines dropped; a cell that does not parse is left out with a note."""
    cells = _notebook_cells(path)
    _check_code_size(sum(len(c) for c in cells), path.name)
    chunks: list[Chunk] = []
    for number, cell in enumerate(cells, 1):
        code = "\n".join(ln for ln in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n") if not _MAGIC_LINE.match(ln))
        try:
            chunks.append((code, ast.parse(code).body))
        except SyntaxError as exc:
            _note(notes, f"code cell {number} of {path.name} was left out: syntax error at its line {exc.lineno}: {exc.msg}")
        except (RecursionError, MemoryError, ValueError) as exc:
            _note(notes, f"code cell {number} of {path.name} was left out: it could not be read ({type(exc).__name__})")
    return chunks


# ---------------------------------------------------------------- laying out the staged folder


def _write_combined(chunks: list[Chunk], dest: Path, spec: AssignmentSpec, where: str) -> None:
    """Stage one module of definitions as every student module (`layers.py` re-exports it)."""
    own = set(spec.modules) | {NOTEBOOK_MODULE}
    try:
        code = _definitions_only(chunks, own)
    except (RecursionError, MemoryError, ValueError) as exc:
        raise SubmissionError(f"{where} could not be read ({type(exc).__name__}): it is nested too deeply. Split long expressions and resubmit.") from None
    (dest / f"{NOTEBOOK_MODULE}.py").write_text(code + "\n", encoding="utf-8")
    for module in spec.modules:
        if not (dest / f"{module}.py").exists():
            (dest / f"{module}.py").write_text(f"from {NOTEBOOK_MODULE} import *  # staged from {where}\n", encoding="utf-8")


def _loose_py_chunks(source: Path) -> list[Chunk]:
    _check_code_size(source.stat().st_size, source.name)
    code = _decode(source.read_bytes(), source.name)
    return [(code, _parse(code, source.name))]


def _stage_zip(source: Path, dest: Path, spec: AssignmentSpec, notes: list[str]) -> None:
    unpacked = dest.parent / (dest.name + ".unzipped")
    unpacked.mkdir()
    try:
        _safe_extract(source, unpacked)
        _copy_files(unpacked, dest, spec, notes)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def _stage_into(source: Path, dest: Path, spec: AssignmentSpec) -> list[str]:
    notes: list[str] = []
    if source.is_dir():
        _copy_files(source, dest, spec, notes)
    elif source.suffix == ".zip":
        _stage_zip(source, dest, spec, notes)
    elif source.suffix == ".ipynb":
        _write_combined(_notebook_chunks(source, notes), dest, spec, source.name)
        notes.append("staged from a notebook: only imports, functions, classes and constants were kept")
    elif source.suffix == ".py" and source.name in spec.student_files:
        shutil.copyfile(source, dest / source.name)
    elif source.suffix == ".py":
        _write_combined(_loose_py_chunks(source), dest, spec, source.name)
        notes.append(f"{source.name} is not a handout file name; its definitions serve every module")
    else:
        raise SubmissionError(f"{_shown(source.name)}: submit a folder, a .zip, .py files or a .ipynb notebook.")
    for ipynb in sorted(dest.glob("*.ipynb")):
        if not all((dest / f).exists() for f in spec.student_files):
            _write_combined(_notebook_chunks(ipynb, notes), dest, spec, ipynb.name)
            notes.append(f"modules missing from the folder were staged from {ipynb.name}")
    _normalise_sources(dest, notes)
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
            f"{_shown(source.name)} holds none of the handout files ({', '.join(spec.student_files)}). Submit your handout folder."
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
        return {"error": f"{_shown(source.name)} could not be read ({type(exc).__name__}: {exc}). Resubmit your handout folder as a plain .zip."}
    return {"sha256": digest, "notes": notes}


def stage(
    source: str | Path, spec: AssignmentSpec, dest: str | Path, name: str | None = None, bounds: Bounds | None = STAGING_BOUNDS
) -> StagedSubmission:
    """Lay out `source` under `dest` as importable modules named by the spec, in a bounded child (or here, with `bounds=None`)."""
    source, dest = Path(source), Path(dest)
    start = time.perf_counter()
    if not source.exists():
        raise SubmissionError(f"{_shown(str(source))} does not exist.")
    if bounds is None:
        answer = _staging_child(source, spec, dest)
    else:
        try:
            answer = run_bounded(lambda: _staging_child(source, spec, dest), bounds)
        except BoundedFailure as exc:
            raise SubmissionError(f"{_shown(source.name)}: {BOUNDED_MSG[exc.why].format(detail=exc.detail)}") from None
    if "error" in answer:
        raise SubmissionError(answer["error"])
    staged = StagedSubmission(name or submission_name(source), source, dest, answer["sha256"], answer["notes"])
    staged.seconds = time.perf_counter() - start
    return staged
