"""Public test for train(): the history it returns, on a tiny problem a SmallCNN learns in a second."""
import pytest
import torch

from autograder.checks import assert_keys, assert_sequence


def build(cls, kwargs, seed):
    """Build the model with a seeded torch generator, where your code runs."""
    torch.manual_seed(seed)
    return cls(**kwargs)


def accuracy_of(model, X, y):
    """Return the accuracy of the model you trained, in eval mode, where your code runs."""
    model.eval()
    with torch.no_grad():
        return float((model(X.to(next(model.parameters()).device)).argmax(1).cpu() == y).float().mean())


def bright_side(n, seed):
    """Images 1x8x8 of noise whose left or right half is brighter: the label says which."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = 0.3 * torch.rand(n, 1, 8, 8, generator=g)
    for i in range(n):
        X[i, :, :, 4 * int(y[i]) : 4 * int(y[i]) + 4] += 0.7
    return X, y


@pytest.mark.points(1.5)
def test_train_returns_a_history_and_learns_a_tiny_problem(submission):
    X, y = bright_side(96, 0)
    data = {"X_train": X[:64], "y_train": y[:64], "X_val": X[64:], "y_val": y[64:]}
    model = submission.define(build)(submission.model.SmallCNN, {"in_channels": 1, "num_classes": 2, "channels": (4, 8)}, 0)
    history = submission.train.train(model, data, optimizer="adam", lr=0.02, epochs=5, batch_size=8, seed=0)
    assert_keys("history", history, ["loss", "train_acc", "val_acc", "epochs_run", "seconds"])
    assert_sequence("history['loss']", history["loss"], length=40, hint="One loss per update: 5 epochs of 64 / 8 batches.")
    val_acc = assert_sequence("history['val_acc']", history["val_acc"], length=5, hint="One validation accuracy per epoch.")
    trained = submission.define(accuracy_of)(model, data["X_val"], data["y_val"])
    for what, acc in (("history['val_acc'][-1]", float(val_acc[-1])), ("the accuracy of the model after train()", trained)):
        if not acc >= 0.9:
            raise AssertionError(f"after 5 epochs {what} is {acc:.2f}, expected at least 0.9 on this easy problem (the "
                                 "brighter half of the image). Train the model you were given, and check the update step.")
