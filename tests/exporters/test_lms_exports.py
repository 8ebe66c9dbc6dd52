"""`autograder export`: Canvas and Moodle CSVs and Gradescope files, parsed back as the LMS would read them."""

import csv
import json

import pytest
from typer.testing import CliRunner

from autograder.cli import app
from autograder.exporters.canvas import HEADER as CANVAS_HEADER
from autograder.exporters.canvas import write_canvas_csv
from autograder.exporters.gradescope import write_gradescope_folders
from autograder.exporters.moodle import HEADER as MOODLE_HEADER
from autograder.exporters.moodle import write_moodle_csv
from autograder.lms.batch import read_batch
from autograder.lms.feedback import feedback_summary
from autograder.lms.roster import read_roster
from autograder.results import QuestionResult, SubmissionResult, TestResult, write_result
from autograder.results.lateness import Late

runner = CliRunner()
GRADESCOPE_TOP = {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
GRADESCOPE_TEST = {"name", "score", "max_score", "status", "output", "visibility", "number"}


def make_result(name, score, *, original_name="", status="graded", graded_at="2025-03-01T10:00:00+00:00", hidden_fail=False, metadata=None):
    """A 10-point A1 result: q1 (5 points) passed, q2 (5 points) earns `score - 5` with a visible failure message."""
    tests = [
        TestResult(name="public/test_layers.py::test_affine_forward", question="q1", score=5, max_score=5, status="passed", outcome="passed"),
        TestResult(name="hidden/test_loss.py::test_softmax_loss", question="q2", score=score - 5, max_score=5,
                   status="failed" if score < 10 else "passed", outcome="failed" if score < 10 else "passed",
                   output="`loss` differs from the reference: got 2.3 < expected 0.7.\nCheck the max-shift.", visibility="after_published"),
        TestResult(name="hidden/test_secret.py::test_secret", question="q2", score=0, max_score=0, status="failed" if hidden_fail else "passed",
                   outcome="failed" if hidden_fail else "passed", output="secret expected value 42", visibility="hidden"),
    ]  # fmt: skip
    return SubmissionResult(
        submission=name, original_name=original_name or name, assignment="a1_mlp_numpy", assignment_version="1", status=status,
        score=score, max_score=10, execution_time=1.5, output=f"{status}: 2 passed", tests=tests, graded_at=graded_at,
        questions=[QuestionResult(id="q1", title="Layers", score=5, max_score=5), QuestionResult(id="q2", title="Loss", score=score - 5, max_score=5)],
        metadata=metadata or {},
    )  # fmt: skip


@pytest.fixture
def results(tmp_path):
    """A results folder as `autograder grade` leaves it: four results, grades.csv, logs/, and one corrupt file."""
    out = tmp_path / "results"
    for r in (make_result("doejane", 7.5), make_result("zoe", 10), make_result("mallory", 5.25), make_result("bob", 6, hidden_fail=True)):
        write_result(r, out)
    (out / "grades.csv").write_text("submission,total\n", encoding="utf-8")
    (out / "logs").mkdir()
    (out / "logs" / "doejane.stderr.txt").write_text("noise", encoding="utf-8")
    (out / "broken.json").write_text('{"submission": "broken", ', encoding="utf-8")
    return out


@pytest.fixture
def roster(tmp_path):
    """A roster with liberal headers, a name with a comma, non-ASCII names, a student with no submission."""
    path = tmp_path / "roster.csv"
    rows = [
        ["LMS ID", "SIS ID", "Login", "E-mail", "Name", "Section"],
        ["1001", "S-1", "doejane", "jane.doe@uni.example", "Doe, Jane", "Lab 1"],
        ["1002", "S-2", "zoe", "zoe@uni.example", "Zoë Ångström", "Lab 2"],
        ["1003", "S-3", "bob", "bob@uni.example", "Bob «Le» Bricoleur", "Lab 1"],
        ["1004", "S-4", "absent", "al@uni.example", "Absent Al", "Lab 2"],
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _rows(path):
    return list(csv.reader(path.open(encoding="utf-8-sig", newline="")))


def test_canvas_csv_with_a_roster_is_canvas_gradebook_import_format(results, roster, tmp_path):
    report = write_canvas_csv(read_batch(results), tmp_path / "canvas.csv", read_roster(roster), title="A1: MLP, NumPy", canvas_assignment_id="4242")
    assert (tmp_path / "canvas.csv").read_bytes().startswith(b"\xef\xbb\xbfStudent,ID,")
    rows = _rows(tmp_path / "canvas.csv")
    assert rows[0] == [*CANVAS_HEADER, "A1: MLP, NumPy (4242)"] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A1: MLP, NumPy (4242)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10"]
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["1001"] == ["Doe, Jane", "1001", "S-1", "doejane", "Lab 1", "7.5"]
    assert by_id["1002"] == ["Zoë Ångström", "1002", "S-2", "zoe", "Lab 2", "10"]
    assert float(by_id["1003"][5]) == 6.0
    assert by_id[""] == ["mallory", "", "", "mallory", "", "5.25"]  # no roster entry: exported, matched by login only
    assert all(len(r) == 6 for r in rows) and report.rows == 4
    assert any("`mallory`: no roster entry matches" in w for w in report.warnings)
    assert any("no result for roster student Absent Al" in w for w in report.warnings)


def test_canvas_csv_without_a_roster_matches_by_login_and_says_so(results, tmp_path):
    report = write_canvas_csv(read_batch(results), tmp_path / "c.csv")
    rows = _rows(tmp_path / "c.csv")
    assert rows[0][-1] == "a1_mlp_numpy"  # no id: Canvas matches the title or creates the assignment
    assert ["doejane", "", "", "doejane", "", "7.5"] in rows
    assert "SIS Login ID" in report.warnings[0] and "--roster" in report.warnings[0]


def test_canvas_csv_cells_are_never_formulas(tmp_path):
    out = tmp_path / "r"
    write_result(make_result("=HYPERLINK(evil)", 5), out)
    write_canvas_csv(read_batch(out), tmp_path / "c.csv")
    cells = [c for r in _rows(tmp_path / "c.csv")[2:] for c in r[:5]]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]


def test_moodle_csv_is_the_grading_worksheet_moodle_imports(results, tmp_path):
    roster = tmp_path / "worksheet.csv"  # Moodle's own downloaded worksheet works as the roster
    roster.write_text("\ufeffIdentifier,Full name,Email address,Status,Grade\n"
                      "Participant 12345,\"Doe, Jane\",jane.doe@uni.example,Submitted,\n"
                      "Participant 12346,Zoë Ångström,zoe@uni.example,Submitted,\n", encoding="utf-8")  # fmt: skip
    renamed = tmp_path / "named"
    write_result(make_result("Doe, Jane_12345", 7.5, original_name="Doe, Jane_12345_assignsubmission_file_"), renamed)
    write_result(make_result("zoe", 10), renamed)
    write_result(make_result("nobody", 3), renamed)
    report = write_moodle_csv(read_batch(renamed), tmp_path / "m.csv", read_roster(roster))
    rows = _rows(tmp_path / "m.csv")
    assert tuple(rows[0]) == MOODLE_HEADER == ("Identifier", "Full name", "Email address", "Grade", "Maximum Grade",
                                                "Last modified (grade)", "Feedback comments")  # fmt: skip
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {"Participant 12345", "Participant 12346"} and report.rows == 2
    jane = by_id["Participant 12345"]
    assert jane[1:6] == ["Doe, Jane", "jane.doe@uni.example", "7.5", "10", "2025-03-01T10:00:00+00:00"]
    assert "Layers 5/5; Loss 2.5/5" in jane[6] and "test_softmax_loss" in jane[6] and "got 2.3 &lt; expected 0.7" in jane[6]
    assert by_id["Participant 12346"][1] == "Zoë Ångström"
    assert any("`nobody`" in w and "not exported" in w for w in report.warnings)
    assert not any("participant number (`Participant N`)" in w for w in report.warnings)


def test_moodle_csv_warns_when_the_roster_ids_may_not_be_participant_numbers(results, roster, tmp_path):
    report = write_moodle_csv(read_batch(results), tmp_path / "m.csv", read_roster(roster))
    assert "the roster's `LMS ID` column is written as Moodle's participant number" in report.warnings[0]
    assert [r[0] for r in _rows(tmp_path / "m.csv")[1:]] == ["Participant 1003", "Participant 1001", "Participant 1002"]


def test_moodle_csv_without_a_roster_reads_participant_numbers_from_download_names(tmp_path):
    out = tmp_path / "r"
    write_result(make_result("Jane Doe_12345", 8, original_name="Jane Doe_12345_assignsubmission_file_"), out)
    write_result(make_result("loose", 8), out)
    report = write_moodle_csv(read_batch(out), tmp_path / "m.csv")
    rows = _rows(tmp_path / "m.csv")
    assert [r[:4] for r in rows[1:]] == [["Participant 12345", "Jane Doe", "", "8"]]
    assert "no roster" in report.warnings[0] and any("`loose`" in w for w in report.warnings)


def test_gradescope_files_hold_exactly_gradescope_keys(results, tmp_path):
    report = write_gradescope_folders(read_batch(results), tmp_path / "gs")
    assert report.rows == 4 and sorted(p.parent.name for p in (tmp_path / "gs").glob("*/results.json")) == ["bob", "doejane", "mallory", "zoe"]
    doc = json.loads((tmp_path / "gs" / "doejane" / "results.json").read_text(encoding="utf-8"))
    assert set(doc) == GRADESCOPE_TOP and doc["score"] == 7.5
    assert all(set(t) == GRADESCOPE_TEST and t["status"] in {"passed", "failed"} for t in doc["tests"])


def test_feedback_names_the_first_visible_problem_and_hides_hidden_tests():
    text = feedback_summary(make_result("bob", 6, hidden_fail=True))
    assert text.startswith("a1_mlp_numpy: 6/10. Layers 5/5; Loss 1/5.")
    assert "test_softmax_loss (failed): `loss` differs" in text and "Check the max-shift" not in text  # first line only
    assert "1 hidden test(s) did not pass" in text and "42" not in text


def test_newest_result_wins_when_a_student_has_two(tmp_path, roster):
    out = tmp_path / "r"
    write_result(make_result("doejane", 4, graded_at="2025-03-01T10:00:00+00:00"), out)
    write_result(make_result("doejane_1001_99_layers", 9, graded_at="2025-03-02T10:00:00+00:00"), out)  # a Canvas download name
    report = write_canvas_csv(read_batch(out), tmp_path / "c.csv", read_roster(roster))
    rows = [r for r in _rows(tmp_path / "c.csv")[2:] if r[1] == "1001"]
    assert rows == [["Doe, Jane", "1001", "S-1", "doejane", "Lab 1", "9"]]
    assert any("Doe, Jane has 2 results" in w for w in report.warnings)


def test_the_students_a_download_named_match_the_roster_whatever_the_submission_is_called(tmp_path, roster):
    out = tmp_path / "r"
    write_result(make_result("final_version", 8, metadata={"students": [{"lms_id": "1002", "login": "zoe.a"}]}), out)
    report = write_canvas_csv(read_batch(out), tmp_path / "c.csv", read_roster(roster))
    assert [r for r in _rows(tmp_path / "c.csv")[2:]] == [["Zoë Ångström", "1002", "S-2", "zoe", "Lab 2", "8"]]
    assert not any("final_version" in w for w in report.warnings)


LATE = {"late": Late(days=2, minutes=2000.0, penalty=0.2, source_of_time="Gradescope :created_at:").as_metadata()}


def test_canvas_csv_sends_a_late_submissions_score_after_its_penalty(tmp_path, roster):
    out = tmp_path / "r"
    write_result(make_result("doejane", 7.5, metadata=LATE), out)
    write_result(make_result("zoe", 10), out)
    write_canvas_csv(read_batch(out), tmp_path / "c.csv", read_roster(roster))
    assert {r[3]: r[5] for r in _rows(tmp_path / "c.csv")[2:]} == {"doejane": "6", "zoe": "10"}


def test_moodle_csv_sends_a_late_submissions_score_after_its_penalty(tmp_path):
    out = tmp_path / "r"
    write_result(make_result("Jane Doe_12345", 7.5, original_name="Jane Doe_12345_assignsubmission_file_", metadata=LATE), out)
    write_moodle_csv(read_batch(out), tmp_path / "m.csv")
    assert [r[:5] for r in _rows(tmp_path / "m.csv")[1:]] == [["Participant 12345", "Jane Doe", "", "6", "10"]]


def test_canvas_gradebook_export_works_as_a_roster(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("\ufeffStudent;ID;SIS User ID;SIS Login ID;Section;A1 (7)\n"
                    "    Points Possible;;;;;10\n"
                    "\"Doe, Jane\";1001;S-1;doejane;Lab 1;\n", encoding="utf-8")  # fmt: skip
    roster = read_roster(path)
    assert [(s.lms_id, s.sis_id, s.login, s.name) for s in roster.students] == [("1001", "S-1", "doejane", "Doe, Jane")]


def test_export_command_warns_about_the_corrupt_file_and_exports_the_rest(results, roster):
    got = runner.invoke(app, ["export", str(results), "--to", "canvas-csv", "--roster", str(roster), "--canvas-assignment-id", "4242"])
    assert got.exit_code == 0, got.output
    assert "broken.json is not valid JSON" in got.output and "4 students" in got.output
    assert len(_rows(results / "canvas-grades.csv")) == 2 + 4
    for fmt, made in (("moodle-csv", "moodle-grades.csv"), ("gradescope", "gradescope/zoe/results.json")):
        assert runner.invoke(app, ["export", str(results), "--to", fmt]).exit_code == 0 and (results / made).is_file()


def test_export_command_errors_are_one_line(tmp_path):
    got = runner.invoke(app, ["export", str(tmp_path / "none"), "--to", "canvas-csv"])
    assert got.exit_code == 2 and "is not a folder of results" in got.output
    bad = tmp_path / "roster.csv"
    bad.write_text("colour,shoe size\nred,42\n", encoding="utf-8")
    write_result(make_result("x", 5), tmp_path / "r")
    got = runner.invoke(app, ["export", str(tmp_path / "r"), "--to", "canvas-csv", "--roster", str(bad)])
    assert got.exit_code == 2 and "no column that identifies a student" in got.output
    got = runner.invoke(app, ["export", str(tmp_path / "r"), "--to", "gradescope", "--out", str(bad)])
    assert got.exit_code == 2 and f"cannot write {bad}" in got.output
    got = runner.invoke(app, ["export", str(tmp_path / "r"), "--to", "moodle-csv", "--out", str(tmp_path)])
    assert got.exit_code == 0 and (tmp_path / "moodle-grades.csv").is_file()
