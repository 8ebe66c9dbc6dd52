"""Find the student regions of a solution: the lines a student writes, by comparing it with the stub."""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path

MARKERS = ("YOUR CODE HERE", "END YOUR CODE")


@dataclass
class FileRegions:
    """The student-written lines of one solution file, per function."""

    file: str
    source: str
    lines: dict[str, set[int]] = field(default_factory=dict)  # qualified function name -> 1-based solution lines
    blank: set[int] = field(default_factory=set)  # blank and comment-only lines: they belong to no one

    def function_at(self, first: int, last: int) -> str | None:
        """Return the function whose student lines hold every code line from `first` to `last`, if any."""
        for name, lines in self.lines.items():
            if first in lines and all(n in lines or n in self.blank for n in range(first, last + 1)):
                return name
        return None

    def __repr__(self) -> str:
        return f"FileRegions({self.file!r}, functions={sorted(self.lines)})"


def _functions(source: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Return {qualified name: node} for every function and method of a module."""
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out[prefix + node.name] = node
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(source).body, "")
    return out


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> list[tuple[int, str]]:
    """Return (line number, stripped text) of a function's body after its docstring, skipping blanks and comments."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring is the contract, never a student region
    if not body:
        return []
    first, last = body[0].lineno, node.end_lineno or body[-1].end_lineno or body[0].lineno
    out = []
    for n in range(first, last + 1):
        text = lines[n - 1].strip()
        if text and not text.startswith("#"):
            out.append((n, text))
    return out


def _student_lines(sol: list[tuple[int, str]], stub: list[tuple[int, str]]) -> set[int]:
    """Return the solution lines the stub does not share (matched in order, as difflib aligns them)."""
    matcher = difflib.SequenceMatcher(a=[t for _, t in sol], b=[t for _, t in stub], autojunk=False)
    shared = {i for a, _, size in matcher.get_matching_blocks() for i in range(a, a + size)}
    return {sol[i][0] for i in range(len(sol)) if i not in shared}


def file_regions(solution: Path, stub: Path) -> FileRegions:
    """Return the student regions of one solution file: in each function whose stub has a `YOUR CODE HERE` marker."""
    source = solution.read_text(encoding="utf-8")
    stub_source = stub.read_text(encoding="utf-8")
    sol_fns, stub_fns = _functions(source), _functions(stub_source)
    sol_lines, stub_lines = source.splitlines(), stub_source.splitlines()
    regions = FileRegions(solution.name, source)
    regions.blank = {n for n, line in enumerate(sol_lines, 1) if not line.strip() or line.strip().startswith("#")}
    for name, stub_node in stub_fns.items():
        start, end = stub_node.lineno, stub_node.end_lineno or stub_node.lineno
        if name not in sol_fns or not any(m in line for line in stub_lines[start - 1 : end] for m in MARKERS):
            continue
        lines = _student_lines(_body_lines(sol_fns[name], sol_lines), _body_lines(stub_node, stub_lines))
        nested = [n for n in sol_fns if n.startswith(name + ".") and n not in stub_fns]  # a helper the student added inside
        lines |= {n for inner in nested for n in range(sol_fns[inner].lineno, (sol_fns[inner].end_lineno or 0) + 1)}
        if lines:
            regions.lines[name] = lines
    return regions


def student_regions(solution: Path, template: Path, files: list[str]) -> dict[str, FileRegions]:
    """Return the student regions of each student file of an assignment, by file name."""
    return {f: file_regions(solution / f, template / f) for f in files if (solution / f).is_file() and (template / f).is_file()}
