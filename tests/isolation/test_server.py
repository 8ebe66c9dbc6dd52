"""The submission-side server: every error reply says whose it is (`kind`), dict subclasses are dicts."""

from __future__ import annotations

import textwrap

import pytest

from autograder.isolation import wire
from autograder.isolation.loader import load_modules
from autograder.isolation.server import Server, _answer

STUDENT = '''
import collections


def add(a):
    return a


def raises_inside(a, b):
    return len(a) + b


def lazy(n):
    return map(str, range(n))


not_a_function = None


def nested():
    value = []
    for _ in range(200):
        value = [value]
    return value


def ordered():
    return collections.OrderedDict(b=1, a=2)


def counts():
    return collections.defaultdict(int, {"x": 3})


def bump(cfg):
    cfg["t"] = cfg.get("t", 0) + 1


class Box:
    def __init__(self):
        self.options = collections.OrderedDict(lr=0.1)


class Picky:
    def __getitem__(self, key):
        raise KeyError(f"no {key} here")


def picky():
    return Picky()
'''


@pytest.fixture
def server(tmp_path):
    (tmp_path / "arith.py").write_text(textwrap.dedent(STUDENT), encoding="utf-8")
    return Server(tmp_path, load_modules(tmp_path, ["arith"])._modules)


def ask(server: Server, op: str, path: list[str] | None = None, handle: wire.Handle | None = None, **fields):
    target = {"path": ["arith", *path]} if path is not None else {"handle": handle.id} if handle else {}
    return wire.decode(_answer(server, wire.encode({"op": op, "target": target, **fields})))


def test_a_call_the_signature_cannot_take_is_unfit_with_the_students_signature(server):
    error = ask(server, "call", ["add"], args=[1, 2], kwargs={})["error"]
    assert (error["kind"], error["op"], error["type"], error["signature"]) == ("unfit", "call", "TypeError", "add(a)")
    assert "takes 1 positional argument but 2 were given" in error["message"]


def test_a_type_error_raised_inside_the_students_code_is_theirs(server):
    error = ask(server, "call", ["raises_inside"], args=[1, 2], kwargs={})["error"]
    assert error["kind"] == "student" and 'arith.py", line 10, in raises_inside' in error["trace"]


def test_calling_something_that_is_not_a_function_is_unfit_without_a_signature(server):
    error = ask(server, "call", ["not_a_function"], args=[], kwargs={})["error"]
    assert (error["kind"], error["object"], error["signature"]) == ("unfit", "NoneType", "")


def test_a_missing_attribute_of_a_students_object_is_unfit(server):
    box = ask(server, "call", ["Box"], args=[], kwargs={})["ok"]
    error = ask(server, "getattr", handle=box, name="step")["error"]
    assert (error["kind"], error["op"], error["type"], error["object"]) == ("unfit", "getattr", "AttributeError", "Box")


def test_a_missing_attribute_on_the_way_to_a_class_member_is_unfit(server):
    error = ask(server, "call", ["Box", "build"], args=[], kwargs={})["error"]
    assert (error["kind"], error["op"], error["object"]) == ("unfit", "getattr", "type")


def test_the_length_of_a_lazy_map_is_unfit(server):
    lazy = ask(server, "call", ["lazy"], args=[3], kwargs={})["ok"]
    assert isinstance(lazy, wire.Handle) and lazy.type == "map"
    error = ask(server, "len", handle=lazy)["error"]
    assert (error["kind"], error["object"]) == ("unfit", "map")


def test_a_missing_key_is_unfit_unless_the_students_own_getitem_raised_it(server):
    box = ask(server, "call", ["Box"], args=[], kwargs={})["ok"]
    options = ask(server, "getattr", handle=box, name="options")["live"]
    assert ask(server, "getitem", handle=options, key="momentum")["error"]["kind"] == "unfit"
    picky = ask(server, "call", ["picky"], args=[], kwargs={})["ok"]
    assert ask(server, "getitem", handle=picky, key="a")["error"]["kind"] == "student"


def test_a_reply_that_cannot_cross_is_a_reply_error(server):
    error = ask(server, "call", ["nested"], args=[], kwargs={})["error"]
    assert error["kind"] == "reply" and "deeper" in error["message"]


@pytest.mark.parametrize("request_", [
    {"op": "explode", "target": {}},
    {"op": "define", "target": {}, "source": "class Helper(:\n    pass", "name": "Helper"},
    {"op": "call", "target": {"handle": 12345}, "args": [], "kwargs": {}},
])
def test_the_graders_own_mistakes_are_grader_errors_with_a_full_trace(server, request_):
    error = wire.decode(_answer(server, wire.encode(request_)))["error"]
    assert error["kind"] == "grader" and "Traceback" in error["trace"]


