"""Public test for train.py: a tiny training run returns a full history and learns."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_keys

# Along feature 0, class 1 lies between `outer` and 2.5 from 0 and class 0 within `inner` of 0; the
# other features are noise. A correct train() reaches 0.98 or more on every seed measured; one that never
# updates, climbs the gradient or uses one batch per epoch stays at 0.73 or less (bench/thresholds.py).
TINY = {"n_train": 400, "n_val": 100, "dim": 10, "inner": 0.7, "outer": 1.3, "hidden_dims": [16],
        "epochs": 10, "batch_size": 10, "learning_rate": 1e-2}
THRESHOLD = 0.90


def tiny_problem(seed=0):
    """Return train and validation data of two classes that feature 0's distance from 0 separates."""
    rng = np.random.default_rng(seed)
    n = TINY["n_train"] + TINY["n_val"]
    y = rng.integers(0, 2, n)
    X = rng.standard_normal((n, TINY["dim"]))
    distance = np.where(y == 1, rng.uniform(TINY["outer"], 2.5, n), rng.uniform(0.0, TINY["inner"], n))
    X[:, 0] = rng.choice([-1.0, 1.0], n) * distance
    n = TINY["n_train"]
    return {"X_train": X[:n], "y_train": y[:n], "X_val": X[n:], "y_val": y[n:]}


def tiny_run(submission, seed=0):
    """Train the submission's MLP with its train() on the tiny problem; return the model, the data and the history."""
    model = submission.mlp.MLP(TINY["hidden_dims"], input_dim=TINY["dim"], num_classes=2, seed=seed)
    data = tiny_problem(seed)
    history = submission.train.train(model, data, update_rule="adam", optim_config={"learning_rate": TINY["learning_rate"]},
                                     epochs=TINY["epochs"], batch_size=TINY["batch_size"], seed=seed)
    return model, data, history


def train_on_tiny_problem(submission, seed=0):
    """Train the submission's MLP with its train() on the tiny problem; return the history."""
    return tiny_run(submission, seed)[2]


@pytest.mark.points(1)
def test_train_returns_a_history_and_learns_a_tiny_problem(submission):
    model, data, history = tiny_run(submission)
    assert_keys("history", history, ["loss_history", "train_acc_history", "val_acc_history",
                                     "best_val_acc", "best_epoch", "epochs_run"])
    best = float(assert_array("history['best_val_acc']", history["best_val_acc"], shape=(),
                              hint="Store the best validation accuracy as one number, a float."))
    if not best >= THRESHOLD:
        raise AssertionError(
            f"`best_val_acc` is too low: got {best:.2f}, expected at least {THRESHOLD:.2f} "
            f"on a problem that one feature separates ({TINY['epochs']} epochs of "
            f"{TINY['n_train'] // TINY['batch_size']} batches, adam, learning_rate={TINY['learning_rate']:g}). "
            "Check that each update moves the parameters against the gradient and that every batch is used."
        )
    labels = assert_array("model.predict(X_val)", model.predict(data["X_val"]), shape=(TINY["n_val"],),
                          hint="predict returns one integer label per row of X.")
    accuracy = float(np.mean(labels == data["y_val"]))
    if not accuracy >= THRESHOLD:
        raise AssertionError(
            f"the model given to train() labels {accuracy:.2f} of the validation rows correctly after training, expected "
            f"at least {THRESHOLD:.2f} (your history says best_val_acc {best:.2f}). train() trains that model in place "
            "and leaves it with the parameters of its best epoch."
        )
