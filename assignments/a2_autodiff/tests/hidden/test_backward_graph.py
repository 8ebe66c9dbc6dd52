"""Hidden tests: the backward pass itself. Deep chains, tensors reached along several paths, the
order of the walk, gradients that accumulate across calls, zero_grad, and tensors without gradients."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_sequence

FACTOR = 1.0001


def deep_chain(Tensor, n, factor):
    x = Tensor(np.array([1.5, -2.0]), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * factor
    try:
        y.sum().backward()
    except RecursionError:
        return {"problem": "recursion"}
    return {"out": y.data, "grad": x.grad}


@pytest.mark.points(2)
def test_a_chain_of_10000_operations(submission):
    n = 10_000
    result = submission.define(deep_chain)(submission.tensor.Tensor, n, FACTOR)
    if "problem" in result:
        raise AssertionError(f"backward() through a chain of {n} multiplications raised RecursionError: a recursive "
                             "walk of the graph needs one Python frame per tensor. Build the topological order with an "
                             "explicit stack (a list you push to and pop from) instead.")
    out = assert_array("the output of the chain", result["out"], shape=(2,))
    assert_close("the output of the chain", out, np.array([1.5, -2.0]) * FACTOR**n, tol=1e-9)
    grad = assert_array("x.grad after the chain", result["grad"], shape=(2,), dtype_kind="f")
    assert_close(f"x.grad after {n} multiplications by {FACTOR}", grad, np.full(2, FACTOR**n), tol=1e-9,
                 against=f"{FACTOR} ** {n}", hint="Every tensor of the chain must pass its gradient on exactly once.")


TWICE = {  # the same tensor twice in one operation
    "lambda a: a * a": lambda a: a * a,
    "lambda a: a + a": lambda a: a + a,
    "lambda a: a / a.exp()": lambda a: a / a.exp(),
    "lambda a: (a @ a).sum(axis=0)": lambda a: (a @ a).sum(dim=0),
    "lambda a: a - a * 3.0": lambda a: a - a * 3.0,
}


@pytest.mark.points(2)
def test_a_tensor_used_twice_in_one_operation(graph, check_graph, torch_graph, rng):
    a = rng.uniform(0.5, 1.5, (3, 3))
    for expression, fn in TWICE.items():
        g = rng.standard_normal(torch_graph(fn, [a])[0].shape)
        check_graph(graph(expression, [a], g), *torch_graph(fn, [a], g), expression.split(":", 1)[1].strip(), names=["a"],
                    hint="When both parents of an operation are the same tensor, it gets both gradients, added together.", against="torch.autograd")


@pytest.mark.points(2)
def test_shared_subexpressions_match_torch(graph, check_graph, torch_graph, rng):
    x, y = rng.standard_normal((2, 3)), rng.standard_normal(3)
    cases = {  # only + and *: the test is about the walk, not the operations
        "lambda x, y: (lambda h: h * h + h * x)(x * y + x)": lambda x, y: (lambda h: h * h + h * x)(x * y + x),
        "lambda x, y: (lambda h: (h * h * 2.0).sum() + h.sum() * y.sum())(x * y + x)":
            lambda x, y: (lambda h: (h * h * 2.0).sum() + h.sum() * y.sum())(x * y + x),
    }
    for expression, fn in cases.items():
        g = rng.standard_normal(torch_graph(fn, [x, y])[0].shape)
        check_graph(graph(expression, [x, y], g), *torch_graph(fn, [x, y], g), expression.split(":", 1)[1].strip(),
                    names=["x", "y"], hint="A tensor used by several operations gets the sum of their gradients.", against="torch.autograd")


@pytest.mark.points(2)
def test_each_tensor_passes_its_gradient_on_only_once_it_is_complete(graph, check_graph, torch_graph, rng):
    """`a` feeds the output directly and through a longer path: whichever order the operands come in,
    its gradient is complete only after the longer path is done."""
    x = rng.standard_normal((2, 3))
    cases = {  # only + and *: the test is about the walk, not the operations
        "lambda x: (lambda a: (a * 2.0) * (a * 3.0) + a)(x * x)": lambda x: (lambda a: (a * 2.0) * (a * 3.0) + a)(x * x),
        "lambda x: (lambda a: a + (a * 2.0) * (a * 3.0))(x * x)": lambda x: (lambda a: a + (a * 2.0) * (a * 3.0))(x * x),
        "lambda x: (lambda a: a * ((a + 1.0) * a))(x + 1.0)": lambda x: (lambda a: a * ((a + 1.0) * a))(x + 1.0),
    }
    for expression, fn in cases.items():
        g = rng.standard_normal(x.shape)
        check_graph(graph(expression, [x], g), *torch_graph(fn, [x], g), expression.split(":", 1)[1].strip(), names=["x"],
                    hint="Walk the tensors in reverse topological order: each one only after every tensor computed "
                         "from it. A tensor marked as seen when it is pushed, not when it is expanded, can come too early.", against="torch.autograd")


def backward_twice_then_zero_grad(Tensor, a):
    x = Tensor(a, requires_grad=True)
    snapshots = []

    def snapshot():
        snapshots.append(x.grad.copy() if isinstance(x.grad, np.ndarray) else x.grad)

    (x * 2.0).sum().backward()
    snapshot()
    (x * x).sum().backward()
    snapshot()
    x.zero_grad()
    snapshot()
    (x**3).sum().backward()
    snapshot()
    return snapshots


def grads_over_calls(submission, a):
    result = submission.define(backward_twice_then_zero_grad)(submission.tensor.Tensor, a)
    return assert_sequence("the grads recorded", result, length=4)


@pytest.mark.points(2)
def test_gradients_accumulate_across_backward_calls(submission, rng):
    a = rng.standard_normal((2, 3))
    first, second, _, _ = grads_over_calls(submission, a)
    assert_close("x.grad after (x * 2).sum().backward()", assert_array("x.grad", first, shape=a.shape), np.full(a.shape, 2.0),
                 against="2")
    assert_close("x.grad after a second backward(), of (x * x).sum()", assert_array("x.grad", second, shape=a.shape),
                 2.0 + 2 * a, against="2 + 2 * x, the sum of both calls' gradients",
                 hint="backward() adds to t.grad when it is already set: gradients accumulate until zero_grad().")


@pytest.mark.points(1.5)
def test_zero_grad_then_backward_gives_a_fresh_gradient(submission, rng):
    a = rng.standard_normal((2, 3))
    first, _, cleared, fresh = grads_over_calls(submission, a)
    assert_close("x.grad after (x * 2).sum().backward()", assert_array("x.grad", first, shape=a.shape), np.full(a.shape, 2.0),
                 against="2")
    if cleared is not None and not (isinstance(cleared, np.ndarray) and not cleared.any()):
        raise AssertionError(f"x.grad after x.zero_grad() is {cleared!r:.80}, expected None. zero_grad() forgets the gradient.")
    assert_close("x.grad after zero_grad() and (x ** 3).sum().backward()", assert_array("x.grad", fresh, shape=a.shape),
                 3 * a**2, against="3 * x ** 2, the new gradient alone",
                 hint="After zero_grad(), the next backward() must not add to the old gradients.")


@pytest.mark.points(1.5)
def test_constants_get_no_gradient(graph, check_graph, torch_graph, rng):
    x, c = rng.standard_normal((2, 3)), rng.uniform(0.5, 1.5, 3)
    fn = lambda x, c: (x * c + c).exp().sum()
    check_graph(graph("lambda x, c: (x * c + c).exp().sum()", [x, c], requires_grad=[True, False]),
                *torch_graph(fn, [x, c], requires_grad=[True, False]), "(x * c + c).exp().sum() with c a constant",
                names=["x", "c"], hint="Set t.grad only for tensors with requires_grad; leave the others at None.", against="torch.autograd")
    result = graph("lambda x, c: x * c", [x, c], grad=np.ones((2, 3)), requires_grad=[False, False])
    check_graph(result, x * c, [None, None], "x * c with both constants", names=["x", "c"])


@pytest.mark.points(1)
def test_a_leaf_the_output_does_not_depend_on_keeps_no_gradient(graph, check_graph, rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    result = graph("lambda x, y: (y * 2.0).sum()", [x, y])
    check_graph(result, 2 * y.sum(), [None, np.full(3, 2.0)], "(y * 2).sum() with x unused", names=["x", "y"],
                hint="backward() reaches only the tensors the output was computed from.")


@pytest.mark.points(1)
def test_a_tensor_used_a_thousand_times(graph, check_graph, rng):
    x = rng.standard_normal((2, 2))
    result = graph("lambda x: sum((x * float(i) for i in range(1000)), x * 0.0)", [x])
    total = 999 * 1000 / 2
    check_graph(result, x * total, [np.full((2, 2), total)], "the sum of x * i for i in range(1000)", names=["x"],
                hint="Add up the gradients of every use of x.")


def intermediate_grads(Tensor, a, b, g):
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    h = x * y
    out = (h + x).relu()
    out.backward(g)
    return {"h": h.grad, "out": out.grad}


@pytest.mark.points(1)
def test_backward_sets_the_grad_of_every_tensor_that_requires_one(submission, torch, rng):
    a, b, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    got = submission.define(intermediate_grads)(submission.tensor.Tensor, a, b, g)
    x, y = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    h = x * y
    out = (h + x).relu()
    h.retain_grad()
    out.retain_grad()
    out.backward(torch.tensor(g))
    for name, want in (("out", out.grad.numpy()), ("h", h.grad.numpy())):
        assert_close(f"{name}.grad after out.backward(grad), out = (h + x).relu(), h = x * y",
                     assert_array(f"{name}.grad", got[name], shape=want.shape), want, against="torch.autograd",
                     hint="Every tensor with requires_grad gets its grad, the intermediate ones and the output too "
                          "(out.grad is the grad you passed). Leave the arrays you are given as they are: no in-place *=.")


def counted_rules(Function, Tensor, x_data):
    calls = {"forward": 0, "backward": 0}

    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            calls["forward"] += 1
            return 2.0 * x

        @staticmethod
        def backward(ctx, g):
            calls["backward"] += 1
            return 2.0 * g

    x = Tensor(x_data, requires_grad=True)
    (Double.apply(x) * x).sum().backward()
    return {"calls": calls, "grad": x.grad}


@pytest.mark.points(1)
def test_backward_applies_each_operations_rule_once_and_never_reruns_the_graph(submission, rng):
    x = rng.standard_normal((2, 3))
    result = submission.define(counted_rules)(submission.tensor.Function, submission.tensor.Tensor, x)
    calls = result["calls"]
    if calls != {"forward": 1, "backward": 1}:
        raise AssertionError(
            f"(Double.apply(x) * x).sum().backward() called the test's Double.forward {calls['forward']} time(s) and "
            f"Double.backward {calls['backward']} time(s), expected once each: backward() walks the recorded graph "
            "once and applies each operation's own backward rule; it never evaluates the forward pass again "
            "(finite differences are for checking gradients, not for computing them).")
    grad = assert_array("x.grad", result["grad"], shape=x.shape, dtype_kind="f")
    assert_close("x.grad of (Double.apply(x) * x).sum()", grad, 4.0 * x, against="4 x")
