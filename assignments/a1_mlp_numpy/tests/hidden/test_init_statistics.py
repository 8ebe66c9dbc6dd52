"""Hidden tests: weight initialisation statistics on a large layer, and use of the given generator."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_within

FAN_IN, FAN_OUT = 2000, 500  # 1e6 samples: the sample std is within 0.2% of the true one
TARGET_STD = {"he_init": np.sqrt(2 / FAN_IN), "xavier_init": np.sqrt(2 / (FAN_IN + FAN_OUT))}
STD_HINT = {"he_init": "He initialisation uses std = sqrt(2 / fan_in).",
            "xavier_init": "Xavier initialisation uses std = sqrt(2 / (fan_in + fan_out))."}


@pytest.fixture(params=list(TARGET_STD))
def scheme(request):
    return request.param


@pytest.fixture
def weights(submission, scheme, rng):
    w = getattr(submission.init, scheme)(FAN_IN, FAN_OUT, rng)
    w = assert_array("w", w, shape=(FAN_IN, FAN_OUT), dtype_kind="f", hint="Return a (fan_in, fan_out) matrix of floats.")
    return w.astype(np.float64)


@pytest.mark.points(0.5)
def test_init_mean_is_zero(scheme, weights):
    std = TARGET_STD[scheme]
    assert_within(f"mean of {scheme}({FAN_IN}, {FAN_OUT})", weights.mean(), 0.0, atol=0.01 * std,
                  hint="Draw from a normal distribution centred on zero.")


@pytest.mark.points(0.5)
def test_init_std_matches_the_scheme(scheme, weights):
    std = TARGET_STD[scheme]
    assert_within(f"std of {scheme}({FAN_IN}, {FAN_OUT})", weights.std(), std, atol=0.02 * std,
                  hint=STD_HINT[scheme])


@pytest.mark.points(0.5)
def test_init_draws_from_the_given_generator(submission, scheme):
    w_first = getattr(submission.init, scheme)(30, 20, np.random.default_rng(123))
    assert_array("w", w_first, shape=(30, 20), dtype_kind="f", hint="Return a (fan_in, fan_out) matrix of floats.")
    w_again = getattr(submission.init, scheme)(30, 20, np.random.default_rng(123))
    assert_close("w drawn again from default_rng(123)", w_again, w_first, against="the first draw",
                 hint="Draw with the rng argument, not np.random, so a seed reproduces the weights.")
