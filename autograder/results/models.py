"""The result of grading: per test, per question and per submission; plain pydantic models.

Every string that reaches a result is made valid UTF-8 and capped here, by validators, so a
result can always be written and its file stays under `MAX_RESULT_BYTES` whatever a
submission printed or raised.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from autograder import __version__
from autograder.intake.names import clean_text, file_stem, truncate

Outcome = Literal["passed", "failed", "errored", "not attempted", "timed out", "crashed", "grader error"]
Status = Literal["graded", "errored", "timed out", "crashed", "grader error"]

MAX_RESULT_BYTES = 1_000_000 - 50_000  # the file stays under 1 MB, with room to spare
MAX_FEEDBACK_CHARS = 8_000  # one test's output, or the summary above the tests
MAX_TEXT_CHARS = 2_000  # any other string: names, metadata values
MAX_LIST_ITEMS = 200  # a list in the metadata (notes, skipped files)
SMALLEST_FEEDBACK_CHARS = 120


def _text(limit: int) -> AfterValidator:
    return AfterValidator(lambda s: clean_text(s, limit))


Text = Annotated[str, _text(MAX_TEXT_CHARS)]
Feedback = Annotated[str, _text(MAX_FEEDBACK_CHARS)]


def clean_value(value: Any) -> Any:
    """Return `value` with every string valid UTF-8 and capped, lists and dicts bounded (for metadata)."""
    if isinstance(value, str):
        return clean_text(value, MAX_TEXT_CHARS)
    if isinstance(value, dict):
        items = list(value.items())
        out = {clean_value(str(k)): clean_value(v) for k, v in items[:MAX_LIST_ITEMS]}
        if len(items) > MAX_LIST_ITEMS:
            out["[cut]"] = f"[... {len(items) - MAX_LIST_ITEMS} entries cut]"
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        cut = [f"[... {len(items) - MAX_LIST_ITEMS} items cut]"] if len(items) > MAX_LIST_ITEMS else []
        return [clean_value(v) for v in items[:MAX_LIST_ITEMS]] + cut
    return value


class TestResult(BaseModel):
    """One test's result; the fields are a superset of a Gradescope `tests[]` entry."""

    __test__ = False  # not a pytest test class

    name: Text = Field(description="Test id relative to the tests folder, e.g. `hidden/test_layers.py::test_x`.")
    question: Text | None = Field(default=None, description="Question id the test belongs to.")
    score: float
    max_score: float
    status: Literal["passed", "failed"] = Field(description="Gradescope's two-valued status.")
    outcome: Outcome = Field(description="What happened, one of the seven grading outcomes.")
    output: Feedback = Field(default="", description="Feedback for the student, capped with a visible note.")
    visibility: Text = "visible"
    duration_s: float = 0.0

    def __repr__(self) -> str:
        return f"TestResult({self.name!r}, {self.outcome}, {self.score:g}/{self.max_score:g})"


class QuestionResult(BaseModel):
    """Points for one question of the spec."""

    id: Text
    title: Text
    score: float
    max_score: float

    def __repr__(self) -> str:
        return f"QuestionResult({self.id!r}, {self.score:g}/{self.max_score:g})"


class SubmissionResult(BaseModel):
    """A graded submission; top-level fields are a superset of Gradescope's results.json."""

    submission: Text = Field(description="The submission's name, safe as a file name: `OUT/<submission>.json`.")
    original_name: Text = Field(
        default="", description="The name as handed in (file or folder name), undecodable bytes shown as `\\xNN`."
    )
    assignment: Text
    assignment_version: Text
    submission_sha256: Text = ""
    grading_fingerprint: Text = Field(
        default="", description="sha256 over the spec, tests, reference, data source and engine; a rerun reuses a result only when it matches."
    )
    status: Status = Field(description="`graded` when the tests ran to the end, else why they did not.")
    score: float
    max_score: float
    execution_time: float = Field(description="Seconds the grading took, staging included.")
    output: Feedback = Field(default="", description="Summary shown above the tests.")
    tests: list[TestResult] = Field(default_factory=list)
    questions: list[QuestionResult] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict, description="Dataset, seed, device and other facts.")
    grader_version: Text = __version__
    graded_at: Text = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @field_validator("submission")
    @classmethod
    def _safe_file_name(cls, name: str) -> str:
        return file_stem(name)

    @field_validator("metadata", mode="before")
    @classmethod
    def _clean_metadata(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        return clean_value(metadata)

    @model_validator(mode="after")
    def _fit_in_a_file(self) -> SubmissionResult:
        """Shrink the longest texts until the JSON file fits in `MAX_RESULT_BYTES`."""
        limit, size = MAX_FEEDBACK_CHARS, self.json_bytes()
        while size > MAX_RESULT_BYTES and limit > SMALLEST_FEEDBACK_CHARS:
            limit //= 2
            self.output = truncate(self.output, limit)
            self.tests = [t.model_copy(update={"output": truncate(t.output, limit)}) for t in self.tests]
            size = self.json_bytes()
        if size > MAX_RESULT_BYTES:
            self.metadata = {"cut": "The metadata was too large for the result file and was left out."}
            size = self.json_bytes()
        if size > MAX_RESULT_BYTES:
            keep = max(1, len(self.tests) * MAX_RESULT_BYTES // size // 2)
            note = f"[... {len(self.tests) - keep} tests left out of this file]"
            self.output, self.tests = truncate(f"{self.output}\n{note}", MAX_FEEDBACK_CHARS), self.tests[:keep]
        return self

    def json_bytes(self) -> int:
        """Return the size of the result file this result makes."""
        return len(self.model_dump_json(indent=2).encode("utf-8"))

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.max_score if self.max_score else 0.0

    def __repr__(self) -> str:
        return f"SubmissionResult({self.submission!r}, {self.status}, {self.score:g}/{self.max_score:g})"
