"""Hidden tests: SmallCNN's shapes at several resolutions, its layers, its parameter count, its
global pooling, its gradients and its seeding.

The model lives where the student's code runs; calls through the proxy send tensors by value, and
the helpers below (sent with `submission.define`) run next to the model and return plain values.
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks import assert_array, assert_close, assert_keys

PARAMETER_BUDGET = 100_000  # SmallCNN() with its default arguments; the reference has 24,346


def build(cls, kwargs, seed):
    """Build the student's model with a seeded torch generator, where the student's code runs."""
    torch.manual_seed(seed)
    return cls(**kwargs)


def layers_of(model):
    """Describe the model's Conv2d, BatchNorm2d, Dropout and Linear modules, in order."""
    out = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            out.append({"type": "Conv2d", "in": m.in_channels, "out": m.out_channels, "kernel_size": list(m.kernel_size),
                        "padding": list(m.padding), "stride": list(m.stride), "bias": m.bias is not None})
        elif isinstance(m, nn.BatchNorm2d):
            out.append({"type": "BatchNorm2d", "num_features": m.num_features})
        elif isinstance(m, nn.Dropout):
            out.append({"type": "Dropout", "p": float(m.p)})
        elif isinstance(m, nn.Linear):
            out.append({"type": "Linear", "in": m.in_features, "out": m.out_features})
    return out


def count_parameters(model):
    return sum(int(p.numel()) for p in model.parameters())


def gradients_reached(model, x, y):
    """One forward and backward pass in training mode; return which parameters got a nonzero gradient."""
    model.train()
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return {name: bool(p.grad is not None and bool(p.grad.abs().sum() > 0)) for name, p in model.named_parameters()}


def as_numpy(value):
    """Return a tensor's values as an array (the checks compare arrays); anything else as it is."""
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


def model_of(submission, seed=0, **kwargs):
    return submission.define(build)(submission.model.SmallCNN, kwargs, seed)


# ---------------------------------------------------------------- shapes

@pytest.mark.points(0.25)
@pytest.mark.parametrize("size", [24, 28, 32, 40])
@pytest.mark.parametrize("pool", ["mean", "max"])
def test_model_output_shape_at_any_resolution(submission, pool, size):
    in_channels, num_classes = (1, 7) if pool == "mean" else (3, 10)
    model = model_of(submission, in_channels=in_channels, num_classes=num_classes, pool=pool)
    model.eval()
    out = as_numpy(model(torch.randn(3, in_channels, size, size)))
    assert_array(f"SmallCNN(in_channels={in_channels}, num_classes={num_classes}, pool={pool!r})(x) for x of shape "
                 f"(3, {in_channels}, {size}, {size})", out, shape=(3, num_classes),
                 hint="Pool each feature map to one number over its whole height and width (global pooling), so the "
                      "linear layer sees channels[-1] features at every resolution; do not flatten the maps.")


@pytest.mark.points(2)
def test_model_features_halve_the_resolution_between_blocks(submission):
    for channels, size in [((8, 12, 16), 28), ((6, 10), 30), ((4, 6, 8, 10), 40)]:
        model = model_of(submission, in_channels=2, num_classes=3, channels=channels)
        model.eval()
        side = size // 2 ** (len(channels) - 1)
        name = f"model.features(x) for channels={channels} and x of shape (2, 2, {size}, {size})"
        maps = assert_array(name, as_numpy(model.features(torch.randn(2, 2, size, size))), shape=(2, channels[-1], side, side),
                            dtype_kind="f", hint="Each block keeps the size (kernel 3, padding 1) and nn.MaxPool2d(2) "
                            "follows every block but the last; features stop before the global pooling.")
        if not (maps.min() >= 0 and maps.max() > 0):
            raise AssertionError(
                f"{name} in eval mode, right after building the model, ranges from {maps.min():.3g} to {maps.max():.3g}, "
                "expected values >= 0 (not all 0): every block ends with a ReLU (batch normalisation starts as the "
                "identity in eval mode).")


# ---------------------------------------------------------------- layers and parameters

def expected_layers(in_channels, num_classes, channels, dropout):
    convs, norms, c_prev = [], [], in_channels
    for c in channels:
        convs.append({"type": "Conv2d", "in": c_prev, "out": c, "kernel_size": [3, 3], "padding": [1, 1], "stride": [1, 1],
                      "bias": False})
        norms.append({"type": "BatchNorm2d", "num_features": c})
        c_prev = c
    return convs, norms, [{"type": "Dropout", "p": dropout}], [{"type": "Linear", "in": c_prev, "out": num_classes}]


@pytest.mark.points(2.5)
def test_model_has_the_layers_the_handout_lists(submission):
    kwargs = {"in_channels": 2, "num_classes": 5, "channels": (6, 10, 12), "dropout": 0.3}
    layers = submission.define(layers_of)(model_of(submission, **kwargs))
    convs, norms, drops, linears = expected_layers(**kwargs)
    for kind, expected in (("Conv2d", convs), ("BatchNorm2d", norms), ("Dropout", drops), ("Linear", linears)):
        got = [layer for layer in layers if layer.get("type") == kind]
        if got != expected:
            raise AssertionError(
                f"SmallCNN(**{kwargs}) has the wrong nn.{kind} modules: got {got}, expected {expected} (in order). "
                "One block per entry of channels: nn.Conv2d(c_prev, c, kernel_size=3, padding=1, bias=False), "
                "nn.BatchNorm2d(c), nn.ReLU(); then nn.Dropout(dropout) and nn.Linear(channels[-1], num_classes).")


