"""Hidden tests: train(), judged on a fake model built where the student's code runs, and on SmallCNN.

The fake model (`Recorder`) reads an image's id and a guessed label from two of its pixels, so the
grader knows its scores; it notes every call (mode, gradients on, ids, scores) and whether a gradient
was still there when a new one arrived. The grader replays the updates with torch.optim on its side.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks import assert_array, assert_close, assert_keys, assert_sequence

K = 4  # classes
VAL_ID = 1000  # validation images have ids from here on
HISTORY_KEYS = ["loss", "train_acc", "val_acc", "epochs_run"]


class Recorder(nn.Module):
    """Scores 4 * onehot(guess) + w, with id and guess read from pixels (0, 0, 0) and (0, 0, 1)."""

    def __init__(self, num_classes, burn_s=0.0, keep_inputs=False):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(num_classes))
        self.num_classes = num_classes
        self.burn_s = burn_s
        self.keep_inputs = keep_inputs
        self.calls = []
        self.stale = 0

    def forward(self, x):
        import time

        start = time.process_time()
        while time.process_time() - start < self.burn_s:
            pass
        ids = x[:, 0, 0, 0].round().long()
        guess = x[:, 0, 0, 1].round().long().clamp(0, self.num_classes - 1)
        scores = 4.0 * F.one_hot(guess, self.num_classes).to(self.w.dtype) + self.w
        call = {"training": self.training, "grad": torch.is_grad_enabled(), "ids": ids.cpu(), "scores": scores.detach().cpu()}
        if self.keep_inputs:
            call["x"] = x.detach().cpu()
        self.calls.append(call)
        if scores.requires_grad:
            scores.register_hook(self.check)
        return scores

    def check(self, grad):
        if self.w.grad is not None and bool((self.w.grad != 0).any()):
            self.stale += 1
        return grad

    def log(self):
        return {"calls": self.calls, "stale": self.stale, "w": self.w.detach().cpu().clone()}


def probe_data(rng, n_train, n_val, side=2):
    """Images whose pixel (0, 0, 0) is the id and (0, 0, 1) the guessed label; about 60% of the labels agree."""
    def part(n, first_id):
        guess = torch.from_numpy(rng.integers(0, K, n))
        right = torch.from_numpy(rng.random(n) < 0.6)
        X = torch.zeros(n, 1, side, side)
        X[:, 0, 0, 0] = torch.arange(first_id, first_id + n).float()
        X[:, 0, 0, 1] = guess.float()
        return X, torch.where(right, guess, (guess + 1) % K)

    X, y = part(n_train, 0)
    X_val, y_val = part(n_val, VAL_ID)
    return {"X_train": X, "y_train": y, "X_val": X_val, "y_val": y_val}


class Run:
    """What one train() call on a Recorder gave: the history and the model's log, split into updates and validation."""

    def __init__(self, history, log, data):
        assert_keys("history", history, HISTORY_KEYS)
        assert_keys("the model's log", log, ["calls", "stale", "w"])
        self.history, self.log, self.data = history, log, data
        self.calls = log["calls"]
        self.updates = [c for c in self.calls if c["grad"] and len(c["ids"]) and int(c["ids"][0]) < VAL_ID]
        self.val = [c for c in self.calls if len(c["ids"]) and int(c["ids"][0]) >= VAL_ID]

    def epochs(self):
        """Return the update calls grouped by epoch: the validation calls close each epoch."""
        groups, current, updates = [], [], {id(c) for c in self.updates}
        for c in self.calls:
            is_val = len(c["ids"]) and int(c["ids"][0]) >= VAL_ID
            if is_val and current:
                groups.append(current)
                current = []
            elif not is_val and id(c) in updates:
                current.append(c)
        return groups + ([current] if current else [])


