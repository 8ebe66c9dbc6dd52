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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.course import Assignment
from autograder.exporters.gradebook import write_gradebook
from autograder.intake.names import file_stem, printable
from autograder.intake.staging import StagedSubmission, SubmissionError, stage, submission_name
from autograder.results import SubmissionResult, build_result, error_result, read_result, write_result
from autograder.results.fingerprint import grading_fingerprint
from autograder.results.store import result_path, write_atomic
from autograder.runners.calibrate import Speed, calibrate
from autograder.runners.local import DEVICE_OPTION, run_tests

GRADEBOOK = "grades.csv"
SUBMISSION_SUFFIXES = {".zip", ".py", ".ipynb"}


def expand_sources(paths: list[Path], each: bool) -> list[Path]:
    """Return the submissions named: with `each`, every folder, .zip, .py or .ipynb inside the given folders."""
    out: list[Path] = []
    for path in paths:
        if not (each and path.is_dir()):
            out.append(path)
            continue
        for entry in sorted(path.iterdir()):
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir() or entry.suffix in SUBMISSION_SUFFIXES:
                out.append(entry)
    return out


def unique_names(sources: list[Path]) -> dict[Path, str]:
    """Name each submission after its file or folder, made safe for a file name, adding `-2`, `-3` on clashes."""
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for src in sources:
        base = file_stem(submission_name(src))
        name, n = base, 1
        while name.casefold() in taken:  # `Alice` and `alice` are one file on a case-insensitive disk
            n += 1
            name = file_stem(f"{base}-{n}")
        taken.add(name.casefold())
        names[src] = name
    return names


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
    run = run_tests(
        speed.limits_for(spec), tests or [assignment.tests], staged.path, work / "run", reference=assignment.solution,
        hide=hidden_paths(assignment, out_dir), isolate=isolate, per_submission_s=options.per_submission_s,
        pytest_args=(*options.pytest_args, *speed.pytest_args(), DEVICE_OPTION, options.device),
    )  # fmt: skip
    metadata = {"seed": spec.seed, "device": "cpu", "python": platform.python_version(), "notes": staged.notes,
                "staging_s": round(staged.seconds, 3), "calibration": speed.record(spec)}  # fmt: skip
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
) -> SubmissionResult:
    """Grade one submission and write `OUT/<name>.json`; never raises for a bad submission.

    `speed` is this runner's calibration (a batch measures it once); without it, it is measured here.
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
    """Grade submissions with `workers` children at a time; write results and `grades.csv`."""
    names = unique_names(list(sources))
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".*.tmp"):  # left by a batch killed mid-write; the result was never published
        stale.unlink(missing_ok=True)
    prepare_data(assignment)
    fingerprint = grading_fingerprint(assignment)
    speed = calibrate(assignment.spec)  # once per batch: every submission gets the same factor
    results: list[SubmissionResult] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {
            pool.submit(grade_one, assignment, src, out_dir, name, None, force, isolate, fingerprint, options, speed): (src, name)
            for src, name in names.items()
        }
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - our failure on one submission must not stop the batch
                result = _internal_error(assignment, out_dir, futures[future][1], futures[future][0], exc)
            results.append(result)
            if on_done:
                on_done(result)
    write_gradebook(assignment.spec, _all_results(out_dir, assignment, results), out_dir / GRADEBOOK)
    return sorted(results, key=lambda r: r.submission)


def _all_results(out_dir: Path, assignment: Assignment, fresh: list[SubmissionResult]) -> list[SubmissionResult]:
    """Return this batch's results plus earlier ones in the same folder (unreadable or foreign files skipped), for one gradebook."""
    by_name = {r.submission: r for r in fresh}
    for path in sorted(out_dir.glob("*.json")):
        old = read_result(path) if path.is_file() else None
        if old and old.assignment == assignment.id and old.submission not in by_name and path == result_path(out_dir, old.submission):
            by_name[old.submission] = old
    return list(by_name.values())
