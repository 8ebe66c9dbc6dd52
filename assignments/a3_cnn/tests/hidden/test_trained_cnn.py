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
ABLATION_IMAGES = 500  # held-out images labelled again with the parameters replaced
ABLATED_MAX = 0.4  # chance is 0.1: parameters that decide nothing leave the accuracy where it was


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


def ablated_predictions(model, untrained, X, batch_size):
    """Return the labels the trained model gives with its parameters replaced: by the untrained ones, by zeros."""
    def labels():
        model.eval()
        images = torch.from_numpy(X)
        device = next(model.parameters()).device
        with torch.no_grad():
            out = [model(images[i : i + batch_size].to(device)).argmax(dim=1).cpu() for i in range(0, len(images), batch_size)]
        return torch.cat(out).numpy()

    saved = {key: value.detach().clone() for key, value in model.state_dict().items()}
    found = {}
    try:
        model.load_state_dict(untrained.state_dict())
        found["untrained"] = labels()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.zero_()
        found["zeros"] = labels()
    finally:
        model.load_state_dict(saved)
    return found


@pytest.fixture(scope="module")
def trained(submission, images, spec, budget, device):
    """Train SmallCNN once with the student's train() and label the held-out images at 32 and 40 px.

    Return (labels by size, seconds used, settings, labels with the parameters replaced). Labelling counts
    against the budget with training: work deferred from train() to the first forward pass does not escape it.
    """
    cfg = TRAINING[images.source]
    seed = int(spec["seed"])
    model = submission.define(build)(submission.model.SmallCNN, dict(MODEL), seed)
    untrained = submission.define(build)(submission.model.SmallCNN, dict(MODEL), seed)
    options = {"optimizer": cfg["optimizer"], "lr": cfg["lr"], "weight_decay": 0.0, "augment": False, "epochs": cfg["epochs"],
               "batch_size": cfg["batch_size"], "budget": TRAIN_SHARE * float(budget), "device": device, "seed": seed}
    framed = F.pad(torch.from_numpy(images.X_test), (UNSEEN_PAD,) * 4).numpy()
    with budget.measure() as used:  # the images cross as arrays and become tensors next to the model
        submission.define(fit)(submission.train.train, model, images.training_data(), options)
        labels = {32: submission.define(predict)(model, images.X_test, 500), 40: submission.define(predict)(model, framed, 500)}
    ablated = submission.define(ablated_predictions)(model, untrained, images.X_test[:ABLATION_IMAGES], 500)
    return labels, used, cfg, ablated


def held_out_accuracy(labels, y):
    y_pred = assert_array("the trained model's labels", labels, shape=tuple(y.shape), dtype_kind="iu")
    return float((y_pred == y).mean())


def check_parameters_decide(ablated, images, accuracy):
    """Fail unless the labels come from the parameters train() trained: replaced, they must be no better than chance."""
    y = images.y_test[:ABLATION_IMAGES]
    for name, what in [("untrained", "the untrained ones SmallCNN starts from"), ("zeros", "zeros")]:
        found = held_out_accuracy(ablated[name], y)
        if found > ABLATED_MAX:
            raise AssertionError(
                f"the model's labels do not come from its parameters: with every parameter replaced by {what}, the "
                f"trained model still labels {found:.1%} of {len(y)} held-out images right (trained: {accuracy:.1%}; "
                f"a network whose parameters decide its output is near chance, at most {ABLATED_MAX:.0%}). forward(x) "
                "computes the scores from x with the model's layers and nothing else.")


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
            f"training is too slow: your train() and labelling the test images took {used.seconds:.1f} s of {used.clock}, the budget is "
            f"{budget.explain()} ({TRAIN_SHARE:.0%} of it was given to train() as `budget`). Check the time after every "
            "update and stop once it is spent.")


@pytest.mark.points(12)
def test_trained_cnn_reaches_the_threshold_on_held_out_images(trained, images, threshold, budget, record):
    labels, used, cfg, ablated = trained
    check_budget(used, budget)
    accuracy = held_out_accuracy(labels[32], images.y_test)
    record("held_out_accuracy", round(accuracy, 4))
    check_parameters_decide(ablated, images, accuracy)
    check(accuracy, threshold(images.source), "at 32x32", images, cfg, used)


@pytest.mark.points(8)
def test_trained_cnn_classifies_images_of_a_resolution_it_never_saw(trained, images, threshold, budget, record):
    labels, used, cfg, ablated = trained
    check_budget(used, budget)
    accuracy = held_out_accuracy(labels[40], images.y_test)
    record("held_out_accuracy_at_40px", round(accuracy, 4))
    check_parameters_decide(ablated, images, accuracy)
    check(accuracy, threshold(f"{images.source} at 40px"), "at 40x40 (the test images framed by 4 px of zeros)", images,
          cfg, used)
