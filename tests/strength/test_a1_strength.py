"""A1's tests kill at least the spec's goal of the solution's mutants, and no degenerate answer earns points."""

import os

import pytest

from autograder.course import find_assignment
from autograder.strength.run import run_strength


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="grades mutants with the engine's isolation, which needs root")
def test_a1_suite_reaches_its_strength_goal():
    a1 = find_assignment("a1_mlp_numpy")
    report = run_strength(a1, workers=os.cpu_count() or 1)
    survivors = "\n".join(f"{m.id} ({m.mistake or m.operator})\n{m.diff}" for m in report.mutants if m.status == "survived")
    assert report.score >= a1.spec.strength.goal, f"{report.score:.1%} < {a1.spec.strength.goal:.0%}; survivors:\n{survivors}"
    assert not report.problems, report.problems
    assert len(report.mutants) > 300 and len(report.probes) == len(a1.spec.strength.probes)
