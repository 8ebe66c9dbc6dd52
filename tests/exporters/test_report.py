"""The class report: numbers, sections, escaping, a folder's problems, and the page as a browser renders it."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autograder.cli import app
from autograder.course import find_assignment
from autograder.exporters.report import ReportError, write_report
from autograder.exporters.report.page import SECTIONS
from autograder.exporters.report.stats import failure_groups, failure_key, per_test, score_summary
from autograder.grade import grade_batch
from autograder.results import QuestionResult, SubmissionResult, TestResult, read_result, write_result
from autograder.results.lateness import Late
from tests.conftest import REPO

HOSTILE = "<script>alert('x')</script>"
A1_SAMPLES = ["alice_correct", "carol_db_no_sum", "leo_syntax_error", "mia_untouched_stub"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install -y chromium)")
runner = CliRunner()
FAY_LATE = Late(days=2, minutes=2000.0, penalty=0.2, source_of_time="Canvas file name")


class Page(HTMLParser):
    """The tags, ids, link targets, text and inline styles of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name == "id":
                self.ids.add(value)
            if name in ("href", "src", "srcset", "xlink:href", "action", "data"):
                self.links.append((name, value or ""))

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)


def _test(name, outcome="passed", output="", question="q1", duration=0.01, points=1.0):
    score = points if outcome == "passed" else 0.0
    status = "passed" if outcome == "passed" else "failed"
    return TestResult(name=name, question=question, score=score, max_score=points, status=status, outcome=outcome, output=output, duration_s=duration)


def _result(name, tests=(), status="graded", version="1", output="", metadata=None, original_name=""):
    tests = list(tests)
    score = sum(t.score for t in tests)
    questions = [QuestionResult(id="q1", title="Layers", score=score, max_score=max(1.0, float(len(tests))))]
    return SubmissionResult(
        submission=name, original_name=original_name or name, assignment="a9_demo", assignment_version=version, status=status,
        score=score, max_score=max(1.0, float(len(tests))), execution_time=1.0, output=output, tests=tests, questions=questions,
        metadata=metadata or {},
    )  # fmt: skip


def _class(folder: Path) -> Path:
    """Write a small class of synthetic results covering every section."""
    shape = "`db` has the wrong shape: got ({}, 3), expected (3,). Check which axes you sum."
    results = [
        _result("ann", [_test("t/test_a.py::test_fwd"), _test("t/test_a.py::test_bwd", "failed", shape.format(2), duration=0.5)]),
        _result("ben", [_test("t/test_a.py::test_fwd"), _test("t/test_a.py::test_bwd", "failed", shape.format(7), duration=0.7)],
                metadata={"late": {"late": True, "lateness_s": 7500, "penalty": "10 %"}, "written_answers": {"Q1 why ReLU": "It is cheap."}}),  # fmt: skip
        _result("cat", [_test("t/test_a.py::test_fwd", "timed out", "Timed out: test_fwd took longer than its 5 s limit.", duration=5.0),
                        _test("t/test_a.py::test_bwd", "crashed", "Crashed: killed by SIGSEGV during test_bwd.")],
                metadata={"late": False, "written_answers": [{"question": "Q1 why ReLU", "answer": ""}]}),  # fmt: skip
        _result("dan", status="errored", output="Your zip holds no Python module: found notes.txt only."),
        _result("eve", [_test("t/test_a.py::test_fwd"), _test("t/test_a.py::test_bwd", "grader error", "Internal grading error in test_bwd.")]),
        _result("fay", [_test("t/test_a.py::test_fwd"), _test("t/test_a.py::test_bwd")], metadata={"late": FAY_LATE.as_metadata()}),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        write_result(r, folder)
    return folder


def _report(folder: Path, tmp_path: Path) -> tuple[str, Page, list[str]]:
    written = write_report(folder, tmp_path / "out" / "report.html")
    text = written.path.read_text(encoding="utf-8")
    return text, Page(text), written.warnings


def _assert_self_contained(page: Page) -> None:
    assert {"script", "img", "link", "iframe", "object", "embed"}.isdisjoint(page.tags)
    assert all(name == "href" and value.startswith("#") for name, value in page.links), page.links
    assert "url(" not in "".join(page.styles) and "@import" not in "".join(page.styles)


def test_failure_key_collapses_numbers_but_keeps_names():
    assert failure_key("`b2` got (2, 3), expected (3,); error 3.1e-02 > 1e-07") == "`b2` got (N, N), expected (N,); error N > N"
    assert failure_key("x at 0x7f3a9c not -1.5") == "x at 0xN not N"
    trace = 'Traceback (your code only):\n  File "mlp.py", line 142, in loss\n    a = b @ c\nValueError: shapes (4,5) and (6,) not aligned'
    assert failure_key(trace) == "ValueError: shapes (N,N) and (N,) not aligned"
    assert failure_key('Importing your `mlp.py` failed:\n  File "mlp.py", line 9\nSyntaxError: expected \':\'') == (
        "Importing your `mlp.py` failed: SyntaxError: expected ':'"
    )
    assert failure_key("   ") == "(no message)"


def test_near_identical_messages_group_with_counts_and_one_example(tmp_path):
    results = [read_result(p) for p in sorted(_class(tmp_path / "res").glob("*.json"))]
    top = failure_groups(results)[0]
    assert (top.outcome, len(top.submissions), top.count) == ("failed", 2, 2)
    assert "(N, N)" in top.key and top.example.startswith("`db` has the wrong shape: got (")


def test_histogram_bins_hold_zero_and_full_marks():
    s = score_summary([_result(n, [_test("t", o)]) for n, o in (("a", "passed"), ("b", "failed"), ("c", "passed"))])
    assert s.histogram == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2] and round(s.mean, 1) == 66.7


