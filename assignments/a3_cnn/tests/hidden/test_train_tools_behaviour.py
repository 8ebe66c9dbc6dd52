"""Hidden tests: make_optimizer, augment_batch, evaluate and compare_optimizers.

Fake models built where the student's code runs (`submission.define`) give scores that the grader
can predict, and note how they were called (training mode, gradients on, batch sizes).
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks import assert_array, assert_close, assert_keys, assert_sequence

PAD = 4  # AUGMENT_PAD in the handout


def floats(values):
    """Return a list of numbers as a float64 array."""
    return np.array([float(v) for v in values], dtype=np.float64)


def as_numpy(value):
    """Return a tensor's values as an array (the checks compare arrays); anything else as it is."""
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


# ---------------------------------------------------------------- make_optimizer

class Net(nn.Module):
    """A tiny model with parameters of several shapes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.norm = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 4)


def describe_optimizer(optimizer, model):
    """Return the optimizer's class, defaults, groups and how it covers the model's parameters."""
    wanted = ("lr", "momentum", "dampening", "nesterov", "weight_decay", "betas", "eps", "amsgrad")
    ids = [id(p) for group in optimizer.param_groups for p in group["params"]]
    mine = [id(p) for p in model.parameters()]
    return {
        "type": type(optimizer).__name__,
        "defaults": {k: optimizer.defaults[k] for k in wanted if k in optimizer.defaults},
        "groups": [{k: group[k] for k in ("lr", "weight_decay") if k in group} for group in optimizer.param_groups],
        "missing": sum(1 for i in mine if i not in ids),
        "twice": len(ids) - len(set(ids)),
        "foreign": sum(1 for i in ids if i not in mine),
    }


EXPECTED_OPTIMIZERS = {
    "sgd": ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0, "nesterov": False, "weight_decay": 0.003}),
    "adam": ("Adam", {"lr": 0.002, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False, "weight_decay": 0.003}),
}


@pytest.mark.points(1.5)
@pytest.mark.parametrize("name", list(EXPECTED_OPTIMIZERS))
def test_make_optimizer_builds_the_handouts_optimizer(submission, name):
    model = submission.define(Net)()
    lr = EXPECTED_OPTIMIZERS[name][1]["lr"]
    optimizer = submission.train.make_optimizer(model, name, lr, 0.003)
    got = submission.define(describe_optimizer)(optimizer, model)
    kind, settings = EXPECTED_OPTIMIZERS[name]
    if got["type"] != kind:
        raise AssertionError(f"make_optimizer(model, {name!r}, ...) returned a torch.optim.{got['type']}, expected "
                             f"torch.optim.{kind}.")
    if got["missing"] or got["twice"] or got["foreign"]:
        raise AssertionError(
            f"the {kind} optimizer does not hold each of the model's parameters exactly once: {got['missing']} missing, "
            f"{got['twice']} given twice, {got['foreign']} that are not the model's. Pass model.parameters().")
    for key, value in settings.items():
        found = got["defaults"].get(key)
        if found is None or (tuple(found) if isinstance(found, list | tuple) else found) != value:
            raise AssertionError(
                f"the {kind} optimizer has {key}={found!r}, expected {value!r} (make_optimizer(model, {name!r}, lr={lr}, "
                f"weight_decay=0.003)). Give lr and weight_decay to the optimizer"
                + (f", and momentum={0.9} to SGD." if name == "sgd" else "; keep Adam's default betas and eps."))
    for group in got["groups"]:
        if group != {"lr": lr, "weight_decay": 0.003}:
            raise AssertionError(f"a parameter group of the {kind} optimizer has {group}, expected lr={lr} and "
                                 "weight_decay=0.003 for every parameter.")


# ---------------------------------------------------------------- augment_batch

def augment_twice(augment, x, seed, other_seed):
    """Call augment(x, generator) with two generators of one seed and one of another; note whether x changed."""
    kept = x.clone()
    first = augment(x, torch.Generator().manual_seed(seed))
    again = augment(x, torch.Generator().manual_seed(seed))
    other = augment(x, torch.Generator().manual_seed(other_seed))
    same = isinstance(again, torch.Tensor) and isinstance(first, torch.Tensor) and again.shape == first.shape
    return {"first": first, "same_again": bool(same and torch.equal(again, first)),
            "same_other": bool(isinstance(other, torch.Tensor) and other.shape == first.shape and torch.equal(other, first)),
            "unchanged": bool(torch.equal(x, kept))}


def candidates(image):
    """Return every flip and shift of one image (C, H, W): (2 * 9 * 9, C, H, W), with their (flip, dy, dx)."""
    C, H, W = image.shape
    out, labels = [], []
    for flip in (False, True):
        padded = F.pad(image.flip(-1) if flip else image, (PAD, PAD, PAD, PAD))
        for dy in range(2 * PAD + 1):
            for dx in range(2 * PAD + 1):
                out.append(padded[:, dy : dy + H, dx : dx + W])
                labels.append((flip, dy, dx))
    return torch.stack(out), labels


def transforms_of(x, out):
    """Return (flip, dy, dx) for each augmented image, or the index of the first that is none of them."""
    found = []
    for n in range(len(x)):
        cands, labels = candidates(x[n])
        match = (cands == out[n]).flatten(1).all(dim=1).nonzero()
        if len(match) == 0:
            return n
        found.append(labels[int(match[0])])
    return found


def augment_batch_results(submission, rng, n=150):
    x = torch.from_numpy(rng.standard_normal((n, 2, 5, 6)).astype("float32"))
    got = submission.define(augment_twice)(submission.train.augment_batch, x, 11, 12)
    assert_keys("the results", got, ["first", "same_again", "same_other", "unchanged"])
    first = assert_array("augment_batch(x, generator)", as_numpy(got["first"]), shape=tuple(x.shape), dtype_kind="f",
                         hint="Return a new tensor of the shape of x: (N, C, H, W).")
    return x, torch.from_numpy(first), got


@pytest.mark.points(2)
def test_augment_batch_flips_and_shifts_each_image(submission, rng):
    x, first, _ = augment_batch_results(submission, rng)
    found = transforms_of(x, first)
    if isinstance(found, int):
        raise AssertionError(
            f"augment_batch(x, generator)[{found}] is no flip and shift of x[{found}]: each output image must be the input "
            f"image, flipped left-right or not, padded with {PAD} zeros on every side and cropped back to H x W at an "
            f"offset dy, dx in 0..{2 * PAD}.")
    flipped = sum(f for f, _, _ in found) / len(found)
    if not 0.3 <= flipped <= 0.7:
        raise AssertionError(f"augment_batch flipped {flipped:.0%} of {len(found)} images, expected about half: flip each "
                             "image with probability 1/2, drawn for each image.")
    for axis, values in (("dy", [d for _, d, _ in found]), ("dx", [d for _, _, d in found])):
        seen = sorted(set(values))
        if seen != list(range(2 * PAD + 1)) or not 3 <= sum(values) / len(values) <= 5:
            raise AssertionError(
                f"augment_batch's shifts {axis} over {len(values)} images took the values {seen} with mean "
                f"{sum(values) / len(values):.2f}, expected each of 0..{2 * PAD} about equally often (mean {PAD}): draw "
                f"a uniform offset for each image, torch.randint(0, {2 * PAD + 1}, ...).")
    if len({(d, e) for _, d, e in found}) < 30:
        raise AssertionError("augment_batch used few distinct (dy, dx) pairs: draw dy and dx independently for each image.")


@pytest.mark.points(1)
def test_augment_batch_follows_its_generator_and_leaves_x_unchanged(submission, rng):
    x, first, got = augment_batch_results(submission, rng, n=50)
    if not got["unchanged"]:
        raise AssertionError("augment_batch changed the x it was given: flip, pad and crop new tensors instead.")
    if not got["same_again"]:
        raise AssertionError("augment_batch(x, generator) gave different images for two generators of the same seed: draw "
                             "every random number from `generator`, none from torch's global generator or NumPy.")
    if got["same_other"]:
        raise AssertionError("augment_batch gave the same output for generators of two different seeds: draw the flips "
                             "and shifts from `generator`.")


# ---------------------------------------------------------------- evaluate

class Oracle(nn.Module):
    """Scores that predict the label written in pixel (0, 0, 0); notes each call's mode and batch size."""

    def __init__(self, num_classes):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(num_classes))
        self.num_classes = num_classes
        self.calls = []

    def forward(self, x):
        guess = x[:, 0, 0, 0].round().long().clamp(0, self.num_classes - 1)
        self.calls.append({"training": self.training, "grad": torch.is_grad_enabled(), "size": len(x)})
        return 3.0 * F.one_hot(guess, self.num_classes).to(self.bias.dtype) + self.bias

    def log(self):
        return self.calls


