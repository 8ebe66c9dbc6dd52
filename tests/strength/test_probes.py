"""Degenerate-answer probes: the right structure, degenerate values, and no side effects."""

import numpy as np

from autograder.spec import Probe
from autograder.strength.probes import probe_source
from autograder.strength.regions import FileRegions

SOURCE = '''
import numpy as np


def step(w, dw, config):
    config["t"] = config.get("t", 0) + 1
    return w - 0.1 * dw, config


class Model:
    def __init__(self):
        self.params = {"W": np.full((2, 2), 3.0)}

    def loss(self, x):
        self.calls = getattr(self, "calls", 0) + 1
        return float(x.sum()), {"W": np.ones((2, 2))}, 7
'''


def _load(kind: str, functions=("*",)) -> dict:
    regions = FileRegions("m.py", SOURCE, {"step": {5, 6, 7}, "Model.__init__": {12}, "Model.loss": {15, 16}})
    namespace: dict = {}
    exec(compile(probe_source(regions, Probe(kind=kind, functions=list(functions))), "m.py", "exec"), namespace)
    return namespace


def test_zeros_keep_structure_and_change_nothing_given():
    ns = _load("zeros")
    config = {}
    w_next, out_config = ns["step"](np.ones(3), np.ones(3), config)
    assert np.array_equal(w_next, np.zeros(3)) and w_next.dtype == np.float64
    assert config == {} and out_config == {"t": 0}  # the caller's dict is untouched; the count faked
    model = ns["Model"]()
    assert np.array_equal(model.params["W"], np.zeros((2, 2)))
    loss, grads, count = model.loss(np.ones(3))
    assert (loss, count) == (0.0, 0) and np.array_equal(grads["W"], np.zeros((2, 2)))
    assert not hasattr(model, "calls")  # the method ran on a copy


def test_constant_is_log10_loss_with_zero_gradients():
    loss, grads, _ = _load("constant")["Model"]().loss(np.ones(3))
    assert loss == np.log(10) and not grads["W"].any()


def test_inert_returns_the_right_values_and_changes_nothing():
    ns = _load("inert", ["m.py::step"])
    config = {}
    w_next, out_config = ns["step"](np.ones(3), np.ones(3), config)
    assert np.allclose(w_next, 0.9) and out_config == {"t": 1} and config == {}
    model = ns["Model"]()
    model.loss(np.ones(3))
    assert model.calls == 1  # not targeted: the solution's method as it is


def test_probe_targets_nothing_outside_its_patterns():
    regions = FileRegions("m.py", SOURCE, {"step": {5}})
    assert probe_source(regions, Probe(kind="zeros", functions=["other.py::*"])) is None


DESCRIPTORS = '''
class C:
    def __init__(self):
        self.v = 1.0

    @staticmethod
    def s(x):
        return x + 1.0

    @classmethod
    def c(cls, x):
        return x + 2.0

    @property
    def p(self):
        return self.v

    def __h(self):
        return 3.0

    def h(self):
        return self.__h()


def f(x):
    def inner(y):
        return y
    return inner(x) * 1.0
'''


def test_probes_keep_static_class_methods_properties_and_private_names():
    names = {"C.s": {7}, "C.c": {11}, "C.p": {15}, "C.__h": {18}, "f": {25, 26}, "f.inner": {25}}
    namespace: dict = {}
    source = probe_source(FileRegions("m.py", DESCRIPTORS, names), Probe(kind="ones"))
    exec(compile(source, "m.py", "exec"), namespace)
    obj = namespace["C"]()
    assert (obj.s(5.0), namespace["C"].s(5.0), obj.c(5.0), obj.p, obj.h(), namespace["f"](4.0)) == (1.0, 1.0, 1.0, 1.0, 1.0, 1.0)


TORCH_SOURCE = '''
import torch


def scores(x):
    return torch.tanh(x) * 3


def loss(x):
    return (x ** 2).mean()
'''


def test_torch_tensors_are_degraded_like_arrays():
    import pytest

    torch = pytest.importorskip("torch")
    regions = FileRegions("t.py", TORCH_SOURCE, {"scores": {6}, "loss": {10}})
    got = {}
    for kind in ("zeros", "ones", "random", "constant"):
        namespace: dict = {}
        exec(compile(probe_source(regions, Probe(kind=kind, functions=["*"])), "t.py", "exec"), namespace)
        got[kind] = (namespace["scores"](torch.ones(2, 3)), namespace["loss"](torch.ones(4, dtype=torch.float64)))
    assert torch.equal(got["zeros"][0], torch.zeros(2, 3)) and torch.equal(got["ones"][0], torch.ones(2, 3))
    assert got["random"][0].shape == (2, 3) and got["random"][0].dtype == torch.float32 and got["random"][0].std() > 0
    assert got["constant"][1].item() == pytest.approx(np.log(10)) and got["constant"][1].dtype == torch.float64
    assert torch.equal(got["constant"][0], torch.zeros(2, 3))
