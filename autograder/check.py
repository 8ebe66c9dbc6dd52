"""Run the public tests on a student's own folder, as the student would before submitting."""

from __future__ import annotations

import tempfile
from pathlib import Path

from autograder.course import find_assignment
from autograder.intake.staging import stage
from autograder.results import SubmissionResult, build_result
from autograder.runners.local import run_tests
from autograder.spec import SPEC_FILENAME, AssignmentSpec, SpecError, load_spec


def _locate(assignment_id: str | None, folder: Path) -> tuple[AssignmentSpec, Path]:
    """Return the spec and public tests folder for a course assignment or a handout folder."""
    if assignment_id:
        assignment = find_assignment(assignment_id)
        return assignment.spec, assignment.tests / "public"
    for candidate in [folder, *folder.parents]:
        if (candidate / SPEC_FILENAME).is_file():
            return load_spec(candidate), candidate / "tests" / "public"
    raise SpecError(f"no {SPEC_FILENAME} in {folder} or above: run this inside your handout folder, or name the assignment.")


def check(assignment_id: str | None = None, folder: Path | None = None) -> SubmissionResult:
    """Grade `folder` (default: the current one) with the public tests only."""
    folder = (folder or Path.cwd()).resolve()
    spec, public = _locate(assignment_id, folder)
    if not public.is_dir():
        raise SpecError(f"{public} does not exist: the public tests should be there.")
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
        staged = stage(folder, spec, Path(tmp) / "submission", folder.name)
        run = run_tests(spec, [public], staged.path, Path(tmp) / "run", isolate=False)
        return build_result(spec, staged.name, staged.sha256, run, {"tests": "public", "notes": staged.notes}, staging_s=staged.seconds)
