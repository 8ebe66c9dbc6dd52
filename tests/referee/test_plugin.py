"""Each grading outcome, end to end: a real child process grading the `a0_trivial` assignment."""

import pytest

from autograder.grade import grade_one
from autograder.outcomes import NOT_ATTEMPTED_MSG, TIMEOUT_MSG

CORRECT_MUL = "def mul(a, b):\n    return a * b\n"


def _grade(trivial, folder, tmp_path):
    result = grade_one(trivial, folder, tmp_path / "out", force=True)
    return result, {t.name.split("::")[-1]: t for t in result.tests}


def test_correct_submission_scores_full_marks(trivial, make_submission, tmp_path):
    folder = make_submission("def add(a, b):\n    return a + b\n" + CORRECT_MUL)
    result, _ = _grade(trivial, folder, tmp_path)
    assert (result.status, result.score, result.max_score) == ("graded", 5, 5)


def test_wrong_answer_is_failed_with_the_test_message(trivial, make_submission, tmp_path):
    result, tests = _grade(trivial, make_submission("def add(a, b):\n    return a + b\ndef mul(a, b):\n    return a + b\n"), tmp_path)
    assert tests["test_mul"].outcome == "failed"
    assert tests["test_mul"].output == "mul(3, 4) returned 7; expected 12"
    assert result.score == 2


def test_student_exception_is_errored_with_traceback_trimmed_to_their_file(trivial, make_submission, tmp_path):
    folder = make_submission("def add(a, b):\n    return a + b\ndef mul(a, b):\n    return {}[a]\n")
    _, tests = _grade(trivial, folder, tmp_path)
    out = tests["test_mul"].output
    assert tests["test_mul"].outcome == "errored"
    assert 'File "arith.py", line 4, in mul' in out and "KeyError: 3" in out
    assert "site-packages" not in out and "test_hidden.py" not in out


def test_stub_is_not_attempted(trivial, tmp_path):
    result, tests = _grade(trivial, trivial.template, tmp_path)
    assert {t.outcome for t in tests.values()} == {"not attempted"}
    assert tests["test_mul"].output == NOT_ATTEMPTED_MSG.format(name="mul")
    assert result.score == 0


def test_syntax_error_is_errored_naming_file_and_line(trivial, make_submission, tmp_path):
    _, tests = _grade(trivial, make_submission("def add(a, b)\n    return a + b\n"), tmp_path)
    out = tests["test_mul"].output
    assert tests["test_mul"].outcome == "errored"
    assert "Importing your `arith.py` failed" in out and 'File "arith.py", line 1' in out and "SyntaxError" in out


def test_missing_function_is_failed_naming_it(trivial, make_submission, tmp_path):
    _, tests = _grade(trivial, make_submission("def add(a, b):\n    return a + b\n"), tmp_path)
    assert tests["test_mul"].outcome == "failed"
    assert "does not define `mul`" in tests["test_mul"].output and "`add`" in tests["test_mul"].output


def test_endless_loop_in_a_test_times_out_and_the_rest_still_run(trivial, make_submission, tmp_path):
    folder = make_submission("def add(a, b):\n    return a + b\ndef mul(a, b):\n    while True:\n        pass\n")
    result, tests = _grade(trivial, folder, tmp_path)
    assert tests["test_mul"].outcome == "timed out"
    assert tests["test_mul"].output == TIMEOUT_MSG.format(test="hidden/test_hidden.py::test_mul", limit=5)
    assert tests["test_add_small"].outcome == "passed" and result.status == "graded"


def test_broad_except_cannot_swallow_the_timeout(trivial, make_submission, tmp_path):
    src = "def add(a, b):\n    return a + b\ndef mul(a, b):\n    while True:\n        try:\n            pass\n        except Exception:\n            pass\n"
    _, tests = _grade(trivial, make_submission(src), tmp_path)
    assert tests["test_mul"].outcome == "timed out"


