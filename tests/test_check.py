"""`autograder check`: exit codes, hidden-only questions, and `--submission` read as `grade` reads it."""

import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autograder import check as check_module
from autograder.check import HIDDEN_ONLY, MissingExtra, check
from autograder.cli import app
from autograder.course import find_assignment
from autograder.release import DISTRIBUTION, build_handout
from tests.conftest import REPO

FIXTURE_COURSE = REPO / "tests" / "fixtures" / "course"


@pytest.fixture
def fake_wheel(tmp_path) -> Path:
    path = tmp_path / "wheel" / f"{DISTRIBUTION.replace('-', '_')}-0-py3-none-any.whl"
    path.parent.mkdir()
    path.write_bytes(b"the handout's text is all these tests read")
    return path


def _handout(assignment_id: str, root: Path, tmp_path: Path, wheel: Path) -> Path:
    with zipfile.ZipFile(build_handout(find_assignment(assignment_id, root), tmp_path / "dist", wheel)) as zf:
        zf.extractall(tmp_path / "student")
    return tmp_path / "student" / assignment_id


def _solve(handout: Path, assignment_id: str, root: Path = REPO) -> None:
    for path in (root / "solutions" / assignment_id).glob("*.py"):
        shutil.copy(path, handout / path.name)


def _zip(path: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, src in members.items():
            zf.write(src, name)
    return path


def _cli(*args: str):
    return CliRunner().invoke(app, ["check", *args], env={"COLUMNS": "200"})


@pytest.fixture
def a0(tmp_path, fake_wheel) -> Path:
    return _handout("a0_trivial", FIXTURE_COURSE, tmp_path, fake_wheel)


def test_check_exits_1_while_a_public_test_fails_and_names_hidden_only_questions(a0):
    run = _cli("--folder", str(a0))
    assert run.exit_code == 1, run.output
    assert "not attempted" in run.output
    assert f"{HIDDEN_ONLY} (3)" in run.output  # q2_mul has no public test: never "0 / 3" with no word why
    assert "0 / 3" not in run.output
    assert "No public test for q2_mul" in run.output


def test_check_exits_0_when_every_public_test_passes(a0):
    _solve(a0, "a0_trivial", FIXTURE_COURSE)
    run = _cli("--folder", str(a0))
    assert run.exit_code == 0, run.output
    assert "1 / 1" not in run.output and "2 / 2" in run.output  # the question's points, scaled from its public tests


def test_check_report_knows_its_hidden_only_questions_and_exit_code(a0):
    report = check(folder=a0)
    assert report.hidden_only == ["q2_mul"] and report.exit_code == 1
    assert [t.outcome for t in report.failed] == ["not attempted"]


def test_check_stages_only_the_top_of_the_folder_never_a_venv_inside_it(a0):
    _solve(a0, "a0_trivial", FIXTURE_COURSE)
    venv = a0 / ".venv" / "lib"
    venv.mkdir(parents=True)
    for i in range(3000):  # more files than a submission may hold
        (venv / f"m{i}.py").write_text("x = 1\n")
    report = check(folder=a0)
    assert report.exit_code == 0 and report.staged_files == ["arith.py"]


def test_check_submission_reads_a_wrong_case_file_as_grade_does(a0, tmp_path):
    _solve(a0, "a0_trivial", FIXTURE_COURSE)
    submission = _zip(tmp_path / "mine.zip", {"ARITH.py": a0 / "arith.py"})
    (a0 / "arith.py").write_text("def add(a, b):\n    return a - b\n")  # the folder's own copy is not what is checked
    run = _cli("--folder", str(a0), "--submission", str(submission))
    assert run.exit_code == 0, run.output
    assert "mine.zip, read as the grader reads it:" in run.output
    assert "files: arith.py" in run.output
    assert "`ARITH.py` was graded as `arith.py`" in run.output


def test_check_submission_with_none_of_the_handout_files_is_a_one_line_error(a0, tmp_path):
    submission = _zip(tmp_path / "mine.zip", {"notes.txt": a0 / "README.md"})
    run = _cli("--folder", str(a0), "--submission", str(submission))
    assert run.exit_code == 2
    assert "holds none of the handout files (arith.py)" in run.output


def test_check_submission_names_a_missing_file_and_fails(tmp_path, fake_wheel):
    handout = _handout("a1_mlp_numpy", REPO, tmp_path, fake_wheel)
    _solve(handout, "a1_mlp_numpy")
    members = {p.name: p for p in handout.glob("*.py") if p.name not in ("train.py", "conftest.py")}
    submission = _zip(tmp_path / "a1.zip", members)
    run = _cli("--folder", str(handout), "--submission", str(submission))
    assert run.exit_code == 1, run.output
    assert "missing: train.py." in run.output
    assert "files: init.py, layers.py, mlp.py, optim.py" in run.output
    assert "written answers: none" in run.output


def test_check_submission_counts_the_notebooks_written_answers(tmp_path, fake_wheel):
    import nbformat

    handout = _handout("a1_mlp_numpy", REPO, tmp_path, fake_wheel)
    _solve(handout, "a1_mlp_numpy")
    nb = nbformat.read(handout / "a1_mlp_numpy.ipynb", as_version=4)
    next(c for c in nb.cells if c.metadata.get("answer_id") == "a1_w2_adagrad").source = "It shrinks."
    nbformat.write(nb, handout / "a1_mlp_numpy.ipynb")
    members = {p.name: p for p in handout.glob("*") if p.suffix in (".py", ".ipynb") and p.name != "conftest.py"}
    report = check(folder=handout, submission=_zip(tmp_path / "a1.zip", members))
    assert report.exit_code == 0 and report.missing == []
    assert report.written_answers["a1_w2_adagrad"] == "It shrinks." and report.written_answers["a1_w1_rule_speed"] == ""
    assert report.hidden_only == ["q6_accuracy"]


def test_check_a_torch_assignment_without_torch_names_the_extra(monkeypatch):
    monkeypatch.setattr(check_module, "_installed", lambda module: module != "torch")
    with pytest.raises(MissingExtra, match=rf"pip install '{DISTRIBUTION}\[torch\]'"):
        check(folder=FIXTURE_COURSE / "assignments" / "a0_torch")
    run = _cli("--folder", str(FIXTURE_COURSE / "assignments" / "a0_torch"))
    assert run.exit_code == 2 and "PyTorch is not installed" in run.output


def test_where_tests_and_student_share_a_process_it_is_seeded_once_per_test_with_the_students_seed(a0):
    import random

    from autograder.referee.plugin import seed_of_test

    (a0 / "arith.py").write_text("import random\n\ndef add(a, b):\n    raise ValueError(f'drew {random.random()!r}')\n")
    report = check(folder=a0)
    output = next(t.output for t in report.result.tests if t.name.endswith("::test_add_small"))
    random.seed(seed_of_test(0, "student", "public/test_public.py::test_add_small"))
    assert f"drew {random.random()!r}" in output, output
