"""Turn an engine result into otter's grading results: one otter test file per question, one test case per test.

Only otter's own classes are used (`ExceptionTestFile`, `TestCase`, `TestCaseResult`), so the
`results.pkl` that `otter grade` reads back on the TA's machine unpickles without this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograder.outcomes import PASSED
from autograder.results import QuestionResult, SubmissionResult, TestResult

if TYPE_CHECKING:
    from otter.test_files import GradingResults
    from otter.test_files.exception_test import ExceptionTestFile

PUBLIC = "visible"
PUBLIC_NOTE = "The Public Tests entry covers the public tests only; each question's own entry has the result of every test."


def case_message(test: TestResult) -> str:
    """Return a test case's message: the outcome on the first line, then the engine's feedback."""
    feedback = test.output.strip()
    return f"{test.outcome}\n{feedback}" if feedback else test.outcome


def _question_file(question: QuestionResult, tests: list[TestResult], summary: str) -> ExceptionTestFile:
    """Return one question as an otter test file whose cases are its tests, scored as the engine scored it."""
    from otter.test_files.abstract_test import TestCase, TestCaseResult
    from otter.test_files.exception_test import ExceptionTestFile

    weight = sum(t.max_score for t in tests)
    cases, outcomes = [], []
    for t in tests:
        points = question.max_score * t.max_score / weight if weight else 0.0
        cases.append(TestCase(name=t.name, body=None, hidden=t.visibility != PUBLIC, points=points, success_message=None, failure_message=None))
        outcomes.append(TestCaseResult(test_case=cases[-1], message=case_message(t), passed=t.outcome == PASSED))
    if not cases or not weight:  # nothing ran (an unreadable submission): one failing case carries the points and the reason
        cases = [TestCase(name=question.id, body=None, hidden=False, points=question.max_score, success_message=None, failure_message=None)]
        outcomes = [TestCaseResult(test_case=cases[0], message=summary, passed=False)]
    file = ExceptionTestFile(question.id, question.id, cases, all_or_nothing=False)
    file.test_case_results = outcomes
    file.update_score(question.score)  # the engine's score, not a sum of rounded case points
    return file


def fill_otter_results(results: GradingResults, result: SubmissionResult) -> None:
    """Replace what otter graded (nothing: the entry notebook is empty) with the engine's result, question by question."""
    results.clear_results()
    for question in result.questions:
        tests = [t for t in result.tests if t.question == question.id]
        results.results[question.id] = _question_file(question, tests, result.output)
    results.set_output(f"{result.output}\n{PUBLIC_NOTE}")