def train_recorder(submission, data, device, recorder_args=(), **kwargs):
    model = submission.define(Recorder)(K, *recorder_args)
    options = {"optimizer": "sgd", "lr": 0.1, "weight_decay": 0.0, "augment": False, "epochs": 2, "batch_size": 4,
               "budget": None, "device": device, "seed": 0}
    options.update(kwargs)
    history = submission.train.train(model, data, **options)
    return Run(history, model.log(), data)


# ---------------------------------------------------------------- batches

@pytest.mark.points(2)
def test_train_visits_every_training_image_once_per_epoch_in_a_new_order(submission, rng, device):
    data = probe_data(rng, 9, 5)
    run = train_recorder(submission, data, device, epochs=3, batch_size=4)
    epochs = run.epochs()
    if len(epochs) != 3:
        raise AssertionError(f"train(epochs=3) ran {len(epochs)} epochs of updates (each ends with a validation pass), "
                             "expected 3.")
    orders = []
    for e, calls in enumerate(epochs):
        sizes = [len(c["ids"]) for c in calls]
        ids = [int(i) for c in calls for i in c["ids"]]
        if sizes != [4, 4, 1] or sorted(ids) != list(range(9)):
            raise AssertionError(
                f"epoch {e} updated on batches of {sizes} images with ids {ids}, expected batches of [4, 4, 1] covering "
                "each of the 9 training images once (the last batch smaller, not dropped).")
        orders.append(ids)
    if orders[0] == orders[1] == orders[2] or orders[0] == list(range(9)):
        raise AssertionError(f"train visited the images in the orders {orders}: draw a new random order each epoch with "
                             "torch.randperm(N, generator=generator).")


@pytest.mark.points(1.5)
def test_train_records_the_loss_of_every_update(submission, rng, device):
    data = probe_data(rng, 10, 5)
    run = train_recorder(submission, data, device, epochs=2, batch_size=4)
    losses = assert_sequence("history['loss']", run.history["loss"], length=len(run.updates),
                             hint=f"One loss per update: {len(run.updates)} updates here (2 epochs of 3 batches).")
    if len(run.updates) != 6:
        raise AssertionError(f"train made {len(run.updates)} updates, expected 6 (2 epochs of ceil(10 / 4) = 3 batches).")
    expected = [float(F.cross_entropy(c["scores"], data["y_train"][c["ids"]])) for c in run.updates]
    assert_close("history['loss']", floats(losses), expected, tol=1e-5,
                 against="the cross-entropy of each update's scores and labels",
                 hint="Append loss.item() of F.cross_entropy(scores, y_batch) (the batch mean) once per update.")


@pytest.mark.points(1.5)
def test_train_records_the_accuracies_of_each_epoch(submission, rng, device):
    data = probe_data(rng, 10, 6)
    run = train_recorder(submission, data, device, epochs=2, batch_size=4)
    epochs = run.epochs()
    train_acc = [sum(int((c["scores"].argmax(1) == data["y_train"][c["ids"]]).sum()) for c in calls) / 10 for calls in epochs]
    val_acc = float((data["X_val"][:, 0, 0, 1].long() == data["y_val"]).double().mean())
    for key, expected in (("train_acc", train_acc), ("val_acc", [val_acc] * 2)):
        got = assert_sequence(f"history['{key}']", run.history[key], length=2, hint="One entry per epoch.")
        assert_close(f"history['{key}']", floats(got), expected, tol=1e-9, against="the fraction labelled right",
                     hint="train_acc: right predictions of the update scores over the epoch's images; val_acc: evaluate().")
    if run.history["epochs_run"] != 2:
        raise AssertionError(f"history['epochs_run'] is {run.history['epochs_run']!r}, expected 2.")


# ---------------------------------------------------------------- modes and gradients

