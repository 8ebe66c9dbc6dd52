"""Hidden tests: SmallCNN trained by the student's train() on the grader's images, within the budget,
scored on held-out images at the trained resolution and at one it never saw.

The held-out images go to the student's process and predicted labels come back; the labels stay here.
"""
import pytest
import torch
import torch.nn.functional as F

from autograder.checks import assert_array

# Per data source: enough updates for the reference to clear its thresholds well within the budget.
TRAINING = {
    "mnist-offline-rgb32": {"optimizer": "adam", "lr": 3e-3, "epochs": 4, "batch_size": 64},
    "cifar10": {"optimizer": "adam", "lr": 3e-3, "epochs": 4, "batch_size": 64},
}
MODEL = {"in_channels": 3, "num_classes": 10, "channels": (16, 32, 64), "dropout": 0.1, "pool": "max"}
TRAIN_SHARE = 0.8  # of the budget, given to train(): a last batch and a validation pass may follow the check
UNSEEN_PAD = 4  # 32x32 images framed by 4 px of zeros: 40x40, a resolution train() never saw


def build(cls, kwargs, seed):
    """Build the student's model with a seeded torch generator, where the student's code runs."""
    torch.manual_seed(seed)
    return cls(**kwargs)


def fit(train, model, arrays, options):
    """Call the student's train() on the arrays made tensors, where the student's code runs; return the history."""
    data = {key: torch.from_numpy(value) for key, value in arrays.items()}
    return train(model, data, **options)


def predict(model, X, batch_size):
    """Return the model's labels for the images X (an array) in eval mode, without gradients, on the model's device."""
    model.eval()
    images = torch.from_numpy(X)
    device = next(model.parameters()).device
    with torch.no_grad():
        labels = [model(images[i : i + batch_size].to(device)).argmax(dim=1).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(labels).numpy()


@pytest.fixture(scope="module")
def trained(submission, images, spec, budget, device):
    """Train SmallCNN once with the student's train(); return (model, seconds used, budget, settings)."""
    cfg = TRAINING[images.source]
    seed = int(spec["seed"])
    model = submission.define(build)(submission.model.SmallCNN, dict(MODEL), seed)
    options = {"optimizer": cfg["optimizer"], "lr": cfg["lr"], "weight_decay": 0.0, "augment": False, "epochs": cfg["epochs"],
               "batch_size": cfg["batch_size"], "budget": TRAIN_SHARE * float(budget), "device": device, "seed": seed}
    with budget.measure() as used:  # the images cross as arrays and become tensors next to the model
        submission.define(fit)(submission.train.train, model, images.training_data(), options)
    return model, used, cfg


def held_out_accuracy(submission, model, X, y):
    labels = submission.define(predict)(model, X, 500)
    y_pred = assert_array("the trained model's labels", labels, shape=tuple(y.shape), dtype_kind="iu")
    return float((y_pred == y).mean())


def check(accuracy, threshold, what, images, cfg, used):
    if not accuracy >= threshold:
        raise AssertionError(
            f"held-out accuracy is too low {what}: got {accuracy:.3f}, expected at least {threshold:.3f} on "
            f"{len(images.y_test)} {images.source} test images (SmallCNN({MODEL}), {cfg['optimizer']}, lr={cfg['lr']:g}, "
            f"{cfg['epochs']} epochs of batch {cfg['batch_size']}, trained in {used.seconds:.1f} s). If the layer and "
            "training-loop tests pass, check that train() runs every batch of every epoch and that the model pools "
            "globally before its classifier.")


def check_budget(used, budget):
    if used.seconds > budget:
        raise AssertionError(
            f"training is too slow: your train() took {used.seconds:.1f} s of {used.clock}, the budget is "
            f"{budget.explain()} ({TRAIN_SHARE:.0%} of it was given to train() as `budget`). Check the time after every "
            "update and stop once it is spent.")


@pytest.mark.points(12)
def test_trained_cnn_reaches_the_threshold_on_held_out_images(submission, trained, images, threshold, budget, record):
    model, used, cfg = trained
    check_budget(used, budget)
    accuracy = held_out_accuracy(submission, model, images.X_test, images.y_test)
    record("held_out_accuracy", round(accuracy, 4))
    check(accuracy, threshold(images.source), "at 32x32", images, cfg, used)


@pytest.mark.points(8)
def test_trained_cnn_classifies_images_of_a_resolution_it_never_saw(submission, trained, images, threshold, budget, record):
    model, used, cfg = trained
    check_budget(used, budget)
    X = F.pad(torch.from_numpy(images.X_test), (UNSEEN_PAD,) * 4).numpy()
    accuracy = held_out_accuracy(submission, model, X, images.y_test)
    record("held_out_accuracy_at_40px", round(accuracy, 4))
    check(accuracy, threshold(f"{images.source} at 40px"), "at 40x40 (the test images framed by 4 px of zeros)", images,
          cfg, used)
