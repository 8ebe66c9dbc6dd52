"""Proxies: what `define` sends into the student's process is the helper's code and nothing else."""

from __future__ import annotations

import ast

import numpy as np

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


def test_the_a1_hidden_helpers_send_nothing_the_student_process_does_not_need():
    path = REPO / "assignments" / "a1_mlp_numpy" / "tests" / "hidden" / "test_train.py"
    text = path.read_text(encoding="utf-8")
    assert text.count("submission.define(") == 1 and "submission.define(ScriptedModel)" in text
    helper = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == "ScriptedModel")
    source = minimal_source(ast.get_source_segment(text, helper))
    assert set(_strings_and_comments(source)) == {"w"}  # the parameter's name only
    defined = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    assert defined == {"ScriptedModel", "__init__", "predict", "loss"}
    for expected in ("best_epoch", "epochs_run", "patience", "0.8", "3.0"):
        assert expected not in source


def test_no_other_a1_test_sends_a_helper():
    tests = REPO / "assignments" / "a1_mlp_numpy" / "tests"
    senders = sorted(p.name for p in tests.rglob("test_*.py") if ".define(" in p.read_text(encoding="utf-8"))
    assert senders == ["test_train.py"]
