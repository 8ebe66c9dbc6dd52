"""The otter plugin that grades a submission with the engine, inside `otter run`, `otter grade` and Gradescope.

Otter's Python runner finds the zip's empty entry notebook and calls `before_grading`, which
refuses a machine that cannot confine submissions and moves the student's files out of the
folder otter's Jupyter kernel starts in; the kernel runs nothing of theirs (`before_execution`
empties whatever it was given). `after_grading` then grades the files with `grade_one` at the
isolation level this machine gives and replaces otter's results, question by question. Otter
writes `results.json` (Gradescope's format) and `results.pkl` (what `otter grade` reads).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from otter.plugins import AbstractOtterPlugin

from autograder.packaging.layout import COURSE

if TYPE_CHECKING:
    from autograder.course import Assignment
    from autograder.results import SubmissionResult

WRAPPER_PREFIX = "_submission-"
OTTER_MADE = {"tests", "__init__.py"}  # what otter's runner adds to the submission folder besides files/
REFUSAL = (
    "This autograder refuses to grade here: submissions cannot be confined on this machine ({why}), so a "
    "submission could read the hidden tests and the reference. Grade as root (Gradescope, `otter grade`, or "
    "`sudo otter run`), or rebuild the zip with `autograder build {id} --unconfined` to grade with resource limits only."
)


def gather_submission(submission_dir: Path, ours: set[str]) -> Path:
    """Move the student's entries (all but `ours`) into one new folder of `submission_dir`; return what to grade.

    That is the folder, or, while it holds a single entry, that entry: a lone notebook or `.py`
    file, a `.zip`, or the one folder a zip unpacked into, graded as `autograder grade` would.
    """
    entries = sorted(p for p in submission_dir.iterdir() if p.name not in ours)
    wrapper = Path(tempfile.mkdtemp(prefix=WRAPPER_PREFIX, dir=submission_dir))
    for entry in entries:
        entry.rename(wrapper / entry.name)
    source = wrapper
    while source.is_dir() and not source.is_symlink() and len(inside := list(source.iterdir())) == 1:
        source = inside[0]
    return source


def _ours(source_dir: Path) -> set[str]:
    """Return the names otter put in the submission folder: everything under the zip's files/, its tests, `__init__.py`."""
    files = source_dir / "files"
    return OTTER_MADE | ({p.name for p in files.iterdir()} if files.is_dir() else set())


def _name(source: Path) -> str:
    """Name the result after what the student handed in, or `submission` when it was several loose files."""
    from autograder.intake.staging import submission_name

    return "submission" if source.name.startswith(WRAPPER_PREFIX) else submission_name(source)


def _check_confinement(assignment_id: str, unconfined: bool) -> str:
    """Return this machine's isolation level; raise otter's runtime error where it is `none` and the zip forbids it."""
    from otter.run.run_autograder.utils import OtterRuntimeError

    from autograder.isolation.confine import NONE
    from autograder.runners.local import isolation_level

    level, why = isolation_level()
    if level == NONE and not unconfined:
        raise OtterRuntimeError(REFUSAL.format(why=why, id=assignment_id))
    print(f"autograder: isolation level `{level}`{': ' + why if why else ''}", flush=True)
    return level


def _close(autograder_dir: Path) -> None:
    """At the container level, close otter's whole folder (course copies, results) to the student's uid, the engine excepted."""
    from autograder.isolation.confine import interpreter_paths, protect_by_mode

    protect_by_mode((str(autograder_dir),), interpreter_paths())


@dataclass
class OtterJob:
    """One submission, set aside in otter's folder before otter's kernel starts, waiting to be graded."""

    autograder_dir: Path
    assignment: Assignment
    source: Path
    level: str


def prepare_in_otter(autograder_dir: Path, config: dict[str, Any]) -> OtterJob:
    """Refuse a machine that cannot confine submissions (unless the zip allows it), then move the student's files aside.

    Run before otter starts its kernel in `submission/`: a student's `otter.py` left there would
    be imported by the kernel, as root and unconfined.
    """
    from autograder.course import find_assignment

    source_dir = autograder_dir / "source"
    assignment = find_assignment(config["assignment"], source_dir / "files" / COURSE)
    level = _check_confinement(assignment.id, bool(config.get("unconfined")))
    return OtterJob(autograder_dir, assignment, gather_submission(autograder_dir / "submission", _ours(source_dir)), level)


def grade_job(job: OtterJob) -> SubmissionResult:
    """Grade a prepared submission with the engine, as `autograder grade` would; print a grader error's log for the TA."""
    from autograder.grade import grade_one
    from autograder.isolation.confine import CONTAINER

    if job.level == CONTAINER:
        _close(job.autograder_dir)
    out = Path(tempfile.mkdtemp(prefix="autograder-otter-"))
    try:
        result = grade_one(job.assignment, job.source, out, name=_name(job.source), force=True)
        for log in sorted((out / "logs").glob("*.txt")):  # stdout is the TA's: Gradescope hides it from students
            print(log.read_text(encoding="utf-8", errors="replace"), flush=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return result


def grade_in_otter(autograder_dir: Path, config: dict[str, Any]) -> SubmissionResult:
    """Grade the student's files in otter's `submission/` folder with the engine; return the engine's result."""
    return grade_job(prepare_in_otter(autograder_dir, config))


class AutograderPlugin(AbstractOtterPlugin):
    """Grade with the course engine; configured in otter_config.json with `assignment` and `unconfined`."""

    job: OtterJob | None = None

    def _autograder_dir(self) -> Path:
        return Path(self.submission_path).resolve().parent.parent  # <autograder>/submission/<entry notebook>

    def before_grading(self, config: Any) -> None:
        """Before otter's kernel starts: refuse an unconfined machine, and move the student's files out of the kernel's folder."""
        self.job = prepare_in_otter(self._autograder_dir(), self.plugin_config)

    def before_execution(self, submission: Any) -> Any:
        """Give otter's kernel nothing to run: the student's code runs only in the engine's confined process."""
        import nbformat

        return "" if isinstance(submission, str) else nbformat.v4.new_notebook()

    def after_grading(self, results: Any) -> None:
        """Grade the submission with the engine and put its questions, tests and feedback in otter's results."""
        from autograder.packaging.otter_results import fill_otter_results

        result = grade_job(self.job or prepare_in_otter(self._autograder_dir(), self.plugin_config))
        fill_otter_results(results, result)
        results.set_plugin_data(f"{type(self).__module__}.{type(self).__name__}", result.model_dump(mode="json"))


def run_in_container(autograder_dir: str) -> None:
    """Run otter's autograder where the zip sits in `autograder_dir` (Gradescope, `otter grade`): the `run_otter.py` entry.

    The student's files move into a folder first, so a notebook they handed in never meets the
    zip's entry notebook (otter grades exactly one); a `.zip` (`otter grade --ext zip`) moves
    with them and the engine unpacks it, so otter's own `zips` step is switched off.
    """
    from otter.run.run_autograder import main as otter_main

    import autograder

    engine = str(Path(autograder.__file__).resolve().parents[1])  # run_otter.py put the zip's engine first on sys.path
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (engine, os.environ.get("PYTHONPATH")) if p)
    root = Path(autograder_dir)
    gather_submission(root / "submission", set())
    otter_main(str(root), zips=False)
