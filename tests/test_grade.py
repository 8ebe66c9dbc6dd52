import csv
import json
import shutil

from autograder.exporters.gradescope import to_gradescope
from autograder.grade import GRADEBOOK, expand_sources, grade_batch, unique_names
from autograder.results import read_result


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
    assert list(rows[0]) == ["submission", "q1_add", "q2_mul", "total", "max", "percent", "status"]
    assert rows[2] == {"submission": "carol", "q1_add": "0", "q2_mul": "3", "total": "3", "max": "5", "percent": "60.0", "status": "graded"}
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
    assert by_name["amy"].score == 5


def test_unique_names_disambiguate_clashes(tmp_path):
    a, b = tmp_path / "x" / "sam", tmp_path / "y" / "sam"
    assert list(unique_names([a, b]).values()) == ["sam", "sam-2"]


def test_gradescope_export_has_only_gradescope_fields(trivial, tmp_path):
    result = grade_batch(trivial, [trivial.solution], tmp_path / "out")[0]
    doc = to_gradescope(result)
    assert doc["score"] == 5 and all(t["status"] in {"passed", "failed"} for t in doc["tests"])
    assert "outcome" not in doc["tests"][0]
