"""An instructor's mistake is a grader error whose real message reaches the TA, never the student's "crashed"."""

from __future__ import annotations

import shutil

import pytest

from autograder.course import find_assignment
from autograder.grade import grade_one
from autograder.validate import validate
from tests.conftest import FIXTURE_COURSE

CASES = {
    "unknown_marker": ("import pytest\n\n@pytest.mark.pointz(2)\ndef test_extra(submission):\n    assert True\n", "pointz"),
    "import_error": ("import no_such_helper_module\n\ndef test_extra(submission):\n    assert True\n", "no_such_helper_module"),
    "fixture_typo": ("def test_extra(submision):\n    assert True\n", "fixture 'submision' not found"),
}


@pytest.fixture
def broken_course(tmp_path, request):
    source, _ = CASES[request.param]
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    (course / "assignments" / "a0_trivial" / "tests" / "hidden" / "test_extra.py").write_text(source, encoding="utf-8")
    return find_assignment("a0_trivial", course), CASES[request.param][1]


@pytest.mark.parametrize("broken_course", sorted(CASES), indirect=True)
def test_instructor_mistake_is_a_grader_error_logged_for_the_ta(broken_course, tmp_path):
    assignment, real_message = broken_course
    out = tmp_path / "out"
    result = grade_one(assignment, assignment.solution, out, "student", force=True)
    assert result.status == "grader error"
    assert all(t.outcome in ("grader error", "passed") for t in result.tests)
    assert not any(t.outcome == "crashed" for t in result.tests)
    assert real_message in (out / "logs" / "student.stderr.txt").read_text()


@pytest.mark.parametrize("broken_course", ["unknown_marker"], indirect=True)
def test_validate_prints_what_pytest_said(broken_course):
    assignment, real_message = broken_course
    report = validate(assignment)
    assert not report.ok
    assert any(real_message in p for p in report.problems)
