from autograder.outcomes import SERVE_FAILED_MSG
from autograder.results import build_result, error_result, write_result
from autograder.runners.local import ChildRun

BIG = "Traceback (your code only):\nValueError: \ud800" + "x" * 3_500_000  # 3.5 MB, a lone surrogate


def _run(n_tests: int, message: str) -> ChildRun:
    ids = [f"hidden/test_x.py::test_add_{i}" for i in range(n_tests)]
    events = [{"event": "collected", "tests": [{"id": i, "points": 1, "hidden": True} for i in ids]}]
    for i in ids:
        events += [{"event": "start", "id": i}, {"event": "result", "id": i, "outcome": "errored", "message": message, "duration_s": 0.1}]
    return ChildRun(events=events, returncode=0, wall_s=2.0, killed_for_time=False)


def test_a_35_mb_message_in_every_test_event_makes_a_result_file_under_1_mb(trivial, tmp_path):
    result = build_result(trivial.spec, "alice", "0" * 64, _run(50, BIG), {"notes": []}, staging_s=0.5)
    path = write_result(result, tmp_path)
    assert path.stat().st_size < 1_000_000
    assert result.status == "graded" and len(result.tests) == 50
    assert all(t.output.startswith("Traceback") and "characters cut]" in t.output and "\\ud800" in t.output for t in result.tests)


def test_execution_time_counts_staging_and_the_run(trivial):
    assert build_result(trivial.spec, "alice", "", _run(1, "x"), {}, staging_s=0.5).execution_time == 2.5


def test_an_event_the_referee_garbled_is_a_grader_error_not_a_lost_result(trivial):
    run = _run(1, "x")
    run.events[-1].update(outcome="exploded", message=None, duration_s="soon")
    test = build_result(trivial.spec, "alice", "", run, {}).tests[0]
    assert test.outcome == "grader error" and test.output == "" and test.duration_s == 0.0


def test_an_error_result_keeps_the_original_name_and_the_fingerprint(trivial):
    result = error_result(trivial.spec, "bob_smith-1a7b14cd", "x", original_name="bob\nsmith", fingerprint="f" * 64, execution_time=0.25)
    assert (result.original_name, result.grading_fingerprint, result.execution_time) == ("bob\nsmith", "f" * 64, 0.25)


def test_a_fault_in_every_test_holds_the_submission_for_the_ta(trivial):
    assert build_result(trivial.spec, "alice", "", _run(3, SERVE_FAILED_MSG), {}).status == "grader error"
    run = _run(3, SERVE_FAILED_MSG)
    run.events[-1]["message"] = "Traceback (your code only):\nValueError: no"
    assert build_result(trivial.spec, "alice", "", run, {}).status == "graded"  # one test of its own: the student's
