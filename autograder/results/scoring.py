"""Turn a referee's events into a `SubmissionResult`: per-test outcomes, question scores, status."""

from __future__ import annotations

from typing import Any

from autograder.outcomes import CRASHED, ERRORED, GRADER_ERROR, OUTCOMES, PASSED, SERVE_FAILED_MSG, TIMED_OUT
from autograder.results.models import QuestionResult, Status, SubmissionResult, TestResult
from autograder.runners.local import ChildRun
from autograder.spec import AssignmentSpec

NOT_RUN_MSG = "Not run: grading stopped during `{test}` ({why})."
WALL_MSG = "the whole grading run exceeded its {limit:g} s limit"
DIED_MSG = "the grading process ended unexpectedly ({how})"


def _questions(spec: AssignmentSpec, tests: list[TestResult]) -> list[QuestionResult]:
    """Score each question: its declared points times the share of its tests' points earned."""
    out = []
    for q in spec.questions:
        mine = [t for t in tests if t.question == q.id]
        weight = sum(t.max_score for t in mine)
        earned = sum(t.score for t in mine)
        out.append(QuestionResult(id=q.id, title=q.title, score=round(q.points * earned / weight, 4) if weight else 0.0, max_score=q.points))
    return out


def _death(run: ChildRun) -> tuple[str, str]:
    if run.killed_for_time:
        return TIMED_OUT, WALL_MSG.format(limit=run.limits.get("per_submission_s", 0))
    code = run.returncode or 0
    how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    return CRASHED, DIED_MSG.format(how=how)


def _test_results(spec: AssignmentSpec, run: ChildRun, collected: list[dict[str, Any]]) -> list[TestResult]:
    finished = {e["id"]: e for e in run.events if e.get("event") == "result"}
    started = [e["id"] for e in run.events if e.get("event") == "start"]
    stopped_in = next((t for t in reversed(started) if t not in finished), None)
    results = []
    for test in collected:
        q = spec.question_for(test["id"])
        visibility = spec.hidden_visibility if test["hidden"] else spec.public_visibility
        event = finished.get(test["id"])
        if event is None:
            outcome, why = _death(run)
            message = f"{why[0].upper()}{why[1:]} in this test." if test["id"] == stopped_in else NOT_RUN_MSG.format(test=stopped_in or "collection", why=why)
            event = {"outcome": outcome, "message": message, "duration_s": 0.0}
        outcome = event.get("outcome") if event.get("outcome") in OUTCOMES else GRADER_ERROR
        ok = outcome == PASSED
        results.append(TestResult(
            name=test["id"], question=q.id if q else None, score=test["points"] if ok else 0.0,
            max_score=test["points"], status="passed" if ok else "failed", outcome=outcome,
            output=str(event.get("message") or ""), visibility=visibility, duration_s=_seconds(event.get("duration_s")),
        ))  # fmt: skip
    return results


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _status(run: ChildRun, tests: list[TestResult], collected: bool) -> Status:
    if run.killed_for_time:
        return "timed out"
    finished = {e["id"] for e in run.events if e.get("event") == "result"}
    if any(t.name not in finished for t in tests) or (run.returncode or 0) < 0:
        return "crashed"
    if not collected or any(t.outcome == GRADER_ERROR for t in tests):
        return "grader error"
    if tests and all(t.outcome == ERRORED and t.output == SERVE_FAILED_MSG for t in tests):
        # each alone may be the student's tampering; all of them at once is far likelier a broken grading set-up
        # (a package the submission's uid cannot read): held for the TA, never exported as a zero
        return "grader error"
    return "graded"


def _summary(status: Status, tests: list[TestResult], run: ChildRun) -> str:
    counts: dict[str, int] = {}
    for t in tests:
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    parts = ", ".join(f"{n} {o}" for o, n in counts.items())
    if not tests and status != "timed out":
        return "Internal grading error: no tests could be collected; this is not your fault."
    return f"{status}: {parts}" if parts else status


def build_result(
    spec: AssignmentSpec, name: str, sha256: str, run: ChildRun, metadata: dict[str, Any],
    *, original_name: str = "", fingerprint: str = "", staging_s: float = 0.0,
) -> SubmissionResult:  # fmt: skip
    """Assemble a `SubmissionResult` from a finished (or killed) child's events; `execution_time` counts staging too."""
    collected_event = next((e for e in run.events if e.get("event") == "collected"), None)
    tests = _test_results(spec, run, collected_event["tests"] if collected_event else [])
    recorded = {str(e.get("key")): e.get("value") for e in run.events if e.get("event") == "record"}
    questions = _questions(spec, tests)
    status = _status(run, tests, collected_event is not None)
    return SubmissionResult(
        submission=name, original_name=original_name or name, assignment=spec.id, assignment_version=spec.version,
        submission_sha256=sha256, grading_fingerprint=fingerprint, status=status,
        score=round(sum(q.score for q in questions), 4), max_score=spec.max_points,
        execution_time=round(staging_s + run.wall_s, 3), output=_summary(status, tests, run), tests=tests,
        questions=questions, metadata={**metadata, **recorded},
    )  # fmt: skip


def error_result(
    spec: AssignmentSpec, name: str, message: str, status: Status = "errored",
    *, original_name: str = "", fingerprint: str = "", execution_time: float = 0.0,
) -> SubmissionResult:  # fmt: skip
    """Return a zero-score result for a submission that could not be graded at all."""
    questions = [QuestionResult(id=q.id, title=q.title, score=0.0, max_score=q.points) for q in spec.questions]
    return SubmissionResult(
        submission=name, original_name=original_name or name, assignment=spec.id, assignment_version=spec.version,
        grading_fingerprint=fingerprint, status=status, score=0.0, max_score=spec.max_points,
        execution_time=round(execution_time, 3), output=message, questions=questions,
    )  # fmt: skip
