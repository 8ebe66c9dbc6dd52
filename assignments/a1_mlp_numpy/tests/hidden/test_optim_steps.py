"""Hidden tests: each update rule against the reference over several steps on fresh gradients."""
import copy

import numpy as np
import pytest

from autograder.checks import assert_close, assert_tuple

CONFIGS = {
    "sgd": {"learning_rate": 0.05},
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.8},
    "nesterov": {"learning_rate": 0.05, "momentum": 0.8},
    "adagrad": {"learning_rate": 0.05, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-8},
    "adam": {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-8},
}
HINTS = {
    "sgd": "w -= learning_rate * dw.",
    "sgd_momentum": "Update the velocity first, v = momentum * v - learning_rate * dw, then w += v.",
    "nesterov": "Keep the previous velocity: w += -momentum * v_prev + (1 + momentum) * v.",
    "adagrad": "Accumulate cache += dw**2 across steps; divide by sqrt(cache) + epsilon.",
    "rmsprop": "Decay the cache, cache = decay_rate * cache + (1 - decay_rate) * dw**2, across steps.",
    "adam": "Increment t before the bias correction, and keep m, v and t in config between steps.",
}
STEPS = 5


@pytest.mark.points(2)
@pytest.mark.parametrize("rule", list(CONFIGS))
def test_update_rule_matches_reference_over_several_steps(submission, reference, rng, rule):
    update_st, update_ref = getattr(submission.optim, rule), getattr(reference.optim, rule)
    w_st = w_ref = rng.standard_normal((4, 6))
    config_st, config_ref = copy.deepcopy(CONFIGS[rule]), copy.deepcopy(CONFIGS[rule])
    for step in range(1, STEPS + 1):
        dw = rng.standard_normal((4, 6))
        returned = update_st(np.array(w_st, copy=True), dw.copy(), config_st)
        w_st, config_st = assert_tuple(rule, returned, ("next_w", "config"))
        w_ref, config_ref = update_ref(w_ref.copy(), dw, config_ref)
        assert_close(f"next_w after step {step}", w_st, w_ref, tol=1e-7, hint=HINTS[rule])
