"""The engine's shape: one-way imports, no utils module, a lean grading child."""

import ast
import json
import subprocess
import sys

from tests.conftest import REPO

PACKAGE = REPO / "autograder"
# Lower layers first; a module may import only modules at its own layer or below.
LAYERS = [
    {"spec", "checks", "data", "wire"},
    {"course", "submission", "loader", "child"},
    {"sandbox"},
    {"zygote"},
    {"remote"},
    {"plugin"},
    {"results"},
    {"exporters"},
    {"grade", "check", "release"},
    {"validate"},
    {"cli"},
]


def _layer(name: str) -> int:
    return next(i for i, group in enumerate(LAYERS) if name in group)


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder."):
            yield node.module.split(".")[1]
        elif isinstance(node, ast.Import):
            yield from (a.name.split(".")[1] for a in node.names if a.name.startswith("autograder."))


def test_imports_flow_one_way():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        me = rel.parts[0].removesuffix(".py")
        if me == "__init__":
            continue
        wrong += [f"{rel} imports autograder.{dep}" for dep in _imports(path) if dep != "__init__" and _layer(dep) > _layer(me)]
    assert not wrong


def test_no_utils_module():
    assert not list(PACKAGE.rglob("utils.py"))


def test_public_api_is_declared():
    import autograder

    assert "__version__" in autograder.__all__


def test_grading_child_of_a_numpy_assignment_never_imports_torch_or_pydantic():
    code = (
        "import sys, json, autograder.plugin, autograder.checks, autograder.loader, autograder.data, autograder.child;"
        "print(json.dumps(sorted(m for m in ('torch', 'pydantic', 'sklearn', 'mlxtend') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
