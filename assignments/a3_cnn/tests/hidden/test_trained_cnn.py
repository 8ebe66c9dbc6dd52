"""Hidden tests: SmallCNN trained by the student's train() on the grader's images, within the budget,
scored on held-out images at the trained resolution and at one it never saw.

The held-out images go to the student's process and predicted labels come back; the labels stay here.
"""
import numpy as np
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
AGREEMENT = 0.98  # the student's labels and those the trained parameters give through the handout's layers


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


class Layout(AssertionError):
    """The trained model's tensors do not have the handout's layout."""


def handout_layers(state):
    """Return the conv-BN blocks (in order) and the linear layer of a SmallCNN state_dict, found by module.

    Modules are told apart by their tensors: a 4-d weight is a convolution, running statistics a batch
    normalisation, a 2-d weight the linear layer; convolutions and normalisations pair up in order, however
    the model registers them (blocks in an nn.Sequential, or a list of convolutions and one of norms).
    """
    modules = {}
    for key, value in (state.items() if isinstance(state, dict) else []):
        prefix, _, name = str(key).rpartition(".")
        modules.setdefault(prefix, {})[name] = torch.as_tensor(value).detach()
    convs = [m for m in modules.values() if getattr(m.get("weight"), "ndim", 0) == 4]
    norms = [m for m in modules.values() if {"weight", "bias", "running_mean", "running_var"} <= m.keys()]
    linears = [m for m in modules.values() if getattr(m.get("weight"), "ndim", 0) == 2 and "bias" in m]
    if len(linears) != 1 or not convs or len(convs) != len(norms) or len(modules) != len(convs) + len(norms) + 1:
        raise Layout(f"{len(convs)} convolutions, {len(norms)} batch normalisations and {len(linears)} linear layers "
                     f"among {len(modules)} modules with tensors, expected one normalisation per convolution and "
                     "one linear layer")
    blocks = []
    for conv, norm in zip(convs, norms, strict=True):
        if norm["running_mean"].shape[0] != conv["weight"].shape[0]:
            raise Layout(f"a convolution with {conv['weight'].shape[0]} output channels paired with a batch "
                         f"normalisation of {norm['running_mean'].shape[0]}")
        blocks.append((conv["weight"].float(), None if conv.get("bias") is None else conv["bias"].float(),
                       *(norm[k].float() for k in ("weight", "bias", "running_mean", "running_var"))))
    return blocks, (linears[0]["weight"].float(), linears[0]["bias"].float())


def network_labels(state, X, relu_first, batch_size=250):
    """Return the labels the handout's SmallCNN (global max pooling) gives X with these tensors, computed here."""
    blocks, (weight, bias) = handout_layers(state)
    labels = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            x = torch.from_numpy(X[start : start + batch_size]).float()
            for k, (w, b, gamma, beta, mean, var) in enumerate(blocks):
                x = F.conv2d(x, w, b, padding=1)
                if relu_first:
                    x = F.batch_norm(F.relu(x), mean, var, gamma, beta, training=False, eps=1e-5)
                else:
                    x = F.relu(F.batch_norm(x, mean, var, gamma, beta, training=False, eps=1e-5))
                if k < len(blocks) - 1:
                    x = F.max_pool2d(x, 2)
            if weight.shape[1] == x.shape[1]:
                x = x.amax(dim=(2, 3))  # the handout's global max pooling
            elif weight.shape[1] == x[0].numel():
                x = x.flatten(1)  # flattened maps instead (the resolution tests judge that)
            else:
                raise Layout(f"a linear layer of {weight.shape[1]} inputs after {x.shape[1]} feature maps of "
                             f"{x.shape[2]}x{x.shape[3]}")
            labels.append(F.linear(x, weight, bias).argmax(dim=1))
    return torch.cat(labels).numpy()


