"""The result of grading: per test, per question and per submission; plain pydantic models."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from autograder import __version__

Outcome = Literal["passed", "failed", "errored", "not attempted", "timed out", "crashed", "grader error"]
Status = Literal["graded", "errored", "timed out", "crashed", "grader error"]

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


