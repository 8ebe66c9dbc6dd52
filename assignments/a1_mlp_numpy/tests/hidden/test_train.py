"""Hidden tests: the training loop, judged on fake models built where the student's code runs and on
the student's own MLP.

The fake models' scripts (which epoch is best, when patience runs out) are drawn from the grader's
seeded generator, the probes' expected values follow from what train() does with them, and the same
behaviours are checked again on the student's own MLP: an answer prepared for a fake model that the
student's code recognises cannot pass, train() has to do the work.
"""
from functools import partial

import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_keys, assert_sequence

N_VAL = 10
expect = partial(assert_close, against="the expected value")


# ---------------------------------------------------------------- best epoch and early stopping

class ScriptedModel:
    """A model whose validation accuracy after epoch e (0-based) is script[e].

    SGD with learning rate 1 on the constant gradient -1 adds 1 to W1 per update, and the
    tests use one batch per epoch, so W1 counts the epochs trained.
    """

    def __init__(self, script):
        self.script = script
        self.params = {"W1": np.zeros(1)}
        self.reg, self.use_batchnorm, self.bn_params, self.dropout = 0.0, False, [], 0.0

    def predict(self, X):
        epoch = min(max(round(float(self.params["W1"][0])) - 1, 0), len(self.script) - 1)
        # label 0 is right for every row; row i (X[i, 0] = i / N_VAL) is right while below the script
        return np.where(X[:, 0] < self.script[epoch] - 1e-9, 0, 1)

    def loss(self, X, y=None):
        labels = self.predict(X)
        if y is None:
            return np.eye(2)[labels]  # scores whose argmax is the prediction
        return 0.0, {"W1": -np.ones(1)}


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
    trained = assert_array("model.params['W1']", model.params.get("W1"), shape=(1,))
    if not trained[0] >= 1:
        raise AssertionError(
            f"train() did not update the model: model.params['W1'] is {trained[0]:g} after training, expected at "
            "least 1 (one update per epoch). Update model.params in place of the model you were given, not a copy.")
    return model, history


def peaked(rng, epochs=6):
    """Return (script, best): distinct accuracies in tenths, the highest at epoch `best`, not the last."""
    best = int(rng.integers(1, epochs - 1))
    others = rng.choice(np.arange(1, 9), size=epochs - 1, replace=False) / 10
    return [float(v) for v in np.insert(others, best, 0.9)], best


def late_peak(rng, patience):
    """Return (script, best): a peak, `patience` epochs below it, then a higher one training must not reach."""
    best = int(rng.integers(1, 3))
    before = rng.choice(np.arange(1, 6), size=best, replace=False) / 10
    after = rng.choice(np.arange(1, 8), size=patience, replace=False) / 10
    return [*map(float, before), 0.8, *map(float, after), 1.0, 1.0], best


@pytest.mark.points(0.75)
def test_train_reports_the_best_epoch(submission, rng):
    script, best = peaked(rng)
    _, history = run(submission, script, epochs=len(script), patience=None)
    expect("history['best_epoch']", history["best_epoch"], best,
           hint=f"best_epoch is the 0-based epoch with the highest validation accuracy; here the accuracies "
                f"per epoch were {script}.")
    expect("history['best_val_acc']", history["best_val_acc"], 0.9)


@pytest.mark.points(2)
def test_train_restores_the_best_epoch_params(submission, rng):
    script, best = peaked(rng)
    model, _ = run(submission, script, epochs=len(script), patience=None)
    expect("model.params['W1'] after training", model.params["W1"], [best + 1.0],
           hint="Copy the parameters at each new best epoch and put them back in model.params at the end.")


@pytest.mark.points(0.25)
def test_train_without_patience_runs_every_epoch(submission, rng):
    script, _ = peaked(rng)
    _, history = run(submission, script, epochs=len(script), patience=None)
    expect("history['epochs_run']", history["epochs_run"], len(script), hint="With patience=None never stop early.")


@pytest.mark.points(1)
def test_train_stops_after_patience_epochs_without_improvement(submission, rng):
    patience = int(rng.integers(2, 4))
    script, best = late_peak(rng, patience)
    _, history = run(submission, script, epochs=len(script), patience=patience)
    stop = best + patience
    hint = (f"The validation accuracies per epoch were {script[:stop + 1]}...: the best epoch is {best}; epochs "
            f"{best + 1} to {stop} do not improve on it, so with patience={patience} training stops after epoch "
            f"{stop} (0-based), {stop + 1} epochs in all.")
    expect("history['epochs_run']", history["epochs_run"], stop + 1, hint=hint)
    assert_sequence("history['val_acc_history']", history["val_acc_history"], length=stop + 1, hint=hint)


# ---------------------------------------------------------------- the update step

