"""Assignment 3 as a whole: stubs in sync, solution full marks, stubs zero, samples, handout, notebook."""

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
from autograder.strength.regions import student_regions
from autograder.validate import compare_stubs, validate
from tests.conftest import REPO

A3 = find_assignment("a3_cnn", REPO)


def test_stubs_match_the_solution_in_names_signatures_and_docstrings():
    assert compare_stubs(A3) == []


def test_every_stub_region_ends_in_not_implemented():
    for path in A3.template.glob("*.py"):
        text = path.read_text()
        assert text.count("YOUR CODE HERE") == text.count("NotImplementedError(") == text.count("END YOUR CODE"), path.name
        assert "pass  # YOUR CODE" not in text and "= None  # YOUR CODE" not in text


def test_the_untouched_stub_sample_is_the_handout():
    sample = REPO / "examples" / "submissions" / "a3_cnn" / "kim_untouched_stub"
    for file in A3.spec.student_files:
        assert (sample / file).read_text() == (A3.template / file).read_text(), file


def test_every_student_function_has_a_region_in_the_solution():
    regions = student_regions(A3.solution, A3.template, A3.spec.student_files)
    found = {f"{file}::{name}" for file, r in regions.items() for name in r.lines}
    assert found == {
        "conv.py::conv_output_size", "conv.py::conv_forward", "conv.py::conv_backward", "conv.py::maxpool_forward",
        "conv.py::maxpool_backward", "model.py::SmallCNN.__init__", "model.py::SmallCNN.forward", "train.py::make_optimizer",
        "train.py::augment_batch", "train.py::evaluate", "train.py::train", "train.py::compare_optimizers",
    }  # fmt: skip


def test_five_questions_share_100_points():
    spec = A3.spec
    assert spec.max_points == 100
    assert {q.id for q in spec.questions} == {"q1_conv", "q2_model", "q3_tools", "q4_loop", "q5_accuracy"}


@pytest.mark.slow
def test_validate_solution_full_marks_and_stubs_zero_not_attempted():
    report = validate(A3)
    assert report.problems == []
    assert report.warnings == []
    assert report.solution.score == report.solution.max_score == 100
    assert report.template.score == 0
    assert {t.outcome for t in report.template.tests if t.max_score} == {"not attempted"}
    assert report.solution.metadata["dataset"] in {"mnist-offline-rgb32", "cifar10"}


@pytest.mark.slow
def test_sample_submissions_score_as_expected(tmp_path):
    folder = REPO / "examples" / "submissions" / "a3_cnn"
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    results = grade_batch(A3, expand_sources([folder], each=True), tmp_path, workers=2)
    got = {r.submission: r for r in results}
    assert set(got) == set(expected)
    for name, want in expected.items():
        r = got[name]
        failing = sorted(t.name for t in r.tests if t.outcome != "passed")
        assert (name, r.status, r.score, failing) == (name, want["status"], want["score"], sorted(want["failing"]))


def _handout(tmp_path: Path) -> Path:
    with zipfile.ZipFile(build_handout(A3, tmp_path / "dist")) as zf:
        zf.extractall(tmp_path / "student")
    return tmp_path / "student" / A3.id


@pytest.mark.slow
def test_plain_pytest_works_in_the_handout(tmp_path):
    handout = _handout(tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = lambda: subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=handout, capture_output=True,
                                 text=True, env=env)  # fmt: skip
    stubbed = run()
    assert stubbed.returncode == 1 and "NotImplementedError" in stubbed.stdout
    for path in A3.solution.glob("*.py"):
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
    assert "q1_conv" in out.stdout and "not attempted" in out.stdout


@pytest.mark.slow
def test_handout_notebook_runs_against_the_reference(tmp_path):
    import nbclient
    import nbformat

    work = tmp_path / "nb"
    shutil.copytree(A3.solution, work)
    notebook = A3.template / f"{A3.id}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    env = {"A3_EPOCHS": "1", "A3_N_TRAIN": "500", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nbclient.NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(work)}}).execute()
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