def test_hard_exit_mid_test_is_contained_and_the_other_tests_still_run(trivial, make_submission, tmp_path):
    folder = make_submission("import os\ndef add(a, b):\n    return a + b\ndef mul(a, b):\n    os._exit(0)\n")
    result, tests = _grade(trivial, folder, tmp_path)
    assert tests["test_mul"].outcome == "crashed"
    assert "exited (exit code 0) during hidden/test_hidden.py::test_mul" in tests["test_mul"].output
    assert tests["test_add_matches_reference"].outcome == tests["test_add_small"].outcome == "passed"
    assert result.status == "graded" and result.score == 2


def test_segfault_is_crashed(trivial, make_submission, tmp_path):
    folder = make_submission("import ctypes\ndef add(a, b):\n    return a + b\ndef mul(a, b):\n    ctypes.string_at(0)\n")
    _, tests = _grade(trivial, folder, tmp_path)
    assert tests["test_mul"].outcome == "crashed"
    assert "killed by signal 11" in tests["test_mul"].output


def test_without_isolation_a_crash_ends_the_run_and_keeps_earlier_results(trivial, make_submission, tmp_path):
    from autograder.intake.staging import stage
    from autograder.results import build_result
    from autograder.runners.local import run_tests

    folder = make_submission("import os\ndef add(a, b):\n    return a + b\ndef mul(a, b):\n    os._exit(0)\n")
    staged = stage(folder, trivial.spec, tmp_path / "staged")
    run = run_tests(trivial.spec, [trivial.tests], staged.path, tmp_path / "run", reference=trivial.solution, isolate=False)
    result = build_result(trivial.spec, "s", staged.sha256, run, {})
    tests = {t.name.split("::")[-1]: t for t in result.tests}
    assert result.status == "crashed"
    assert tests["test_add_small"].outcome == "passed"  # public tests run first
    assert tests["test_add_matches_reference"].outcome == "passed"
    assert tests["test_mul"].outcome == "crashed" and "ended unexpectedly (exit code 0)" in tests["test_mul"].output


def test_public_tests_run_first_and_hidden_ones_in_a_fresh_submission_process(trivial, make_submission, tmp_path):
    source = """
        import os
        SEEN = []
        def add(a, b):
            SEEN.append((a, b))
            if len(SEEN) > 1:
                raise RuntimeError(f"pid {os.getpid()} saw {SEEN}")
            return a + b
        def mul(a, b):
            return a * b
    """
    _, tests = _grade(trivial, make_submission(source), tmp_path)
    assert tests["test_add_small"].outcome == "passed"
    # the hidden test's process is a new one: it has seen nothing the public test sent
    assert tests["test_add_matches_reference"].outcome == "passed", tests["test_add_matches_reference"].output


def test_sys_exit_at_import_is_errored(trivial, make_submission, tmp_path):
    _, tests = _grade(trivial, make_submission("import sys\nsys.exit(0)\n"), tmp_path)
    assert {t.outcome for t in tests.values()} == {"errored"}
    assert "SystemExit" in tests["test_mul"].output


def test_memory_bomb_is_reported_as_out_of_memory(trivial, make_submission, tmp_path):
    src = "def add(a, b):\n    return a + b\ndef mul(a, b):\n    return bytearray(8 * 2**30)\n"
    _, tests = _grade(trivial, make_submission(src), tmp_path)
    assert tests["test_mul"].outcome == "crashed"
    assert "exceeded the 1024 MiB memory limit" in tests["test_mul"].output


def test_whole_run_over_its_wall_limit_is_timed_out(trivial, make_submission, tmp_path):
    folder = make_submission("import time\ndef add(a, b):\n    return a + b\ndef mul(a, b):\n    return a * b\n")
    from autograder.intake.staging import stage
    from autograder.results import build_result
    from autograder.runners.local import run_tests

    staged = stage(folder, trivial.spec, tmp_path / "staged")
    slow = tmp_path / "slow_tests" / "tests" / "public"
    slow.mkdir(parents=True)
    (slow / "test_slow.py").write_text("import time\ndef test_add_sleepy(submission):\n    time.sleep(30)\n")
    run = run_tests(trivial.spec, [slow], staged.path, tmp_path / "run", per_submission_s=1.5)
    result = build_result(trivial.spec, "s", staged.sha256, run, {})
    assert run.killed_for_time and result.status == "timed out"
    assert result.tests[0].outcome == "timed out"


