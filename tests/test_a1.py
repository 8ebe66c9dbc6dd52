"""Assignment 1 as a whole: stubs in sync, solution full marks, stubs zero, samples, handout."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from autograder.course import find_assignment
from autograder.grade import expand_sources, grade_batch
from autograder.release import build_handout
from autograder.validate import compare_stubs, validate
from tests.conftest import REPO

A1 = find_assignment("a1_mlp_numpy", REPO)


def test_stubs_match_the_solution_in_names_signatures_and_docstrings():
    assert compare_stubs(A1) == []


def test_every_stub_region_ends_in_not_implemented():
    for path in A1.template.glob("*.py"):
        text = path.read_text()
        assert "NotImplementedError(" in text, path.name
        assert "pass  # YOUR CODE" not in text and "= None  # YOUR CODE" not in text


def test_the_untouched_stub_sample_is_the_handout():
    sample = REPO / "examples" / "submissions" / "a1_mlp_numpy" / "mia_untouched_stub"
    for file in A1.spec.student_files:
        assert (sample / file).read_text() == (A1.template / file).read_text(), file


@pytest.mark.slow
def test_validate_solution_full_marks_and_stubs_zero_not_attempted():
    report = validate(A1)
    assert report.problems == []
    assert report.solution.score == report.solution.max_score == 100
    assert report.template.score == 0
    assert {t.outcome for t in report.template.tests if t.max_score} == {"not attempted"}
    assert report.solution.metadata["dataset"] in {"mnist-offline", "mnist-full"}


@pytest.mark.slow
def test_sample_submissions_score_as_expected(tmp_path):
    folder = REPO / "examples" / "submissions" / "a1_mlp_numpy"
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    results = grade_batch(A1, expand_sources([folder], each=True), tmp_path, workers=2)
    got = {r.submission: r for r in results}
    assert set(got) == set(expected)
    for name, want in expected.items():
        r = got[name]
        failing = sorted(t.name for t in r.tests if t.outcome != "passed")
        assert (name, r.status, r.score, failing) == (name, want["status"], want["score"], sorted(want["failing"]))


def _handout(tmp_path: Path) -> Path:
    with zipfile.ZipFile(build_handout(A1, tmp_path / "dist")) as zf:
        zf.extractall(tmp_path / "student")
    return tmp_path / "student" / A1.id


@pytest.mark.slow
def test_plain_pytest_works_in_the_handout(tmp_path):
    handout = _handout(tmp_path)
    run = lambda: subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=handout, capture_output=True, text=True)
    stubbed = run()
    assert stubbed.returncode == 1 and "NotImplementedError" in stubbed.stdout
    for path in A1.solution.glob("*.py"):
        shutil.copy(path, handout / path.name)
    solved = run()
    assert solved.returncode == 0, solved.stdout[-3000:]
    assert "passed" in solved.stdout


@pytest.mark.slow
def test_autograder_check_reports_points_per_question_in_the_handout(tmp_path):
    handout = _handout(tmp_path)
    cli = [sys.executable, "-m", "autograder.cli"]
    out = subprocess.run([*cli, "check"], cwd=handout, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 1, out.stderr  # the stubs fail the public tests
    assert "q1_layers" in out.stdout and "not attempted" in out.stdout


@pytest.mark.slow
def test_handout_notebook_runs_against_the_reference(tmp_path):
    import nbclient
    import nbformat

    work = tmp_path / "nb"
    shutil.copytree(A1.solution, work)
    notebook = A1.template / f"{A1.id}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    env = {"A1_EPOCHS": "1", "A1_N_TRAIN": "500", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
