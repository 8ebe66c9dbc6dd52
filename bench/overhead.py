"""Per-submission overhead of `autograder grade` on a trivial assignment.

Overhead = (batch wall time - time spent inside tests) / submissions, with one worker.
`a0_torch` is the torch twin: the fork server imports torch once per worker, so a torch
submission costs at most 0.5 s beyond its own tests.
Run: .venv/bin/python bench/overhead.py [N] [a0_trivial|a0_torch]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import find_assignment
from autograder.grade import grade_batch

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "course"


TARGETS = {"a0_trivial": 0.25, "a0_torch": 0.5}  # seconds of overhead per submission


def main(n: int = 40, name: str = "a0_trivial") -> None:
    assignment = find_assignment(name, ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        subs = []
        for i in range(n):
            dest = Path(tmp) / "subs" / f"student{i:03d}"
            shutil.copytree(assignment.solution, dest)
            subs.append(dest)
        grade_batch(assignment, subs[:1], Path(tmp) / "warm", workers=1)  # start the fork server
        for isolate in (False, True):
            start = time.perf_counter()
            results = grade_batch(assignment, subs, Path(tmp) / f"out-{isolate}", workers=1, isolate=isolate)
            wall = time.perf_counter() - start
            in_tests = sum(t.duration_s for r in results for t in r.tests)
            assert all(r.score == r.max_score for r in results), "the trivial solution must score full marks"
            label = "isolated (separate confined process)" if isolate else "in-process (student code in the referee)"
            print(f"{label}:")
            print(f"  submissions:              {n}")
            print(f"  batch wall time:          {wall:.2f} s")
            print(f"  time inside tests:        {in_tests:.2f} s  (isolated: includes starting the submission process)")
            print(f"  overhead per submission:  {(wall - in_tests) / n:.3f} s  (target <= {TARGETS[name]} s)")
            print(f"  wall per submission:      {wall / n:.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40, sys.argv[2] if len(sys.argv) > 2 else "a0_trivial")
