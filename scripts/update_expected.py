"""Grade the sample submissions and rewrite their expected.yaml (review the diff before committing).

Run: .venv/bin/python scripts/update_expected.py a1_mlp_numpy
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

from autograder.course import find_assignment
from autograder.grade import expand_sources, grade_batch


def main(assignment_id: str) -> None:
    assignment = find_assignment(assignment_id)
    with tempfile.TemporaryDirectory() as tmp:
        results = grade_batch(assignment, expand_sources([assignment.examples], each=True), Path(tmp), workers=2)
    expected = {
        r.submission: {
            "score": r.score,
            "status": r.status,
            "failing": sorted(t.name for t in r.tests if t.outcome != "passed"),
        }
        for r in results
    }
    (assignment.examples / "expected.yaml").write_text(yaml.safe_dump(expected, sort_keys=True, width=200))
    for r in results:
        print(f"{r.submission:32s} {r.score:6g}/{r.max_score:g}  {r.status}  {r.output}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "a1_mlp_numpy")
