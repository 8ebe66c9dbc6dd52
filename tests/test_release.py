"""The student handout: a README from the spec, the course's wheel and requirements, notebooks that run with stubs."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import autograder
from autograder.course import find_assignment, list_assignments
from autograder.intake.answers import ANSWER_PLACEHOLDER, WRITTEN_ANSWER_TAG, written_answers, written_answers_in
from autograder.release import DISTRIBUTION, README_MARKER, REQUIREMENTS, WHEELS, build_handout, engine_wheel, missing_extra
from tests.conftest import REPO

FIXTURE_COURSE = REPO / "tests" / "fixtures" / "course"
COURSE = ["a1_mlp_numpy", "a2_autodiff", "a3_cnn"]
WHEEL_NAME = f"{DISTRIBUTION.replace('-', '_')}-{autograder.__version__}-py3-none-any.whl"


@pytest.fixture
def fake_wheel(tmp_path) -> Path:
    """A stand-in for the course's wheel, for tests that only read the handout's text."""
    path = tmp_path / "wheel" / WHEEL_NAME
    path.parent.mkdir()
    path.write_bytes(b"not a real wheel")
    return path


def _unpack(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
        top = {name.split("/")[0] for name in zf.namelist()}
    assert len(top) == 1
    return dest / top.pop()


def _handout(assignment_id: str, tmp_path: Path, wheel: Path | None = None, root: Path | None = None) -> Path:
    assignment = find_assignment(assignment_id, root or REPO)
    return _unpack(build_handout(assignment, tmp_path / "dist", wheel), tmp_path / "student")


def _course_copy(tmp_path: Path) -> Path:
    """Return a copy of the fixture course (a0_trivial only) that a test may change."""
    root = tmp_path / "course"
    for part in ("assignments", "student_templates", "solutions"):
        shutil.copytree(FIXTURE_COURSE / part / "a0_trivial", root / part / "a0_trivial", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_course_assignments_are_the_ones_these_tests_cover():
    assert set(COURSE) <= set(list_assignments(REPO))


@pytest.mark.parametrize("assignment_id", COURSE)
def test_the_readme_is_generated_from_this_assignments_spec(assignment_id, tmp_path, fake_wheel):
    spec = find_assignment(assignment_id, REPO).spec
    readme = (_handout(assignment_id, tmp_path, fake_wheel) / "README.md").read_text()
    assert readme.startswith(f"# {spec.title}\n")
    assert f"pip install -r {REQUIREMENTS}" in readme and "pip install autograder`" in readme  # the unrelated project, named as such
    assert "pytest" in readme and "autograder check" in readme
    assert f"jupyter lab {spec.id}.ipynb" in readme and WRITTEN_ANSWER_TAG in readme
    zip_line = next(line for line in readme.splitlines() if line.startswith("python -m zipfile -c "))
    assert zip_line.split()[4:] == [f"{spec.id}-submission.zip", *spec.student_files, f"{spec.id}.ipynb"]
    assert f"autograder check --submission {spec.id}-submission.zip" in readme
    for q in spec.questions:
        assert f"`{q.id}`: {q.title} | {q.points:g} |" in readme


@pytest.mark.parametrize("assignment_id", COURSE)
def test_a_handout_readme_holds_no_other_assignments_text(assignment_id, tmp_path, fake_wheel):
    readme = (_handout(assignment_id, tmp_path, fake_wheel) / "README.md").read_text()
    mine = find_assignment(assignment_id, REPO).spec
    for other_id in (a for a in COURSE if a != assignment_id):
        other = find_assignment(other_id, REPO).spec
        assert other.id not in readme and other.title not in readme
        assert not [f for f in set(other.student_files) - set(mine.student_files) if f in readme]
        assert not [q.title for q in other.questions if q.title in readme]
    if assignment_id != "a1_mlp_numpy":
        assert "MNIST" not in readme and "layers." not in readme


@pytest.mark.parametrize("assignment_id", COURSE)
def test_the_handouts_spec_holds_the_values_and_none_of_the_course_files_notes(assignment_id, tmp_path, fake_wheel):
    text = (_handout(assignment_id, tmp_path, fake_wheel) / "assignment.yaml").read_text()
    course = find_assignment(assignment_id, REPO)
    notes = [line.split("#", 1)[1].strip() for line in (course.folder / "assignment.yaml").read_text().splitlines() if "#" in line]
    assert not [n for n in notes if n and n in text] and "hidden/" not in text and "strength" not in text
    assert load_spec_text(text, tmp_path).model_dump(exclude={"strength"}) == course.spec.model_dump(exclude={"strength"})


def load_spec_text(text, tmp_path):
    from autograder.spec import load_spec

    (tmp_path / "spec").mkdir(exist_ok=True)
    (tmp_path / "spec" / "assignment.yaml").write_text(text)
    return load_spec(tmp_path / "spec")


def test_hidden_only_questions_are_named_in_the_readme(tmp_path, fake_wheel):
    readme = (_handout("a1_mlp_numpy", tmp_path, fake_wheel) / "README.md").read_text()
    assert "| `q6_accuracy`: Accuracy on held-out MNIST | 15 | none: graded by hidden tests only |" in readme
    assert "| `q1_layers`: Layers: forward and backward passes | 27 | yes |" in readme


@pytest.mark.parametrize(("assignment_id", "extras"), [("a1_mlp_numpy", "notebook"), ("a2_autodiff", "notebook"), ("a3_cnn", "notebook,torch")])
def test_requirements_name_the_extras_and_find_the_bundled_wheel(assignment_id, extras, tmp_path, fake_wheel):
    handout = _handout(assignment_id, tmp_path, fake_wheel)
    lines = [line for line in (handout / REQUIREMENTS).read_text().splitlines() if line and not line.startswith("#")]
    assert lines == [f"--find-links {WHEELS}", f"{DISTRIBUTION}[{extras}]=={autograder.__version__}"]
    assert (handout / WHEELS / WHEEL_NAME).read_bytes() == fake_wheel.read_bytes()


def test_the_handout_still_holds_stubs_public_tests_and_no_hidden_ones(tmp_path, fake_wheel):
    handout = _handout("a1_mlp_numpy", tmp_path, fake_wheel)
    names = {p.relative_to(handout).as_posix() for p in handout.rglob("*") if p.is_file()}
    assert {"layers.py", "a1_mlp_numpy.ipynb", "conftest.py", "pytest.ini", "assignment.yaml", "tests/public/test_layers.py"} <= names
    assert not [n for n in names if "hidden" in n]
    assert "pip install -r requirements.txt" in (handout / "conftest.py").read_text()


def test_an_instructors_own_readme_is_kept_as_written(tmp_path, fake_wheel):
    root = _course_copy(tmp_path)
    own = "# A0, as the instructor wrote it\n\nRead me first.\n"
    (root / "student_templates" / "a0_trivial" / "README.md").write_text(own)
    handout = _handout("a0_trivial", tmp_path, fake_wheel, root)
    assert (handout / "README.md").read_text() == own
    assert (handout / REQUIREMENTS).is_file()  # installing still works the same way


def test_an_instructors_readme_gets_the_generated_sections_at_its_marker(tmp_path, fake_wheel):
    root = _course_copy(tmp_path)
    (root / "student_templates" / "a0_trivial" / "README.md").write_text(f"# A0 by hand\n\nIntro.\n\n{README_MARKER}\n\nThe end.\n")
    readme = (_handout("a0_trivial", tmp_path, fake_wheel, root) / "README.md").read_text()
    assert readme.startswith("# A0 by hand\n\nIntro.\n\n## Install (once)")
    assert readme.endswith("\n\nThe end.\n") and README_MARKER not in readme
    assert "| `q2_mul`: Multiply | 3 | none: graded by hidden tests only |" in readme
    assert "python -m zipfile -c a0_trivial-submission.zip arith.py\n" in readme  # no notebook in this handout


def test_the_engine_wheel_is_this_package_built_once_per_source_state(tmp_path):
    first = engine_wheel(tmp_path / "cache")
    assert first.name == WHEEL_NAME
    assert engine_wheel(tmp_path / "cache") == first and first.stat().st_mtime_ns == engine_wheel(tmp_path / "cache").stat().st_mtime_ns
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        metadata = zf.read(f"{WHEEL_NAME.split('-py3')[0]}.dist-info/METADATA").decode()
    assert "autograder/release.py" in names and not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    assert f"Name: {DISTRIBUTION}\n" in metadata
    core = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not [line for line in core if any(heavy in line for heavy in ("torch", "otter", "sklearn", "scikit", "libcst", "matplotlib"))]
    assert any("torch" in line and 'extra == "torch"' in line for line in metadata.splitlines())


def _notebook_with_answers(tmp_path: Path, filled: dict[str, str]) -> Path:
    import nbformat

    nb = nbformat.read(REPO / "student_templates" / "a1_mlp_numpy" / "a1_mlp_numpy.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("answer_id") in filled:
            cell.source = filled[cell.metadata["answer_id"]]
    path = tmp_path / "a1_mlp_numpy.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("assignment_id", COURSE)
def test_every_handout_notebook_has_written_answer_cells_with_unique_ids(assignment_id):
    answers = written_answers(REPO / "student_templates" / assignment_id / f"{assignment_id}.ipynb")
    assert len(answers) >= 3 and all(k.startswith(assignment_id[:2] + "_w") for k in answers)
    assert set(answers.values()) == {""}  # the placeholder is no answer


def test_written_answers_are_read_from_the_tagged_cells(tmp_path):
    notebook = _notebook_with_answers(tmp_path, {"a1_w1_rule_speed": "Adam first.\n\nThen RMSProp."})
    answers = written_answers(notebook)
    assert answers["a1_w1_rule_speed"] == "Adam first.\n\nThen RMSProp."
    assert answers["a1_w2_adagrad"] == "" and ANSWER_PLACEHOLDER not in answers.values()
    assert written_answers_in(tmp_path) == answers
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert written_answers(tmp_path / "broken.ipynb") == {} and written_answers_in(tmp_path) == answers


def _outputs(nb) -> tuple[str, list]:
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "stream")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    return text, errors


@pytest.mark.slow
@pytest.mark.parametrize(
    ("assignment_id", "first"),
    [("a1_mlp_numpy", "write `layers.affine_forward` next (layers.py)"), ("a2_autodiff", "write `tensor.Tensor.__add__` next (tensor.py)")],
)
def test_the_handout_notebook_runs_with_the_stubs_and_names_the_function_to_write_next(assignment_id, first, tmp_path, fake_wheel):
    import nbclient
    import nbformat

    handout = _handout(assignment_id, tmp_path, fake_wheel)
    nb = nbformat.read(handout / f"{assignment_id}.ipynb", as_version=4)
    env = {"A1_EPOCHS": "1", "A1_N_TRAIN": "500", "A2_EPOCHS": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(handout)}}).execute()
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    text, errors = _outputs(nb)
    assert errors == []
    assert text.index(first) < text.index("write `", text.index(first) + 1)  # the first function the notebook reaches comes first
    assert f"Next: {first.split(' next')[0]}." in text


def _venv_with_the_course_deps(path: Path) -> Path:
    """Create a venv without pip that sees this environment's third-party packages, never this package itself."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    deps = path / "course-deps"  # links to everything installed here but the package (its editable install)
    deps.mkdir()
    ours = (DISTRIBUTION.replace("-", "_"), f"__editable__.{DISTRIBUTION.replace('-', '_')}", f"__editable___{DISTRIBUTION.replace('-', '_')}")
    for entry in Path(sysconfig.get_path("purelib")).iterdir():
        if not entry.name.startswith(ours) and entry.suffix != ".pth":
            (deps / entry.name).symlink_to(entry)
    site = subprocess.run([path / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(site, "course_deps.pth").write_text(f"{deps}\n")
    return path / "bin" / "python"


@pytest.mark.slow
def test_the_bundled_wheel_installs_offline_from_the_handout_and_checks_it(tmp_path):
    handout = _handout("a1_mlp_numpy", tmp_path)
    python = _venv_with_the_course_deps(tmp_path / "venv")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", "--quiet", "-r", REQUIREMENTS],
        cwd=handout, capture_output=True, text=True, env={**os.environ, "PIP_NO_CACHE_DIR": "1"},
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    where = subprocess.run([python, "-c", "import autograder; print(autograder.__file__)"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv")  # the wheel's copy, not the checkout
    check = lambda: subprocess.run([tmp_path / "venv" / "bin" / "autograder", "check"], cwd=handout, capture_output=True, text=True)
    assert check().returncode == 1  # the stubs fail the public tests
    for path in (REPO / "solutions" / "a1_mlp_numpy").glob("*.py"):
        shutil.copy(path, handout / path.name)
    solved = check()
    assert solved.returncode == 0, solved.stdout[-3000:] + solved.stderr[-3000:]


def test_a_torch_handout_says_how_to_install_torch_before_pytest_fails(tmp_path, fake_wheel):
    conftest = (_handout("a3_cnn", tmp_path, fake_wheel) / "conftest.py").read_text()
    assert 'find_spec("torch") is None' in conftest and "a3_cnn is a PyTorch assignment" in conftest
    assert 'find_spec("torch")' not in (_handout("a1_mlp_numpy", tmp_path / "a1", fake_wheel) / "conftest.py").read_text()


def test_a_missing_optional_module_names_the_extra_that_brings_it():
    assert "pip install 'dlcourse-autograder[grading]'" in missing_extra(ModuleNotFoundError("no libcst", name="libcst"))
    assert "[torch]" in missing_extra(ModuleNotFoundError("no torch.nn", name="torch.nn"))
    assert missing_extra(ModuleNotFoundError("a typo", name="layrs")) is None


def test_the_wheel_cache_keeps_only_the_newest_builds(tmp_path):
    cache = tmp_path / "cache"
    for i in range(7):
        (cache / f"old{i}").mkdir(parents=True)
        os.utime(cache / f"old{i}", (i, i))
    built = engine_wheel(cache)
    assert sorted(p.name for p in cache.iterdir()) == sorted([built.parent.name, "old3", "old4", "old5", "old6"])


def test_written_answers_are_bounded_whatever_the_notebook_holds(tmp_path):
    import nbformat

    cells = []
    for i in range(30):
        cell = nbformat.v4.new_markdown_cell("x" * 100_000)
        cell.metadata.update({"tags": [WRITTEN_ANSWER_TAG], "answer_id": f"w{i}"})
        cells.append(cell)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "big.ipynb")
    answers = written_answers(tmp_path / "big.ipynb")
    assert len(answers) == 20 and max(len(v) for v in answers.values()) <= 20_000
