"""Hidden tests: reductions, shape operations and the matrix product against torch.autograd in float64."""
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as nps

EXAMPLES = settings(max_examples=6, derandomize=True, deadline=None, database=None, report_multiple_bugs=False,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
SHAPES = nps.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def reductions(draw):
    """Draw (shape, axis, keepdims): axis None, an int (maybe negative) or a tuple of distinct axes."""
    shape = draw(SHAPES)
    ndim = len(shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)))
    return shape, axis, draw(st.booleans())


def torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


REDUCTIONS = {  # name -> (torch reduction, hint)
    "sum": (lambda t, dims, keep: t.sum(dim=dims, keepdim=keep),
            "Each element gets the gradient of the sum it went into: without keepdims, give grad back its summed "
            "axes (size 1) before broadcasting it to the input's shape."),
    "mean": (lambda t, dims, keep: t.mean(dim=dims, keepdim=keep),
             "A mean is a sum divided by the number of elements summed (along axis only)."),
    "logsumexp": (lambda t, dims, keep: t.logsumexp(dim=dims, keepdim=keep),
                  "The gradient of logsumexp is grad times the softmax along axis; without keepdims, give grad back "
                  "its reduced axes first."),
}


@pytest.mark.points(1.5)
@pytest.mark.parametrize("name", list(REDUCTIONS))
@EXAMPLES
@given(case=reductions(), seed=st.integers(0, 2**16))
@example(case=((3, 4), 1, False), seed=1)
@example(case=((2, 3, 4), (0, 2), True), seed=2)
@example(case=((2, 3, 4), -1, False), seed=3)
@example(case=((3, 2), None, False), seed=4)
@example(case=((3, 1, 4), 2, False), seed=5)
def test_reduction_matches_torch(graph, check_graph, torch_graph, name, case, seed):
    shape, axis, keepdims = case
    rng = np.random.default_rng(seed)
    a = 2 * rng.standard_normal(shape)
    expression = f"lambda a: a.{name}(axis={axis!r}, keepdims={keepdims})"
    fn, hint = REDUCTIONS[name]
    reduce = lambda t: fn(t, torch_dims(axis, len(shape)), keepdims)
    g = rng.standard_normal(torch_graph(reduce, [a])[0].shape)
    check_graph(graph(expression, [a], g), *torch_graph(reduce, [a], g), f"a.{name}(axis={axis!r}, keepdims={keepdims}) with a {shape}",
                names=["a"], hint=hint, against="torch.autograd")


@pytest.mark.points(1.5)
def test_reduction_of_every_axis_gives_a_single_value(graph, check_graph, torch_graph, rng):
    a = rng.standard_normal((2, 3))
    for name, fn in [("sum", lambda t: t.sum()), ("mean", lambda t: t.mean()), ("logsumexp", lambda t: t.logsumexp(dim=(0, 1)))]:
        check_graph(graph(f"lambda a: a.{name}()", [a]), *torch_graph(fn, [a]), f"a.{name}() with a (2, 3)", names=["a"],
                    hint="With axis=None, reduce over every axis to a single value (shape ()), then backward() starts from 1.", against="torch.autograd")


@pytest.mark.points(1.5)
def test_logsumexp_is_stable_on_huge_values(graph, check_graph, torch_graph):
    a = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -999.5]])
    g = np.array([1.0, -2.0])
    result = graph("lambda a: a.logsumexp(axis=1)", [a], g, strict=True,
                   hint="Subtract the max along axis before exp, and add it back after the log.")
    check_graph(result, *torch_graph(lambda t: t.logsumexp(dim=1), [a], g), "a.logsumexp(axis=1) with values near +-1000",
                names=["a"], hint="Subtract the max along axis before exp, and add it back after the log.", against="torch.autograd")


RESHAPES = [((2, 3, 4), (6, 4)), ((2, 3, 4), (4, -1)), ((2, 3, 4), (24,)), ((6,), (3, 1, 2)), ((1, 5), (5,))]


@pytest.mark.points(1.5)
def test_reshape_matches_torch(graph, check_graph, torch_graph, rng):
    for shape, new in RESHAPES:
        a = rng.standard_normal(shape)
        g = rng.standard_normal(np.empty(shape).reshape(new).shape)
        expected = torch_graph(lambda t, new=new: t.reshape(new), [a], g)
        for call in (f"reshape({new!r})", f"reshape({', '.join(map(str, new))})"):
            check_graph(graph(f"lambda a: a.{call}", [a], g), *expected, f"a.{call} with a {shape}", names=["a"],
                        hint="The gradient of a reshape is grad reshaped back to the input's shape.", against="torch.autograd")


TRANSPOSES = {  # your call -> (input shape, the same permutation in torch)
    "transpose(1, 2, 0)": ((2, 3, 4), lambda t: t.permute(1, 2, 0)),
    "transpose((2, 0, 1))": ((2, 3, 4), lambda t: t.permute(2, 0, 1)),
    "transpose()": ((2, 3, 4), lambda t: t.permute(2, 1, 0)),
    "T": ((3, 5), lambda t: t.T),
    "transpose(0, 2, 1)": ((2, 3, 4), lambda t: t.permute(0, 2, 1)),
}


@pytest.mark.points(2)
def test_transpose_matches_torch(graph, check_graph, torch_graph, rng):
    for call, (shape, fn) in TRANSPOSES.items():
        a = rng.standard_normal(shape)
        g = rng.standard_normal(torch_graph(fn, [a])[0].shape)
        check_graph(graph(f"lambda a: a.{call}", [a], g), *torch_graph(fn, [a], g), f"a.{call} with a {shape}",
                    names=["a"], hint="Undo the permutation in backward: transpose grad by the inverse permutation, "
                                      "np.argsort(axes) (for (1, 2, 0) that is (2, 0, 1), not (1, 2, 0) again).", against="torch.autograd")


MATMULS = [((2, 3), (3, 4)), ((5, 1), (1, 2)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 2)), ((3, 4), (2, 4, 5)),
           ((2, 1, 3, 4), (5, 4, 2))]


@pytest.mark.points(0.5)
@pytest.mark.parametrize("shapes", MATMULS, ids=[f"{a}@{b}" for a, b in MATMULS])
def test_matmul_matches_torch(graph, check_graph, torch_graph, rng, shapes):
    a, b = (rng.standard_normal(s) for s in shapes)
    g = rng.standard_normal((a @ b).shape)
    check_graph(graph("lambda a, b: a @ b", [a, b], g), *torch_graph(lambda s, t: s @ t, [a, b], g),
                f"a @ b with a {shapes[0]} and b {shapes[1]}", names=["a", "b"],
                hint="d a = grad @ b with b's last two axes swapped, d b = a with its last two axes swapped @ grad; "
                     "then sum each back over the leading axes that were broadcast (unbroadcast).", against="torch.autograd")


@pytest.mark.points(2)
def test_a_small_network_expression_matches_torch(graph, check_graph, torch_graph, rng):
    x, w, b, v = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((3, 2))
    expression = "lambda x, w, b, v: ((x @ w + b).tanh() @ v).logsumexp(axis=1).mean()"
    expected = torch_graph(lambda x, w, b, v: ((x @ w + b).tanh() @ v).logsumexp(dim=1).mean(), [x, w, b, v])
    check_graph(graph(expression, [x, w, b, v]), *expected, "((x @ w + b).tanh() @ v).logsumexp(axis=1).mean()",
                names=["x", "w", "b", "v"], against="torch.autograd")
