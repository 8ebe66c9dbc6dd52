"""Grade every mutant and probe of an assignment with the engine, in parallel, and build the strength report."""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from autograder.course import Assignment
from autograder.grade import RunOptions, grade_one, prepare_data
from autograder.results import SubmissionResult
from autograder.runners.calibrate import Speed, calibrate
from autograder.spec import AssignmentSpec, Probe
from autograder.strength.mutants import CATALOGUE_FILE, Mutant, all_mutants
from autograder.strength.probes import write_probe
from autograder.strength.regions import FileRegions, student_regions
from autograder.strength.report import MutantOutcome, ProbeOutcome, QuestionStrength, StrengthReport

EQUIVALENT_FILE = "equivalent_mutants.yaml"
MIN_DEADLINE_S = 30.0


class StrengthError(RuntimeError):
    """The strength check cannot start: the solution does not score full marks, or a file beside the spec is malformed."""


def _default_covers(tests: list[str], files: list[str]) -> list[str]:
    """Guess what a question grades from its test patterns: `*/test_layers*.py::*` covers `layers.py`;
    `*::test_mean*` covers the functions matching `mean*` in every student file."""
    out = [f for f in files if any(f"test_{f[:-3]}" in t for t in tests)]
    for t in tests:
        name = t.rpartition("::")[2]
        if name.startswith("test_") and name.removeprefix("test_").strip("*"):
            out += [f"{f}::{name.removeprefix('test_')}" for f in files]
    return out


def question_covers(spec: AssignmentSpec) -> dict[str, list[str]]:
    """Return each question's `covers` patterns: as declared, or guessed from its test patterns."""
    return {q.id: list(q.covers) or _default_covers(q.tests, spec.student_files) for q in spec.questions}


def _questions_of(covers: dict[str, list[str]], file: str, function: str) -> list[str]:
    names = (file, f"{file}::{function}")
    return [q for q, patterns in covers.items() if any(fnmatch.fnmatchcase(n, p) for n in names for p in patterns)]


def load_equivalents(assignment: Assignment) -> dict[str, str]:
    """Return `{mutant id: reason}` from `equivalent_mutants.yaml` beside the spec (a list of `id` and `reason`)."""
    path = assignment.folder / EQUIVALENT_FILE
    if not path.is_file():
        return {}
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise StrengthError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(entries, list):
        raise StrengthError(f"{path}: expected a list of entries with `id` and `reason`, got {type(entries).__name__}")
    out = {}
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not entry.get("id") or not str(entry.get("reason", "")).strip():
            raise StrengthError(f"{path}: entry {n} needs an `id` (from the strength report) and a `reason` saying why no test can tell it apart")
        out[str(entry["id"])] = str(entry["reason"]).strip()
    return out


def _killed_by(result: SubmissionResult) -> str:
    for t in result.tests:
        if t.outcome != "passed" and not t.output.startswith("Not run"):
            return f"{t.name} ({t.outcome})"
    return f"{result.status}: {result.output[:120]}"


def _copy_solution(assignment: Assignment, folder: Path) -> None:
    folder.mkdir(parents=True)
    for file in assignment.spec.student_files:
        shutil.copy2(assignment.solution / file, folder / file)


