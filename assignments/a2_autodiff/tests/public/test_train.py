"""Public test for train.py: a tiny training run returns a full history and learns."""
import numpy as np
import pytest

from autograder.checks import assert_keys, assert_sequence


def tiny_problem(seed=0):
    """Two well separated Gaussian blobs in 5 dimensions, 120 train and 40 validation rows."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 160)
    X = rng.standard_normal((160, 5)) * 0.5
    X[:, 0] += np.where(y == 1, 1.5, -1.5)
    return {"X_train": X[:120], "y_train": y[:120], "X_val": X[120:], "y_val": y[120:]}


@pytest.mark.points(1)
def test_train_returns_a_history_and_learns_a_tiny_problem(submission):
    model = submission.nn.MLP([5, 8, 2], seed=0)
    history = submission.train.train(model, tiny_problem(), epochs=3, batch_size=16, learning_rate=0.2, seed=0)
    assert_keys("history", history, ["loss", "train_acc", "val_acc"], hint="Return the dict the docstring describes.")
    losses = assert_sequence("history['loss']", history["loss"], length=3 * 8,
                             hint="Record one loss per update: 3 epochs of ceil(120 / 16) = 8 batches.")
    val = assert_sequence("history['val_acc']", history["val_acc"], length=3, hint="One validation accuracy per epoch.")
    assert_sequence("history['train_acc']", history["train_acc"], length=3, hint="One training accuracy per epoch.")
    if not float(np.mean(losses[-8:])) < float(np.mean(losses[:8])) or not float(val[-1]) >= 0.9:
        raise AssertionError(f"training did not learn the tiny problem: mean loss {np.mean(losses[:8]):.3f} in the first "
                             f"epoch, {np.mean(losses[-8:]):.3f} in the last, validation accuracy {float(val[-1]):.3f}; "
                             "expected a falling loss and at least 0.9. Check zero_grad, backward and step in each update.")
    data = tiny_problem()
    accuracy = float(np.mean(np.asarray(model.predict(data["X_val"])) == data["y_val"]))
    if not accuracy >= 0.9:
        raise AssertionError(f"the model given to train() has validation accuracy {accuracy:.3f} after training, expected "
                             f"at least 0.9 (your history says {float(val[-1]):.3f}). train() updates that model's "
                             "parameters in place, not a copy's.")
