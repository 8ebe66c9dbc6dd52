"""Public tests for train.py's tools: the optimizers, the augmentation's shape, and evaluate on a fixed model."""
import pytest
import torch
from torch import nn

from autograder.checks import assert_array, assert_close


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)


def optimizer_facts(optimizer):
    return {"type": type(optimizer).__name__, "lr": optimizer.defaults["lr"],
            "momentum": optimizer.defaults.get("momentum")}


@pytest.mark.points(1)
def test_make_optimizer_gives_sgd_with_momentum_and_adam(submission):
    model = submission.define(Net)()
    for name, kind, momentum in (("sgd", "SGD", 0.9), ("adam", "Adam", None)):
        facts = submission.define(optimizer_facts)(submission.train.make_optimizer(model, name, 0.01))
        expected = {"type": kind, "lr": 0.01, "momentum": momentum}
        if facts != expected:
            raise AssertionError(f"make_optimizer(model, {name!r}, 0.01) gave {facts}, expected {expected} "
                                 "(torch.optim.SGD with momentum=0.9, torch.optim.Adam with its defaults).")


def augment(fn, x, seed):
    return fn(x, torch.Generator().manual_seed(seed))


@pytest.mark.points(1)
def test_augment_batch_keeps_the_shape_and_the_pixels(submission):
    x = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).reshape(2, 3, 5, 6) + 1
    out = submission.define(augment)(submission.train.augment_batch, x, 0)
    out = out.numpy() if isinstance(out, torch.Tensor) else out
    assert_array("augment_batch(x, generator)", out, shape=(2, 3, 5, 6), dtype_kind="f")
    kept = set(out.flatten().tolist()) - {0.0}
    if not kept <= set(x.flatten().tolist()):
        raise AssertionError("augment_batch produced pixel values that are not in x: flip, pad with zeros and crop only.")


class Fixed(nn.Module):
    """Predicts class 1 for images whose first pixel is positive, class 0 otherwise."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        first = x[:, 0, 0, 0] * self.scale
        return torch.stack([-first, first], dim=1)


@pytest.mark.points(1)
def test_evaluate_gives_the_fraction_labelled_right(submission):
    X = torch.zeros(5, 1, 2, 2)
    X[:, 0, 0, 0] = torch.tensor([1.0, -1.0, 2.0, -3.0, 0.5])
    y = torch.tensor([1, 0, 0, 0, 1])  # the third is wrong
    acc = submission.train.evaluate(submission.define(Fixed)(), X, y, batch_size=2)
    assert_close("evaluate(model, X, y, batch_size=2)", assert_array("evaluate(...)", acc, shape=()), 0.8, tol=1e-9,
                 against="4 right of 5", hint="Count the argmax predictions equal to y and divide by len(X).")
