"""Whose fault is it: requests the student's code cannot take, and values of the wrong structure, end to end.

One submission with every flaw is graded once against a small handout (`HANDOUT`, the reference)
and a test file that asks for each thing the handout promises; each test below checks one outcome.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.intake.staging import stage
from autograder.outcomes import ATTRIBUTE_MSG, CALL_MSG, GRADER_ERROR_MSG, SERVE_FAILED_MSG, SIGNATURE_MSG
from autograder.results import build_result
from autograder.runners.local import run_tests

HANDOUT = '''
import collections

import numpy as np


def add(a, b):
    """Return a + b."""
    return a + b


def evens(n):
    """Return the first n even numbers, as a list."""
    return [2 * i for i in range(n)]


def squares(n):
    """Return [0, 1, 4, ...], n squares."""
    return [i * i for i in range(n)]


def forward(x):
    """Return (out, cache)."""
    return 2 * x, x


def predict(X):
    """Return one label per row of X, shape (N,)."""
    return np.zeros(len(X), dtype=np.int64)


def config():
    """Return the settings, a dict."""
    return {"lr": 0.1, "steps": 3}


def bump(cfg):
    """Count a step in cfg, in place."""
    cfg["t"] = cfg.get("t", 0) + 1


class Counter:
    def __init__(self, start=0):
        self.count = start
        self.options = collections.OrderedDict(lr=0.1)

    def step(self, by=1):
        self.count += by
        return self.count

    def lr(self):
        return self.options["lr"]

    def scale(self, factor):
        return self.count * factor
'''

STUDENT = '''
import collections
import sys

import numpy as np

_server = sys.modules["autograder.isolation.server"]
_honest_kind = _server._kind


def _forged_kind(exc, cause, in_student_code, stage):  # claims its own failures are the grader's
    return "grader" if "forged" in str(cause) else _honest_kind(exc, cause, in_student_code, stage)


_server._kind = _forged_kind


def forge():
    raise RuntimeError("forged")


def add(a):  # changed the handout's signature
    return a


def evens(n):
    return map(lambda i: 2 * i, range(n))  # lazy


def squares(n):
    return [i * i for i in range(n - 1)]  # one short


def forward(x):
    out = 2 * x  # forgot to return


def predict(X):
    return np.zeros((3_400_000, 1))  # would broadcast against (N,) labels to 3.4e9 values


def history():
    return [10 ** 400, 0.5]  # an int no float holds


def batches():
    return 0


def config():
    settings = collections.OrderedDict(lr=0.1)
    settings["steps"] = collections.defaultdict(int, {"warmup": 3})
    return settings


def bump(cfg):
    cfg["t"] = cfg.get("t", 0) + 1


class Counter:
    def __init__(self, start=0):
        self.count = start
        self.options = collections.OrderedDict(lr=0.1)

    def lr(self):  # step() is missing
        return self.options["lr"]

    def scale(self):  # dropped the handout's argument
        return self.count
'''

CASES = '''
import collections

import numpy as np
import pytest

from autograder.checks import assert_array, assert_keys, assert_sequence, assert_tuple


def test_changed_arity(submission):
    assert submission.arith.add(1, 2) == 3


def test_missing_method(submission):
    assert submission.arith.Counter(3).step() == 4


def test_method_with_a_changed_signature(submission):
    assert submission.arith.Counter(3).scale(2) == 6


def test_map_where_a_list_belongs(submission):
    assert_sequence("evens(3)", submission.arith.evens(3), length=3)


def test_map_used_without_a_check(submission):
    assert len(submission.arith.evens(3)) == 3


def test_none_returned(submission):
    out, cache = assert_tuple("forward", submission.arith.forward(np.ones(3)), ("out", "cache"))


@pytest.fixture
def forwarded(submission):
    return assert_tuple("forward", submission.arith.forward(np.ones(3)), ("out", "cache"))


def test_none_returned_to_a_fixture(forwarded):
    pass


def test_wrong_length_list(submission):
    assert_sequence("squares(4)", submission.arith.squares(4), length=4)


def test_huge_array_is_refused_before_any_arithmetic(submission):
    y = np.arange(1000) % 10
    y_pred = assert_array("predict(X)", submission.arith.predict(np.zeros((1000, 2))), shape=y.shape)
    assert np.mean(y_pred == y) > 0.5


def test_referee_peak_memory(record):
    import resource

    record("referee_peak_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def test_an_int_too_large_for_a_float(submission):
    assert max(float(v) for v in submission.arith.history()) < 10


def test_a_count_of_zero_divides(submission):
    assert 100 / submission.arith.batches() > 1


def test_several_failures_at_once(submission):
    errors = []
    for n in (3, 4):
        try:
            assert_sequence(f"squares({n})", submission.arith.squares(n), length=n)
        except AssertionError as exc:
            errors.append(exc)
    raise ExceptionGroup("two examples failed", errors)


def test_ordered_and_default_dicts_cross_as_dicts(submission):
    settings = submission.arith.config()
    assert_keys("config()", settings, ["lr", "steps"])
    assert type(settings) is dict and type(settings["steps"]) is dict and settings["steps"]["warmup"] == 3


def test_writes_reach_a_dict_subclass_attribute(submission):
    counter = submission.arith.Counter(0)
    counter.options["lr"] = 0.5
    assert counter.lr() == 0.5


def test_in_place_changes_reach_an_ordered_dict_argument(submission):
    cfg = collections.OrderedDict(t=1)
    submission.arith.bump(cfg)
    assert cfg["t"] == 2


def test_forged_grader_fault(submission):
    submission.arith.forge()


class Helper:
    def __init__(self, x):
        self.x = x

    def boom(self):
        return undefined_name


def test_helper_whose_own_code_raises(submission):
    submission.define(Helper)(1).boom()
'''

TEST_MISTAKES = '''
import pytest


class Helper:
    def __init__(self, x):
        self.x = x

    def get(self):
        return self.x


def test_call_the_handout_cannot_take(submission):
    submission.arith.add(1, 2, 3)


def test_attribute_the_handout_lacks(submission):
    assert submission.arith.Counter(3).cuont == 3


def test_helper_called_wrongly(submission):
    submission.define(Helper)(1, 2)


def test_helper_method_called_wrongly(submission):
    submission.define(Helper)(1).get(2)


def test_helper_attribute_typo(submission):
    assert submission.define(Helper)(1).y == 1
'''


def _grade(trivial, root: Path, cases: str, isolate: bool = True) -> tuple[object, dict, str]:
    """Grade STUDENT with the test file `cases` against HANDOUT; return the result, tests by name, stderr."""
    (root / "handout").mkdir(parents=True)
    (root / "handout" / "arith.py").write_text(textwrap.dedent(HANDOUT), encoding="utf-8")
    (root / "student").mkdir()
    (root / "student" / "arith.py").write_text(textwrap.dedent(STUDENT), encoding="utf-8")
    tests = root / "course" / "tests" / "public"
    tests.mkdir(parents=True)
    (tests / "test_cases.py").write_text(textwrap.dedent(cases), encoding="utf-8")
    staged = stage(root / "student", trivial.spec, root / "staged")
    run = run_tests(trivial.spec, [tests.parent], staged.path, root / "run", reference=root / "handout", isolate=isolate)
    result = build_result(trivial.spec, "s", staged.sha256, run, {})
    return result, {t.name.split("::")[-1]: t for t in result.tests}, run.stderr_tail


@pytest.fixture(scope="module")
def graded(trivial, tmp_path_factory):
    return _grade(trivial, tmp_path_factory.mktemp("flaws"), CASES)


@pytest.fixture(scope="module")
def mistakes(trivial, tmp_path_factory):
    return _grade(trivial, tmp_path_factory.mktemp("mistakes"), TEST_MISTAKES)


def _outcome(graded, name):
    test = graded[1][name]
    return test.outcome, test.output


def test_the_students_flaws_are_graded_never_grader_errors(graded):
    result, tests, _ = graded
    assert result.status == "graded"  # so the result is reused, unlike a grader error
    assert "grader error" not in {t.outcome for t in tests.values()}


def test_a_changed_signature_is_failed_naming_the_handouts_signature(graded):
    yours = "yours is add(a): takes 1 positional argument but 2 were given"
    assert _outcome(graded, "test_changed_arity") == (
        "failed", SIGNATURE_MSG.format(name="`arith.add`", handout="add(a, b)", yours=yours))


def test_a_method_with_a_changed_signature_is_failed_naming_the_handouts_signature(graded):
    yours = "yours is scale(): takes 1 positional argument but 2 were given"
    assert _outcome(graded, "test_method_with_a_changed_signature") == (
        "failed", SIGNATURE_MSG.format(name="`Counter.scale`", handout="scale(factor)", yours=yours))


def test_a_missing_method_is_failed_naming_it(graded):
    outcome, message = _outcome(graded, "test_missing_method")
    assert outcome == "failed"
    assert message == ATTRIBUTE_MSG.format(owner="Counter", attr="step", error="AttributeError: 'Counter' object has no attribute 'step'")


def test_a_lazy_map_where_a_list_belongs_is_failed_saying_so(graded):
    outcome, message = _outcome(graded, "test_map_where_a_list_belongs")
    assert outcome == "failed"
    assert message.startswith("`evens(3)` has the wrong type: got a `map` object, expected a list. Return a list, not a lazy `map`")


def test_a_lazy_map_the_test_did_not_check_is_still_the_students_failure(graded):
    outcome, message = _outcome(graded, "test_map_used_without_a_check")
    assert outcome == "failed"
    assert message.startswith("The `map` object from `arith.evens` cannot be used as the test needs it (TypeError: object of type 'map' has no len())")


@pytest.mark.parametrize("name", ["test_none_returned", "test_none_returned_to_a_fixture"])
def test_none_returned_is_failed_naming_what_was_expected(graded, name):
    outcome, message = _outcome(graded, name)
    assert (outcome, message.split(". ")[0]) == ("failed", "`forward` returned None, expected a tuple (out, cache)")


@pytest.mark.parametrize(("name", "kind"), [("test_an_int_too_large_for_a_float", "OverflowError"),
                                          ("test_a_count_of_zero_divides", "ZeroDivisionError")])
def test_arithmetic_on_the_students_values_that_fails_is_the_students_failure(graded, name, kind):
    outcome, message = _outcome(graded, name)
    assert outcome == "failed" and message.startswith(f"The test could not use what your code returned ({kind}: "), message


def test_several_failures_at_once_are_graded_by_the_first(graded):
    outcome, message = _outcome(graded, "test_several_failures_at_once")
    assert outcome == "failed" and "squares(3)" in message, message


def test_a_list_of_the_wrong_length_is_failed_with_got_and_expected(graded):
    outcome, message = _outcome(graded, "test_wrong_length_list")
    assert (outcome, message.split(". ")[0]) == ("failed", "`squares(4)` has the wrong length: got 3, expected 4")


def test_a_huge_array_is_refused_by_its_shape_and_the_referee_stays_small(graded):
    result, _, _ = graded
    outcome, message = _outcome(graded, "test_huge_array_is_refused_before_any_arithmetic")
    assert (outcome, message.split(". ")[0]) == ("failed", "`predict(X)` has the wrong shape: got (3400000, 1), expected (1000,)")
    assert result.metadata["referee_peak_mib"] < 600  # broadcasting it against the labels would take 3.4 GB


@pytest.mark.parametrize("name", [
    "test_ordered_and_default_dicts_cross_as_dicts",
    "test_writes_reach_a_dict_subclass_attribute",
    "test_in_place_changes_reach_an_ordered_dict_argument",
])
def test_dict_subclasses_cross_as_dicts(graded, name):
    assert _outcome(graded, name) == ("passed", "")


@pytest.mark.parametrize("name", ["test_forged_grader_fault", "test_helper_whose_own_code_raises"])
def test_what_only_the_submission_process_calls_a_grader_fault_is_the_submissions_error(graded, name):
    """It runs the student's code, so its word cannot buy a grader error (not your fault, never cached)."""
    assert _outcome(graded, name) == ("errored", SERVE_FAILED_MSG)
    assert f"{name}: the submission process reports a fault in the grader's request" in graded[2]


