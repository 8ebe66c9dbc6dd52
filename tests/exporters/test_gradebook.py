import csv
import os

from autograder.exporters.gradebook import write_gradebook
from autograder.results import error_result

NAMES = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "bob\nsmith,forged,5,5,100.0,graded", os.fsdecode(b"caf\xe9"), "alice"]


def test_every_name_is_one_inert_row(trivial, tmp_path):
    results = [error_result(trivial.spec, name, "x", original_name=name) for name in NAMES]
    path = write_gradebook(trivial.spec, results, tmp_path / "grades.csv")
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert len(rows) == 1 + len(NAMES) and all(len(r) == len(rows[0]) for r in rows)
    cells = [r[0] for r in rows[1:]]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert not [c for c in cells if "\n" in c or "\r" in c]
    assert "\n".join(path.read_text(encoding="utf-8").splitlines()).count("forged") == 1
    assert not list(tmp_path.glob(".*.tmp"))


# ---------------------------------------------------------------- rows per student, late penalties, why

from autograder.exporters.gradebook import gradebook_rows, roster_view, why  # noqa: E402
from autograder.intake.roster import Roster, Student  # noqa: E402
from autograder.results import QuestionResult, SubmissionResult, TestResult  # noqa: E402
from autograder.spec import AssignmentSpec  # noqa: E402

LATE_SPEC_FIELDS = {"due": "2026-03-01T23:59:00-05:00", "late_penalty": {"per_day": 0.1, "max_days": 5}}


def _result(spec, name, outcomes, students=(), late=None, submitted_at=None, status="graded"):
    """A result of `spec` whose tests end as `outcomes` (list of (question, outcome, output))."""
    tests = [TestResult(name=f"hidden/t.py::t{i}", question=q, score=1.0 if o == "passed" else 0.0, max_score=1.0,
                        status="passed" if o == "passed" else "failed", outcome=o, output=out) for i, (q, o, out) in enumerate(outcomes)]  # fmt: skip
    questions = []
    for q in spec.questions:
        mine = [t for t in tests if t.question == q.id]
        questions.append(QuestionResult(id=q.id, title=q.title, score=q.points * sum(t.score for t in mine) / len(mine) if mine else 0, max_score=q.points))
    metadata = {"students": [s.as_metadata() for s in students]}
    if late:
        metadata["late"] = late
    if submitted_at:
        metadata["submitted_at"] = submitted_at
    return SubmissionResult(submission=name, assignment=spec.id, assignment_version=spec.version, status=status,
                            score=sum(q.score for q in questions), max_score=spec.max_points, execution_time=1.0,
                            tests=tests, questions=questions, metadata=metadata)  # fmt: skip


def _spec(trivial, **fields):
    return AssignmentSpec.model_validate({**trivial.spec.model_dump(mode="json"), **fields})


def test_why_names_the_one_problem_that_cost_the_points(trivial):
    spec = trivial.spec
    torch = "arith.py:1 imports `torch`; this assignment allows none of torch. Remove the import and write it with NumPy.\nNo test can award points until it is removed."
    syntax = 'Importing your `arith.py` failed:\n  File "arith.py", line 3\n    def mul(a, b)\n                 ^\nSyntaxError: expected \':\''
    stub = "Not attempted: `add` still raises NotImplementedError. Fill in the marked region."
    assert why(spec, _result(spec, "a", [("q1_add", "failed", torch), ("q2_mul", "failed", torch)])) == "forbidden import: torch"
    assert why(spec, _result(spec, "b", [("q1_add", "passed", ""), ("q2_mul", "errored", syntax)])) == "syntax error in arith.py (line 3)"
    assert why(spec, _result(spec, "c", [("q1_add", "not attempted", stub), ("q2_mul", "not attempted", stub.replace("add", "mul"))])) == (
        "not attempted: every function is still the handout's stub"
    )
    assert why(spec, _result(spec, "d", [("q1_add", "passed", ""), ("q2_mul", "failed", "wrong")])) == "lost points in q2_mul"
    assert why(spec, _result(spec, "e", [("q1_add", "passed", ""), ("q2_mul", "passed", "")])) == "all tests passed"
    unreadable = error_result(spec, "f", "Your submission could not be read: f.zip is not a valid zip file. Re-create it.")
    assert why(spec, unreadable) == "f.zip is not a valid zip file."


def test_a_late_submission_shows_raw_and_final_scores_and_why(trivial):
    spec = _spec(trivial, **LATE_SPEC_FIELDS)
    late = {"days": 2, "minutes": 2000.0, "penalty": 0.2, "source_of_time": "Gradescope :created_at:"}
    r = _result(spec, "jane", [("q1_add", "passed", ""), ("q2_mul", "passed", "")], late=late, submitted_at="2026-03-03T09:00:00-05:00")
    header, row = gradebook_rows(spec, [r])
    cells = dict(zip(header, row, strict=True))
    assert (cells["raw"], cells["late_days"], cells["late_penalty"], cells["total"], cells["percent"]) == ("5", "2", "0.2", "4", "80.0")
    assert cells["why"] == "all tests passed; late 2 days: -20%" and cells["submitted_at"] == "2026-03-03T09:00:00-05:00"


def test_with_a_roster_every_student_has_one_row_and_the_missing_are_marked(trivial):
    spec = trivial.spec
    roster = Roster([Student(name="Doe, Jane", lms_id="1234"), Student(name="Smith, Bob", lms_id="2345"), Student(name="Lee, Ann", lms_id="3456")])
    passed = [("q1_add", "passed", ""), ("q2_mul", "passed", "")]
    jane_old = _result(spec, "doejane", passed, [Student(lms_id="1234", login="doejane")], submitted_at="2026-03-01T10:00:00+00:00")
    jane_new = _result(spec, "jane_resubmitted", passed, [Student(lms_id="1234")], submitted_at="2026-03-02T10:00:00+00:00")
    stranger = _result(spec, "zed", passed, [Student(lms_id="9999", login="zed")])
    group = _result(spec, "pair", passed, [Student(lms_id="2345"), Student(lms_id="3456")])
    rows = gradebook_rows(spec, [jane_old, jane_new, stranger, group], roster)
    by_student = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert list(by_student) == ["Doe, Jane", "Smith, Bob", "Lee, Ann"]  # exactly the roster, in its order
    assert by_student["Doe, Jane"]["submission"] == "jane_resubmitted" and "also submitted: doejane" in by_student["Doe, Jane"]["why"]
    assert by_student["Smith, Bob"]["submission"] == by_student["Lee, Ann"]["submission"] == "pair"
    view = roster_view(roster, [stranger])
    assert [s.name for s in view.missing] == ["Doe, Jane", "Smith, Bob", "Lee, Ann"] and view.unmatched[0][0] is stranger
    missing = dict(zip(rows[0], gradebook_rows(spec, [], roster)[1], strict=True))
    assert (missing["status"], missing["total"], missing["why"]) == ("missing", "0", "no submission in this batch")


def test_why_names_missing_files_and_the_choice_made_among_candidates(trivial):
    spec = trivial.spec
    r = _result(spec, "a", [("q1_add", "passed", ""), ("q2_mul", "passed", "")])
    r.metadata["notes"] = ["missing files: optim.py", "2 folders hold the handout files (`a1/final/`, `a1/draft/`); graded `a1/final/`. Submit only one copy."]
    r.metadata["intake_notes"] = ["2 zips were handed in (a.zip, b.zip); graded b.zip, the newest"]
    assert why(spec, r) == (
        "all tests passed; missing files: optim.py; 2 folders hold the handout files (`a1/final/`, `a1/draft/`); graded `a1/final/`"
    )
