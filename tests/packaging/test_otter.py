"""The otter-grader / Gradescope autograder zip: its layout, the plugin's results, and `otter run` against `autograder grade`.

The parity test grades example submissions with the real `otter run` command and with
`grade_one`, and compares questions, totals and failing tests with each other and with the
examples' `expected.yaml`; an assignment is picked up as soon as its examples have one.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml

from autograder.course import find_assignment, list_assignments
from autograder.grade import grade_batch
from autograder.packaging.layout import COURSE, ENGINE, ENTRY_NOTEBOOK, PLUGIN
from autograder.packaging.otter_plugin import WRAPPER_PREFIX, gather_submission, grade_in_otter
from autograder.packaging.otter_results import fill_otter_results
from autograder.packaging.otter_zip import build_otter_zip, otter_config, requirements
from autograder.results import QuestionResult, SubmissionResult, TestResult, error_result
from autograder.results.fingerprint import grading_fingerprint
from tests.conftest import FIXTURE_COURSE, REPO

OTTER = Path(sys.executable).parent / "otter"
CAPSH = ["capsh", "--drop=cap_sys_admin", "--", "-c", 'exec "$@"', "capsh"]  # root without CAP_SYS_ADMIN, as in Docker
CASE = re.compile(r"^ {4}(\S.*) result:\n {8}(.+)$", re.M)  # one test case in otter's summary, and its outcome line
ALL_EXAMPLES = os.environ.get("AUTOGRADER_OTTER_PARITY") == "all"  # grade every example, not a representative few


@pytest.fixture(scope="module")
def trivial_zip(tmp_path_factory) -> Path:
    return build_otter_zip(find_assignment("a0_trivial", FIXTURE_COURSE), tmp_path_factory.mktemp("dist"))


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


# --- the zip ------------------------------------------------------------------------------------


def test_zip_holds_what_otter_grade_builds_its_image_from(trivial_zip):
    names = set(_names(trivial_zip))
    dockerfile = (importlib.resources.files("otter.grade") / "Dockerfile").read_text()
    added = {src for line in dockerfile.splitlines() if line.startswith("ADD ") for src in line.split()[1:-1]}
    for src in added - {"requirements.*", "files*"}:  # the globs may match nothing
        assert src in names or any(n.startswith(f"{src}/") for n in names), f"otter grade's Dockerfile adds {src}"
    assert {"requirements.txt", f"files/{ENTRY_NOTEBOOK}"} <= names


def test_no_pytest_file_sits_where_otter_reads_its_own_tests(trivial_zip):
    names = _names(trivial_zip)
    assert not [n for n in names if re.fullmatch(r"tests/[^/]+\.py", n)]
    course = f"files/{COURSE}"
    assert f"{course}/assignments/a0_trivial/tests/hidden/test_hidden.py" in names
    assert f"{course}/assignments/a0_trivial/tests/public/test_public.py" in names
    assert f"{course}/solutions/a0_trivial/arith.py" in names
    assert f"files/{ENGINE}/autograder/grade.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_zip_scripts_are_executable_and_the_build_is_reproducible(trivial_zip, tmp_path):
    with zipfile.ZipFile(trivial_zip) as zf:
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    again = build_otter_zip(find_assignment("a0_trivial", FIXTURE_COURSE), tmp_path)
    assert again.read_bytes() == trivial_zip.read_bytes()


def test_course_in_the_zip_grades_with_the_same_fingerprint_as_the_checkout(trivial_zip, tmp_path):
    with zipfile.ZipFile(trivial_zip) as zf:
        zf.extractall(tmp_path)
    packed = find_assignment("a0_trivial", tmp_path / "files" / COURSE)
    assert grading_fingerprint(packed) == grading_fingerprint(find_assignment("a0_trivial", FIXTURE_COURSE))
    manifest = json.loads((tmp_path / "files" / "_autograder" / "build.json").read_text())
    assert manifest["assignment"] == "a0_trivial" and manifest["unconfined"] is False


def test_requirements_pin_what_grades_here_and_the_environment_installs_them(trivial_zip):
    pins = requirements()
    assert f"numpy=={importlib.metadata.version('numpy')}" in pins
    assert f"otter-grader[grading]=={importlib.metadata.version('otter-grader')}" in pins
    assert f"torch=={importlib.metadata.version('torch')}" in pins and f"libcst=={importlib.metadata.version('libcst')}" in pins
    assert not [p for p in pins if p.startswith(("ruff", "jupyterlab", "canvasapi", "dlcourse-autograder"))]  # development tools, notebooks, LMS stay out
    with zipfile.ZipFile(trivial_zip) as zf:
        env = yaml.safe_load(zf.read("environment.yml"))
        setup = zf.read("setup.sh").decode()
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in env["dependencies"]
    assert env["dependencies"][-1] == {"pip": pins}
    assert "mamba env create -f /autograder/source/environment.yml" in setup  # otter's own setup.sh
    assert "chmod -R o+rX /root/miniforge3/envs/otter-env" in setup


def test_otter_config_names_the_plugin_and_whether_unconfined_grading_is_allowed():
    a = find_assignment("a0_trivial", FIXTURE_COURSE)
    config = otter_config(a, unconfined=True)
    assert config["lang"] == "python"
    assert config["plugins"] == [{PLUGIN: {"assignment": "a0_trivial", "unconfined": True}}]
    assert config["show_hidden"] is True  # hidden tests show after publishing, as the spec says


def test_build_command_writes_the_zip_and_records_the_unconfined_flag(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from autograder.cli import app

    monkeypatch.setenv("AUTOGRADER_COURSE", str(FIXTURE_COURSE))
    run = CliRunner().invoke(app, ["build", "a0_tr", "--out", str(tmp_path), "--unconfined"])
    assert run.exit_code == 0, run.output
    with zipfile.ZipFile(tmp_path / "a0_trivial-autograder.zip") as zf:
        assert json.loads(zf.read("otter_config.json"))["plugins"][0][PLUGIN]["unconfined"] is True
    assert CliRunner().invoke(app, ["build", "a9_nothing", "--out", str(tmp_path)]).exit_code == 2


# --- the plugin's results -----------------------------------------------------------------------


def _result(spec, tests: list[TestResult]) -> SubmissionResult:
    questions = []
    for q in spec.questions:
        mine = [t for t in tests if t.question == q.id]
        weight = sum(t.max_score for t in mine)
        questions.append(QuestionResult(id=q.id, title=q.title, score=round(q.points * sum(t.score for t in mine) / weight, 4), max_score=q.points))
    return SubmissionResult(submission="s", assignment=spec.id, assignment_version=spec.version, status="graded",
                            score=sum(q.score for q in questions), max_score=spec.max_points, execution_time=1.0,
                            output="graded: 2 passed, 1 failed", tests=tests, questions=questions)  # fmt: skip


def _test(name: str, question: str, points: float, outcome: str, output: str = "") -> TestResult:
    return TestResult(name=name, question=question, score=points if outcome == "passed" else 0.0, max_score=points,
                      status="passed" if outcome == "passed" else "failed", outcome=outcome, output=output,
                      visibility="after_published" if name.startswith("hidden/") else "visible")  # fmt: skip


def _otter_results(result: SubmissionResult, config: dict):
    from otter.run import AutograderConfig
    from otter.test_files import GradingResults

    results = GradingResults([])
    fill_otter_results(results, result)
    return results, results.to_gradescope_dict(AutograderConfig(config))


def test_each_question_is_an_otter_test_file_scored_as_the_engine_scored_it():
    a = find_assignment("a0_trivial", FIXTURE_COURSE)
    result = _result(a.spec, [
        _test("public/test_public.py::test_add_small", "q1_add", 1, "failed", "add(1, 2) should be 3"),
        _test("hidden/test_hidden.py::test_add_matches_reference", "q1_add", 1, "passed"),
        _test("hidden/test_hidden.py::test_mul", "q2_mul", 3, "errored", "Traceback (your code only): boom"),
    ])  # fmt: skip
    results, doc = _otter_results(result, otter_config(a, unconfined=False))
    add = results.get_result("q1_add")
    assert (add.score, add.possible) == (1.0, 2.0)
    assert [(c.name, c.points, c.hidden) for c in add.test_cases] == [
        ("public/test_public.py::test_add_small", 1.0, False), ("hidden/test_hidden.py::test_add_matches_reference", 1.0, True)]  # fmt: skip
    assert (results.total, results.possible) == (1.0, 5.0)
    entries = {t["name"]: t for t in doc["tests"]}
    assert (entries["q2_mul"]["score"], entries["q2_mul"]["max_score"], entries["q2_mul"]["visibility"]) == (0.0, 3.0, "after_published")
    assert "errored\n        Traceback (your code only): boom" in entries["q2_mul"]["output"]
    public = entries["Public Tests"]
    assert public["visibility"] == "visible" and "add(1, 2) should be 3" in public["output"]
    assert "boom" not in public["output"]  # a hidden test's feedback waits for the question's entry
    assert doc["output"].startswith(result.output)


def test_an_unreadable_submission_loses_every_question_with_the_reason():
    a = find_assignment("a0_trivial", FIXTURE_COURSE)
    result = error_result(a.spec, "s", "Your submission could not be read: not a valid zip")
    results, doc = _otter_results(result, otter_config(a, unconfined=False))
    assert [(t["name"], t["score"], t["max_score"]) for t in doc["tests"] if "score" in t] == [("q1_add", 0.0, 2.0), ("q2_mul", 0.0, 3.0)]
    assert "not a valid zip" in doc["tests"][0]["output"]


def test_gathering_moves_the_students_entries_aside_and_unwraps_a_single_one(tmp_path):
    ours = {"tests", "__init__.py", "_autograder", ENTRY_NOTEBOOK}
    loose = tmp_path / "loose"
    for name in [*ours, "layers.py", "mlp.py"]:
        (loose / name).parent.mkdir(parents=True, exist_ok=True)
        (loose / name).write_text("")
    source = gather_submission(loose, ours)
    assert source.name.startswith(WRAPPER_PREFIX) and sorted(p.name for p in source.iterdir()) == ["layers.py", "mlp.py"]
    assert {p.name for p in loose.iterdir()} == ours | {source.name}
    nested = tmp_path / "nested"
    (nested / "_submission-earlier" / "bob").mkdir(parents=True)
    (nested / "_submission-earlier" / "bob" / "bob.ipynb").write_text("{}")
    assert gather_submission(nested, set()).name == "bob.ipynb"  # a wrapper of a folder of one notebook: the notebook


def test_the_plugin_refuses_to_grade_unconfined_unless_the_zip_allows_it(trivial_zip, tmp_path, monkeypatch):
    from otter.run.run_autograder.utils import OtterRuntimeError

    import autograder.runners.local as local

    with zipfile.ZipFile(trivial_zip) as zf:
        zf.extractall(tmp_path / "source")
    (tmp_path / "submission").mkdir()
    shutil.copy(FIXTURE_COURSE / "solutions" / "a0_trivial" / "arith.py", tmp_path / "submission")
    monkeypatch.setattr(local, "isolation_level", lambda: ("none", "not running as root"))
    with pytest.raises(OtterRuntimeError, match="autograder build a0_trivial --unconfined"):
        grade_in_otter(tmp_path, {"assignment": "a0_trivial", "unconfined": False})
    assert (tmp_path / "submission" / "arith.py").exists()  # refused before anything moved or ran


# --- otter itself -------------------------------------------------------------------------------


def _otter_run(zip_path: Path, submission: Path, out: Path, env: dict[str, str] | None = None) -> dict:
    """Run `otter run` on one submission; return its results.json."""
    out.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([str(OTTER), "run", "--no-logo", "-a", str(zip_path), "-o", str(out), str(submission)],
                         capture_output=True, text=True, timeout=300, cwd=out, env={**os.environ, **(env or {})})  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads((out / "results.json").read_text())


def _scores(doc: dict) -> dict[str, float]:
    return {t["name"]: t["score"] for t in doc["tests"] if "max_score" in t}


def _failing(doc: dict) -> set[str]:
    """Return the tests otter's per-question summaries report as not passed."""
    return {name for t in doc["tests"] if "max_score" in t for name, outcome in CASE.findall(t["output"]) if outcome != "passed"}


