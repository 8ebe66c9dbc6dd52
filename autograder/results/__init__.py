"""Results: models, scoring from a referee's events, and the store of result files."""

from autograder.results.models import QuestionResult, Status, SubmissionResult, TestResult
from autograder.results.scoring import build_result, error_result
from autograder.results.store import read_result, write_result

__all__ = ["QuestionResult", "Status", "SubmissionResult", "TestResult", "build_result", "error_result", "read_result", "write_result"]
