"""Student regions: the solution lines a student writes, found by comparing solution and stub."""

import ast
from pathlib import Path

from autograder.strength.regions import file_regions, student_regions
from tests.conftest import REPO

STUB = '''import numpy as np


def given(x):
    """Not the student's."""
    return x


def f(x, w):
    """Doc."""
    n = x.shape[0]
    # ---- YOUR CODE HERE: out = x @ w / n ----
    raise NotImplementedError("f")
    # ---- END YOUR CODE ----
    cache = (x, w)
    return out, cache
'''
SOLUTION = '''import numpy as np


def given(x):
    """Not the student's."""
    return x


def f(x, w):
    """Doc."""
    n = x.shape[0]
    out = x @ w  # (N, M)
    out = out / n
    cache = (x, w)
    return out, cache
'''


def _write(tmp_path: Path, stub: str, solution: str) -> tuple[Path, Path]:
    (tmp_path / "stub").mkdir()
    (tmp_path / "sol").mkdir()
    (tmp_path / "stub" / "m.py").write_text(stub)
    (tmp_path / "sol" / "m.py").write_text(solution)
    return tmp_path / "sol" / "m.py", tmp_path / "stub" / "m.py"


def test_region_is_the_solution_lines_the_stub_lacks(tmp_path):
    regions = file_regions(*_write(tmp_path, STUB, SOLUTION))
    assert regions.lines == {"f": {12, 13}}  # the two `out = ...` lines; not `n = ...`, not `cache = ...`


def test_function_without_marker_has_no_region(tmp_path):
    regions = file_regions(*_write(tmp_path, STUB, SOLUTION))
    assert "given" not in regions.lines
    assert regions.function_at(5, 5) is None
    assert regions.function_at(12, 13) == "f"
    assert regions.function_at(11, 12) is None  # a node that reaches outside the region is not the student's


def _marked_functions(stub: Path) -> set[str]:
    tree = ast.parse(stub.read_text())
    lines = stub.read_text().splitlines()
    out = set()
    for node in ast.walk(tree):
        for child in getattr(node, "body", []) if isinstance(node, ast.Module | ast.ClassDef) else []:
            if isinstance(child, ast.FunctionDef) and any("YOUR CODE HERE" in ln for ln in lines[child.lineno - 1 : child.end_lineno]):
                out.add(f"{node.name}.{child.name}" if isinstance(node, ast.ClassDef) else child.name)
    return out


def test_a1_regions_cover_every_stub_function_with_a_marker():
    files = ["layers.py", "init.py", "optim.py", "mlp.py", "train.py"]
    templates = REPO / "student_templates" / "a1_mlp_numpy"
    regions = student_regions(REPO / "solutions" / "a1_mlp_numpy", templates, files)
    for f in files:
        assert set(regions[f].lines) == _marked_functions(templates / f), f
    assert "MLP.loss" in regions["mlp.py"].lines and "MLP.__init__" not in regions["mlp.py"].lines


def test_a_statement_with_a_comment_inside_is_still_the_students(tmp_path):
    stub = 'def f(x):\n    """Doc."""\n    # ---- YOUR CODE HERE ----\n    raise NotImplementedError("f")\n    # ---- END YOUR CODE ----\n    return out\n'
    sol = 'def f(x):\n    """Doc."""\n    out = x.sum(\n        # over rows\n\n        axis=0,\n    )\n    return out\n'
    regions = file_regions(*_write(tmp_path, stub, sol))
    assert regions.function_at(3, 7) == "f"


def test_a_helper_the_stub_already_gives_is_not_the_students(tmp_path):
    stub = 'def f(x):\n    """Doc."""\n    def given(y):\n        return y + 1\n    # ---- YOUR CODE HERE ----\n    raise NotImplementedError("f")\n    # ---- END YOUR CODE ----\n    return out\n'
    sol = 'def f(x):\n    """Doc."""\n    def given(y):\n        return y + 1\n    out = given(x) * 2\n    return out\n'
    assert file_regions(*_write(tmp_path, stub, sol)).lines == {"f": {5}}


def test_mutant_ids_survive_edits_elsewhere_in_the_solution(tmp_path):
    from autograder.strength.mutants import generic_mutants

    stub = 'def f(x):\n    """Doc."""\n    # ---- YOUR CODE HERE ----\n    raise NotImplementedError("f")\n    # ---- END YOUR CODE ----\n    return out\n'
    before = 'def f(x):\n    """Doc."""\n    y = x * 2\n    out = y - 1\n    return out\n'
    after = 'def f(x):\n    """Doc."""\n    z = x - 1\n    y = x * 2\n    out = y - 1\n    return out\n'
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old = {m.id: m.diff.splitlines()[-2] for m in generic_mutants(file_regions(*_write(tmp_path / "a", stub, before)))}
    new = {m.id: m.diff.splitlines()[-2] for m in generic_mutants(file_regions(*_write(tmp_path / "b", stub, after)))}
    assert old and all(new[i] == line for i, line in old.items())  # the same id names the same change
