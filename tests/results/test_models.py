import json

from autograder.results import SubmissionResult, TestResult, read_result, write_result
from autograder.results.models import MAX_FEEDBACK_CHARS, MAX_RESULT_BYTES

BIG = "\ud800 boom " + "x" * 3_500_000  # a 3.5 MB message with a lone surrogate


def _result(message: str = "", tests: int = 0, **fields) -> SubmissionResult:
    return SubmissionResult(
        submission="alice", assignment="a0_trivial", assignment_version="1", status="graded", score=0, max_score=5,
        execution_time=1.0, output=message,
        tests=[TestResult(name=f"t{i}", score=0, max_score=1, status="failed", outcome="errored", output=message) for i in range(tests)],
        **fields,
    )  # fmt: skip


def test_a_lone_surrogate_becomes_a_visible_escape_not_a_lost_result():
    result = _result("caf\udce9 \ud800", tests=1, metadata={"notes": ["\udcff"], 3: "x"})
    doc = json.loads(result.model_dump_json())
    assert doc["output"] == "caf\\xe9 \\ud800" and doc["tests"][0]["output"] == "caf\\xe9 \\ud800"
    assert doc["metadata"] == {"notes": ["\\xff"], "3": "x"}


def test_every_message_is_capped_with_a_visible_note():
    result = _result(BIG, tests=1)
    assert len(result.output) <= MAX_FEEDBACK_CHARS and "characters cut]" in result.output
    assert result.tests[0].output.startswith("\\ud800 boom")


def test_a_35_mb_message_in_every_test_still_makes_a_file_under_1_mb(tmp_path):
    result = _result(BIG, tests=60, metadata={"notes": [BIG] * 500, "log": BIG})
    path = write_result(result, tmp_path)
    assert path.stat().st_size < MAX_RESULT_BYTES < 1_000_000
    again = read_result(path)
    assert again is not None and len(again.tests) == 60 and all("characters cut]" in t.output for t in again.tests)


def test_control_characters_that_json_escapes_sixfold_are_counted_in_bytes(tmp_path):
    result = _result("\x00" * 8000, tests=300)
    assert write_result(result, tmp_path).stat().st_size < 1_000_000


def test_a_result_edited_after_it_was_built_is_cleaned_again_when_written(tmp_path):
    result = _result()
    result.output = BIG
    result.submission = "../../escape"
    path = write_result(result, tmp_path)
    assert path.parent == tmp_path and path.stat().st_size < 1_000_000
    assert "characters cut]" in json.loads(path.read_text())["output"]


def test_the_submission_name_is_always_safe_as_a_file_name():
    assert _result().model_copy(update={}).submission == "alice"
    weird = SubmissionResult.model_validate(_result().model_dump() | {"submission": "a\nb/../c"})
    assert "/" not in weird.submission and "\n" not in weird.submission


def test_a_result_file_is_readable_by_the_tas_group_and_no_one_else(tmp_path):
    import stat

    from autograder.results.store import write_atomic

    path = write_atomic(tmp_path / "r.json", "{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
