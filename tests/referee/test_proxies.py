"""Proxies: what `define` sends into the student's process is the helper's code and nothing else."""

from __future__ import annotations

import ast
import re

import numpy as np

from autograder.course import find_assignment
from autograder.referee.proxies import helper_source, minimal_source
from tests.conftest import REPO

SECRET = 0.93  # a threshold a helper must never carry along


class FakeModel:
    """A fake model; this docstring mentions the threshold 0.93."""

    # a comment about the expected best epoch, 2
    def __init__(self, script):
        """Keep the script."""
        self.script = script  # expected: [0.2, 0.8]

    def predict(self, X):
        """Only a docstring: the body must still compile."""


def _strings_and_comments(source: str) -> list[str]:
    return [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_define_sends_the_definition_without_docstrings_or_comments():
    source = helper_source(FakeModel)
    assert "#" not in source and "0.93" not in source and "expected" not in source
    assert _strings_and_comments(source) == []
    namespace = {"np": np}
    exec(compile(source, "<grader helper>", "exec"), namespace)
    assert namespace["FakeModel"]([1]).script == [1] and namespace["FakeModel"]([1]).predict(None) is None


def _a1_helpers() -> list[tuple[str, str, str]]:
    """Return (file, name, the source `define` sends) for every helper an A1 test sends."""
    out = []
    for path in sorted((REPO / "assignments" / "a1_mlp_numpy" / "tests").rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        sent = set(re.findall(r"submission\.define\((\w+)\)", text))
        for node in ast.parse(text).body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name in sent:
                out.append((path.name, node.name, minimal_source(ast.get_source_segment(text, node))))
    return out


def test_the_a1_hidden_helpers_send_nothing_the_student_process_does_not_need():
    helpers = _a1_helpers()
    assert len(helpers) >= 4
    spec = find_assignment("a1_mlp_numpy").spec
    secrets = {*spec.thresholds.values(), spec.training_budget_s, spec.strength.goal}
    for file, name, source in helpers:
        strings = set(_strings_and_comments(source))
        assert strings <= {"W1", "w", "dw", "steps"}, (file, name, strings)  # parameter and key names only
        numbers = [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, float)]
        assert not set(numbers) & secrets, (file, name, numbers)  # no threshold or budget travels with a helper


def test_a1_helpers_are_sent_only_from_hidden_tests():
    assert {file for file, _, _ in _a1_helpers()} <= {p.name for p in (REPO / "assignments" / "a1_mlp_numpy" / "tests" / "hidden").glob("*.py")}
