"""Build the mutants of a solution: one mistake each, inside the student regions only."""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
import yaml
from libcst.metadata import MetadataWrapper, PositionProvider

from autograder.strength.operators import CONTEXT_OPERATORS, NO_EFFECT_KEYWORDS, OPERATORS, Change
from autograder.strength.regions import FileRegions

CATALOGUE_FILE = "mutants.yaml"
SKIPPED_CALLS = {"print", "ValueError", "TypeError", "RuntimeError", "KeyError", "NotImplementedError"}


@dataclass(frozen=True)
class Mutant:
    """A copy of one solution file with one change."""

    id: str
    file: str
    function: str
    operator: str
    line: int
    source: str  # the whole mutated file
    diff: str
    mistake: str | None = None

    @property
    def origin(self) -> str:
        """Return `catalogue` for a named deep-learning mistake, else `generic`."""
        return "catalogue" if self.mistake else "generic"

    def __repr__(self) -> str:
        return f"Mutant({self.id!r}, line={self.line}, mistake={self.mistake!r})"


class _Collector(cst.CSTVisitor):
    """Visit every node with the function it sits in; skip error messages and prints."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.found: list[tuple[cst.CSTNode, cst.FunctionDef | None]] = []
        self._functions: list[cst.FunctionDef] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.pop()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Raise | cst.Assert | cst.FormattedString | cst.SimpleString | cst.ConcatenatedString):
            return False
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in SKIPPED_CALLS:
            return False
        if isinstance(node, cst.Arg) and node.keyword and node.keyword.value in NO_EFFECT_KEYWORDS:
            return False
        self.found.append((node, self._functions[-1] if self._functions else None))
        return super().on_visit(node)


def _mutant_id(file: str, function: str, change: Change, before: str, after: str, context: str = "") -> str:
    """Return `file::function::operator::hash`; the hash covers the change and the lines it sits on, so editing
    other lines of the solution keeps the id (and a declared equivalent keeps meaning the same mutant)."""
    digest = hashlib.sha1(f"{context}\0{before}\0{after}".encode()).hexdigest()[:8]
    return f"{file}::{function}::{change.operator}::{digest}"


def _diff(file: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"solution/{file}", f"mutant/{file}", n=1)
    return "".join(lines)


def _compiles(source: str, file: str) -> bool:
    try:
        compile(source, file, "exec")
    except SyntaxError:
        return False
    return True


def generic_mutants(regions: FileRegions) -> Iterator[Mutant]:
    """Yield a mutant for each operator's change of each node that lies inside a student region."""
    wrapper = MetadataWrapper(cst.parse_module(regions.source))
    module = wrapper.module
    collector = _Collector()
    wrapper.visit(collector)
    positions = wrapper.resolve(PositionProvider)
    seen = {regions.source}
    lines = regions.source.splitlines()
    ids: Counter[str] = Counter()
    for node, function in collector.found:
        pos = positions[node]
        name = regions.function_at(pos.start.line, pos.end.line)
        if name is None:
            continue
        changes = [c for op in OPERATORS for c in op(node)] + [c for op in CONTEXT_OPERATORS for c in op(node, function)]
        for change in changes:
            source = module.deep_replace(node, change.node).code
            if source in seen or not _compiles(source, regions.file):
                continue
            seen.add(source)
            diff = _diff(regions.file, regions.source, source)
            context = "\n".join(line.strip() for line in lines[pos.start.line - 1 : pos.end.line])
            mid = _mutant_id(regions.file, name, change, module.code_for_node(node), module.code_for_node(change.node), context)
            ids[mid] += 1  # the same change twice in one function (`i - 1` in two places): number them in order
            mid = mid if ids[mid] == 1 else f"{mid}-{ids[mid]}"
            yield Mutant(mid, regions.file, name, change.operator, pos.start.line, source, diff, change.mistake)


def _shift(text: str, indent: str) -> str:
    return "".join(indent + ln if ln.strip() else ln for ln in text.splitlines(True))


def _indented(source: str, find: str, replace: str) -> tuple[str, str]:
    """Return `find` and `replace` indented as `find` sits in the source (YAML block scalars lose the indentation)."""
    if "\n" not in find.strip("\n") + replace.strip("\n"):
        return find, replace
    first = find.strip("\n").splitlines()[0].strip()
    for line in source.splitlines():
        if line.strip() == first:
            indent = line[: len(line) - len(line.lstrip())]
            if source.count(_shift(find, indent)) == 1:
                return _shift(find, indent), _shift(replace, indent)
    return find, replace


def catalogue_mutants(path: Path, regions: dict[str, FileRegions]) -> Iterator[Mutant]:
    """Yield the assignment's own catalogue of mistakes (`mutants.yaml`): text replacements in the solution.

    Each entry: `file`, `function`, `find` (text that occurs exactly once in the file), `replace`,
    and `mistake` (what the student got wrong).
    """
    if not path.is_file():
        return
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise ValueError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{path}: expected a list of entries with `file`, `function`, `find`, `replace` and `mistake`")
    for n, entry in enumerate(entries):
        where = f"{path}: entry {n + 1}"
        bad = [k for k in ("file", "function", "find", "replace", "mistake") if k in entry and not isinstance(entry[k], str)]
        if bad:
            raise ValueError(f"{where}: {', '.join(f'`{k}`' for k in bad)} must be text, got {[type(entry[k]).__name__ for k in bad]}")
        file = entry.get("file")
        if file not in regions:
            raise ValueError(f"{where}: `file` must be one of the student files {sorted(regions)}, got {file!r}")
        source = regions[file].source
        find, replace = _indented(source, str(entry.get("find", "")), str(entry.get("replace", "")))
        if not find.strip() or source.count(find) != 1:
            raise ValueError(f"{where}: `find` must occur exactly once in solutions/.../{file}; it occurs {source.count(find)} times")
        mutated = source.replace(find, replace)
        if not _compiles(mutated, file):
            raise ValueError(f"{where}: replacing `find` by `replace` does not give valid Python")
        line = source[: source.index(find)].count("\n") + 1
        change = Change("catalogue", cst.Pass(), entry.get("mistake") or "catalogue")
        mid = _mutant_id(file, entry.get("function", "?"), change, find, replace)
        yield Mutant(mid, file, entry.get("function", "?"), "catalogue", line, mutated, _diff(file, source, mutated), change.mistake)


def all_mutants(regions: dict[str, FileRegions], catalogue: Path) -> list[Mutant]:
    """Return the generic and catalogue mutants of every student file, without duplicates."""
    out: dict[str, Mutant] = {}
    for file_regions in regions.values():
        for m in generic_mutants(file_regions):
            out.setdefault(m.source, m)
    for m in catalogue_mutants(catalogue, regions):
        out[m.source] = m  # the catalogue names the mistake better than a generic operator
    return list(out.values())
