"""Hidden tests: each update rule against the reference: one step with non-default hyperparameters and
a given state, several steps that must carry the state, and no change to the arrays it is given."""
import copy
import itertools

import numpy as np
import pytest

from autograder.checks import assert_close, assert_keys, assert_tuple, rel_error

RULES = ["sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam"]
STATEFUL = RULES[1:]
# every hyperparameter away from its default, so that a hard-coded default shows
HYPERPARAMETERS = {
    "sgd": {"learning_rate": 0.05},
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.7},
    "nesterov": {"learning_rate": 0.05, "momentum": 0.7},
    "adagrad": {"learning_rate": 0.05, "epsilon": 1e-4},
    "rmsprop": {"learning_rate": 0.02, "decay_rate": 0.8, "epsilon": 1e-4},
    "adam": {"learning_rate": 0.02, "beta1": 0.7, "beta2": 0.9, "epsilon": 1e-5},
}
FORMULAS = {
    "sgd": "w - learning_rate * dw.",
    "sgd_momentum": "v = momentum * v - learning_rate * dw, then w + v.",
    "nesterov": "v = momentum * v - learning_rate * dw, then w - momentum * v_prev + (1 + momentum) * v.",
    "adagrad": "cache += dw**2, then w - learning_rate * dw / (sqrt(cache) + epsilon): epsilon outside the root.",
    "rmsprop": "cache = decay_rate * cache + (1 - decay_rate) * dw**2, then "
               "w - learning_rate * dw / (sqrt(cache) + epsilon): epsilon outside the root.",
    "adam": "t += 1 first; m and v are moving averages with beta1 and beta2; divide them by (1 - beta**t); "
            "then w - learning_rate * m_hat / (sqrt(v_hat) + epsilon).",
}
STATE_HINTS = {
    "sgd_momentum": "Read the velocity from config['velocity'] (zeros the first time) and store the new one back "
                    "into config before you return it.",
    "nesterov": "Read the velocity from config['velocity'] (zeros the first time), keep the old one as v_prev, "
                "and store the new one back into config.",
    "adagrad": "Read the running sum from config['cache'] (zeros the first time), add dw**2 and store it back.",
    "rmsprop": "Read the moving average from config['cache'] (zeros the first time) and store the new one back.",
    "adam": "Read m, v and t from config (zeros and 0 the first time), increment t on every call and store "
            "m, v and t back into config before you return it.",
}
STEPS = 5


def step(update, rule, w, dw, config):
    """Call the student's rule on copies and return (next_w, config), checked to be a pair."""
    return assert_tuple(rule, update(np.array(w, copy=True), np.array(dw, copy=True), config), ("next_w", "config"))


def hard_coded(update_ref, w, dw, config, w_st):
    """Return the hyperparameters whose defaults, put in place of the given values, give the student's w."""
    defaults = update_ref(w.copy(), dw.copy(), None)[1]
    keys = [k for k, v in config.items() if isinstance(v, float) and k in defaults and defaults[k] != v]
    for size in range(1, len(keys) + 1):
        for chosen in itertools.combinations(keys, size):
            trial = {**copy.deepcopy(config), **{k: defaults[k] for k in chosen}}
            if rel_error(w_st, update_ref(w.copy(), dw.copy(), trial)[0]) < 1e-9:
                return ", ".join(f"{k}={defaults[k]:g}" for k in chosen)
    return None


def mid_run_state(update_ref, config, shape, rng, steps=200):
    """Return the reference's config (hyperparameters and state) after `steps` steps on random gradients.

    Late in a run Adam's bias corrections are close to 1, so the form that folds them into the
    learning rate (which moves epsilon by a factor 1 / sqrt(1 - beta2**t)) agrees with the docstring's.
    """
    w = rng.standard_normal(shape)
    for _ in range(steps):
        w, config = update_ref(w, rng.standard_normal(shape), config)
    return config


