"""Check an assignment before release: spec, stub/solution sync, solution full marks, stubs zero."""

from __future__ import annotations

import ast
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import Assignment
from autograder.grade import grade_one, prepare_data
from autograder.results import SubmissionResult


@dataclass
class Validation:
    """The outcome of validating one assignment."""

    assignment: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    solution: SubmissionResult | None = None
    template: SubmissionResult | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        return f"Validation({self.assignment!r}, ok={self.ok}, problems={len(self.problems)})"


def _signatures(path: Path) -> dict[str, tuple[str, str | None]]:
    """Return {qualified name: (signature text, docstring)} for the functions in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: dict[str, tuple[str, str | None]] = {}

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out[prefix + node.name] = (ast.unparse(node.args), ast.get_docstring(node))
            elif isinstance(node, ast.ClassDef):
                out[prefix + node.name] = ("class", ast.get_docstring(node))
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return out


def compare_stubs(assignment: Assignment) -> list[str]:
    """Return how the handout stubs differ from the solution in names, signatures or docstrings."""
    problems = []
    for file in assignment.spec.student_files:
        sol, stub = assignment.solution / file, assignment.template / file
        if not sol.is_file() or not stub.is_file():
            problems.append(f"{file}: missing from {'solutions' if not sol.is_file() else 'student_templates'}/{assignment.id}/")
            continue
        a, b = _signatures(sol), _signatures(stub)
        for name in sorted(set(a) | set(b)):
            if name.startswith("_") or "._" in name:
                continue
            if name not in b or name not in a:
                problems.append(f"{file}: `{name}` is only in the {'solution' if name not in b else 'stub'}")
            elif a[name][0] != b[name][0]:
                problems.append(f"{file}: `{name}` signature differs: solution ({a[name][0]}) vs stub ({b[name][0]})")
            elif a[name][1] != b[name][1]:
                problems.append(f"{file}: `{name}` docstring differs between solution and stub")
    return problems


def _coverage(assignment: Assignment, result: SubmissionResult) -> tuple[list[str], list[str]]:
    spec, problems, warnings = assignment.spec, [], []
    unmapped = [t.name for t in result.tests if t.question is None]
    if unmapped:
        problems.append(f"tests in no question (add a pattern to `questions[].tests`): {unmapped}")
    for q in spec.questions:
        mine = [t for t in result.tests if t.question == q.id]
        if not mine:
            problems.append(f"question `{q.id}` matches no test; its patterns: {q.tests}")
        elif abs(sum(t.max_score for t in mine) - q.points) > 1e-9:
            problems.append(
                f"question `{q.id}` is worth {q.points:g} in the spec but its tests' points add up to "
                f"{sum(t.max_score for t in mine):g}; make the `points` markers add up to the question's points"
            )
    return problems, warnings


def _marked(decorators: list[ast.expr]) -> bool:
    return any("points" in ast.unparse(d) for d in decorators)


def unmarked_tests(tests: Path) -> list[str]:
    """Return `file::test` for each test function without a `points` marker (on it, its class or the module's pytestmark)."""
    found = []
    for path in sorted(tests.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_marked = any(
            isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in n.targets) and "points" in ast.unparse(n.value)
            for n in tree.body
        )
        scopes = [(n.body, _marked(n.decorator_list)) for n in tree.body if isinstance(n, ast.ClassDef)] + [(tree.body, False)]
        for body, class_marked in scopes:
            for node in body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                    if not (module_marked or class_marked or _marked(node.decorator_list)):
                        found.append(f"{path.relative_to(tests).as_posix()}::{node.name}")
    return sorted(found)


SEED_CALLS = {"torch.manual_seed", "torch.random.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all",
              "numpy.random.seed", "random.seed"}
SEED_WARNING = (
    "{where}: `{call}(...)` seeds the grader's own process; when grading, the student's code runs in another "
    "process, so it does not reach a model or a draw made there. Each test already starts with the student's generators "
    "seeded from the spec seed and its id; to build a student's object from a given seed, seed inside a helper sent with "
    "`submission.define` (README, Randomness). Ignore this where the seed is for the test's own data."
)


def _import_names(tree: ast.Module) -> dict[str, str]:
    """Map each name a module binds by import to the dotted name it stands for (`np` -> `numpy`)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr, names: dict[str, str]) -> str:
    """The dotted name a call's function stands for, imports resolved (`np.random.seed` -> `numpy.random.seed`)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([names.get(node.id, node.id), *reversed(parts)])


def _seeds_in_module(tree: ast.Module, rel: str) -> list[str]:
    names = _import_names(tree)
    sent = {a.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "define"
            for a in n.args if isinstance(a, ast.Name)}
    skipped = {id(inner) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name in sent
               for inner in ast.walk(n)}
    found = []

    def visit(node: ast.AST, scope: str, in_class: bool) -> None:
        """Walk `node`; `scope` names the top-level function or class method (`::TestX::test_y`) being walked."""
        for child in ast.iter_child_nodes(node):
            if id(child) in skipped:
                continue
            if isinstance(child, ast.Call) and (call := _dotted(child.func, names)) in SEED_CALLS:
                found.append(SEED_WARNING.format(where=f"{rel}{scope or ' (module level)'}, line {child.lineno}", call=call))
            if isinstance(child, ast.ClassDef) or (isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and (not scope or in_class)):
                visit(child, f"{scope}::{child.name}", isinstance(child, ast.ClassDef))
            else:
                visit(child, scope, False)

    visit(tree, "", False)
    return found


def seeds_in_tests(tests: Path) -> list[str]:
    """Return a warning for each global seeding call in a test module outside the helpers it sends with `define`.

    Those calls run in the grader's process (a test, a fixture, a helper called directly, the module's top level).
    A file that does not parse is left to collection, which reports it.
    """
    found = []
    for path in sorted(tests.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, RecursionError, UnicodeDecodeError):
            continue
        found += _seeds_in_module(tree, path.relative_to(tests).as_posix())
    return found


LOG_CHARS = 6000


def _grader_logs(folder: Path) -> str:
    """Return the referee's own messages about grader errors (a fixture typo, a broken test file)."""
    texts = []
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = [ln for ln in text.splitlines() if ln.strip()]
        texts.append(f"--- {path.name}\n" + "\n".join(lines)[-LOG_CHARS:])
    return "\n".join(texts)


def validate(assignment: Assignment) -> Validation:
    """Validate the spec, the stubs against the solution, and grade both."""
    report = Validation(assignment.id)
    report.problems += compare_stubs(assignment)
    unmarked = unmarked_tests(assignment.tests)
    if unmarked:
        report.problems.append(f"tests without a `@pytest.mark.points(n)` marker (each must say what it is worth): {unmarked}")
    report.warnings += seeds_in_tests(assignment.tests)
    prepare_data(assignment)
    with tempfile.TemporaryDirectory(prefix="autograder-validate-") as tmp:
        report.solution = grade_one(assignment, assignment.solution, Path(tmp), "solution", force=True)
        report.template = grade_one(assignment, assignment.template, Path(tmp), "template", force=True)
        logs = _grader_logs(Path(tmp) / "logs")
    sol, tpl = report.solution, report.template
    if logs:
        report.problems.append(f"grader errors; what pytest said:\n{logs}")
    failing = [f"{t.name} ({t.outcome}): {t.output[:300]}" for t in sol.tests if t.outcome != "passed"]
    if sol.status != "graded" or failing or not sol.tests:
        report.problems.append(f"the solution scores {sol.score:g}/{sol.max_score:g} ({sol.status}); failing: {failing or sol.output}")
    scoring = [f"{t.name} ({t.outcome})" for t in tpl.tests if t.max_score > 0 and t.outcome != "not attempted"]
    if tpl.score > 0 or scoring:
        report.problems.append(f"the stubs score {tpl.score:g}; tests not reported as 'not attempted': {scoring}")
    problems, warnings = _coverage(assignment, sol)
    report.problems += problems
    report.warnings += warnings
    return report
