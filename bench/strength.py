"""Wall time of `autograder strength` on an assignment, and where it goes.

Prints mutants, killed and survived, the mutation score, wall time, seconds per mutant
(killed ones stop at their first lost point; survivors run the whole suite) and the probes.
Run: .venv/bin/python bench/strength.py [ASSIGNMENT] [WORKERS]
"""

from __future__ import annotations

import statistics
import sys

from autograder.course import find_assignment
from autograder.strength.run import run_strength


def main(assignment: str = "a1_mlp_numpy", workers: int = 2) -> None:
    report = run_strength(find_assignment(assignment), workers=workers)
    killed = [m.seconds for m in report.mutants if m.status == "killed"]
    alive = [m.seconds for m in report.mutants if m.status == "survived"]
    print(f"{report.assignment}: {len(report.mutants)} mutants, {report.killed} killed, {report.survived} survived, "
          f"score {report.score:.1%}; wall {report.wall_seconds:.0f} s with {workers} workers "
          f"({report.wall_seconds / max(1, len(report.mutants)):.2f} s per mutant)")  # fmt: skip
    print(f"solution graded in {report.reference_seconds:.1f} s; a killed mutant's run: median "
          f"{statistics.median(killed):.2f} s; a survivor's: median {statistics.median(alive) if alive else 0:.2f} s")  # fmt: skip
    for p in report.probes:
        print(f"probe {p.kind:8s} {p.functions[0] if len(p.functions) == 1 else 'all'}: {p.total:g}/{report.max_score:g} in all, "
              f"{p.fraction:.1%} of {', '.join(p.questions)}")  # fmt: skip


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["a1_mlp_numpy"]), *(int(a) for a in sys.argv[2:3]))