def test_otter_run_grades_loose_modules_with_the_engine_and_never_in_its_kernel(trivial_zip, tmp_path):
    sub, marker = tmp_path / "carol.zip", tmp_path / "imported-by-otters-kernel"
    with zipfile.ZipFile(sub, "w") as zf:  # a zip of loose files: otter alone would find no notebook to grade
        zf.writestr("arith.py", "def add(a, b):\n    return a - b\n\ndef mul(a, b):\n    return a * b\n")
        # otter's kernel starts in the submission folder and imports `otter` first: a student's otter.py would run as root
        zf.writestr("otter.py", f"open({str(marker)!r}, 'w').write('ran')\n")
    doc = _otter_run(trivial_zip, sub, tmp_path / "out")
    assert not marker.exists()
    assert _scores(doc) == {"q1_add": 0.0, "q2_mul": 3.0}
    assert _failing(doc) == {"public/test_public.py::test_add_small", "hidden/test_hidden.py::test_add_matches_reference"}
    public = next(t for t in doc["tests"] if t["name"] == "Public Tests")
    assert "add(1, 2) should be 3" in public["output"] and "add(" not in public["output"].split("should be 3", 1)[1]


@pytest.fixture
def shared_dir():
    """A folder the submission's user can reach (pytest's own temporary folders are root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="autograder-otter-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def root_traversable():
    """Let other users traverse /root (where this machine's Python lives), as the zip's setup.sh does."""
    mode = os.stat("/root").st_mode & 0o7777
    os.chmod("/root", mode | 0o001)
    yield
    os.chmod("/root", mode)


PROBE = """
import os
def _read(path):
    try:
        with open(path, "rb"):
            return "read"
    except OSError as exc:
        return type(exc).__name__
def add(a, b):
    seen = {"uid": os.getuid()}
    for key, path in PATHS.items():
        seen[key] = _read(path)
    raise RuntimeError("SEEN:" + repr(seen))
def mul(a, b):
    return a * b
"""


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("capsh"), reason="the container level needs root and capsh")
def test_gradescope_layout_at_the_container_level_hides_the_course_from_the_submission(trivial_zip, shared_dir, root_traversable):
    """Gradescope's /autograder (readable by all), run_autograder's entry, root without CAP_SYS_ADMIN; a probe looks around."""
    ag = shared_dir / "autograder"
    for sub in ("source", "submission", "results"):
        (ag / sub).mkdir(parents=True)
    with zipfile.ZipFile(trivial_zip) as zf:
        zf.extractall(ag / "source")
    (ag / "submission_metadata.json").write_text("{}")
    for path in [ag, *ag.rglob("*")]:  # as `unzip` leaves them
        path.chmod(0o755 if path.is_dir() else 0o644)
    course = ag / "source" / "files" / COURSE
    paths = {"hidden_test": course / "assignments/a0_trivial/tests/hidden/test_hidden.py", "solution": course / "solutions/a0_trivial/arith.py",
             "copy_in_submission": ag / "submission" / COURSE / "solutions/a0_trivial/arith.py", "config": ag / "source" / "otter_config.json"}  # fmt: skip
    probe = PROBE.replace("PATHS", repr({k: str(v) for k, v in paths.items()}))
    (ag / "submission" / "arith.py").write_text(probe)
    (ag / "submission" / "handout.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    entry = f"import sys; sys.path.insert(0, {str(ag / 'source' / 'files' / ENGINE)!r}); from autograder.packaging.otter_plugin import run_in_container; run_in_container({str(ag)!r})"
    run = subprocess.run([*CAPSH, sys.executable, "-c", entry], capture_output=True, text=True, timeout=300, cwd=shared_dir, env={**os.environ, "HOME": "/tmp"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "isolation level `container`" in run.stdout
    doc = json.loads((ag / "results" / "results.json").read_text())
    assert _scores(doc) == {"q1_add": 0.0, "q2_mul": 3.0}  # its notebook did not clash with the zip's entry notebook
    message = next(t["output"] for t in doc["tests"] if "SEEN:{" in t["output"])
    seen = ast.literal_eval(message.rsplit("SEEN:", 1)[1].splitlines()[0])
    assert seen["uid"] != 0
    assert {k: seen[k] for k in paths} == dict.fromkeys(paths, "PermissionError"), seen
    blocked = "import sys, dill; sys.modules['autograder'] = None; r = dill.load(open(sys.argv[1], 'rb')); print(r.total, r.possible)"
    loaded = subprocess.run([sys.executable, "-c", blocked, str(ag / "results" / "results.pkl")], capture_output=True, text=True, timeout=60)
    assert loaded.stdout.split() == ["3.0", "5.0"], loaded.stderr  # `otter grade` reads it back without this package


# --- parity: `otter run` on the examples against `autograder grade` ------------------------------


def _with_examples() -> list[str]:
    return [a for a in list_assignments(REPO) if (REPO / "examples" / "submissions" / a / "expected.yaml").is_file()]


def _pick(expected: dict, sources: dict[str, Path], max_points: float) -> list[str]:
    """Choose a correct, a buggy, a syntax-error, a stub and a notebook submission (every one with AUTOGRADER_OTTER_PARITY=all).

    `autograder grade` grades them as one batch (one calibration); `otter run` grades each on its own, as a TA would.
    """
    names = sorted(n for n in expected if n in sources)
    if ALL_EXAMPLES:
        return names
    rules = [
        lambda n: expected[n]["score"] == max_points and sources[n].is_dir(),
        lambda n: 0 < expected[n]["score"] < max_points,
        lambda n: "syntax" in n,
        lambda n: "stub" in n or "untouched" in n,
        lambda n: sources[n].suffix == ".ipynb",
    ]
    picked: list[str] = []
    for rule in rules:
        found = next((n for n in names if rule(n) and n not in picked), None)
        if found:
            picked.append(found)
    return picked


def _as_otter_input(source: Path, tmp_path: Path) -> Path:
    """Hand a submission to `otter run` as a TA would: a file as it is, a folder zipped (inside its folder if it holds a notebook)."""
    if source.is_file() and source.suffix == ".py":
        return source
    target = tmp_path / f"{source.stem}.zip"
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    wrap = source.suffix == ".ipynb" or any(p.suffix == ".ipynb" for p in files)  # otter grades one notebook at the top: the zip brings its own
    with zipfile.ZipFile(target, "w") as zf:
        for path in files:
            inside = path.name if source.is_file() else path.relative_to(source).as_posix()
            zf.write(path, f"{source.stem}/{inside}" if wrap else inside)
    return target


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", _with_examples())
def test_otter_run_gives_the_same_scores_as_autograder_grade(assignment_id, tmp_path):
    from autograder.runners.local import isolation_level

    a = find_assignment(assignment_id, REPO)
    examples = a.examples
    expected = yaml.safe_load((examples / "expected.yaml").read_text())
    sources = {p.stem if p.is_file() else p.name: p for p in examples.iterdir() if p.is_dir() or p.suffix in (".py", ".ipynb", ".zip")}
    picked = _pick(expected, sources, a.spec.max_points)
    assert picked, f"{examples}/expected.yaml names no submission found there"
    zip_path = build_otter_zip(a, tmp_path / "dist", unconfined=isolation_level()[0] == "none")  # explicit where it must be
    graded = {r.submission: r for r in grade_batch(a, [sources[n] for n in picked], tmp_path / "ours", workers=1, force=True)}
    table = []
    for name in picked:
        doc = _otter_run(zip_path, _as_otter_input(sources[name], tmp_path), tmp_path / "otter" / name)
        ours = graded[name]
        otter_total = sum(_scores(doc).values())
        table.append(f"{name}: otter {otter_total:g}, ours {ours.score:g}, expected {expected[name]['score']:g}")
        assert _scores(doc) == pytest.approx({q.id: q.score for q in ours.questions}, abs=1e-6), name
        assert otter_total == pytest.approx(ours.score, abs=1e-3) == pytest.approx(expected[name]["score"], abs=1e-3)
        ours_failing = {t.name for t in ours.tests if t.outcome != "passed"}
        assert _failing(doc) == ours_failing == set(expected[name]["failing"]), name
    print("\n".join(table))