class UpdateProbe:
    """A model with MLP-like parameters whose loss notes, for every update, the loss value it returned.

    Each call of loss(X, y) returns a new value and fixed gradients; a call counts as an update when
    the parameters have changed by the next call (or by predict).
    """

    def __init__(self, params, grads):
        self.params = params
        self.grads = grads
        self.reg, self.use_batchnorm, self.bn_params, self.dropout = 0.0, False, [], 0.0
        self.calls = 0
        self.update_losses = []
        self.pending = None
        self.seen = None

    def settle(self):
        now = {k: np.array(v, copy=True) for k, v in self.params.items()}
        if self.seen is not None and self.pending is not None:
            if any(not np.array_equal(now[k], self.seen[k]) for k in self.seen if k in now):
                self.update_losses.append(self.pending)
        self.seen, self.pending = now, None

    def loss(self, X, y=None):
        if y is None:
            return np.zeros((X.shape[0], 2))
        self.settle()
        self.calls += 1
        self.pending = 0.25 + self.calls + float(np.sum(X[:, 0]))
        return self.pending, {k: np.array(g, copy=True) for k, g in self.grads.items()}

    def predict(self, X):
        self.settle()
        return np.zeros(X.shape[0], dtype=np.int64)


def counting_rule(w, dw, config):
    """Step `steps` times dw, where `steps` counts this parameter's updates; return a NEW config dict."""
    config = dict(config)
    config["steps"] = config.get("steps", 0) + 1
    return w - config["steps"] * dw, config


# MLP([4, 4], input_dim=4, num_classes=2, use_batchnorm=True)'s names and shapes: W1 and W2 share a shape,
# b1, gamma1, beta1, b2 and gamma2 too, so a gradient given to the wrong parameter shows
SHAPES = {"W1": (4, 4), "b1": (4,), "gamma1": (4,), "beta1": (4,), "W2": (4, 4), "b2": (4,), "gamma2": (4,),
          "beta2": (4,), "W3": (4, 2), "b3": (2,)}


def probe_data(rng, n):
    X = rng.standard_normal((n, 4))
    y = np.zeros(n, dtype=np.int64)
    return {"X_train": X, "y_train": y, "X_val": X[:5], "y_val": y[:5]}


def probe(submission, rng):
    """Return (probe model, its starting params, its gradients): gamma starts at ones, beta at zeros."""
    params = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    for i in (1, 2):
        params[f"gamma{i}"], params[f"beta{i}"] = np.ones(4), np.zeros(4)
    grads = {k: 0.5 + rng.random(s) for k, s in SHAPES.items()}
    return submission.define(UpdateProbe)(params, grads), params, grads


def loss_history(history, length=None, hint=""):
    assert_keys("history", history, ["loss_history"])
    return [float(v) for v in assert_sequence("history['loss_history']", history["loss_history"], length=length,
                                              hint=hint)]


