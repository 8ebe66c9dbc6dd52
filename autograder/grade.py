"""Grade a batch of submissions: stage each, run it in a child, write results and the gradebook."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course import Assignment
from autograder.exporters.gradebook import roster_view, write_gradebook
from autograder.intake.answers import written_answers_in
from autograder.intake.layouts import Received, Skipped, read_download, scan_folder
from autograder.intake.names import file_stem, printable
from autograder.intake.roster import Roster, Student, read_roster
from autograder.intake.staging import StagedSubmission, SubmissionError, stage, submission_name
from autograder.results import SubmissionResult, build_result, error_result, read_result, write_result
from autograder.results.fingerprint import grading_fingerprint
from autograder.results.lateness import assess
from autograder.results.store import result_path, write_atomic
from autograder.runners.calibrate import Speed, calibrate
from autograder.runners.local import DEVICE_OPTION, resume, run_tests, stop_all
from autograder.spec import AssignmentSpec

GRADEBOOK = "grades.csv"
FACTS = ("layout", "students", "submitted_at", "time_source", "late", "intake_notes")  # what a batch adds to a result's metadata


def expand_sources(paths: list[Path], each: bool) -> list[Path]:
    """Return the submissions named: with `each`, every folder, .zip, .py or .ipynb inside the given folders (see `scan_folder`)."""
    return [entry for path in paths for entry in (scan_folder(path)[0] if each and path.is_dir() else [path])]


def _dedupe(names: list[str]) -> list[str]:
    """Return the names made safe for a file name, adding `-2`, `-3` on clashes (`Alice` and `alice` clash)."""
    out, taken = [], set()
    for base in map(file_stem, names):
        name, n = base, 1
        while name.casefold() in taken:  # `Alice` and `alice` are one file on a case-insensitive disk
            n += 1
            name = file_stem(f"{base}-{n}")
        taken.add(name.casefold())
        out.append(name)
    return out


def unique_names(sources: list[Path]) -> dict[Path, str]:
    """Name each submission after its file or folder, made safe for a file name, adding `-2`, `-3` on clashes."""
    return dict(zip(sources, _dedupe([submission_name(s) for s in sources]), strict=True))


def _already_graded(out_dir: Path, staged: StagedSubmission, fingerprint: str) -> SubmissionResult | None:
    """Return the earlier result when the submission and everything that decides its grade are unchanged."""
    old = read_result(result_path(out_dir, staged.name))
    if old and old.submission_sha256 == staged.sha256 and old.grading_fingerprint == fingerprint and old.status != "grader error":
        return old
    return None


def _log(out_dir: Path, name: str, text: str) -> None:
    """Write what the engine or the referee said about a failed run to `OUT/logs/<name>.stderr.txt`, for the TA."""
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "logs" / f"{file_stem(name)}.stderr.txt", printable(text))


def _grade_staged(
    assignment: Assignment, staged: StagedSubmission, work: Path, out_dir: Path, tests: list[Path] | None, isolate: bool,
    original: str, fingerprint: str, options: RunOptions, speed: Speed,
) -> SubmissionResult:  # fmt: skip
    spec = assignment.spec
    answers = written_answers_in(staged.path)  # read before the submission's code runs: the notebook's written-answer cells
    run = run_tests(
        speed.limits_for(spec), tests or [assignment.tests], staged.path, work / "run", reference=assignment.solution,
        hide=hidden_paths(assignment, out_dir), isolate=isolate, per_submission_s=options.per_submission_s,
        pytest_args=(*options.pytest_args, *speed.pytest_args(), DEVICE_OPTION, options.device),
    )  # fmt: skip
    metadata = {"seed": spec.seed, "device": "cpu", "python": platform.python_version(), "notes": staged.notes,
                "staging_s": round(staged.seconds, 3), "calibration": speed.record(spec)}  # fmt: skip
    if answers:
        metadata["written_answers"] = answers
    result = build_result(
        spec, staged.name, staged.sha256, run, metadata, original_name=original, fingerprint=fingerprint, staging_s=staged.seconds
    )
    if result.status in ("grader error", "crashed"):  # what the referee said, for the TA
        _log(out_dir, staged.name, f"--- referee stderr (tail) ---\n{run.stderr_tail}\n--- referee stdout (tail) ---\n{run.stdout_tail}")
    return result


@dataclass(frozen=True)
class RunOptions:
    """How one grading run differs from a normal one (the strength check stops at the first lost point)."""

    pytest_args: tuple[str, ...] = ()
    per_submission_s: float | None = None
    device: str = "auto"  # auto, cpu or cuda: where a torch assignment's tests run (the spec must allow gpu)
    runner: Any = "local"  # "local": a referee on this machine; or a runners.docker.ContainerRunner: a container per submission


def grade_one(
    assignment: Assignment,
    source: Path,
    out_dir: Path,
    name: str | None = None,
    tests: list[Path] | None = None,
    force: bool = False,
    isolate: bool = True,
    fingerprint: str | None = None,
    options: RunOptions = RunOptions(),
    speed: Speed | None = None,
    reused: list[str] | None = None,
) -> SubmissionResult:
    """Grade one submission and write `OUT/<name>.json`; never raises for a bad submission.

    `speed` is this runner's calibration (a batch measures it once); without it, it is measured here.
    When an earlier result is reused, its name is appended to `reused`.
    """
    spec = assignment.spec
    original = printable(submission_name(source))
    name = file_stem(name or submission_name(source))
    fingerprint = fingerprint or grading_fingerprint(assignment, tests)
    work = Path(tempfile.mkdtemp(prefix="autograder-"))
    os.chmod(work, 0o711)  # the submission's own process may enter, not list
    start = time.perf_counter()
    try:
        try:
            staged = stage(source, spec, work / "submission", name)
        except Exception as exc:  # noqa: BLE001 - an unforeseen way to be unreadable must not stop the batch either
            message = f"Your submission could not be read: {exc}"
            if not isinstance(exc, SubmissionError):
                _log(out_dir, name, traceback.format_exc())
                message = f"Your submission could not be read ({type(exc).__name__}). Resubmit your handout folder as a plain .zip."
            result = error_result(spec, name, message, original_name=original, fingerprint=fingerprint, execution_time=time.perf_counter() - start)
            return _write(result, out_dir)
        if not force and (old := _already_graded(out_dir, staged, fingerprint)):
            if reused is not None:
                reused.append(name)
            return old
        speed = speed or calibrate(spec)
        if options.runner != "local":
            return _write(options.runner.grade(assignment, staged, out_dir, options, speed, original, fingerprint), out_dir)
        return _write(_grade_staged(assignment, staged, work, out_dir, tests, isolate, original, fingerprint, options, speed), out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def hidden_paths(assignment: Assignment, out_dir: Path) -> tuple[Path, ...]:
    """Return the folders a submission's process must not see: the course (its tests, solutions, history), data, results."""
    from autograder.data import data_root

    return (assignment.root, data_root(), out_dir.resolve())


