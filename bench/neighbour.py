"""A correct A1 submission graded beside one that runs many busy processes in their own sessions.

Before control groups and CPU-time budgets, the busy neighbour starved the correct submission,
which then failed its training budget. Prints both scores, the training time the budget saw,
and the wall time.
Run: .venv/bin/python bench/neighbour.py [BUSY_PROCESSES]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import find_assignment
from autograder.grade import grade_batch

HOG = '''
import os
def _spin():
    while True:
        pass
for _ in range({n}):
    if os.fork() == 0:
        os.setsid()
        _spin()
'''


def main(busy: int = 16) -> None:
    assignment = find_assignment("a1_mlp_numpy")
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        shutil.copytree(assignment.solution, subs / "correct")
        shutil.copytree(assignment.solution, subs / "hog")
        layers = subs / "hog" / "layers.py"
        layers.write_text(HOG.format(n=busy) + layers.read_text(encoding="utf-8"), encoding="utf-8")
        start = time.perf_counter()
        results = grade_batch(assignment, [subs / "correct", subs / "hog"], Path(tmp) / "out", workers=2, force=True)
        wall = time.perf_counter() - start
    for r in results:
        accuracy = next((t for t in r.tests if "accuracy" in t.name), None)
        print(f"{r.submission:8s} {r.score:g}/{r.max_score:g} {r.status:10s} accuracy test: "
              f"{accuracy.outcome if accuracy else '-'} ({accuracy.duration_s if accuracy else 0:.1f} s wall)")
    print(f"batch wall time {wall:.1f} s, {busy} busy processes in the neighbour")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 16)
