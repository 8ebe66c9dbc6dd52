"""Hidden test: compare_activations trains one network per activation with your train()."""
import numpy as np
import pytest

from autograder.checks import assert_close, assert_keys, assert_sequence

SIZES = [4, 6, 3]
SETTINGS = {"epochs": 2, "batch_size": 7, "learning_rate": 0.2, "seed": 4}


def small_problem():
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    return {"X_train": X[:24], "y_train": y[:24], "X_val": X[24:], "y_val": y[24:]}


@pytest.mark.points(2)
def test_compare_activations_trains_each_activation_with_train(submission):
    data = small_problem()
    histories = submission.train.compare_activations(data, SIZES, **SETTINGS)
    assert_keys("compare_activations(...)", histories, ["relu", "sigmoid"])
    for activation in ("relu", "sigmoid"):
        model = submission.nn.MLP(SIZES, activation=activation, seed=SETTINGS["seed"])
        expected = submission.train.train(model, data, **SETTINGS)
        got = histories[activation]
        assert_keys(f"histories['{activation}']", got, list(expected))
        for key in expected:
            values = assert_sequence(f"histories['{activation}']['{key}']", got[key], length=len(expected[key]))
            assert_close(f"histories['{activation}']['{key}']", np.array(values, dtype=np.float64), expected[key],
                         against=f"train(MLP(sizes, '{activation}', seed), data, ...) with the same settings",
                         hint="Train a new MLP(sizes, activation, seed) per activation with train() and pass on epochs, "
                              "batch_size, learning_rate and seed.")