def _write(result: SubmissionResult, out_dir: Path) -> SubmissionResult:
    write_result(result, out_dir)
    return result


def prepare_data(assignment: Assignment) -> None:
    """Build dataset caches once in the parent, so parallel children only read them."""
    from autograder import data

    loaders = {"mnist": data.load_mnist}
    for name in assignment.spec.datasets:
        if name in loaders:
            loaders[name](seed=assignment.spec.seed)


def _internal_error(assignment: Assignment, out_dir: Path, name: str, source: Path, exc: BaseException) -> SubmissionResult:
    """Return (and try to write) the grader-error result of a submission whose grading raised."""
    _log_quietly(out_dir, name, "".join(traceback.format_exception(exc)))
    message = f"Internal grading error ({type(exc).__name__}: {exc}); this is not your fault."
    result = error_result(assignment.spec, name, message, status="grader error", original_name=printable(submission_name(source)))
    try:
        write_result(result, out_dir)
    except OSError:
        pass  # the gradebook still lists it
    return result


def _log_quietly(out_dir: Path, name: str, text: str) -> None:
    try:
        _log(out_dir, name, text)
    except OSError:
        pass


@dataclass
class BatchReport:
    """What a batch did: its results, how many it reused, what it skipped, and the roster's students with no submission."""

    results: list[SubmissionResult]
    reused: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    layouts: dict[str, str] = field(default_factory=dict)
    missing: list[Student] = field(default_factory=list)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (submission, why no roster student matched)
    warnings: list[str] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C: the submissions not in `results` were not graded

    def __repr__(self) -> str:
        return (f"BatchReport({len(self.results)} results, {self.reused} reused, {len(self.skipped)} skipped, "
                f"{len(self.missing)} missing, {len(self.unmatched)} unmatched)")  # fmt: skip


def _facts(spec: AssignmentSpec, received: Received) -> dict[str, Any]:
    """Return what the download says about a submission (students, time, lateness), for its result's metadata."""
    late = assess(spec, received.submitted_at, received.time_source, received.marked_late)
    facts: dict[str, Any] = {"late": late.as_metadata()} if late else {}
    if not received.layout:  # a plain path given to grade_batch: nothing more is known
        return facts
    facts |= {"layout": received.layout, "students": [s.as_metadata() for s in received.students], "time_source": received.time_source}
    if received.submitted_at:
        facts["submitted_at"] = received.submitted_at.isoformat()
    if received.notes:
        facts["intake_notes"] = list(received.notes)
    return facts


