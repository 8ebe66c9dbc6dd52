"""Write the short feedback an LMS shows next to a grade: the score, points per question, the first problem."""

from __future__ import annotations

from autograder.intake.names import truncate
from autograder.results import SubmissionResult, TestResult
from autograder.results.lateness import final_score, late_from_metadata

MAX_MESSAGE_CHARS = 300  # the first failure's message, in the comment
MAX_COMMENT_CHARS = 1500


def points(value: float) -> str:
    """Return a score as a plain decimal (at most 4 places, never an exponent): `7.5`, `10`, `0.0001`."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _first_problem(tests: list[TestResult]) -> str:
    """Describe the first test that lost points and that the student may see; count the hidden ones."""
    lost = [t for t in tests if t.outcome != "passed"]
    shown = [t for t in lost if t.visibility != "hidden"]
    parts = []
    if shown:
        t = shown[0]
        first_line = next((line.strip() for line in t.output.splitlines() if line.strip()), "")
        message = truncate(first_line, MAX_MESSAGE_CHARS).replace("\n", " ")
        parts.append(f"First problem: {t.name.rsplit('::', 1)[-1]} ({t.outcome})" + (f": {message}" if message else "."))
    if len(lost) > len(shown):
        parts.append(f"{len(lost) - len(shown)} hidden test(s) did not pass.")
    return " ".join(parts)


def feedback_summary(result: SubmissionResult) -> str:
    """Return a few sentences for the student: total, each question's points, the first visible failure."""
    late = late_from_metadata(result.metadata)
    final = final_score(result.score, late)
    head = f"{result.assignment}: {points(final)}/{points(result.max_score)}"
    if late and late.penalty > 0:
        head += f" after a {late.penalty:.0%} late penalty ({points(result.score)} before)"
    if result.status != "graded":
        head += f" ({result.status}: {truncate(' '.join(result.output.split()), MAX_MESSAGE_CHARS)})"
    questions = "; ".join(f"{q.title or q.id} {points(q.score)}/{points(q.max_score)}" for q in result.questions)
    text = ". ".join(p for p in (head, questions) if p) + "."
    problem = _first_problem(result.tests)
    return truncate(f"{text} {problem}".strip(), MAX_COMMENT_CHARS)