@pytest.mark.points(2)
def test_train_switches_between_train_and_eval_mode(submission, rng, device):
    run = train_recorder(submission, probe_data(rng, 8, 4), device, epochs=3, batch_size=4)
    if not run.updates or not run.val:
        raise AssertionError(f"train made {len(run.updates)} updates and {len(run.val)} validation passes; expected both.")
    if any(not c["training"] for c in run.updates):
        epoch = next(e for e, calls in enumerate(run.epochs()) if any(not c["training"] for c in calls))
        raise AssertionError(f"train computed the scores of an update in eval mode (epoch {epoch}): evaluate() switches the "
                             "model to eval mode, so call model.train() at the start of every epoch.")
    if any(c["training"] or c["grad"] for c in run.val):
        raise AssertionError("train ran the validation images in training mode or with gradients on: use evaluate(), "
                             "which calls model.eval() and torch.no_grad().")


@pytest.mark.points(2)
def test_train_clears_the_gradients_before_each_backward(submission, rng, device):
    run = train_recorder(submission, probe_data(rng, 12, 4), device, epochs=2, batch_size=4)
    if len(run.updates) != 6:
        raise AssertionError(f"train made {len(run.updates)} updates, expected 6.")
    if run.log["stale"]:
        raise AssertionError(f"in {run.log['stale']} of 6 backward passes the previous batch's gradient was still in "
                             "the parameters, so they add up: call optimizer.zero_grad() before loss.backward().")


def replay(run, name, lr, weight_decay):
    """Return w after the same updates with torch.optim on the grader's side."""
    w = nn.Parameter(torch.zeros(K))
    opt = torch.optim.SGD([w], lr=lr, momentum=0.9, weight_decay=weight_decay) if name == "sgd" else \
        torch.optim.Adam([w], lr=lr, weight_decay=weight_decay)
    y = run.data["y_train"]
    for c in run.updates:
        guess = run.data["X_train"][c["ids"], 0, 0, 1].long()
        loss = F.cross_entropy(4.0 * F.one_hot(guess, K).float() + w, y[c["ids"]])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach()


@pytest.mark.points(1.5)
@pytest.mark.parametrize("name,lr", [("sgd", 0.1), ("adam", 0.05)])
def test_train_steps_the_optimizer_with_its_learning_rate_and_weight_decay(submission, rng, device, name, lr):
    run = train_recorder(submission, probe_data(rng, 10, 4), device, optimizer=name, lr=lr, weight_decay=0.2, epochs=2)
    if len(run.updates) != 6:
        raise AssertionError(f"train made {len(run.updates)} updates, expected 6 (2 epochs of ceil(10 / 4) = 3 batches).")
    w_ref = replay(run, name, lr, 0.2)
    w_st = assert_array("the model's parameter after training", as_numpy(run.log["w"]), shape=(K,))
    assert_close(f"the parameter after 6 {name} updates (lr={lr}, weight_decay=0.2)", w_st, w_ref.numpy(), tol=1e-5,
                 atol=1e-7, against=f"torch.optim.{'SGD' if name == 'sgd' else 'Adam'} on the same batches",
                 hint="Build the optimizer with make_optimizer(model, optimizer, lr, weight_decay) and call "
                      "optimizer.step() once after each backward.")


# ---------------------------------------------------------------- augmentation, budget, seeds

@pytest.mark.points(1.5)
def test_train_augments_the_training_images_only(submission, rng, device):
    data = probe_data(rng, 12, 6, side=6)
    data["X_train"][:, :, 2:, :] = torch.rand(12, 1, 4, 6)  # content to flip and shift
    run = train_recorder(submission, data, device, recorder_args=(0.0, True), augment=True, epochs=1, batch_size=6)
    seen = torch.cat([c["x"] for c in run.updates]) if run.updates else torch.zeros(0, 1, 6, 6)
    if len(seen) != 12:
        raise AssertionError(f"train sent {len(seen)} training images through the model in one epoch, expected 12.")
    originals = data["X_train"]
    unchanged = sum(bool((originals == img).flatten(1).all(1).any()) for img in seen)
    if unchanged > 6:
        raise AssertionError(f"with augment=True, {unchanged} of the 12 training images reached the model as they were: "
                             "pass each training batch through augment_batch(x, generator) before the model.")
    val = torch.cat([c["x"] for c in run.val]) if run.val else torch.zeros(0)
    if val.shape != data["X_val"].shape or not torch.equal(val, data["X_val"]):
        raise AssertionError("with augment=True, the validation images did not reach the model as they were: augment "
                             "the training batches only, never the images evaluate() scores.")


