"""A2's tests kill at least the spec's goal of the solution's mutants, and no degenerate answer earns points."""

import os

import pytest

from autograder.course import find_assignment
from autograder.strength.run import run_strength


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="grades mutants with the engine's isolation, which needs root")
def test_a2_suite_reaches_its_strength_goal():
    a2 = find_assignment("a2_autodiff")
    report = run_strength(a2, workers=os.cpu_count() or 1)
    survivors = "\n".join(f"{m.id} ({m.mistake or m.operator})\n{m.diff}" for m in report.mutants if m.status == "survived")
    assert report.score >= a2.spec.strength.goal, f"{report.score:.1%} < {a2.spec.strength.goal:.0%}; survivors:\n{survivors}"
    assert not report.problems, report.problems
    assert not report.stale_equivalents, report.stale_equivalents
    assert len(report.mutants) > 250 and len(report.probes) == len(a2.spec.strength.probes)
    missed = sorted(m.mistake for m in report.mutants if m.operator == "catalogue" and m.status == "survived")
    assert not missed, f"mistakes of mutants.yaml the tests let through: {missed}"