@pytest.mark.parametrize("name, logged", [
    ("test_call_the_handout_cannot_take", "The handout's add(a, b) cannot take these arguments either."),
    ("test_attribute_the_handout_lacks", "The handout's `Counter` has no attribute `cuont` either."),
    ("test_helper_called_wrongly", "The test's own helper `Helper` cannot take these arguments either."),
    ("test_helper_method_called_wrongly", "The test's own helper `Helper.get` cannot take these arguments either."),
    ("test_helper_attribute_typo", "The test's own helper `Helper` has no attribute `y` either."),
])
def test_the_tests_own_mistakes_are_grader_errors_with_the_reason_logged(mistakes, name, logged):
    result, tests, stderr = mistakes
    assert tests[name].outcome == "grader error"
    assert tests[name].output == GRADER_ERROR_MSG.format(test=f"public/test_cases.py::{name}")
    assert logged in stderr and result.status == "grader error"


def test_in_process_a_changed_signature_is_failed_too(trivial, tmp_path):
    """A student's local check (`autograder check`) runs their code in-process: same verdict, plainer words."""
    cases = "def test_changed_arity(submission):\n    assert submission.arith.add(1, 2) == 3\n"
    _, tests, _ = _grade(trivial, tmp_path, cases, isolate=False)
    error = "TypeError: add() takes 1 positional argument but 2 were given"
    assert (tests["test_changed_arity"].outcome, tests["test_changed_arity"].output) == ("failed", CALL_MSG.format(name="`add`", error=error))