@pytest.mark.points(1)
@pytest.mark.parametrize("rule", RULES)
def test_update_rule_step_uses_the_given_hyperparameters_and_state(submission, reference, rng, rule):
    update_st, update_ref = getattr(submission.optim, rule), getattr(reference.optim, rule)
    config = mid_run_state(update_ref, copy.deepcopy(HYPERPARAMETERS[rule]), (4, 6), rng)
    w, dw = 0.01 * rng.standard_normal((4, 6)), rng.standard_normal((4, 6))  # small w: next_w is mostly the step
    w_st, _ = step(update_st, rule, w, dw, copy.deepcopy(config))
    w_ref, _ = update_ref(w.copy(), dw.copy(), copy.deepcopy(config))
    given = ", ".join(f"{k}={v:g}" if isinstance(v, float | int) else k for k, v in config.items())
    hint = f"Follow the docstring: {FORMULAS[rule]} Use every value in config (here {given})."
    try:
        suspect = hard_coded(update_ref, w, dw, config, np.asarray(w_st, dtype=np.float64))
    except Exception:  # noqa: BLE001 - the student's value is judged by assert_close below
        suspect = None
    if suspect:
        hint = (f"Your result is what the reference gives with the default {suspect} instead of the value in "
                f"config: read every hyperparameter from config (config.setdefault fills in the defaults).")
    assert_close(f"next_w from one {rule} step", w_st, w_ref, tol=1e-7, hint=hint)


@pytest.mark.points(1.2)
@pytest.mark.parametrize("rule", STATEFUL)
def test_update_rule_keeps_its_state_across_steps(submission, reference, rng, rule):
    update_st, update_ref = getattr(submission.optim, rule), getattr(reference.optim, rule)
    w_st = w_ref = rng.standard_normal((4, 6))
    config_st, config_ref = {"learning_rate": 0.05}, {"learning_rate": 0.05}  # default hyperparameters otherwise
    for n in range(1, STEPS + 1):
        dw = rng.standard_normal((4, 6))
        w_st, config_st = step(update_st, rule, w_st, dw, config_st)
        assert_keys(f"config returned by {rule}", config_st, ["learning_rate"],
                    hint="Return the config dict you were given, with the new state stored in it.")
        w_ref, config_ref = update_ref(w_ref.copy(), dw, config_ref)
        assert_close(f"next_w after step {n} of {STEPS}, each step given the config the previous one returned",
                     w_st, w_ref, tol=1e-7,
                     hint=STATE_HINTS[rule] if n > 1 else f"The first step is already off: {FORMULAS[rule]}")


class ArrayProbe:
    """A one-matrix model whose loss hands out W1 and its gradient, and keeps both as handed and as found later.

    The grader compares them in its own process (`seen`), never with the student's NumPy.
    """

    def __init__(self, w, dw):
        self.params = {"W1": w}
        self.dw = dw
        self.handed = []
        self.seen = []
        self.reg, self.use_batchnorm, self.bn_params, self.dropout = 0.0, False, [], 0.0

    def check(self):
        for name, array, before in self.handed:
            self.seen.append((name, before, array.copy()))
        self.handed = []

    def loss(self, X, y=None):
        if y is None:
            return np.zeros((X.shape[0], 2))
        self.check()
        w, dw = self.params["W1"], self.dw.copy()
        self.handed = [("w", w, w.copy()), ("dw", dw, dw.copy())]
        return 1.0, {"W1": dw}

    def predict(self, X):
        self.check()
        return np.zeros(X.shape[0], dtype=np.int64)


@pytest.mark.points(0.25)
@pytest.mark.parametrize("rule", RULES)
def test_update_rule_leaves_w_and_dw_unchanged(submission, reference, rng, rule):
    """The rule runs inside your train(), which passes it the model's own arrays; one update, then a check."""
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    probe = submission.define(ArrayProbe)(w, dw)
    X = rng.standard_normal((6, 2))
    data = {"X_train": X, "y_train": np.zeros(6, dtype=np.int64), "X_val": X, "y_val": np.zeros(6, dtype=np.int64)}
    submission.train.train(probe, data, update_rule=rule, optim_config=copy.deepcopy(HYPERPARAMETERS[rule]),
                           epochs=1, batch_size=6, seed=0)
    w_ref, _ = getattr(reference.optim, rule)(w.copy(), dw.copy(), copy.deepcopy(HYPERPARAMETERS[rule]))
    assert_keys("model.params", probe.params, ["W1"])
    assert_close(f"the weights after one {rule} update in train()", probe.params["W1"], w_ref,
                 hint=f"Either {rule} is off (its other tests say more) or train() did not store its result in "
                      "model.params; this test judges in-place changes of a right update only.")
    changed = sorted({name for name, before, after in probe.seen if not np.array_equal(before, after)})
    if changed:
        raise AssertionError(
            f"`{rule}` changed {' and '.join(changed)} in place: after train() called {rule}(w, dw, config) "
            "once, the arrays it was given held new values, expected them unchanged. The module docstring asks "
            "for a new array: write next_w = w - ... instead of w -= ..., and never change dw (the caller may "
            "still need both)."
        )
