"""Public test for train.py: a tiny training run returns a full history and learns."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_keys


@pytest.mark.points(1)
def test_train_returns_a_history_and_learns_a_tiny_problem(submission):
    rng = np.random.default_rng(0)
    X_train = rng.standard_normal((60, 4))
    y_train = (X_train[:, 0] > 0).astype(np.int64)
    data = {"X_train": X_train, "y_train": y_train, "X_val": X_train[:20], "y_val": y_train[:20]}
    model = submission.mlp.MLP([8], input_dim=4, num_classes=2)
    history = submission.train.train(model, data, update_rule="adam", optim_config={"learning_rate": 1e-2},
                                     epochs=20, batch_size=20)
    assert_keys("history", history, ["loss_history", "train_acc_history", "val_acc_history",
                                     "best_val_acc", "best_epoch", "epochs_run"])
    best = float(assert_array("history['best_val_acc']", history["best_val_acc"], shape=(),
                              hint="Store the best validation accuracy as one number, a float."))
    if not best >= 0.9:
        raise AssertionError(
            f"`best_val_acc` is too low: got {best:.2f}, expected at least 0.90 "
            "on a problem that one feature separates. Check that each update moves the parameters "
            "against the gradient and that every batch is used."
        )
