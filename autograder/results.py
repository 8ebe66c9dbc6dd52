"""Turn a grading child's events into a `SubmissionResult` and write it atomically."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from autograder import __version__
from autograder.plugin import CRASHED, GRADER_ERROR, PASSED, TIMED_OUT
from autograder.sandbox import ChildRun
from autograder.spec import AssignmentSpec

Outcome = Literal["passed", "failed", "errored", "not attempted", "timed out", "crashed", "grader error"]
Status = Literal["graded", "errored", "timed out", "crashed", "grader error"]

NOT_RUN_MSG = "Not run: grading stopped during `{test}` ({why})."
WALL_MSG = "the whole grading run exceeded its {limit:g} s limit"
DIED_MSG = "the grading process ended unexpectedly ({how})"


class TestResult(BaseModel):
    """One test's result; the fields are a superset of a Gradescope `tests[]` entry."""

    __test__ = False  # not a pytest test class

    name: str = Field(description="Test id relative to the tests folder, e.g. `hidden/test_layers.py::test_x`.")
    question: str | None = Field(default=None, description="Question id the test belongs to.")
    score: float
    max_score: float
    status: Literal["passed", "failed"] = Field(description="Gradescope's two-valued status.")
    outcome: Outcome = Field(description="What happened, one of the seven grading outcomes.")
    output: str = Field(default="", description="Feedback for the student.")
    visibility: str = "visible"
    duration_s: float = 0.0

    def __repr__(self) -> str:
        return f"TestResult({self.name!r}, {self.outcome}, {self.score:g}/{self.max_score:g})"


class QuestionResult(BaseModel):
    """Points for one question of the spec."""

    id: str
    title: str
    score: float
    max_score: float

    def __repr__(self) -> str:
        return f"QuestionResult({self.id!r}, {self.score:g}/{self.max_score:g})"


class SubmissionResult(BaseModel):
    """A graded submission; top-level fields are a superset of Gradescope's results.json."""

    submission: str = Field(description="The student's submission name.")
    assignment: str
    assignment_version: str
    submission_sha256: str = ""
    status: Status = Field(description="`graded` when the tests ran to the end, else why they did not.")
    score: float
    max_score: float
    execution_time: float = Field(description="Seconds the grading took.")
    output: str = Field(default="", description="Summary shown above the tests.")
    tests: list[TestResult] = Field(default_factory=list)
    questions: list[QuestionResult] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Dataset, seed, device and other facts.")
    grader_version: str = __version__
    graded_at: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    def __repr__(self) -> str:
        return f"SubmissionResult({self.submission!r}, {self.status}, {self.score:g}/{self.max_score:g})"


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
        ok = event["outcome"] == PASSED
        results.append(TestResult(
            name=test["id"], question=q.id if q else None, score=test["points"] if ok else 0.0,
            max_score=test["points"], status="passed" if ok else "failed", outcome=event["outcome"],
            output=event.get("message", ""), visibility=visibility, duration_s=event.get("duration_s", 0.0),
        ))  # fmt: skip
    return results


def _status(run: ChildRun, tests: list[TestResult], collected: bool) -> Status:
    if run.killed_for_time:
        return "timed out"
    finished = {e["id"] for e in run.events if e.get("event") == "result"}
    if any(t.name not in finished for t in tests) or (run.returncode or 0) < 0:
        return "crashed"
    if not collected or any(t.outcome == GRADER_ERROR for t in tests):
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


def build_result(spec: AssignmentSpec, name: str, sha256: str, run: ChildRun, metadata: dict[str, Any]) -> SubmissionResult:
    """Assemble a `SubmissionResult` from a finished (or killed) child's events."""
    collected_event = next((e for e in run.events if e.get("event") == "collected"), None)
    tests = _test_results(spec, run, collected_event["tests"] if collected_event else [])
    recorded = {e["key"]: e["value"] for e in run.events if e.get("event") == "record"}
    questions = _questions(spec, tests)
    status = _status(run, tests, collected_event is not None)
    return SubmissionResult(
        submission=name, assignment=spec.id, assignment_version=spec.version, submission_sha256=sha256,
        status=status, score=round(sum(q.score for q in questions), 4), max_score=spec.max_points,
        execution_time=round(run.wall_s, 3), output=_summary(status, tests, run), tests=tests,
        questions=questions, metadata={**metadata, **recorded},
    )  # fmt: skip


def error_result(spec: AssignmentSpec, name: str, message: str, status: Status = "errored") -> SubmissionResult:
    """Return a zero-score result for a submission that could not be graded at all."""
    questions = [QuestionResult(id=q.id, title=q.title, score=0.0, max_score=q.points) for q in spec.questions]
    return SubmissionResult(
        submission=name, assignment=spec.id, assignment_version=spec.version, status=status, score=0.0,
        max_score=spec.max_points, execution_time=0.0, output=message, questions=questions,
    )  # fmt: skip


def write_result(result: SubmissionResult, out_dir: Path) -> Path:
    """Write `OUT/<submission>.json` atomically (temp file, fsync, rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{result.submission}.json"
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{result.submission}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(result.model_dump_json(indent=2))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target


def read_result(path: Path) -> SubmissionResult | None:
    """Read a result file, or None when it is missing or unreadable."""
    try:
        return SubmissionResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
