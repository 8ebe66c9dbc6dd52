"""A3's tests kill every named CNN mistake of its catalogue; the whole run (`autograder strength a3_cnn`) is reported apart.

The full run grades about 360 mutants and the probes (about 10 minutes with 2 workers); this test keeps to the
catalogue's named mistakes, so that it stays within a few minutes.
"""

import os

import pytest

from autograder.course import find_assignment
from autograder.strength.run import run_strength


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="grades mutants with the engine's isolation, which needs root")
def test_a3_suite_kills_every_named_mistake():
    a3 = find_assignment("a3_cnn")
    report = run_strength(a3, workers=os.cpu_count() or 1, only="*::catalogue::*")
    survivors = "\n".join(f"{m.id} ({m.mistake})\n{m.diff}" for m in report.mutants if m.status == "survived")
    assert len(report.mutants) >= 45
    assert report.survived == 0, f"named mistakes no test catches:\n{survivors}"
    assert not report.problems, report.problems