def test_pass_rates_are_sorted_worst_first(tmp_path):
    results = [read_result(p) for p in sorted(_class(tmp_path / "res").glob("*.json"))]
    rates = [(s.name, s.pass_rate) for s in per_test(results)]
    assert rates == [("t/test_a.py::test_bwd", 0.2), ("t/test_a.py::test_fwd", 0.8)]


def test_page_has_every_section_a_contents_and_inline_charts(tmp_path):
    text, page, warnings = _report(_class(tmp_path / "res"), tmp_path)
    assert warnings == []
    assert {key for key, _ in SECTIONS} <= page.ids
    assert {f"#{key}" for key, _ in SECTIONS} <= {value for _, value in page.links}
    assert page.tags.count("svg") >= 3 and text.startswith("<!DOCTYPE html>")
    _assert_self_contained(page)
    body = " ".join(page.text)
    shown_texts = ("Timed out: test_fwd", "Crashed: killed by SIGSEGV", "Internal grading error", "holds no Python module", "It is cheap.",
                   "2 h 05 min", "10 %", "1 d 9 h 20 min", "20%", "days late: 2, time from: Canvas file name", "Late: 2, out of 3")  # fmt: skip
    for shown in shown_texts:
        assert shown in body, shown
    assert 'class="num"' in text


def test_student_text_is_escaped_everywhere(tmp_path):
    hostile = _result(
        "mallory", [_test(f"t/test_a.py::test_x[{HOSTILE}]", "failed", f"got {HOSTILE}")], original_name=f"{HOSTILE}.zip",
        output=HOSTILE, status="errored",
        metadata={"late": {"late": True, "note": HOSTILE}, "written_answers": {HOSTILE: f"</blockquote>{HOSTILE}"}},
    )  # fmt: skip
    write_result(hostile, tmp_path / "res")
    text, page, _ = _report(tmp_path / "res", tmp_path)
    assert "<script" not in text and "</blockquote><script" not in text
    assert "script" not in page.tags and "&lt;script&gt;" in text
    assert " ".join(page.text).count(HOSTILE) >= 5  # shown as text: name, message, reason, late note, answer
    _assert_self_contained(page)


def test_corrupt_and_foreign_files_are_warned_and_the_rest_reported(tmp_path):
    folder = _class(tmp_path / "res")
    (folder / "broken.json").write_text('{"submission": "zed", "tests": [', encoding="utf-8")
    (folder / "other.json").write_text("[1, 2, 3]", encoding="utf-8")
    (folder / "latin1.json").write_bytes(b'{"submission": "caf\xe9"}')
    (folder / "bad_field.json").write_text(json.dumps({"submission": "x", "tests": [], "score": "lots"}), encoding="utf-8")
    text, page, warnings = _report(folder, tmp_path)
    assert len(warnings) == 4
    assert any(w.startswith("skipped broken.json: not valid JSON") for w in warnings)
    assert any("other.json: not a result file" in w for w in warnings) and any("latin1.json: not UTF-8" in w for w in warnings)
    assert any("bad_field.json: not a valid result" in w for w in warnings)
    assert "warnings" in page.ids and "broken.json" in text
    assert all(name in " ".join(page.text) for name in ("ann", "ben", "cat", "dan", "eve"))


def test_mixed_assignment_versions_are_warned_and_shown(tmp_path):
    write_result(_result("ann", [_test("t")], version="1"), tmp_path / "res")
    write_result(_result("bob", [_test("t")], version="2"), tmp_path / "res")
    text, page, warnings = _report(tmp_path / "res", tmp_path)
    assert len(warnings) == 1 and "2 assignment versions are mixed" in warnings[0]
    assert "a9_demo version 1 (1)" in warnings[0] and "a9_demo 2" in " ".join(page.text)


def test_late_and_written_answers_say_so_when_absent(tmp_path):
    write_result(_result("ann", [_test("t")]), tmp_path / "res")
    text, page, _ = _report(tmp_path / "res", tmp_path)
    body = " ".join(page.text)
    assert "carry no lateness information" in body and "carry no written answers" in body
    assert "Every submission was graded to the end" in body