@pytest.mark.points(2)
def test_train_stops_when_the_budget_runs_out(submission, rng, device, budget):
    data = probe_data(rng, 300, 10)
    allowed = 0.4
    with budget.measure() as used:
        run = train_recorder(submission, data, device, recorder_args=(0.005,), epochs=2, batch_size=1, budget=allowed)
    n = len(run.updates)
    if not 0 < n < 300:
        raise AssertionError(
            f"with budget={allowed} s and 5 ms per batch, train made {n} updates, expected it to stop after about 80, "
            "inside the first epoch of 300: check time.perf_counter() - start after every update and stop once it "
            "exceeds the budget.")
    if run.history["epochs_run"] != 1 or len(run.history["val_acc"]) != 1:
        raise AssertionError(f"after the budget ran out in the first epoch, history has epochs_run="
                             f"{run.history['epochs_run']!r} and {len(run.history['val_acc'])} val_acc entries, expected 1 "
                             "and 1: record the accuracies of the epoch that was cut short, then stop.")
    if used.seconds > allowed + 1.5:
        raise AssertionError(f"train took {used.seconds:.2f} s of {used.clock} with budget={allowed} s: stop as soon as "
                             "the budget is spent.")


def train_twice(cls, train, data, seeds):
    """Train a SmallCNN from the same weights once per seed; return each history and final state_dict."""
    torch.manual_seed(0)
    start = {k: v.clone() for k, v in cls(in_channels=3, num_classes=3, channels=(4, 6)).state_dict().items()}
    out = []
    for seed in seeds:
        torch.manual_seed(0)
        model = cls(in_channels=3, num_classes=3, channels=(4, 6))
        model.load_state_dict(start)
        history = train(model, data, optimizer="adam", lr=0.01, weight_decay=1e-4, augment=True, epochs=2, batch_size=16,
                        budget=None, device="cpu", seed=seed)
        out.append({"history": history, "state": model.state_dict()})
    return {"runs": out, "start": start}


@pytest.mark.points(2)
def test_train_same_seed_same_result_on_cpu(submission, rng):
    X = torch.from_numpy(rng.random((56, 3, 8, 8)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 3, 56))
    data = {"X_train": X[:40], "y_train": y[:40], "X_val": X[40:], "y_val": y[40:]}
    got = submission.define(train_twice)(submission.model.SmallCNN, submission.train.train, data, [7, 7, 8])
    first, again, other = got["runs"]
    for key in ("loss", "val_acc"):
        assert_close(f"history['{key}'] of a second run with seed=7", floats(again["history"][key]),
                     floats(first["history"][key]), tol=0, against="the first run with seed=7",
                     hint="Seed everything from `seed`: torch.manual_seed(seed) and the generator for the order and "
                          "the augmentation; no other source of randomness.")
    if first["history"]["loss"] == other["history"]["loss"]:
        raise AssertionError("train with seed=7 and seed=8 gave the same losses: the order of the images and the "
                             "augmentation must follow `seed`.")
    moved = [k for k in got["start"] if not torch.equal(torch.as_tensor(got["start"][k]), torch.as_tensor(first["state"][k]))]
    if not moved:
        raise AssertionError("train() left the model's weights as they were: update the model you were given.")
    for name in first["state"]:
        assert_close(f"state_dict()['{name}'] after a second run with seed=7", as_numpy(again["state"][name]),
                     as_numpy(first["state"][name]), tol=0, against="the first run")


def floats(values):
    """Return a list of numbers as a float64 array."""
    return np.array([float(v) for v in values], dtype=np.float64)


def as_numpy(value):
    """Return a tensor's values as an array (the checks compare arrays); anything else as it is."""
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


def ceil_div(a, b):
    return math.ceil(a / b)
