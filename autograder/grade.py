"""Grade a batch of submissions: stage each, run it in a child, write results and the gradebook."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from autograder.course import Assignment
from autograder.exporters.gradebook import write_gradebook
from autograder.intake.staging import StagedSubmission, SubmissionError, stage, submission_name
from autograder.results import SubmissionResult, build_result, error_result, read_result, write_result
from autograder.runners.local import run_tests

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
    """Name each submission after its file or folder, adding `-2`, `-3` on clashes."""
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for src in sources:
        base = submission_name(src)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        names[src] = name
    return names


def _already_graded(out_dir: Path, staged: StagedSubmission, version: str) -> SubmissionResult | None:
    old = read_result(out_dir / f"{staged.name}.json")
    if old and old.submission_sha256 == staged.sha256 and old.assignment_version == version and old.status != "grader error":
        return old
    return None


def grade_one(
    assignment: Assignment,
    source: Path,
    out_dir: Path,
    name: str | None = None,
    tests: list[Path] | None = None,
    force: bool = False,
    isolate: bool = True,
) -> SubmissionResult:
    """Grade one submission and write `OUT/<name>.json`; never raises for a bad submission."""
    spec = assignment.spec
    name = name or submission_name(source)
    work = Path(tempfile.mkdtemp(prefix=f"autograder-{name}-"))
    os.chmod(work, 0o711)  # the submission's own process may enter, not list
    try:
        try:
            staged = stage(source, spec, work / "submission", name)
        except SubmissionError as exc:
            return _write(error_result(spec, name, f"Your submission could not be read: {exc}"), out_dir)
        except Exception as exc:  # noqa: BLE001 - an unforeseen way to be unreadable must not stop the batch
            message = f"Your submission could not be read ({type(exc).__name__}). Resubmit your handout folder as a plain .zip."
            return _write(error_result(spec, name, message), out_dir)
        if not force and (old := _already_graded(out_dir, staged, spec.version)):
            return old
        run = run_tests(
            spec, tests or [assignment.tests], staged.path, work / "run", reference=assignment.solution,
            hide=hidden_paths(assignment, out_dir), isolate=isolate,
        )  # fmt: skip
        metadata = {"seed": spec.seed, "device": "cpu", "python": platform.python_version(), "notes": staged.notes}
        result = build_result(spec, name, staged.sha256, run, metadata)
        if result.status == "grader error":
            (out_dir / "logs").mkdir(parents=True, exist_ok=True)
            (out_dir / "logs" / f"{name}.stderr.txt").write_text(run.stderr_tail, encoding="utf-8")
        return _write(result, out_dir)
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


def grade_batch(
    assignment: Assignment,
    sources: Iterable[Path],
    out_dir: Path,
    workers: int = 1,
    force: bool = False,
    on_done: Callable[[SubmissionResult], None] | None = None,
    isolate: bool = True,
) -> list[SubmissionResult]:
    """Grade submissions with `workers` children at a time; write results and `grades.csv`."""
    names = unique_names(list(sources))
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob(".*.tmp"):  # left by a batch killed mid-write; the result was never published
        stale.unlink(missing_ok=True)
    prepare_data(assignment)
    results: list[SubmissionResult] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(grade_one, assignment, src, out_dir, name, None, force, isolate): name for src, name in names.items()}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - our failure on one submission must not stop the batch
                message = f"Internal grading error ({type(exc).__name__}: {exc}); this is not your fault."
                result = _write(error_result(assignment.spec, futures[future], message, status="grader error"), out_dir)
            results.append(result)
            if on_done:
                on_done(result)
    write_gradebook(assignment.spec, _all_results(out_dir, assignment, results), out_dir / GRADEBOOK)
    return sorted(results, key=lambda r: r.submission)


def _all_results(out_dir: Path, assignment: Assignment, fresh: list[SubmissionResult]) -> list[SubmissionResult]:
    """Return this batch's results plus earlier ones in the same folder, for one gradebook."""
    by_name = {r.submission: r for r in fresh}
    for path in out_dir.glob("*.json"):
        old = read_result(path)
        if old and old.assignment == assignment.id and old.submission not in by_name:
            by_name[old.submission] = old
    return list(by_name.values())
