"""The strength check end to end on a tiny course: mutants graded by the engine, probes, equivalents, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.course import find_assignment
from autograder.strength.mutants import all_mutants
from autograder.strength.regions import student_regions
from autograder.strength.run import StrengthError, run_strength

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="grades mutants with the engine's isolation, which needs root")

SPEC = """
id: a0_strength
title: "A0: strength"
version: "1"
framework: numpy
student_files: [stats.py]
limits: {per_test_s: 10, per_submission_s: 30, memory_mb: 1024}
questions:
  - {id: q1_mean, title: "Row means", points: 2, tests: ["*::test_mean*"]}
  - {id: q2_scale, title: "Scale", points: 1, tests: ["*::test_scale*"]}
strength:
  goal: 0.9
  probes:
    - {kind: zeros, description: "zeros"}
"""
STUB = '''
import numpy as np


def mean_rows(x):
    """Return the mean of each row: x (N, D) -> (N,)."""
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("mean_rows")
    # ---- END YOUR CODE ----
    return out


def scale(x, factor):
    """Return x times factor."""
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("scale")
    # ---- END YOUR CODE ----
    return out
'''
SOLUTION = STUB.replace('''    # ---- YOUR CODE HERE ----
    raise NotImplementedError("mean_rows")
    # ---- END YOUR CODE ----''', "    out = x.mean(axis=1)").replace('''    # ---- YOUR CODE HERE ----
    raise NotImplementedError("scale")
    # ---- END YOUR CODE ----''', "    out = factor * x")
TESTS = '''
import numpy as np
import pytest


@pytest.mark.points(2)
def test_mean_rows_matches_reference(submission, reference):
    x = np.arange(12.0).reshape(3, 4)
    got, want = np.asarray(submission.stats.mean_rows(x)), reference.stats.mean_rows(x)
    assert got.shape == want.shape and np.allclose(got, want), f"mean_rows: got {got}, expected {want}"


@pytest.mark.points(1)
def test_scale_keeps_the_shape(submission):
    got = np.asarray(submission.stats.scale(np.ones((2, 3)), 2.0))
    assert got.shape == (2, 3), f"scale: shape {got.shape}, expected (2, 3)"
'''


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for folder, name, text in [
        ("assignments/a0_strength", "assignment.yaml", SPEC),
        ("assignments/a0_strength/tests/hidden", "test_stats.py", TESTS),
        ("student_templates/a0_strength", "stats.py", STUB),
        ("solutions/a0_strength", "stats.py", SOLUTION),
    ]:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def _mutant_id(course: Path, operator: str, diff_text: str) -> str:
    a = find_assignment("a0_strength", course)
    regions = student_regions(a.solution, a.template, a.spec.student_files)
    return next(m.id for m in all_mutants(regions, a.folder / "mutants.yaml") if m.operator == operator and diff_text in m.diff)


@pytest.mark.slow
def test_weak_test_lets_mutants_survive_and_the_report_says_which(course):
    equivalent = _mutant_id(course, "swap-operator", "+    out = factor / x")
    (course / "assignments/a0_strength/equivalent_mutants.yaml").write_text(
        f"- id: {equivalent}\n  reason: only for this test\n- id: stats.py::gone::constant::00000000\n  reason: stale\n")
    report = run_strength(find_assignment("a0_strength", course), workers=2)

    by_q = {q.id: q for q in report.questions}
    assert by_q["q1_mean"].survived == 0 and by_q["q1_mean"].killed >= 3  # sum, no axis, other axis
    scale = [m for m in report.mutants if m.question == "q2_scale"]
    assert {m.status for m in scale} >= {"survived", "equivalent"}
    assert any(m.status == "survived" and "+    out = x\n" in m.diff for m in scale)  # `factor` dropped: shape-only test
    assert next(m for m in report.mutants if m.id == equivalent).reason == "only for this test"
    assert report.score == pytest.approx(report.killed / (report.killed + report.survived))
    assert report.score < report.goal and report.problems[0].startswith("mutation score")
    assert report.stale_equivalents == ["stats.py::gone::constant::00000000"]
    killed = next(m for m in report.mutants if m.status == "killed")
    assert killed.killed_by.startswith("hidden/test_stats.py::test_mean_rows_matches_reference")
    [probe] = report.probes
    assert probe.kind == "zeros" and probe.questions == ["q1_mean", "q2_scale"]
    assert probe.score == 1 and probe.max_score == 3 and not probe.passed  # the shape-only test pays for zeros
    assert "probe `zeros` earns 33.3%" in " ".join(report.problems)


@pytest.mark.slow
def test_cli_prints_survivors_writes_json_and_fails_below_goal(course, tmp_path):
    out = tmp_path / "strength.json"
    env = {**os.environ, "AUTOGRADER_COURSE": str(course), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "strength", "a0_strength", "-j", "2", "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "survived stats.py::scale::" in proc.stdout and "mutation score" in proc.stderr
    data = json.loads(out.read_text())
    assert data["survived"] >= 1 and {m["status"] for m in data["mutants"]} >= {"killed", "survived"}
    assert all(m["diff"].startswith("--- solution/stats.py") for m in data["mutants"])


def test_broken_solution_is_refused_with_a_reason(course):
    (course / "solutions/a0_strength/stats.py").write_text(SOLUTION.replace("out = factor * x", "out = factor * x[:1]"))
    with pytest.raises(StrengthError, match=r"the solution scores 2/3 .*autograder validate"):
        run_strength(find_assignment("a0_strength", course), workers=1, only="nothing")


@pytest.mark.parametrize(("text", "message"), [
    ("- id: x\n", "needs an `id`"),
    ("{not: a list}", "expected a list"),
    ("- [unclosed", "not valid YAML"),
])  # fmt: skip
def test_malformed_equivalents_file_is_named(course, text, message):
    (course / "assignments/a0_strength/equivalent_mutants.yaml").write_text(text)
    with pytest.raises(StrengthError, match=message):
        run_strength(find_assignment("a0_strength", course), only="nothing")


@pytest.mark.parametrize(("text", "message"), [
    ("- {file: other.py, find: a, replace: b}\n", "must be one of the student files"),
    ("- {file: stats.py, find: 'out = ', replace: 'x'}\n", "exactly once"),
    ("- {file: stats.py, find: 'x.mean(axis=1)', replace: 'x.mean(('}\n", "valid Python"),
])  # fmt: skip
def test_malformed_catalogue_is_named(course, text, message):
    (course / "assignments/a0_strength/mutants.yaml").write_text(text)
    with pytest.raises(StrengthError, match=message):
        run_strength(find_assignment("a0_strength", course), only="nothing")


STRONG_SCALE = """
@pytest.mark.points(1)
def test_scale_matches_values(submission):
    x = np.arange(6.0).reshape(2, 3)
    got = np.asarray(submission.stats.scale(x, 3.0))
    assert got.shape == (2, 3) and np.allclose(got, 3.0 * x), f"scale: got {got}"
"""


@pytest.mark.slow
def test_validate_with_strength_fails_below_the_goal_and_passes_at_it(course):
    env = {**os.environ, "AUTOGRADER_COURSE": str(course), "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "autograder.cli", "validate", "a0_strength", "--strength", "-j", "2"]
    weak = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert weak.returncode == 1 and "mutation score" in weak.stderr and "is valid" not in weak.stdout, weak.stdout + weak.stderr

    tests = course / "assignments/a0_strength/tests/hidden/test_stats.py"
    tests.write_text(tests.read_text().split("@pytest.mark.points(1)")[0] + STRONG_SCALE.lstrip())
    in_place = _mutant_id(course, "in-place", "factor *= x")
    (course / "assignments/a0_strength/equivalent_mutants.yaml").write_text(
        f"- id: {in_place}\n  reason: factor is a number; `factor *= x` only rebinds the name\n")
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0 and "mutation score 100.0%" in ok.stdout and "is valid" in ok.stdout, ok.stdout + ok.stderr
