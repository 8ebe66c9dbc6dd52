"""Public tests for optim.py: two steps of each rule from a fixed start.

The expected numbers were computed once with the reference solution.
"""
from functools import partial

import numpy as np
import pytest

from autograder.checks import assert_close, assert_keys, assert_shape, assert_tuple

expect = partial(assert_close, against="the expected values")

W = np.linspace(-0.4, 0.6, 6).reshape(2, 3)
DW = np.linspace(-0.1, 0.2, 6).reshape(2, 3)
EXPECTED_AFTER_TWO_STEPS = {
    "sgd": [[-0.37, -0.188, -0.006], [0.176, 0.358, 0.54]],
    "sgd_momentum": [[-0.361, -0.1844, -0.0078], [0.1688, 0.3454, 0.522]],
    "nesterov": [[-0.3349, -0.17396, -0.01302], [0.14792, 0.30886, 0.4698]],
    "adagrad": [[-0.2105572949, -0.0105573159, -0.1894426491], [0.0105572984, 0.2105572909, 0.4105572879]],
    "rmsprop": [[1.4953215613, 1.6953194601, -1.8953159581], [-1.6953212111, -1.4953219615, -1.2953222617]],
    "adam": [[-0.2034818135, -0.0034818377, -0.1965181221], [0.0034818175, 0.2034818089, 0.4034818055]],
}


@pytest.mark.points(1)
@pytest.mark.parametrize("rule", list(EXPECTED_AFTER_TWO_STEPS))
def test_two_steps_match_expected_values(submission, rule):
    update = getattr(submission.optim, rule)
    config = {"learning_rate": 0.1}
    w1, config = assert_tuple(rule, update(W.copy(), DW.copy(), config), ("next_w", "config"))
    assert_shape("next_w", w1, W.shape)
    w2, config = assert_tuple(rule, update(w1, 2 * DW, config), ("next_w", "config"))
    expect(f"next_w after two {rule} steps", w2, EXPECTED_AFTER_TWO_STEPS[rule], tol=1e-6,
           hint="Follow the update formula in the docstring; if only the second step is off, "
                "keep the rule's state in config so the next call uses it.")


@pytest.mark.points(0.5)
def test_every_rule_accepts_a_none_config(submission):
    for rule in EXPECTED_AFTER_TWO_STEPS:
        hint = f"With config=None, {rule} must create a dict and fill in the defaults."
        returned = getattr(submission.optim, rule)(W.copy(), DW.copy(), None)
        next_w, config = assert_tuple(rule, returned, ("next_w", "config"), hint=hint)
        assert_shape(f"next_w from {rule}", next_w, W.shape, hint=hint)
        assert_keys(f"config from {rule}", config, ["learning_rate"], hint=hint)
