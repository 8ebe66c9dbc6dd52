"""Write `grades.csv`: one row per submission, a column per question; every text cell safe for a spreadsheet."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.intake.names import csv_cell
from autograder.results import SubmissionResult
from autograder.results.store import write_atomic
from autograder.spec import AssignmentSpec


def gradebook_rows(spec: AssignmentSpec, results: list[SubmissionResult]) -> list[list[str]]:
    """Return the header and one row per submission, sorted by name; names and statuses neutralised as CSV cells."""
    rows = [[csv_cell(h) for h in ("submission", *[q.id for q in spec.questions], "total", "max", "percent", "status")]]
    for r in sorted(results, key=lambda r: r.submission):
        by_id = {q.id: q.score for q in r.questions}
        scores = [f"{by_id.get(q.id, 0.0):g}" for q in spec.questions]
        rows.append([csv_cell(r.submission), *scores, f"{r.score:g}", f"{r.max_score:g}", f"{r.percent:.1f}", csv_cell(r.status)])
    return rows


def write_gradebook(spec: AssignmentSpec, results: list[SubmissionResult], path: Path) -> Path:
    """Write the gradebook CSV atomically (temp file, fsync, rename), rows sorted by submission name."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(gradebook_rows(spec, results))
    return write_atomic(path, buffer.getvalue())