def test_a_duplicate_submission_keeps_the_later_result(tmp_path):
    folder = tmp_path / "res"
    write_result(_result("ann", [_test("t", "failed")]), folder)
    later = _result("ann", [_test("t")]).model_copy(update={"graded_at": "2999-01-01T00:00:00+00:00"})
    (folder / "ann-copy.json").write_text(later.model_dump_json(), encoding="utf-8")
    _, page, warnings = _report(folder, tmp_path)
    assert len(warnings) == 1 and "uses ann-copy.json" in warnings[0]
    assert "100.0 %" in " ".join(page.text)


def test_cli_writes_the_report_and_prints_warnings(tmp_path):
    folder = _class(tmp_path / "res")
    (folder / "broken.json").write_text("{", encoding="utf-8")
    out = tmp_path / "site" / "report.html"
    result = runner.invoke(app, ["report", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipped broken.json: not valid JSON" in result.output and "report:" in result.output
    assert out.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("what", ["empty", "missing", "only corrupt"])
def test_cli_refuses_a_folder_without_results_in_one_line(tmp_path, what):
    folder = tmp_path / "res"
    if what != "missing":
        folder.mkdir()
    if what == "only corrupt":
        (folder / "a.json").write_text("{", encoding="utf-8")
    result = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert {"empty": "no result files (*.json)", "missing": "no such results folder", "only corrupt": "no readable result"}[what] in result.output
    assert not (tmp_path / "r.html").exists()


def test_out_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(ReportError, match="is a folder"):
        write_report(_class(tmp_path / "res"), tmp_path)


@pytest.fixture(scope="module")
def a1_results(tmp_path_factory) -> Path:
    """Grade four A1 samples once: correct, one bug, a syntax error, the untouched stub."""
    a1 = find_assignment("a1_mlp_numpy", REPO)
    folder = REPO / "examples" / "submissions" / "a1_mlp_numpy"
    out = tmp_path_factory.mktemp("a1_results")
    grade_batch(a1, [folder / name for name in A1_SAMPLES], out, workers=2)
    return out


@pytest.mark.slow
def test_report_of_real_a1_grading(a1_results, tmp_path):
    text, page, warnings = _report(a1_results, tmp_path)
    assert warnings == []
    body = " ".join(page.text)
    assert all(name in body for name in A1_SAMPLES)
    assert all(q in body for q in ("q1_layers", "q4_mlp", "q6_accuracy"))
    assert "Importing your `mlp.py` failed: SyntaxError: expected ':'" in body
    assert "`db` has the wrong shape: got (N, N), expected (N,)" in body
    assert "Left as stubs (not attempted)" in body
    _assert_self_contained(page)


def _demo_class(a1_results: Path, folder: Path) -> Path:
    """The A1 results plus a late submission with written answers and one that timed out, for the screenshot."""
    shutil.copytree(a1_results, folder)
    carol = read_result(folder / "carol_db_no_sum.json")
    answers = {"Why does dropout scale by 1/p?": "So the expected activation is the same at test time.", "Which optimizer won?": "Adam."}
    late = carol.model_copy(update={"submission": "nina_late", "original_name": "nina_late.zip",
                                    "metadata": {**carol.metadata, "late": Late(days=1, minutes=95.0, penalty=0.1, source_of_time="Canvas file name").as_metadata(), "written_answers": answers}})  # fmt: skip
    write_result(late, folder)
    mia = read_result(folder / "mia_untouched_stub.json")
    write_result(mia.model_copy(update={"submission": "omar_loop", "original_name": "omar_loop", "status": "timed out", "tests": [], "output": "Timed out: importing your modules did not finish within 60 s."}), folder)
    return folder


PROBE = (
    "<script>const m=[...document.querySelectorAll('svg.chart')].map(s=>{const r=s.getBoundingClientRect();return [r.width,r.height]});"
    "document.body.insertAdjacentHTML('beforeend','<pre id=\"probe\">'+JSON.stringify({charts:m,scroll:document.documentElement.scrollWidth,"
    "width:window.innerWidth})+'</pre>');</script>"
)


def _chromium(*args: str) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.mark.slow
@needs_chromium
def test_report_renders_in_headless_chromium_with_its_charts(a1_results, tmp_path):
    report = write_report(_demo_class(a1_results, tmp_path / "res"), tmp_path / "report.html").path
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = _chromium("--window-size=1280,2400", "--dump-dom", probed.as_uri())
    seen = json.loads(dom.rsplit('<pre id="probe">', 1)[1].split("</pre>")[0])  # the last: the script holds the tag too
    assert len(seen["charts"]) >= 3 and all(w > 300 and h > 40 for w, h in seen["charts"]), seen
    assert seen["scroll"] <= seen["width"], "the page is wider than the window"
    shot = tmp_path / "report.png"
    _chromium("--window-size=1280,2400", f"--screenshot={shot}", report.as_uri())
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        assert len(image.convert("L").resize((64, 120)).getcolors(4096)) > 8  # not a blank page