@pytest.mark.points(2)
def test_model_parameter_count_matches_the_architecture(submission):
    kwargs = {"in_channels": 1, "num_classes": 7, "channels": (8, 12, 20)}
    got = submission.define(count_parameters)(model_of(submission, **kwargs))
    convs = 1 * 8 * 9 + 8 * 12 * 9 + 12 * 20 * 9
    norms = 2 * (8 + 12 + 20)
    expected = convs + norms + 20 * 7 + 7
    if got != expected:
        raise AssertionError(
            f"SmallCNN(**{kwargs}) has {got} parameters, expected {expected}: {convs} in the convolutions (3x3, no bias), "
            f"{norms} in the batch normalisations (a scale and a shift per channel) and {20 * 7 + 7} in the linear layer.")


@pytest.mark.points(0.5)
def test_model_stays_within_the_parameter_budget(submission):
    got = submission.define(count_parameters)(model_of(submission))
    if not 0 < got <= PARAMETER_BUDGET:
        raise AssertionError(f"SmallCNN() has {got} parameters, expected between 1 and {PARAMETER_BUDGET:,} with the default "
                             "arguments. Check the channels of each block and that the maps are pooled before the linear layer.")


def classifier_zeros(model, features):
    """Return the fraction of exactly zero scores the classifier gives in training mode."""
    model.train()
    with torch.no_grad():
        scores = model.classifier(torch.ones(200, features))
    return float((scores == 0).float().mean())


@pytest.mark.points(0.5)
def test_model_drops_pooled_features_not_scores(submission):
    model = model_of(submission, channels=(4, 6), num_classes=5, dropout=0.75)
    zeros = submission.define(classifier_zeros)(model, 6)
    if not zeros < 0.3:
        raise AssertionError(
            f"in training mode, model.classifier set {zeros:.0%} of the class scores to exactly 0 with dropout=0.75: dropout "
            "belongs before the linear layer (it drops pooled features), never after it (on the scores).")


# ---------------------------------------------------------------- global pooling

@pytest.mark.points(1.5)
@pytest.mark.parametrize("pool", ["mean", "max"])
def test_model_pools_each_feature_map_globally(submission, pool):
    model = model_of(submission, seed=1, in_channels=3, num_classes=4, channels=(6, 8), pool=pool)
    model.eval()
    for size in (32, 40):
        x = torch.randn(2, 3, size, size)
        maps = assert_array("model.features(x)", as_numpy(model.features(x)), shape=(2, 8, size // 2, size // 2),
                            dtype_kind="f")
        pooled = torch.from_numpy(maps.max(axis=(2, 3)) if pool == "max" else maps.mean(axis=(2, 3)))
        expected = assert_array("model.classifier(pooled)", as_numpy(model.classifier(pooled)), shape=(2, 4))
        assert_close(f"SmallCNN(pool={pool!r})(x) at {size}x{size} in eval mode", as_numpy(model(x)), expected, tol=1e-5,
                     atol=1e-6,
                     against=f"model.classifier(the {pool} of model.features(x) over height and width)",
                     hint=f"forward(x) is classifier(pool(features(x))) with pool the {pool} over dims 2 and 3.")


# ---------------------------------------------------------------- gradients and seeding

@pytest.mark.points(1.5)
@pytest.mark.parametrize("pool", ["mean", "max"])
def test_model_gradients_reach_every_parameter(submission, pool):
    model = model_of(submission, seed=2, pool=pool)
    reached = submission.define(gradients_reached)(model, torch.randn(6, 3, 24, 24), torch.arange(6) % 10)
    assert_keys("the parameters", reached, [])
    missing = [name for name, ok in reached.items() if not ok]
    if not reached or missing:
        raise AssertionError(
            f"no gradient reaches {missing or 'any parameter'} of SmallCNN(pool={pool!r}) after a forward and backward "
            "pass in training mode: every layer must be used in forward(), and kept on the model (self.<name> = ...).")


@pytest.mark.points(0.5)
def test_model_same_seed_same_weights(submission):
    small = {"channels": (4, 8, 8)}  # a small state_dict crosses quickly
    first = model_of(submission, seed=3, **small).state_dict()
    again = model_of(submission, seed=3, **small).state_dict()
    other = model_of(submission, seed=4, **small).state_dict()
    assert_keys("state_dict()", first, [])
    if not first or set(first) != set(again):
        raise AssertionError(f"SmallCNN(channels=(4, 8, 8)) built twice has different state_dict keys: {sorted(first)} and {sorted(again)}.")
    for name in first:
        assert_close(f"state_dict()['{name}'] built twice after torch.manual_seed(3)", as_numpy(again[name]),
                     as_numpy(first[name]), tol=0,
                     against="the first build", hint="Draw parameters only from torch's generator (PyTorch's own "
                     "initialisation does), never from a fixed seed of your own or another library.")
    if all(torch.equal(torch.as_tensor(first[k]), torch.as_tensor(other[k])) for k in first):
        raise AssertionError("SmallCNN(channels=(4, 8, 8)) built after torch.manual_seed(3) and after torch.manual_seed(4) has the same "
                             "weights: do not reset the seed yourself inside the model.")
