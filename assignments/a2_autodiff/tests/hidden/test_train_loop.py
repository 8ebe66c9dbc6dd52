"""Hidden tests: train() follows the documented recipe, step for step, and trains the model it is given.

Your train() with your MLP and the reference's train() with the reference's MLP run on the same small
problem with the same seed; every update's loss, the accuracies and the final parameters must agree.
41 rows in batches of 8 leave a last batch of one row.
"""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_keys, assert_sequence

SIZES = [5, 6, 3]
SETTINGS = {"epochs": 2, "batch_size": 8, "learning_rate": 0.3, "seed": 5}
RECIPE = ("Follow the docstring: rng = np.random.default_rng(seed) once; each epoch, order = rng.permutation(N) and "
          "batches order[start:start + batch_size]; each update zero_grad(), loss, backward(), step().")


def small_problem():
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((51, 5)), rng.integers(0, 3, 51)
    X[:, 0] += y  # learnable
    return {"X_train": X[:41], "y_train": y[:41], "X_val": X[41:], "y_val": y[41:]}


def run_train(modules, data):
    """Train MLP(SIZES, seed=1) with `modules`' train(); return (history, the model's parameters after training)."""
    model = modules.nn.MLP(SIZES, seed=1)
    history = modules.train.train(model, {k: v.copy() for k, v in data.items()}, **SETTINGS)
    return history, [p.data for p in model.parameters()]


def check_trained_in_place(params_st, params_ref):
    """Fail unless the model given to train() ends with the reference's parameters."""
    params_st = assert_sequence("model.parameters() after train()", params_st, length=len(params_ref))
    for name, got, want in zip(["W1", "b1", "W2", "b2"], params_st, params_ref, strict=True):
        assert_close(f"{name}.data of the model given to train(), after train()",
                     assert_array(f"{name}.data", got, shape=want.shape), want,
                     hint=f"train() updates the parameters of the model it is given, in place, with SGD. {RECIPE}")


def history_part(history, key, length):
    assert_keys("history", history, ["loss", "train_acc", "val_acc"], hint="Return the dict the docstring describes.")
    return np.array(assert_sequence(f"history['{key}']", history[key], length=length), dtype=np.float64)


@pytest.mark.points(2)
def test_train_records_the_loss_of_every_update_as_the_recipe_gives_it(submission, reference):
    data = small_problem()
    history_st, params_st = run_train(submission, data)
    history_ref, params_ref = run_train(reference, data)
    updates = SETTINGS["epochs"] * 6
    losses = history_part(history_st, "loss", updates)
    assert_close("history['loss']", losses, history_ref["loss"],
                 hint=f"The loss of update k must be the loss of the k-th batch before its step. {RECIPE}")
    check_trained_in_place(params_st, params_ref)


@pytest.mark.points(1)
def test_train_measures_both_accuracies_after_each_epoch(submission, reference):
    data = small_problem()
    history_st, params_st = run_train(submission, data)
    history_ref, params_ref = run_train(reference, data)
    for key, rows in (("train_acc", "X_train"), ("val_acc", "X_val")):
        got = history_part(history_st, key, SETTINGS["epochs"])
        assert_close(f"history['{key}']", got, history_ref[key],
                     hint=f"After each epoch, append the accuracy of the model on all of data['{rows}'].")
    check_trained_in_place(params_st, params_ref)


@pytest.mark.points(1)
def test_train_trains_the_model_it_is_given(submission, reference):
    data = small_problem()
    _, params_st = run_train(submission, data)
    _, params_ref = run_train(reference, data)
    check_trained_in_place(params_st, params_ref)
