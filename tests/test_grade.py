import csv
import json
import os
import shutil

import pytest

from autograder.course import find_assignment
from autograder.exporters.gradebook import IDENTITY, TOTALS
from autograder.exporters.gradescope import to_gradescope
from autograder.grade import GRADEBOOK, expand_sources, grade_batch, unique_names
from autograder.results import read_result
from autograder.results.models import MAX_FEEDBACK_CHARS
from tests.conftest import FIXTURE_COURSE


def _batch(trivial, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(trivial.solution, subs / "alice")
    shutil.copytree(trivial.template, subs / "bob")
    (subs / "carol.py").write_text("def add(a, b):\n    return a - b\ndef mul(a, b):\n    return a * b\n")
    (subs / "README.md").write_text("not a submission")
    return expand_sources([subs], each=True)


def test_each_skips_files_that_are_not_submissions(trivial, tmp_path):
    assert [p.name for p in _batch(trivial, tmp_path)] == ["alice", "bob", "carol.py"]


def test_batch_writes_one_json_per_submission_and_a_gradebook(trivial, tmp_path):
    out = tmp_path / "out"
    results = grade_batch(trivial, _batch(trivial, tmp_path), out, workers=2)
    assert [(r.submission, r.score) for r in results] == [("alice", 5), ("bob", 0), ("carol", 3)]
    rows = list(csv.DictReader((out / GRADEBOOK).open()))
    assert list(rows[0]) == [*IDENTITY, "q1_add", "q2_mul", *TOTALS]
    assert {k: v for k, v in rows[2].items() if v} == {
        "submission": "carol", "q1_add": "0", "q2_mul": "3", "raw": "3", "total": "3", "max": "5", "percent": "60.0",
        "status": "graded", "why": "lost points in q1_add",
    }  # fmt: skip
    doc = json.loads((out / "alice.json").read_text())
    assert {"score", "max_score", "execution_time", "tests"} <= set(doc)
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(doc["tests"][0])
    assert doc["metadata"]["seed"] == 0 and doc["metadata"]["device"] == "cpu"


def test_regrading_skips_unchanged_submissions_unless_forced(trivial, tmp_path):
    subs, out = _batch(trivial, tmp_path), tmp_path / "out"
    first = {r.submission: r.graded_at for r in grade_batch(trivial, subs, out)}
    (subs[0] / "arith.py").write_text((subs[0] / "arith.py").read_text() + "\n# edited\n")
    second = {r.submission: r.graded_at for r in grade_batch(trivial, subs, out)}
    assert second["bob"] == first["bob"] and second["carol"] == first["carol"]
    assert read_result(out / "alice.json").submission_sha256 != ""
    forced = grade_batch(trivial, subs[1:2], out, force=True)
    assert forced[0].graded_at >= first["bob"]


def test_unreadable_submission_gets_a_result_and_the_batch_goes_on(trivial, tmp_path):
    bad = tmp_path / "zed.zip"
    bad.write_bytes(b"garbage")
    good = tmp_path / "amy"
    shutil.copytree(trivial.solution, good)
    results = grade_batch(trivial, [bad, good], tmp_path / "out")
    by_name = {r.submission: r for r in results}
    assert by_name["zed"].status == "errored" and "not a valid zip" in by_name["zed"].output
    assert by_name["zed"].execution_time > 0  # staging time counts
    assert by_name["amy"].score == 5


def test_unique_names_disambiguate_clashes(tmp_path):
    a, b = tmp_path / "x" / "sam", tmp_path / "y" / "sam"
    assert list(unique_names([a, b]).values()) == ["sam", "sam-2"]


def test_gradescope_export_has_only_gradescope_fields(trivial, tmp_path):
    result = grade_batch(trivial, [trivial.solution], tmp_path / "out")[0]
    doc = to_gradescope(result)
    assert doc["score"] == 5 and all(t["status"] in {"passed", "failed"} for t in doc["tests"])
    assert "outcome" not in doc["tests"][0]


def test_a_batch_killed_with_sigkill_resumes_without_losing_or_regrading(trivial, tmp_path):
    """Kill `autograder grade` mid-batch, run it again: every submission graded exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    subs = tmp_path / "subs"
    for i in range(12):
        dest = subs / f"s{i:02d}"
        shutil.copytree(trivial.solution, dest)
        (dest / "arith.py").write_text((dest / "arith.py").read_text() + f"\nimport time\ntime.sleep({0.3 if i else 0})\n")
    out = tmp_path / "out"
    env = {**os.environ, "AUTOGRADER_COURSE": str(trivial.root)}
    cmd = [sys.executable, "-m", "autograder.cli", "grade", "a0_trivial", str(subs), "--each", "--out", str(out), "-j", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(out.glob("*.json"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p.stem: read_result(p).graded_at for p in out.glob("*.json")}
    assert 4 <= len(first) < 12 and not (out / GRADEBOOK).exists()
    time.sleep(1.1)  # graded_at has one-second resolution
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    second = {p.stem: read_result(p) for p in out.glob("*.json")}
    assert sorted(second) == [f"s{i:02d}" for i in range(12)]
    assert all(second[name].graded_at == stamp for name, stamp in first.items())
    assert all(r.score == 5 for r in second.values())
    rows = list(csv.DictReader((out / GRADEBOOK).open()))
    assert len(rows) == 12 and not list(out.glob(".*.tmp"))


def test_ctrl_c_stops_a_batch_at_once_and_keeps_what_finished(trivial, tmp_path):
    """SIGINT, as Ctrl-C sends it: the running referee ends, grades.csv lists what finished, a rerun grades the rest."""
    import signal
    import subprocess
    import sys
    import time

    subs = tmp_path / "subs"
    for i, pause in enumerate([0, 25, 25]):
        dest = subs / f"s{i}"
        shutil.copytree(trivial.solution, dest)
        (dest / "arith.py").write_text((dest / "arith.py").read_text() + f"\nimport time\ntime.sleep({pause})\n")
    out = tmp_path / "out"
    env = {**os.environ, "AUTOGRADER_COURSE": str(trivial.root)}
    cmd = [sys.executable, "-m", "autograder.cli", "grade", "a0_trivial", str(subs), "--each", "--out", str(out), "-j", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "s0.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # s1's referee is running its sleeping import
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 10, "Ctrl-C must not wait for the running submission"
    assert proc.returncode == 130 and "interrupted: 1 submission(s) graded" in err
    assert sorted(p.stem for p in out.glob("*.json")) == ["s0"]
    assert [row["submission"] for row in csv.DictReader((out / GRADEBOOK).open())] == ["s0"]


def test_grading_the_same_batch_twice_gives_identical_scores(trivial, tmp_path):
    subs = _batch(trivial, tmp_path)
    one = grade_batch(trivial, subs, tmp_path / "one", workers=2)
    two = grade_batch(trivial, subs, tmp_path / "two", workers=2)
    view = lambda rs: [(r.submission, r.score, [(t.name, t.outcome, t.output) for t in r.tests]) for r in rs]
    assert view(one) == view(two)


HOSTILE_NAMES = {
    "long": "n" * 250,
    "formula": "=cmd|' -C calc'!A0",
    "newline": "eve\nmallory,5,5,5,100.0,graded",
    "clash_a": "x:y",
    "clash_b": "x?y",
}


def _hostile_batch(trivial, subs):
    subs.mkdir()
    sources = []
    for name in HOSTILE_NAMES.values():
        shutil.copytree(trivial.solution, subs / name)
        sources.append(subs / name)
    latin1 = os.path.join(os.fsencode(subs), b"Ren\xe9e")
    shutil.copytree(os.fsencode(trivial.solution), latin1)
    (subs / "loud").mkdir()
    (subs / "loud" / "arith.py").write_text(
        "def add(a, b):\n    raise ValueError('bad \\ud800 ' + 'x' * 3_500_000)\n"
        "def mul(a, b):\n    raise ValueError('caf\\udce9')\n"
    )  # fmt: skip
    return [*sources, subs / os.fsdecode(b"Ren\xe9e"), subs / "loud"]


def test_a_batch_of_hostile_names_is_graded_to_the_end_with_safe_files_and_an_inert_gradebook(trivial, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "junk.json").write_text("{ not json")
    (out / "other.json").write_text(json.dumps({"submission": "other", "assignment": "a9_x"}))
    sources = _hostile_batch(trivial, tmp_path / "subs")
    results = grade_batch(trivial, sources, out, workers=2)
    assert len(results) == len(sources) and len({r.submission for r in results}) == len(sources)
    solved = [r for r in results if r.submission != "loud"]
    assert all(r.status == "graded" and r.score == 5 for r in solved), solved
    originals = {r.original_name for r in results}
    assert {"n" * 250, "x:y", "x?y", "Ren\\xe9e", "=cmd|' -C calc'!A0"} <= originals
    for r in results:
        path = out / f"{r.submission}.json"
        assert path.is_file() and path.stat().st_size < 1_000_000 and len(path.name.encode()) < 120
    loud = next(r for r in results if r.submission == "loud")
    assert loud.status == "graded" and loud.score == 0
    assert all(t.outcome == "errored" and len(t.output) <= MAX_FEEDBACK_CHARS for t in loud.tests), loud.tests
    assert all("\\ud800" in t.output or "\\udce9" in t.output for t in loud.tests), [t.output[:200] for t in loud.tests]
    rows = list(csv.reader((out / GRADEBOOK).open(encoding="utf-8", newline="")))
    assert len(rows) == 1 + len(sources)
    assert not [r[0] for r in rows[1:] if r[0].startswith(("=", "+", "-", "@")) or "\n" in r[0]]
    again = grade_batch(trivial, sources, out, workers=2)  # a rerun reuses every result and does not crash
    assert sorted((r.submission, r.graded_at) for r in again) == sorted((r.submission, r.graded_at) for r in results)


def test_a_fix_to_a_test_regrades_an_unchanged_submission(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    assignment = find_assignment("a0_trivial", root)
    out = tmp_path / "out"
    first = grade_batch(assignment, [assignment.solution], out)[0]
    assert grade_batch(assignment, [assignment.solution], out)[0].graded_at == first.graded_at
    hidden = assignment.tests / "hidden" / "test_hidden.py"
    hidden.write_text(hidden.read_text().replace("got == 12", "got == 13"))
    second = grade_batch(assignment, [assignment.solution], out)[0]
    assert second.grading_fingerprint != first.grading_fingerprint and second.score == 2


# ---------------------------------------------------------------- LMS downloads, rosters, late work, reruns

import datetime as dt  # noqa: E402

from autograder.grade import grade_download  # noqa: E402
from autograder.intake.layouts import LayoutError  # noqa: E402

DUE = dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
WRONG_ADD = "def add(a, b):\n    return a - b\ndef mul(a, b):\n    return a * b\n"


def _late_course(tmp_path):
    """a0_trivial with a due date, a 10%-a-day penalty (0 after 5 days) and torch forbidden."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    spec = root / "assignments" / "a0_trivial" / "assignment.yaml"
    spec.write_text(spec.read_text() + f"due: {DUE.isoformat()}\ngrace_minutes: 10\nlate_penalty: {{per_day: 0.1, max_days: 5}}\nforbidden_imports: [torch]\n")
    return find_assignment("a0_trivial", root)


def _canvas(folder, assignment, files):
    """Write Canvas download files: {canvas file name: (text, submission time)}."""
    folder.mkdir(parents=True)
    for name, (text, when) in files.items():
        (folder / name).write_text(text)
        os.utime(folder / name, (when.timestamp(), when.timestamp()))
    return folder


def test_a_canvas_download_of_two_students_is_two_graded_submissions_with_the_late_penalty_applied(tmp_path):
    a = _late_course(tmp_path)
    solution = (a.solution / "arith.py").read_text()
    download = _canvas(tmp_path / "dl", a, {
        "doejane_LATE_1234_5678_arith-1.py": (solution, DUE + dt.timedelta(days=1, hours=12)),
        "smithbob_2345_6789_arith.py": (WRONG_ADD, DUE - dt.timedelta(hours=3)),
    })  # fmt: skip
    report = grade_download(a, [download], tmp_path / "out", each=True, workers=2)
    assert report.layouts == {str(download): "canvas"} and [r.submission for r in report.results] == ["doejane", "smithbob"]
    jane = report.results[0]
    assert jane.score == 5 and jane.metadata["late"]["days"] == 2 and jane.metadata["late"]["penalty"] == 0.2
    assert jane.metadata["submitted_at"] == (DUE + dt.timedelta(days=1, hours=12)).isoformat()
    assert jane.metadata["students"] == [{"lms_id": "1234", "login": "doejane"}] and read_result(tmp_path / "out" / "doejane.json").metadata == jane.metadata
    rows = {r["submission"]: r for r in csv.DictReader((tmp_path / "out" / GRADEBOOK).open())}
    assert (rows["doejane"]["raw"], rows["doejane"]["total"], rows["doejane"]["why"]) == ("5", "4", "all tests passed; late 2 days: -20%")
    assert (rows["smithbob"]["total"], rows["smithbob"]["late_days"], rows["smithbob"]["why"]) == ("3", "0", "lost points in q1_add")


def test_a_roster_gives_one_row_per_student_the_missing_marked_and_reruns_say_what_was_reused(tmp_path):
    a = _late_course(tmp_path)
    solution = (a.solution / "arith.py").read_text()
    on_time = DUE - dt.timedelta(hours=1)
    download = _canvas(tmp_path / "dl", a, {
        "doejane_1234_5678_arith.py": (solution, on_time),
        "zedzed_9999_1111_arith.py": (solution, on_time),
    })  # fmt: skip
    roster = tmp_path / "roster.csv"
    roster.write_text('Student,ID,SIS User ID,SIS Login ID,Section\n"Doe, Jane",1234,S1,jdoe,A\n"Lee, Ann",3456,S3,alee,A\n')
    first = grade_download(a, [download], tmp_path / "out", layout="canvas", roster_path=roster)
    assert first.reused == 0 and [s.name for s in first.missing] == ["Lee, Ann"] and [u[0] for u in first.unmatched] == ["zedzed"]
    rows = list(csv.DictReader((tmp_path / "out" / GRADEBOOK).open()))
    assert [(r["student"], r["submission"], r["sis_id"], r["status"], r["total"]) for r in rows] == [
        ("Doe, Jane", "doejane", "S1", "graded", "5"), ("Lee, Ann", "", "S3", "missing", "0"),
    ]  # fmt: skip
    again = grade_download(a, [download], tmp_path / "out", layout="canvas", roster_path=roster)
    assert again.reused == 2 and [r.graded_at for r in again.results] == [r.graded_at for r in first.results]


def test_the_gradebook_lists_only_this_batchs_submissions(trivial, tmp_path):
    subs, out = _batch(trivial, tmp_path), tmp_path / "out"
    grade_batch(trivial, subs, out)
    grade_batch(trivial, subs[:1], out)  # `alice` alone, renamed resubmissions and all
    assert [r["submission"] for r in csv.DictReader((out / GRADEBOOK).open())] == ["alice"]


def test_why_says_forbidden_import_and_syntax_error_from_real_grading(tmp_path):
    a = _late_course(tmp_path)
    subs = tmp_path / "subs"
    (subs / "ken").mkdir(parents=True)
    (subs / "ken" / "arith.py").write_text("import torch\n" + (a.solution / "arith.py").read_text())
    (subs / "leo").mkdir()
    (subs / "leo" / "arith.py").write_text("def add(a, b):\n    return a + b\ndef mul(a, b)\n    return a * b\n")
    report = grade_download(a, [subs], tmp_path / "out", each=True, workers=2)
    rows = {r["submission"]: r for r in csv.DictReader((tmp_path / "out" / GRADEBOOK).open())}
    assert rows["ken"]["why"].startswith("forbidden import: torch"), rows["ken"]
    assert rows["leo"]["why"].startswith("syntax error in arith.py (line 3)"), rows["leo"]
    assert all(r.metadata["late"]["source_of_time"].startswith("none") for r in report.results)  # plain folders: no time


def test_an_unclear_download_is_refused_before_grading(trivial, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "doejane_1234_5678_arith.py").write_text("x = 1\n")
    shutil.copytree(trivial.solution, mixed / "alice")
    with pytest.raises(LayoutError, match="Pass --layout"):
        grade_download(trivial, [mixed], tmp_path / "out", each=True)
    assert not (tmp_path / "out").exists()


def test_grade_each_says_what_it_skipped_and_why_and_how_many_it_reused(trivial, tmp_path, monkeypatch):
    import zipfile

    from typer.testing import CliRunner

    from autograder.cli import app

    monkeypatch.setenv("AUTOGRADER_COURSE", str(FIXTURE_COURSE))
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice", "_scratch", ".hidden"):
        shutil.copytree(trivial.solution, subs / name)
    with zipfile.ZipFile(subs / "BOB.ZIP", "w") as zf:
        zf.write(trivial.solution / "arith.py", "bob/arith.py")
    (subs / "CAROL.PY").write_text((trivial.solution / "arith.py").read_text())
    (subs / "notes.pdf").write_bytes(b"%PDF")
    args = ["grade", "a0_trivial", str(subs), "--each", "--out", str(tmp_path / "out"), "-j", "2"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    text = " ".join(first.output.split())
    assert "_scratch: its name starts with `_`" in text and ".hidden: hidden" in text and "notes.pdf: not a submission (.pdf)" in text
    assert "3 graded, 0 reused" in text
    assert sorted(r["submission"] for r in csv.DictReader((tmp_path / "out" / GRADEBOOK).open())) == ["BOB", "CAROL", "alice"]
    assert {r["total"] for r in csv.DictReader((tmp_path / "out" / GRADEBOOK).open())} == {"5"}
    again = CliRunner().invoke(app, args)
    assert "0 graded, 3 reused" in " ".join(again.output.split())
    unclear = CliRunner().invoke(app, [*args[:2], str(FIXTURE_COURSE), "--layout", "blackboard"])
    assert unclear.exit_code == 2 and "blackboard" in unclear.output


@pytest.mark.slow
def test_a1_moodle_and_canvas_downloads_grade_each_student_once_and_the_moodle_zip_scores_100(tmp_path):
    """A1's correct sample inside a Moodle student folder's zip scores 100 (graded as a plain folder it scores 0)."""
    from tests.intake.test_layouts import _zip_tree, canvas_download, moodle_download

    a1 = find_assignment("a1_mlp_numpy")
    moodle = _zip_tree(moodle_download(tmp_path / "moodle"), tmp_path / "A1-moodle.zip")
    canvas = canvas_download(tmp_path / "canvas")
    report = grade_download(a1, [moodle, canvas], tmp_path / "out", workers=2)
    scores = {r.submission: (r.score, r.metadata["layout"]) for r in report.results}
    assert scores == {
        "Alice Correct_10001": (100.0, "moodle"), "Mia Stub_10002": (0.0, "moodle"),
        "doejane": (100.0, "canvas"), "smithbob": (0.0, "canvas"),
    }, scores  # fmt: skip
    assert [s.why for s in report.skipped] == ["Moodle `onlinetext` entry (not submitted files)"]
    old_way = grade_batch(a1, [tmp_path / "moodle" / "Alice Correct_10001_assignsubmission_file_"], tmp_path / "plain")
    assert old_way[0].score == 0 and "none of the handout files" in old_way[0].output
