"""Public test for compare_activations: one history per activation."""
import numpy as np
import pytest

from autograder.checks import assert_keys, assert_sequence


@pytest.mark.points(1)
def test_compare_activations_returns_a_history_per_activation(submission):
    rng = np.random.default_rng(0)
    data = {"X_train": rng.standard_normal((20, 3)), "y_train": rng.integers(0, 2, 20),
            "X_val": rng.standard_normal((6, 3)), "y_val": rng.integers(0, 2, 6)}
    histories = submission.train.compare_activations(data, [3, 4, 2], epochs=2, batch_size=10, seed=0)
    assert_keys("compare_activations(...)", histories, ["relu", "sigmoid"])
    for activation in ("relu", "sigmoid"):
        assert_keys(f"histories['{activation}']", histories[activation], ["loss", "val_acc"])
        assert_sequence(f"histories['{activation}']['loss']", histories[activation]["loss"], length=4,
                        hint="2 epochs of 2 batches: each history comes from train() with the given settings.")
