"""Write `grades.csv`: one row per submission, a column per question."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from autograder.results import SubmissionResult
from autograder.spec import AssignmentSpec


def write_gradebook(spec: AssignmentSpec, results: list[SubmissionResult], path: Path) -> Path:
    """Write the gradebook CSV atomically, rows sorted by submission name."""
    header = ["submission", *[q.id for q in spec.questions], "total", "max", "percent", "status"]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".grades.", suffix=".tmp")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for r in sorted(results, key=lambda r: r.submission):
            by_id = {q.id: q.score for q in r.questions}
            row = [r.submission, *[f"{by_id.get(q.id, 0.0):g}" for q in spec.questions]]
            writer.writerow([*row, f"{r.score:g}", f"{r.max_score:g}", f"{r.percent:.1f}", r.status])
    os.replace(tmp, path)
    return path