def _grade_mutant(assignment: Assignment, mutant: Mutant, work: Path, name: str, options: RunOptions, speed: Speed) -> SubmissionResult:
    folder = work / "submissions" / name
    _copy_solution(assignment, folder)
    (folder / mutant.file).write_text(mutant.source, encoding="utf-8")
    try:
        return grade_one(assignment, folder, work / "results", name, force=True, options=options, speed=speed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _mutant_outcome(mutant: Mutant, result: SubmissionResult, reference: float, question: str | None, reason: str | None) -> MutantOutcome:
    killed = result.score < reference - 1e-9
    if reason is not None:
        status = "equivalent but killed" if killed else "equivalent"
    else:
        status = "killed" if killed else "survived"
    return MutantOutcome(
        id=mutant.id, file=mutant.file, function=mutant.function, line=mutant.line, operator=mutant.operator,
        mistake=mutant.mistake, origin=mutant.origin, question=question, status=status,
        killed_by=_killed_by(result) if killed else None, score=result.score, seconds=round(result.execution_time, 3),
        reason=reason, diff=mutant.diff,
    )  # fmt: skip


def _grade_probe(assignment: Assignment, regions: dict[str, FileRegions], probe: Probe, work: Path, name: str,
                 covers: dict[str, list[str]], limit: float, speed: Speed, deadline: float) -> ProbeOutcome:  # fmt: skip
    spec = assignment.spec
    folder = work / "submissions" / name
    functions = write_probe(assignment.solution, regions, spec.student_files, probe, folder)
    result = grade_one(assignment, folder, work / "results", name, force=True, speed=speed, options=RunOptions(per_submission_s=deadline))
    if probe.functions == ["*"]:
        questions = [q.id for q in spec.questions]
    else:
        questions = sorted({q for f in functions for q in _questions_of(covers, *f.split("::", 1))})
    earned = sum(q.score for q in result.questions if q.id in questions)
    possible = sum(q.max_score for q in result.questions if q.id in questions)
    fraction = earned / possible if possible else 0.0
    return ProbeOutcome(kind=probe.kind, description=probe.description, functions=functions, questions=questions,
                        score=earned, max_score=possible, fraction=round(fraction, 4), total=result.score,
                        passed=bool(functions and questions) and fraction <= limit + 1e-9)  # fmt: skip


def _question_table(spec: AssignmentSpec, outcomes: list[MutantOutcome]) -> list[QuestionStrength]:
    rows = []
    for qid in [q.id for q in spec.questions] + [None]:
        mine = [m for m in outcomes if m.question == qid]
        if qid is None and not mine:
            continue
        rows.append(QuestionStrength(
            id=qid or "(no question covers it)", mutants=len(mine), killed=sum(m.status == "killed" for m in mine),
            survived=sum(m.status == "survived" for m in mine), equivalent=sum(m.status.startswith("equivalent") for m in mine),
        ))  # fmt: skip
    return rows


def _reference(assignment: Assignment, work: Path, speed: Speed) -> SubmissionResult:
    ref = grade_one(assignment, assignment.solution, work / "results", "reference", force=True, speed=speed)
    if ref.status != "graded" or ref.score < ref.max_score - 1e-9:
        failing = [t.name for t in ref.tests if t.outcome != "passed"]
        raise StrengthError(f"the solution scores {ref.score:g}/{ref.max_score:g} ({ref.status}); failing: {failing}. "
                            "Mutation analysis needs a solution with full marks: run `autograder validate` first.")  # fmt: skip
    return ref


def run_strength(
    assignment: Assignment,
    workers: int = 1,
    only: str | None = None,
    probes: bool = True,
    on_done: Callable[[str], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> StrengthReport:
    """Grade the solution, each of its mutants (stopping at the first lost point) and each probe; report.

    Args:
        only: a glob over mutant ids (`layers.py::*`); probes are skipped when given.
    """
    spec, start = assignment.spec, time.perf_counter()
    regions = student_regions(assignment.solution, assignment.template, spec.student_files)
    try:
        mutants = all_mutants(regions, assignment.folder / CATALOGUE_FILE)
    except ValueError as exc:
        raise StrengthError(str(exc)) from None
    equivalents = load_equivalents(assignment)
    if only:
        mutants = [m for m in mutants if fnmatch.fnmatchcase(m.id, only) or fnmatch.fnmatchcase(m.id, f"{only}*")]
    chosen = spec.strength.probes if probes and not only else []
    if on_total:
        on_total(len(mutants) + len(chosen) + 1)
    prepare_data(assignment)
    covers = question_covers(spec)
    work = Path(tempfile.mkdtemp(prefix="autograder-strength-"))
    try:
        speed = calibrate(spec)  # once: every mutant gets the same budgets
        ref = _reference(assignment, work, speed)
        if on_done:
            on_done("reference")
        deadline = max(MIN_DEADLINE_S, spec.strength.timeout_factor * ref.execution_time)
        options = RunOptions(pytest_args=("-x",), per_submission_s=deadline)

        def one_mutant(k: int, m: Mutant) -> MutantOutcome:
            result = _grade_mutant(assignment, m, work, f"mutant-{k:04d}", options, speed)
            qs = _questions_of(covers, m.file, m.function)
            outcome = _mutant_outcome(m, result, ref.score, qs[0] if qs else None, equivalents.get(m.id))
            if on_done:
                on_done(m.id)
            return outcome

        def one_probe(k: int, p: Probe) -> ProbeOutcome:
            outcome = _grade_probe(assignment, regions, p, work, f"probe-{k}-{p.kind}", covers, spec.strength.probe_max_fraction, speed, deadline)
            if on_done:
                on_done(f"probe {p.kind}")
            return outcome

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            probe_futures = [pool.submit(one_probe, k, p) for k, p in enumerate(chosen)]
            outcomes = list(pool.map(one_mutant, range(len(mutants)), mutants))
            probe_outcomes = [f.result() for f in probe_futures]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ids = {m.id for m in mutants}
    return StrengthReport(
        assignment=assignment.id, version=spec.version, goal=spec.strength.goal, probe_max_fraction=spec.strength.probe_max_fraction,
        reference_score=ref.score, max_score=ref.max_score, reference_seconds=round(ref.execution_time, 3), deadline_s=round(deadline, 1),
        wall_seconds=round(time.perf_counter() - start, 1), workers=workers, questions=_question_table(spec, outcomes),
        mutants=sorted(outcomes, key=lambda m: (m.file, m.line, m.id)), probes=probe_outcomes,
        stale_equivalents=sorted(set(equivalents) - ids) if not only else [],
    )  # fmt: skip
