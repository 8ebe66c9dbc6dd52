"""Rosters as LMSs export them, and matching the students a download names to their rows."""

import pytest

from autograder.intake.roster import Roster, RosterError, Student, name_key, read_roster

CANVAS = """\
Student,ID,SIS User ID,SIS Login ID,Section,A1 (4242)
    Points Possible,,,,,100
"Doe, Jane",1234,S-001,jdoe,Section 1,
"Smith, Bob",2345,S-002,bsmith,Section 1,
"Student, Test",9999,,,Section 1,
"""
MOODLE = """\
Identifier,Full name,Email address,Status,Grade,Maximum Grade
Participant 10001,Alice Correct,alice@uni.edu,Submitted for grading,,100.00
Participant 10002,Mia Stub,mia@uni.edu,No submission,,100.00
"""
GRADESCOPE = """\
First Name;Last Name;SID;Email;Role;Sections
Alice;Correct;900001;alice@uni.edu;Student;
Tom;Assistant;;tom@uni.edu;TA;
Mia;Stub;900002;mia@uni.edu;Student;
"""


def _roster(tmp_path, text: str, name: str = "roster.csv") -> Roster:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # Excel's BOM
    return read_roster(path)


def test_a_canvas_gradebook_export_is_a_roster_without_its_points_row_or_test_student(tmp_path):
    roster = _roster(tmp_path, CANVAS)
    assert [(s.name, s.lms_id, s.sis_id, s.login, s.section) for s in roster.students] == [
        ("Doe, Jane", "1234", "S-001", "jdoe", "Section 1"),
        ("Smith, Bob", "2345", "S-002", "bsmith", "Section 1"),
    ]


def test_a_moodle_worksheet_gives_participant_ids_and_a_gradescope_roster_only_students(tmp_path):
    moodle = _roster(tmp_path, MOODLE)
    assert [(s.lms_id, s.name, s.email) for s in moodle.students] == [("10001", "Alice Correct", "alice@uni.edu"), ("10002", "Mia Stub", "mia@uni.edu")]
    gradescope = _roster(tmp_path, GRADESCOPE, "gs.csv")
    assert [(s.name, s.sis_id) for s in gradescope.students] == [("Alice Correct", "900001"), ("Mia Stub", "900002")]


def test_download_identities_find_their_rows(tmp_path):
    canvas = _roster(tmp_path, CANVAS)
    assert canvas.find_student(Student(lms_id="1234", login="doejane")).name == "Doe, Jane"
    assert canvas.find_student(Student(login="smithbob")).name == "Smith, Bob"  # Canvas's file-name login is the sortable name
    assert canvas.find_student(Student(login="jdoe")).lms_id == "1234"
    assert canvas.find_student(Student(login="S-002")).login == "bsmith"  # a folder named after the SIS id
    assert canvas.find_student(Student(lms_id="7777")) is None
    moodle = _roster(tmp_path, MOODLE, "m.csv")
    assert moodle.find_student(Student(name="Mia Stub", lms_id="10002")).email == "mia@uni.edu"
    assert moodle.find_student(Student(login="alice")).name == "Alice Correct"  # email's local part


def test_names_find_rows_and_an_ambiguous_name_is_refused(tmp_path):
    roster = Roster([Student(name="Jane Doe", login="jdoe"), Student(name="Jane Doe", login="jdoe2"), Student(name="Bob Smith", sis_id="7")])
    assert roster.find("bob_smith_7_attempt")[0].name == "Bob Smith"
    found, why = roster.find("Jane Doe")
    assert found is None and "matches 2 of them" in why
    assert roster.match([Student(login="jdoe2")], "whatever")[0].login == "jdoe2"
    assert roster.match([], "nobody")[1] == "no roster entry matches `nobody`"
    assert name_key("Doe, Jane") == name_key("Jane Doe") == name_key("doejane") == "doejane"


def test_a_duplicate_row_is_ignored_with_a_warning(tmp_path):
    roster = _roster(tmp_path, "email,name\na@x.edu,A\nA@X.edu,A again\nb@x.edu,B\n")
    assert [s.name for s in roster.students] == ["A", "B"]
    assert roster.warnings == ["A again: email `A@X.edu` is also on the row of A; this row was ignored"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("colour,size\nred,3\n", "no column that identifies a student"), ("email\n", "no students")],
)
def test_an_unusable_roster_is_one_clear_error(tmp_path, text, message):
    with pytest.raises(RosterError, match=message):
        _roster(tmp_path, text)
    with pytest.raises(RosterError, match="no such roster"):
        read_roster(tmp_path / "absent.csv")


def test_identities_round_trip_through_result_metadata():
    s = Student(name="Jane", lms_id="1", email="j@x.edu")
    assert s.as_metadata() == {"name": "Jane", "lms_id": "1", "email": "j@x.edu"}
    assert Student.from_metadata({**s.as_metadata(), "extra": 1}) == s and Student.from_metadata("junk") == Student()