def oracle_data(rng, n=10, num_classes=4):
    guess = torch.from_numpy(rng.integers(0, num_classes, n))
    right = torch.from_numpy(rng.random(n) < 0.6)
    right[0] = right[-1] = True  # a batch left out or read twice shows
    y = torch.where(right, guess, (guess + 1) % num_classes)
    X = torch.zeros(n, 1, 3, 3)
    X[:, 0, 0, 0] = guess.float()
    return X, y, float(right.double().mean())


def run_evaluate(submission, rng, device):
    model = submission.define(Oracle)(4)
    model.to(device)
    model.train()
    X, y, expected = oracle_data(rng)
    acc = submission.train.evaluate(model, X, y, batch_size=4, device=device)
    return model.log(), acc, expected


@pytest.mark.points(1.5)
def test_evaluate_counts_the_right_predictions_in_batches(submission, rng, device):
    calls, acc, expected = run_evaluate(submission, rng, device)
    assert_close("evaluate(model, X, y, batch_size=4)", float(assert_array("evaluate(...)", acc, shape=())), expected,
                 tol=1e-9, against="the fraction of the 10 images labelled right",
                 hint="A prediction is the argmax of the scores; divide the count of right ones by len(X).")
    sizes = [c["size"] for c in assert_sequence("the model's calls", calls)]
    if sizes != [4, 4, 2]:
        raise AssertionError(f"evaluate sent batches of {sizes} images through the model, expected [4, 4, 2] for 10 images "
                             "and batch_size=4.")


