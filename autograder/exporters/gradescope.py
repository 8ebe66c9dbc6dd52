"""Write Gradescope `results.json` files: exactly the keys Gradescope's autograder output format defines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.lms.batch import Batch, ExportReport
from autograder.results import SubmissionResult
from autograder.results.store import write_atomic

TEST_FIELDS = ("name", "score", "max_score", "status", "output", "visibility")


def to_gradescope(result: SubmissionResult) -> dict[str, Any]:
    """Return the results.json document Gradescope's autograder harness expects."""
    tests = [{k: getattr(t, k) for k in TEST_FIELDS} | {"number": str(i + 1)} for i, t in enumerate(result.tests)]
    return {
        "score": result.score,
        "execution_time": result.execution_time,
        "output": result.output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(result: SubmissionResult, path: Path) -> Path:
    """Write results.json for one submission, atomically."""
    return write_atomic(path, json.dumps(to_gradescope(result), indent=2, ensure_ascii=False))


def write_gradescope_folders(batch: Batch, out: Path) -> ExportReport:
    """Write `out/<submission>/results.json` for every result of the batch (grader errors included: Gradescope shows them)."""
    for result in batch.results:
        folder = out / result.submission  # a safe file name: SubmissionResult validates it
        folder.mkdir(parents=True, exist_ok=True)
        write_gradescope(result, folder / "results.json")
    return ExportReport(out, len(batch.results), [])
