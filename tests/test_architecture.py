"""The engine's shape: one-way imports, no utils module, a lean grading child."""

import ast
import json
import subprocess
import sys

from tests.conftest import REPO

PACKAGE = REPO / "autograder"
# Lower layers first; a module may import only modules at its own layer or below. Names are
# modules relative to the package (`isolation.wire`), or a whole subpackage (`exporters`).
LAYERS = [
    {"outcomes", "spec", "checks", "weights", "data", "isolation.wire"},
    {"course", "intake", "isolation.loader"},
    {"isolation.confine", "isolation.cgroups", "isolation.server"},
    {"isolation.zygote"},
    {"referee.proxies"},
    {"referee.classify"},
    {"referee.plugin"},
    {"runners"},
    {"results"},
    {"lms", "runners.docker"},  # a container runner reads back and checks the result the container wrote
    {"exporters"},
    {"grade", "check", "release", "packaging"},
    {"strength"},
    {"validate"},
    {"cli"},
]


def _layer(module: str) -> int:
    """Return the layer of a dotted module name relative to the package (longest listed prefix wins)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        for i, group in enumerate(LAYERS):
            if name in group:
                return i
    raise AssertionError(f"autograder.{module} is in no layer of this test; add it to LAYERS")


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "autograder":
            base = node.module.removeprefix("autograder").removeprefix(".")
            for alias in node.names:
                name = f"{base}.{alias.name}".lstrip(".")
                folder = PACKAGE.joinpath(*name.split("."))
                if folder.with_suffix(".py").is_file() or folder.is_dir():
                    yield name  # a submodule: `from autograder.isolation import wire`
                elif base:
                    yield base
        elif isinstance(node, ast.Import):
            yield from (a.name.removeprefix("autograder.") for a in node.names if a.name.startswith("autograder."))


def test_imports_flow_one_way():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        me = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        if me == "__init__":
            continue
        wrong += [f"{rel} imports autograder.{dep}" for dep in _imports(path) if _layer(dep) > _layer(me)]
    assert not wrong


def test_no_utils_module():
    assert not list(PACKAGE.rglob("utils.py"))


def test_public_api_is_declared():
    import autograder

    assert "__version__" in autograder.__all__


def test_grading_child_of_a_numpy_assignment_never_imports_torch_or_pydantic():
    code = (
        "import sys, json, autograder.referee.plugin, autograder.checks, autograder.isolation.loader, autograder.data, autograder.isolation.server;"
        "print(json.dumps(sorted(m for m in ('torch', 'pydantic', 'sklearn', 'mlxtend') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
