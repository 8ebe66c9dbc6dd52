"""Public tests for init.py: shapes and the spread of the weights."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_within


@pytest.mark.points(1)
@pytest.mark.parametrize("scheme, target_std", [("he_init", np.sqrt(2 / 400)), ("xavier_init", np.sqrt(2 / 600))])
def test_init_shape_and_std(submission, scheme, target_std):
    w = getattr(submission.init, scheme)(400, 200, np.random.default_rng(0))
    w = assert_array("w", w, shape=(400, 200), dtype_kind="f", hint="Return a (fan_in, fan_out) matrix of floats.")
    assert_within(f"std of {scheme}(400, 200)", np.std(w), target_std, atol=0.05 * target_std,
                  hint="Scale standard normal samples by the std given in the docstring.")