def test_grader_bug_is_an_internal_error_not_the_students_fault(trivial, make_submission, tmp_path):
    folder = make_submission("def add(a, b):\n    return a + b\ndef mul(a, b):\n    return a * b\n")
    from autograder.intake.staging import stage
    from autograder.results import build_result
    from autograder.runners.local import run_tests

    staged = stage(folder, trivial.spec, tmp_path / "staged")
    buggy = tmp_path / "buggy" / "tests" / "public"
    buggy.mkdir(parents=True)
    (buggy / "test_buggy.py").write_text("def test_add_buggy(submission):\n    assert undefined_name\n")
    run = run_tests(trivial.spec, [buggy], staged.path, tmp_path / "run")
    result = build_result(trivial.spec, "s", staged.sha256, run, {})
    assert result.tests[0].outcome == "grader error"
    assert "not your fault" in result.tests[0].output and "NameError" not in result.tests[0].output
    assert "NameError" in run.stderr_tail and result.status == "grader error"


@pytest.mark.parametrize("line", ["import torch", "from sklearn import svm", "__import__('jax')"])
def test_forbidden_import_fails_every_test(trivial, make_submission, tmp_path, line, monkeypatch):
    spec = trivial.spec.model_copy(update={"forbidden_imports": ["torch", "jax", "sklearn"]})
    monkeypatch.setattr(type(trivial), "spec", property(lambda self: spec))
    folder = make_submission(f"{line}\ndef add(a, b):\n    return a + b\ndef mul(a, b):\n    return a * b\n")
    result, tests = _grade(trivial, folder, tmp_path)
    assert result.score == 0
    assert {t.outcome for t in tests.values()} == {"failed"}
    assert "arith.py:1 imports" in tests["test_mul"].output


def test_files_in_the_submission_are_never_imported_by_the_referee(trivial, make_submission, tmp_path):
    marker = tmp_path / "referee_ran_student_code"
    folder = make_submission("def add(a, b):\n    return a + b\ndef mul(a, b):\n    return a * b\n")
    for name in ("conftest.py", "fnmatch.py", "zlib.py"):
        (folder / name).write_text(f"open({str(marker)!r}, 'w').write('pwned')\n")
    result, _ = _grade(trivial, folder, tmp_path)
    assert result.score == 5 and not marker.exists()


DRAWS = "import random\nimport numpy as np\n\ndef add(a, b):\n    {draws}\n    return a + b\n\ndef mul(a, b):\n    raise ValueError(f'drew {{random.random()!r}} {{np.random.rand()!r}}')\n"


def test_each_test_starts_with_the_global_generators_seeded_from_its_id(trivial, make_submission, tmp_path):
    """What earlier tests drew changes nothing: a regrade of one test, or the tests in another order, draw the same."""
    import random

    import numpy as np

    from autograder.referee.plugin import seed_of_test

    seen = []
    variants = ["pass", "random.random(); np.random.rand(7)", "[random.random() for _ in range(a + b)]",
                "__import__('os')._exit(3)"]  # the last: test_mul's process is a new one, started by its first call
    for k, draws in enumerate(variants):
        folder = make_submission(DRAWS.format(draws=draws), name=f"sub{k}")
        result = grade_one(trivial, folder, tmp_path / f"out{k}", force=True)
        seen.append(next(t.output for t in result.tests if t.name.endswith("::test_mul")))
    seed = seed_of_test(0, "student", "hidden/test_hidden.py::test_mul")
    random.seed(seed)
    np.random.seed(seed)
    expected = f"drew {random.random()!r} {np.random.rand()!r}"
    assert all(expected in out for out in seen), (expected, seen)
    assert len(seen) == len(variants)