@pytest.mark.points(1.5)
def test_evaluate_runs_in_eval_mode_without_gradients(submission, rng, device):
    calls, _, _ = run_evaluate(submission, rng, device)
    if not calls:
        raise AssertionError("evaluate never called the model.")
    if any(c["training"] for c in calls):
        raise AssertionError("evaluate called the model in training mode: call model.eval() first (dropout off, batch "
                             "normalisation with its running statistics).")
    if any(c["grad"] for c in calls):
        raise AssertionError("evaluate called the model with gradients on: wrap the loop in `with torch.no_grad():`.")


# ---------------------------------------------------------------- compare_optimizers

def fresh_run(cls, train, data, name, lr, kwargs, seed):
    """Train one model the way compare_optimizers is documented to, for comparison."""
    torch.manual_seed(seed)
    model = cls(**kwargs)
    return train(model, data, optimizer=name, lr=lr, weight_decay=0.0, augment=False, epochs=2, batch_size=16,
                 budget=None, device="cpu", seed=seed)


def small_data(rng, n=48, n_val=16):
    X = torch.from_numpy(rng.random((n + n_val, 1, 8, 8)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 3, n + n_val))
    return {"X_train": X[:n], "y_train": y[:n], "X_val": X[n:], "y_val": y[n:]}


@pytest.mark.points(3)
def test_compare_optimizers_trains_one_model_per_optimizer_from_the_same_start(submission, rng):
    data, kwargs, lrs = small_data(rng), {"in_channels": 1, "num_classes": 3, "channels": (4, 6)}, {"sgd": 0.05, "adam": 0.01}
    got = submission.train.compare_optimizers(data, lrs=dict(lrs), model_kwargs=dict(kwargs), epochs=2, batch_size=16,
                                              device="cpu", seed=5)
    assert_keys("compare_optimizers(...)", got, list(lrs))
    if list(got) != list(lrs):
        raise AssertionError(f"compare_optimizers returned the keys {list(got)}, expected {list(lrs)} in that order.")
    for name, lr in lrs.items():
        history = got[name]
        assert_keys(f"compare_optimizers(...)['{name}']", history, ["loss", "val_acc"])
        expected = submission.define(fresh_run)(submission.model.SmallCNN, submission.train.train, data, name, lr, kwargs, 5)
        losses = assert_sequence(f"compare_optimizers(...)['{name}']['loss']", history["loss"], length=2 * math.ceil(48 / 16),
                                 hint="It is the history train() returns: one loss per update.")
        assert_close(f"compare_optimizers(...)['{name}']['loss']", floats(losses),
                     floats(expected["loss"]), tol=1e-5, against="the losses of train() on a SmallCNN built "
                     "after torch.manual_seed(seed)", hint="For each optimizer: torch.manual_seed(seed), then "
                     "SmallCNN(**model_kwargs), then train(...) with that optimizer's learning rate and the same seed.")
    if got["sgd"]["loss"] == got["adam"]["loss"]:
        raise AssertionError("compare_optimizers gave SGD and Adam the same loss curve: train each with its own optimizer.")