def check_labels_come_from_the_network(labels, state, X):
    """Fail unless the student's labels are what the trained parameters give through the handout's layers."""
    agreement = 0.0
    try:
        for relu_first in (False, True):  # the handout's conv-BN-ReLU first; conv-ReLU-BN only where that disagrees
            agreement = max(agreement, float((np.asarray(labels) == network_labels(state, X, relu_first)).mean()))
            if agreement >= AGREEMENT:
                break
    except Layout as exc:
        raise AssertionError(f"the trained model's parameters do not have the layers the handout lists ({exc}), so "
                             "its labels cannot be traced to a network: build exactly the conv-BN-ReLU blocks, "
                             "global pooling, dropout and linear layer of the SmallCNN docstring.") from None
    if agreement < AGREEMENT:
        raise AssertionError(
            f"the model's labels do not come from its network: on {len(labels)} held-out images they agree with "
            f"what its trained parameters give through the handout's layers on {agreement:.1%} of them, expected "
            f"at least {AGREEMENT:.0%}. forward(x) computes the scores from x with the model's layers and nothing "
            "else, and model.state_dict() holds the parameters it uses.")


@pytest.fixture(scope="module")
def trained(submission, images, spec, budget, device):
    """Train SmallCNN once with the student's train() and label the held-out images at 32 and 40 px.

    Return (labels by size, seconds used, settings, the trained state_dict, images by size). Labelling and
    handing over the parameters count against the budget with training: work deferred from train() does not
    escape it.
    """
    cfg = TRAINING[images.source]
    seed = int(spec["seed"])
    model = submission.define(build)(submission.model.SmallCNN, dict(MODEL), seed)
    options = {"optimizer": cfg["optimizer"], "lr": cfg["lr"], "weight_decay": 0.0, "augment": False, "epochs": cfg["epochs"],
               "batch_size": cfg["batch_size"], "budget": TRAIN_SHARE * float(budget), "device": device, "seed": seed}
    framed = F.pad(torch.from_numpy(images.X_test), (UNSEEN_PAD,) * 4).numpy()
    with budget.measure() as used:  # the images cross as arrays and become tensors next to the model
        submission.define(fit)(submission.train.train, model, images.training_data(), options)
        labels = {size: labelled(submission, model, X) for size, X in ((32, images.X_test), (40, framed))}
        state = model.state_dict()
    return labels, used, cfg, state, {32: images.X_test, 40: framed}


def labelled(submission, model, X):
    """Return the model's labels for X, or the exception labelling raised (each test reports its own)."""
    try:
        return submission.define(predict)(model, X, 500)
    except Exception as exc:  # noqa: BLE001 - re-raised by the test that needs these labels
        return exc


def held_out_accuracy(labels, y):
    if isinstance(labels, Exception):
        raise labels
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
            f"training is too slow: your train() and labelling the test images took {used.seconds:.1f} s of {used.clock}, the budget is "
            f"{budget.explain()} ({TRAIN_SHARE:.0%} of it was given to train() as `budget`). Check the time after every "
            "update and stop once it is spent.")


@pytest.mark.points(12)
def test_trained_cnn_reaches_the_threshold_on_held_out_images(trained, images, threshold, budget, record):
    labels, used, cfg, state, X = trained
    check_budget(used, budget)
    accuracy = held_out_accuracy(labels[32], images.y_test)
    record("held_out_accuracy", round(accuracy, 4))
    check_labels_come_from_the_network(labels[32], state, X[32])
    check(accuracy, threshold(images.source), "at 32x32", images, cfg, used)


@pytest.mark.points(8)
def test_trained_cnn_classifies_images_of_a_resolution_it_never_saw(trained, images, threshold, budget, record):
    labels, used, cfg, state, X = trained
    check_budget(used, budget)
    accuracy = held_out_accuracy(labels[40], images.y_test)
    record("held_out_accuracy_at_40px", round(accuracy, 4))
    check_labels_come_from_the_network(labels[40], state, X[40])
    check(accuracy, threshold(f"{images.source} at 40px"), "at 40x40 (the test images framed by 4 px of zeros)", images,
          cfg, used)