def test_a_dict_subclass_read_as_an_attribute_is_a_plain_dict_with_a_live_handle(server):
    box = ask(server, "call", ["Box"], args=[], kwargs={})["ok"]
    reply = ask(server, "getattr", handle=box, name="options")
    assert type(reply["ok"]) is dict and reply["ok"] == {"lr": 0.1}
    ask(server, "setitem", handle=reply["live"], key="lr", value=0.5)
    assert server.objects[box.id].options["lr"] == 0.5


@pytest.mark.parametrize("name, expected", [("ordered", {"b": 1, "a": 2}), ("counts", {"x": 3})])
def test_dict_subclasses_returned_by_a_call_cross_as_dicts(server, name, expected):
    ok = ask(server, "call", [name], args=[], kwargs={})["ok"]
    assert type(ok) is dict and ok == expected and list(ok) == list(expected)


def test_arguments_sent_by_value_come_back_changed_and_handles_stay_put(server):
    reply = ask(server, "call", ["bump"], args=[{"t": 1}], kwargs={})
    assert reply["mutated"] == {"0": {"t": 2}}
    box = ask(server, "call", ["Box"], args=[], kwargs={})["ok"]
    options = ask(server, "getattr", handle=box, name="options")["live"]
    reply = ask(server, "call", ["bump"], args=[options], kwargs={})
    assert reply["mutated"] == {} and server.objects[box.id].options["t"] == 1


def test_a_students_function_pinned_by_path_can_be_passed_to_a_grader_helper(server):
    pinned = ask(server, "pin", ["bump"])["ok"]
    assert isinstance(pinned, wire.Handle) and server.objects[pinned.id] is server.modules["arith"].bump
    helper = ask(server, "define", source="def call_on(fn, cfg):\n    fn(cfg)\n    return cfg\n", name="call_on")["ok"]
    assert ask(server, "call", handle=helper, args=[pinned, {"t": 4}], kwargs={})["ok"] == {"t": 5}


def test_pinning_a_missing_name_is_the_students_missing_function(server):
    assert ask(server, "pin", ["no_such_function"])["error"]["kind"] == "missing"  # as a call to it would be


TORCH_STUDENT = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(3, 2)
        self.bn = nn.BatchNorm1d(2)

    def forward(self, x):
        return self.bn(self.fc(x))
'''

GRADIENT_HELPER = """def grads_of(model, x):
    model.zero_grad()
    model(x).sum().backward()
    return {name: p.grad is not None for name, p in model.named_parameters()}
"""


@pytest.fixture
def torch_server(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "model.py").write_text(TORCH_STUDENT, encoding="utf-8")
    return Server(tmp_path, load_modules(tmp_path, ["model"])._modules)


def test_a_models_state_dict_crosses_by_value_and_loads_back(torch_server):
    import torch

    net = _new_net(torch_server)
    assert isinstance(net, wire.Handle) and net.type == "Net"  # the module stays in the submission process
    state = ask(torch_server, "call", handle=_method(torch_server, net, "state_dict"), args=[], kwargs={})["ok"]
    assert type(state) is dict and list(state) == ["fc.weight", "fc.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert isinstance(state["fc.weight"], torch.Tensor) and state["fc.weight"].shape == (2, 3)
    state["fc.bias"] = torch.full((2,), 7.0)
    ask(torch_server, "call", handle=_method(torch_server, net, "load_state_dict"), args=[state], kwargs={})
    assert torch.equal(torch_server.objects[net.id].fc.bias.detach(), torch.full((2,), 7.0))


def test_a_helper_in_a_torch_assignment_gets_torch_nn_and_f(torch_server):
    import torch

    net = _new_net(torch_server)
    helper = ask(torch_server, "define", source=GRADIENT_HELPER, name="grads_of")["ok"]
    reply = ask(torch_server, "call", handle=helper, args=[net, torch.ones(4, 3, dtype=torch.float32)], kwargs={})
    assert reply["ok"] == {"fc.weight": True, "fc.bias": True, "bn.weight": True, "bn.bias": True}
    names = ask(torch_server, "define", source="def names():\n    return [torch.__name__, nn.Linear.__name__, F.relu.__name__]\n", name="names")["ok"]
    assert ask(torch_server, "call", handle=names, args=[], kwargs={})["ok"] == ["torch", "Linear", "relu"]


def test_a_helper_gets_no_torch_where_the_assignment_forbids_it(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "arith.py").write_text(textwrap.dedent(STUDENT), encoding="utf-8")
    server = Server(tmp_path, load_modules(tmp_path, ["arith"])._modules, forbidden=["torch"])
    helper = ask(server, "define", source="def has_torch():\n    return 'torch' in globals()\n", name="has_torch")["ok"]
    assert ask(server, "call", handle=helper, args=[], kwargs={})["ok"] is False


def _method(server: Server, handle: wire.Handle, name: str) -> wire.Handle:
    return ask(server, "getattr", handle=handle, name=name)["ok"]


def _new_net(server: Server) -> wire.Handle:
    request = {"op": "call", "target": {"path": ["model", "Net"]}, "args": [], "kwargs": {}}
    return wire.decode(_answer(server, wire.encode(request)))["ok"]
