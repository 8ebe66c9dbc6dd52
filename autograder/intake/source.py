"""Read a student's Python source and notebooks: decode it as Python does, and keep only its definitions."""

from __future__ import annotations

import ast
import builtins
import codecs
import json
import re
from pathlib import Path
from typing import Any

from autograder.intake import SubmissionError, add_note
from autograder.intake.archive import MAX_FILE_BYTES

MAX_CODE_BYTES = 3 * 2**20  # code parsed for its definitions (a loose .py, a notebook); its syntax tree takes ~250x its size
MAX_CELLS = 5000
KEPT_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
BUILTIN_NAMES = frozenset(dir(builtins))
Chunk = tuple[str, list[ast.stmt]]  # a file's or a notebook cell's code, and its parsed statements
_MAGIC_LINE = re.compile(r"^\s*[%!]")
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")  # PEP 263


def _undecodable(raw: bytes, exc: UnicodeDecodeError) -> str:
    line = raw.count(b"\n", 0, exc.start) + 1
    return f"byte 0x{raw[exc.start]:02x} on line {line}"


def decode_source(raw: bytes, where: str) -> str:
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


def normalise_sources(dest: Path, notes: list[str]) -> None:
    """Rewrite staged `.py` files saved with a BOM or CRLF line endings as plain UTF-8 with LF; note any that Python cannot decode."""
    for path in sorted(p for p in dest.rglob("*.py") if p.is_file()):
        raw = path.read_bytes()
        try:
            raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _declared_encoding(raw) in (None, "utf-8"):
                rel = path.relative_to(dest).as_posix()
                add_note(notes, f"{rel} is not UTF-8 ({_undecodable(raw, exc)}), so Python cannot import it. Save it as UTF-8 and resubmit.")
            continue
        if raw.startswith(codecs.BOM_UTF8) or b"\r" in raw:
            path.write_text(decode_source(raw, path.name), encoding="utf-8")


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


def definitions_only(chunks: list[Chunk], own_modules: set[str]) -> str:
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


def notebook_chunks(path: Path, notes: list[str]) -> list[Chunk]:
    """Parse each code cell on its own, IPython magics and shell lines dropped; a cell that does not parse is left out with a note."""
    cells = _notebook_cells(path)
    _check_code_size(sum(len(c) for c in cells), path.name)
    chunks: list[Chunk] = []
    for number, cell in enumerate(cells, 1):
        lines = cell.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        code = "\n".join(ln for ln in lines if not _MAGIC_LINE.match(ln))
        try:
            chunks.append((code, ast.parse(code).body))
        except SyntaxError as exc:
            add_note(notes, f"code cell {number} of {path.name} was left out: syntax error at its line {exc.lineno}: {exc.msg}")
        except (RecursionError, MemoryError, ValueError) as exc:
            add_note(notes, f"code cell {number} of {path.name} was left out: it could not be read ({type(exc).__name__})")
    return chunks


def loose_py_chunks(source: Path) -> list[Chunk]:
    """Return a loose `.py` file's code and statements; a syntax error refuses it."""
    _check_code_size(source.stat().st_size, source.name)
    code = decode_source(source.read_bytes(), source.name)
    return [(code, _parse(code, source.name))]
