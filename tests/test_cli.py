import zipfile

import pytest
from typer.testing import CliRunner

from autograder.cli import app
from tests.conftest import FIXTURE_COURSE, REPO

runner = CliRunner()
COMMANDS = ["list", "validate", "check", "grade", "release", "data", "strength", "calibrate", "build", "report", "export", "upload"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.split()) > 15


def test_list_shows_a1():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0 and "a1_mlp_numpy" in result.output


def test_unknown_assignment_names_the_choices():
    result = runner.invoke(app, ["grade", "a9_nothing", "x", "--out", "/tmp/never"])
    assert result.exit_code == 2
    assert "a9_nothing" in result.output and "a1_mlp_numpy" in result.output


def test_missing_submission_path_is_reported(tmp_path):
    result = runner.invoke(app, ["grade", "a1", str(tmp_path / "ghost"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no such submission" in result.output


def test_grade_and_validate_on_the_fixture_course(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_COURSE", str(FIXTURE_COURSE))
    sol = FIXTURE_COURSE / "solutions" / "a0_trivial"
    result = runner.invoke(app, ["grade", "a0_tr", str(sol), "--out", str(tmp_path), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "grades.csv").is_file() and (tmp_path / "a0_trivial.json").is_file()
    assert runner.invoke(app, ["validate", "a0_tr"]).exit_code == 0


def test_release_holds_stubs_public_tests_and_conftest_but_no_answers(tmp_path):
    result = runner.invoke(app, ["release", "a1_mlp_numpy", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = zipfile.ZipFile(tmp_path / "a1_mlp_numpy-handout.zip").namelist()
    assert "a1_mlp_numpy/layers.py" in names and "a1_mlp_numpy/conftest.py" in names
    assert "a1_mlp_numpy/assignment.yaml" in names and "a1_mlp_numpy/a1_mlp_numpy.ipynb" in names
    assert any(n.startswith("a1_mlp_numpy/tests/public/") for n in names)
    assert not any("hidden" in n or "solution" in n for n in names)
    with zipfile.ZipFile(tmp_path / "a1_mlp_numpy-handout.zip") as zf:
        handout = {n: zf.read(n) for n in names}
    for sol in (REPO / "solutions" / "a1_mlp_numpy").glob("*.py"):
        assert handout[f"a1_mlp_numpy/{sol.name}"] != sol.read_bytes()
        assert b"NotImplementedError" in handout[f"a1_mlp_numpy/{sol.name}"]


def test_data_lists_datasets_and_where_they_are_looked_for(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_DATA", str(tmp_path))
    result = runner.invoke(app, ["data"])
    assert result.exit_code == 0 and "mnist" in result.output


def test_an_error_message_keeps_its_square_brackets_and_stays_on_one_line(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    result = CliRunner().invoke(app, ["grade", "no_such_assignment_[x]_with_a_rather_long_name", "sub"])
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == 2 and len(lines) == 1 and "[x]" in lines[0]


def test_version_prints_the_installed_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("autograder ") and result.output.strip() != "autograder"


def test_grade_refuses_an_out_that_is_a_file_and_zero_workers(tmp_path):
    sol = FIXTURE_COURSE / "solutions" / "a0_trivial"
    out = tmp_path / "results.csv"
    out.write_text("mine")
    result = runner.invoke(app, ["grade", "a1_mlp_numpy", str(sol), "--out", str(out), "--unconfined"])
    assert result.exit_code == 2 and "is a file" in result.output and out.read_text() == "mine"
    result = runner.invoke(app, ["grade", "a1_mlp_numpy", str(sol), "--out", str(tmp_path / "o"), "-j", "0"])
    assert result.exit_code == 2 and "--workers" in result.output and not (tmp_path / "o").exists()