@pytest.mark.points(0.5)
def test_train_records_one_loss_per_update(submission, rng):
    model, _, _ = probe(submission, rng)
    n, batch, epochs = 25, 10, 3  # 3 batches per epoch, the last one of 5 rows
    history = submission.train.train(model, probe_data(rng, n), update_rule="sgd", optim_config={"learning_rate": 0.1},
                                     epochs=epochs, batch_size=batch, seed=0)
    updates = epochs * -(-n // batch)
    seen = len(model.update_losses)
    if seen != updates:
        raise AssertionError(
            f"train() updated the model's parameters {seen} times, expected {updates} ({epochs} epochs of "
            f"ceil({n} / {batch}) = {-(-n // batch)} batches): update model.params after every batch.")
    got = len(assert_sequence("history['loss_history']", history["loss_history"]))
    per_epoch = " (one per epoch)" if got == epochs else ""
    loss_history(history, length=updates,
                 hint=f"Got {got}{per_epoch}: 'loss_history' holds one loss per update, {epochs} epochs of "
                      f"ceil({n} / {batch}) = {-(-n // batch)} batches here; append the batch's loss right after "
                      "each update, inside the loop over batches.")


@pytest.mark.points(0.5)
def test_train_records_the_loss_of_each_update(submission, rng):
    model, _, _ = probe(submission, rng)
    history = submission.train.train(model, probe_data(rng, 20), update_rule="sgd", optim_config={"learning_rate": 0.1},
                                     epochs=2, batch_size=10, seed=0)
    got, used = loss_history(history), [float(v) for v in model.update_losses]
    if not got or not used:
        raise AssertionError(
            f"train() recorded {len(got)} losses and updated the model {len(used)} times, expected 4 of each "
            "(2 epochs of 2 batches): update model.params and append the batch's loss after every batch.")
    it = iter(used)
    stray = [v for v in got if not any(v == u for u in it)]  # got must be a subsequence of the update losses
    if stray:
        raise AssertionError(
            f"`history['loss_history']` holds {stray[0]:.6g}, which is not the loss of an update: got {got}, "
            f"while model.loss(X_batch, y_batch) returned {used} for the calls whose gradients you used. Append "
            "the loss returned together with the gradients of each update (do not compute it again after the update).")


@pytest.mark.points(1.5)
def test_train_updates_every_parameter_with_its_gradient(submission, rng):
    model, start, grads = probe(submission, rng)
    submission.train.train(model, probe_data(rng, 10), update_rule="sgd", optim_config={"learning_rate": 0.1},
                           epochs=1, batch_size=10, seed=0)
    params = model.params
    for name in SHAPES:
        assert_keys("model.params", params, [name], hint="Keep every parameter in model.params.")
        expect(f"model.params['{name}'] after one sgd update", params[name], start[name] - 0.1 * grads[name],
               hint=f"Update every entry of model.params{', gamma and beta too' if name[0] in 'gb' else ''}: "
                    "model.params[k], configs[k] = update(model.params[k], grads[k], configs[k]) for each key k.")


@pytest.mark.points(1)
def test_train_keeps_each_parameters_optimizer_state(submission, rng):
    model, start, grads = probe(submission, rng)
    rule = submission.define(counting_rule)
    submission.train.train(model, probe_data(rng, 30), update_rule=rule, optim_config={}, epochs=1, batch_size=10,
                           seed=0)
    params = model.params
    for name in SHAPES:  # a parameter left as it was is the test above's business
        assert_keys("model.params", params, [name], hint="Keep every parameter in model.params.")
        if name != "W1" and np.array_equal(np.asarray(params[name]), start[name]):
            continue
        expect(f"model.params['{name}'] after 3 updates", params[name], start[name] - (1 + 2 + 3) * grads[name],
               hint="The test's update rule returns a NEW config dict holding its state (a step count). Keep one "
                    "config per parameter and store the returned one back: model.params[k], configs[k] = "
                    "update(model.params[k], grads[k], configs[k]).")


# ---------------------------------------------------------------- the student's own MLP

def noisy_data(seed, n_train=60, n_val=40):
    """Two classes split by the first feature, with noisy labels: validation accuracy peaks early."""
    g = np.random.default_rng(seed)
    X, X_val = g.standard_normal((n_train, 4)), g.standard_normal((n_val, 4))
    y = (X[:, 0] + 0.8 * g.standard_normal(n_train) > 0).astype(np.int64)
    y_val = (X_val[:, 0] + 0.8 * g.standard_normal(n_val) > 0).astype(np.int64)
    return {"X_train": X, "y_train": y, "X_val": X_val, "y_val": y_val}


@pytest.mark.points(1)
def test_train_trains_batchnorm_gamma_and_beta_of_your_mlp(submission):
    model = submission.mlp.MLP([6], input_dim=4, num_classes=2, use_batchnorm=True, seed=0)
    submission.train.train(model, noisy_data(3), update_rule="sgd", optim_config={"learning_rate": 0.1},
                           epochs=1, batch_size=20, seed=0)
    params = model.params
    assert_keys("model.params", params, ["gamma1", "beta1"], hint="With batchnorm, self.params holds gamma1 and beta1.")
    for name, initial in (("gamma1", 1.0), ("beta1", 0.0)):
        value = assert_array(f"model.params['{name}']", params[name], shape=(6,))
        if np.allclose(value, initial, rtol=0, atol=1e-12):
            raise AssertionError(
                f"`model.params['{name}']` did not change in training: got {value.tolist()}, expected values moved "
                f"away from {initial:g} by the updates. Update every entry of model.params, gamma and beta too, and "
                f"return their gradients from loss() (grads['{name}'] from batchnorm_backward).")


@pytest.mark.points(0.5)
def test_train_leaves_your_mlp_at_the_best_validation_accuracy(submission):
    data = noisy_data(10)  # the reference's accuracy peaks at epoch 1 of 8 (0.7) and ends at 0.575
    model = submission.mlp.MLP([16], input_dim=4, num_classes=2, seed=10)
    history = submission.train.train(model, data, update_rule="sgd", optim_config={"learning_rate": 0.5},
                                     epochs=8, batch_size=10, seed=10)
    assert_keys("history", history, ["val_acc_history", "best_val_acc"])
    best = float(assert_array("history['best_val_acc']", history["best_val_acc"], shape=()))
    accs = assert_sequence("history['val_acc_history']", history["val_acc_history"], length=8)
    expect("history['best_val_acc']", best, max(float(a) for a in accs), hint="best_val_acc is the highest entry of val_acc_history.")
    y_pred = assert_array("model.predict(X_val)", model.predict(data["X_val"]), shape=data["y_val"].shape)
    expect("accuracy of your model on X_val after train()", float(np.mean(y_pred == data["y_val"])), best,
           against="history['best_val_acc']",
           hint="At the end put the parameters of the best epoch back into model.params (copies taken when that "
                "epoch's validation accuracy was measured).")
