"""Hidden tests: the training loop keeps the best epoch and stops early, on a scripted fake model.

The fake model's validation accuracy follows a script indexed by how many updates it has had,
so these tests judge train.py alone, whatever the student's MLP does.
"""
from functools import partial

import numpy as np
import pytest

from autograder.checks import assert_close, assert_keys, assert_sequence

N_VAL = 10
expect = partial(assert_close, against="the expected value")


class ScriptedModel:
    """A model whose validation accuracy after epoch e (0-based) is script[e].

    SGD with learning rate 1 on the constant gradient -1 adds 1 to w per update, and the
    tests use one batch per epoch, so w counts the epochs trained.
    """

    def __init__(self, script):
        self.script = script
        self.params = {"w": np.zeros(1)}
        self.reg, self.use_batchnorm, self.bn_params, self.dropout = 0.0, False, [], 0.0

    def predict(self, X):
        epoch = min(max(round(float(self.params["w"][0])) - 1, 0), len(self.script) - 1)
        # label 0 is right for every row; row i (X[i, 0] = i / N_VAL) is right while below the script
        return np.where(X[:, 0] < self.script[epoch] - 1e-9, 0, 1)

    def loss(self, X, y=None):
        labels = self.predict(X)
        if y is None:
            return np.eye(2)[labels]  # scores whose argmax is the prediction
        return 0.0, {"w": -np.ones(1)}


def scripted_data():
    X = (np.arange(N_VAL, dtype=np.float64) / N_VAL)[:, None].repeat(3, axis=1)
    y = np.zeros(N_VAL, dtype=np.int64)
    return {"X_train": X.copy(), "y_train": y.copy(), "X_val": X, "y_val": y}


def run(submission, script, epochs, patience):
    model = submission.define(ScriptedModel)(script)  # built where the student's code runs
    history = submission.train.train(model, scripted_data(), update_rule="sgd",
                                     optim_config={"learning_rate": 1.0}, epochs=epochs,
                                     batch_size=N_VAL, seed=0, patience=patience)
    assert_keys("history", history, ["val_acc_history", "best_val_acc", "best_epoch", "epochs_run"])
    return model, history


PEAKED = [0.2, 0.5, 0.8, 0.6, 0.7, 0.4]  # best at epoch 2 (0-based)
LATE_PEAK = [0.2, 0.5, 0.8, 0.6, 0.7, 0.4, 0.9, 0.9, 0.9, 0.9]  # patience 3 stops before epoch 6


@pytest.mark.points(2)
def test_train_reports_the_best_epoch(submission):
    _, history = run(submission, PEAKED, epochs=6, patience=None)
    expect("history['best_epoch']", history["best_epoch"], 2,
           hint="best_epoch is the 0-based epoch with the highest validation accuracy.")
    expect("history['best_val_acc']", history["best_val_acc"], 0.8)


@pytest.mark.points(3)
def test_train_restores_the_best_epoch_params(submission):
    model, _ = run(submission, PEAKED, epochs=6, patience=None)
    expect("model.params['w'] after training", model.params["w"], [3.0],
           hint="Copy the parameters at each new best epoch and put them back in model.params at the end.")


@pytest.mark.points(1)
def test_train_without_patience_runs_every_epoch(submission):
    _, history = run(submission, PEAKED, epochs=6, patience=None)
    expect("history['epochs_run']", history["epochs_run"], 6, hint="With patience=None never stop early.")


@pytest.mark.points(3)
def test_train_stops_after_patience_epochs_without_improvement(submission):
    _, history = run(submission, LATE_PEAK, epochs=10, patience=3)
    hint = ("The best epoch is 2; epochs 3, 4 and 5 do not improve on it, so with patience=3 "
            "training stops after epoch 5 (0-based).")
    expect("history['epochs_run']", history["epochs_run"], 6, hint=hint)
    assert_sequence("history['val_acc_history']", history["val_acc_history"], length=6, hint=hint)