def _annotate(result: SubmissionResult, facts: dict[str, Any], out_dir: Path) -> SubmissionResult:
    """Return the result with this batch's facts in its metadata, rewriting its file when they changed."""
    metadata = {k: v for k, v in result.metadata.items() if k not in FACTS} | facts
    if metadata == result.metadata:
        return result
    result = SubmissionResult.model_validate({**result.model_dump(), "metadata": metadata})
    try:
        write_result(result, out_dir)
    except OSError as exc:
        _log_quietly(out_dir, result.submission, f"could not record the submission's time and students: {exc}")
    return result


def run_batch(
    assignment: Assignment,
    received: list[Received],
    out_dir: Path,
    workers: int = 1,
    force: bool = False,
    on_done: Callable[[SubmissionResult], None] | None = None,
    isolate: bool = True,
    options: RunOptions = RunOptions(),
    roster: Roster | None = None,
) -> BatchReport:
    """Grade each received submission with `workers` children at a time; write results and `grades.csv` for exactly this batch."""
    spec = assignment.spec
    named = list(zip(_dedupe([r.name for r in received]), received, strict=True))
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".*.tmp"):  # left by a batch killed mid-write; the result was never published
        stale.unlink(missing_ok=True)
    prepare_data(assignment)
    fingerprint = grading_fingerprint(assignment)
    speed = calibrate(spec)  # once per batch: every submission gets the same factor
    resume()  # a batch stopped earlier in this process does not stop this one
    results: list[SubmissionResult] = []
    reused: list[str] = []
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    futures = {
        pool.submit(grade_one, assignment, r.source, out_dir, name, None, force, isolate, fingerprint, options, speed, reused): (name, r)
        for name, r in named
    }
    interrupted = False
    try:
        for future in as_completed(futures):
            name, r = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - our failure on one submission must not stop the batch
                result = _internal_error(assignment, out_dir, name, r.source, exc)
            results.append(result := _annotate(result, _facts(spec, r), out_dir))
            if on_done:
                on_done(result)
    except KeyboardInterrupt:  # Ctrl-C: stop now; what finished keeps its result and its gradebook row
        interrupted = True
        stop_all()  # referees end at once; their submissions get no result, so a rerun grades them
        pool.shutdown(wait=True, cancel_futures=True)
    else:
        pool.shutdown()
    finally:
        write_gradebook(spec, results, out_dir / GRADEBOOK, roster)
    report = BatchReport(sorted(results, key=lambda r: r.submission), reused=len(reused), interrupted=interrupted)
    if roster is not None:
        view = roster_view(roster, results)
        report.missing, report.unmatched = view.missing, [(r.submission, why) for r, why in view.unmatched]
        report.warnings += roster.warnings
    return report


def grade_batch(
    assignment: Assignment,
    sources: Iterable[Path],
    out_dir: Path,
    workers: int = 1,
    force: bool = False,
    on_done: Callable[[SubmissionResult], None] | None = None,
    isolate: bool = True,
    options: RunOptions = RunOptions(),
) -> list[SubmissionResult]:
    """Grade submissions (each path one submission, named after it) with `workers` children at a time; write results and `grades.csv`."""
    received = [Received(name=submission_name(src), source=src, layout="") for src in sources]
    return run_batch(assignment, received, out_dir, workers, force, on_done, isolate, options).results


def grade_download(
    assignment: Assignment,
    paths: list[Path],
    out_dir: Path,
    layout: str | None = None,
    each: bool = False,
    roster_path: Path | None = None,
    workers: int = 1,
    force: bool = False,
    on_total: Callable[[int], None] | None = None,
    on_done: Callable[[SubmissionResult], None] | None = None,
    options: RunOptions = RunOptions(),
) -> BatchReport:
    """Read LMS downloads or plain submissions (`intake.layouts`), grade one submission per student, match the roster.

    Raises `LayoutError` or `RosterError` (before grading anything) when the download or the roster cannot be read.
    """
    roster = read_roster(roster_path) if roster_path else None
    work = Path(tempfile.mkdtemp(prefix="autograder-download-"))
    try:
        download = read_download(paths, assignment.spec, work, layout, each)
        if on_total:
            on_total(len(download.received))
        report = run_batch(assignment, download.received, out_dir, workers, force, on_done, options=options, roster=roster)
        report.skipped, report.layouts = download.skipped, download.layouts
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)
