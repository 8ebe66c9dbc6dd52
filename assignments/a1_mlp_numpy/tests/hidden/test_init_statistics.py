"""Hidden tests: weight initialisation statistics on a large layer, use of the given generator, and the exact seeded draw."""
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


def assert_random(name, w):
    """Fail if every weight is the same number: statistics and reproducibility of a constant say nothing."""
    if np.isfinite(w).all() and w.size and np.all(w == w.flat[0]):
        raise AssertionError(f"`{name}` holds one value, {float(w.flat[0]):g}, in every entry, expected random draws. "
                             "Draw the weights with rng.standard_normal((fan_in, fan_out)) and scale them by the std.")


@pytest.fixture
def weights(submission, scheme, rng):
    w = getattr(submission.init, scheme)(FAN_IN, FAN_OUT, rng)
    w = assert_array("w", w, shape=(FAN_IN, FAN_OUT), dtype_kind="f", hint="Return a (fan_in, fan_out) matrix of floats.")
    assert_random("w", w)
    return w.astype(np.float64)


@pytest.mark.points(0.25)
def test_init_mean_is_zero(scheme, weights):
    std = TARGET_STD[scheme]
    assert_within(f"mean of {scheme}({FAN_IN}, {FAN_OUT})", weights.mean(), 0.0, atol=0.01 * std,
                  hint="Draw from a normal distribution centred on zero.")


@pytest.mark.points(0.5)
def test_init_std_matches_the_scheme(scheme, weights):
    std = TARGET_STD[scheme]
    assert_within(f"std of {scheme}({FAN_IN}, {FAN_OUT})", weights.std(), std, atol=0.02 * std,
                  hint=STD_HINT[scheme])


@pytest.mark.points(0.25)
def test_init_draws_from_the_given_generator(submission, scheme):
    w_first = getattr(submission.init, scheme)(30, 20, np.random.default_rng(123))
    assert_random("w", assert_array("w", w_first, shape=(30, 20), dtype_kind="f",
                                    hint="Return a (fan_in, fan_out) matrix of floats."))
    w_again = getattr(submission.init, scheme)(30, 20, np.random.default_rng(123))
    assert_close("w drawn again from default_rng(123)", w_again, w_first, against="the first draw",
                 hint="Draw with the rng argument, not np.random, so a seed reproduces the weights.")


def draw_hint(w_st, w_ref):
    """Say whether the student drew the same samples with another scale, or other samples."""
    scale = float(np.sum(w_st * w_ref) / np.sum(w_ref * w_ref))
    if np.allclose(w_st, scale * w_ref, rtol=0, atol=1e-6 * np.abs(w_ref).max()):
        return (f"Your weights are the reference's samples times {scale:.4g}: the draw is right, the std is not. "
                "Check the std formula in the docstring.")
    return ("Draw once with rng.standard_normal((fan_in, fan_out)) and multiply by the std (no uniform, "
            "transposed or reshaped samples, no second draw): the docstring fixes the draw, so the same seed "
            "must give the same weights.")


@pytest.mark.points(0.5)
def test_init_matches_the_seeded_reference_draw(submission, reference, scheme, rng):
    seed = int(rng.integers(2**31))
    w_st = getattr(submission.init, scheme)(30, 20, np.random.default_rng(seed))
    w_st = assert_array("w", w_st, shape=(30, 20), dtype_kind="f", hint="Return a (fan_in, fan_out) matrix of floats.")
    w_ref = getattr(reference.init, scheme)(30, 20, np.random.default_rng(seed))
    hint = draw_hint(w_st.astype(np.float64), w_ref) if np.isfinite(w_st).all() else ""
    assert_close(f"{scheme}(30, 20, np.random.default_rng({seed}))", w_st, w_ref, tol=1e-7,
                 against="the reference's draw from the same seed", hint=hint)
