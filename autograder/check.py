"""Run the public tests on a student's own folder, or on the zip they are about to submit, as the student would."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import find_assignment
from autograder.intake.answers import written_answers_in
from autograder.intake.layouts import handout_name
from autograder.intake.staging import NOTEBOOK_MODULE, stage
from autograder.release import DISTRIBUTION, REQUIREMENTS
from autograder.results import SubmissionResult, TestResult, build_result
from autograder.runners.local import run_tests
from autograder.spec import SPEC_FILENAME, AssignmentSpec, SpecError, load_spec

HIDDEN_ONLY = "graded by hidden tests only"
TORCH_MISSING = (
    "{id} is a PyTorch assignment and PyTorch is not installed in this environment. In your handout folder run "
    "`pip install -r " + REQUIREMENTS + "` (or `pip install '" + DISTRIBUTION + "[torch]'`), then check again."
)


STAGED_PREFIX = f"from {NOTEBOOK_MODULE} import *".encode()


class MissingExtra(SpecError):
    """This environment lacks a package the assignment needs (an extra of the course's package)."""


@dataclass
class CheckReport:
    """What `autograder check` found: the public tests' result and, for a submission, what the grader will see."""

    result: SubmissionResult
    spec: AssignmentSpec
    submission: Path | None = None
    staged_files: list[str] = field(default_factory=list)
    written_answers: dict[str, str] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        return [str(n) for n in self.result.metadata.get("notes", [])]

    @property
    def missing(self) -> list[str]:
        return [f for f in self.spec.student_files if f not in self.staged_files]

    @property
    def hidden_only(self) -> list[str]:
        """Return the ids of the questions that no public test belongs to."""
        public = {t.question for t in self.result.tests}
        return [q.id for q in self.spec.questions if q.id not in public]

    @property
    def failed(self) -> list[TestResult]:
        return [t for t in self.result.tests if t.outcome != "passed"]

    @property
    def exit_code(self) -> int:
        """Return 0 when every public test ran and passed, else 1."""
        return 0 if self.result.status == "graded" and self.result.tests and not self.failed else 1

    def __repr__(self) -> str:
        return f"CheckReport({self.result.submission!r}, {len(self.failed)} failing, hidden_only={self.hidden_only}, exit={self.exit_code})"


def _locate(assignment_id: str | None, folder: Path) -> tuple[AssignmentSpec, Path]:
    """Return the spec and public tests folder for a course assignment or a handout folder."""
    if assignment_id:
        assignment = find_assignment(assignment_id)
        return assignment.spec, assignment.tests / "public"
    for candidate in [folder, *folder.parents]:
        if (candidate / SPEC_FILENAME).is_file():
            return load_spec(candidate), candidate / "tests" / "public"
    raise SpecError(f"no {SPEC_FILENAME} in {folder} or above: run this inside your handout folder, or name the assignment.")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _needs(spec: AssignmentSpec) -> None:
    """Raise `MissingExtra` when the assignment's framework is not installed here."""
    if spec.framework == "torch" and not _installed("torch"):
        raise MissingExtra(TORCH_MISSING.format(id=spec.id))


def _own_files(folder: Path, spec: AssignmentSpec, dest: Path) -> Path:
    """Return what to stage for a handout folder: a copy of its top-level modules, notebooks and weights (never a venv or data).

    A folder with none of the handout files at its top is staged whole, as `grade` would.
    """
    top = [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()]
    if not any(handout_name(p.name, spec) for p in top):
        return folder
    dest.mkdir(parents=True)
    for path in top:
        if path.name != "conftest.py" and (path.suffix.casefold() in (".py", ".ipynb") or handout_name(path.name, spec)):
            shutil.copyfile(path, dest / path.name)
    return dest


def _staged_by_us(path: Path) -> bool:
    """Return whether staging wrote this file (a module re-exporting a notebook's or a loose file's definitions)."""
    if path.stem == NOTEBOOK_MODULE:
        return True
    with open(path, "rb") as f:
        return f.read(len(STAGED_PREFIX)) == STAGED_PREFIX


def _files(folder: Path) -> list[str]:
    """Return the submission's own files in a staged folder (not those staging wrote)."""
    paths = (p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(p.relative_to(folder).as_posix() for p in paths if not _staged_by_us(p))


def check(assignment_id: str | None = None, folder: Path | None = None, submission: Path | None = None) -> CheckReport:
    """Run the public tests on `folder` (default: the current one), or on `submission` staged as `grade` stages it."""
    folder = (folder or Path.cwd()).resolve()
    spec, public = _locate(assignment_id, folder)
    if not public.is_dir():
        raise SpecError(f"{public} does not exist: the public tests should be there.")
    _needs(spec)
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
        source = submission.resolve() if submission else _own_files(folder, spec, Path(tmp) / "yours")
        staged = stage(source, spec, Path(tmp) / "submission", folder.name if submission is None else None)
        run = run_tests(spec, [public], staged.path, Path(tmp) / "run", isolate=False)
        result = build_result(spec, staged.name, staged.sha256, run, {"tests": "public", "notes": staged.notes}, staging_s=staged.seconds)
        return CheckReport(result, spec, submission, _files(staged.path), written_answers_in(staged.path))
