"""Hidden tests: every elementwise operation against torch.autograd in float64, broadcasting included.

Shapes come from hypothesis (derandomized, a few examples each, plus the broadcasting patterns
that matter as explicit examples); values from a generator seeded by the example. The same
expression runs on your Tensor class in your process and on torch tensors here.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as nps

from autograder.checks import assert_array, assert_close

EXAMPLES = settings(max_examples=6, derandomize=True, deadline=None, database=None, report_multiple_bugs=False,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
SHAPE_PAIRS = nps.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3).map(
    lambda shapes: shapes.input_shapes)
SHAPES = nps.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SEEDS = st.integers(0, 2**16)

BINARY = {  # name -> (expression on your Tensors, the same on torch tensors)
    "add": ("lambda a, b: a + b", lambda a, b: a + b),
    "sub": ("lambda a, b: a - b", lambda a, b: a - b),
    "mul": ("lambda a, b: a * b", lambda a, b: a * b),
    "div": ("lambda a, b: a / b", lambda a, b: a / b),
}
BINARY_HINTS = {
    "add": "Each operand's gradient is grad, summed back to that operand's shape with unbroadcast.",
    "sub": "The second operand's gradient is -grad, summed back to its shape.",
    "mul": "d(a * b)/da = b and d(a * b)/db = a, each times grad and summed back to its operand's shape.",
    "div": "d(a / b)/da = 1 / b and d(a / b)/db = -a / b**2, each times grad and summed back to its shape.",
}
UNARY = {
    "exp": ("lambda a: a.exp()", lambda a: a.exp(), "d exp(a) = exp(a): reuse the output."),
    "log": ("lambda a: a.log()", lambda a: a.log(), "d log(a) = 1 / a."),
    "sigmoid": ("lambda a: a.sigmoid()", lambda a: a.sigmoid(), "d sigmoid(a) = out * (1 - out), with out the output."),
    "tanh": ("lambda a: a.tanh()", lambda a: a.tanh(), "d tanh(a) = 1 - out**2, with out the output."),
}


def operands(shapes, seed, positive=False):
    """Return one array per shape: standard normal, or magnitudes in [0.5, 2] (positive, or the last one signed)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    if positive:
        arrays[-1] = rng.uniform(0.5, 2.0, shapes[-1]) * (1 if positive == "all" else rng.choice([-1.0, 1.0], shapes[-1]))
    return arrays


def upstream(shape, seed):
    return np.random.default_rng(seed + 1).standard_normal(shape)


@pytest.mark.points(2.5)
@pytest.mark.parametrize("op", list(BINARY))
@EXAMPLES
@given(shapes=SHAPE_PAIRS, seed=SEEDS)
@example(shapes=((3, 1), (4,)), seed=1)
@example(shapes=((2, 3), ()), seed=2)
@example(shapes=((), (2, 1, 3)), seed=3)
@example(shapes=((2, 1, 4), (3, 1)), seed=4)
def test_binary_op_matches_torch_with_broadcasting(graph, check_graph, torch_graph, op, shapes, seed):
    a, b = operands(shapes, seed, positive="signed" if op == "div" else False)
    g = upstream(np.broadcast_shapes(*shapes), seed)
    expression, fn = BINARY[op]
    expected = torch_graph(fn, [a, b], g)
    check_graph(graph(expression, [a, b], g), *expected, f"{expression.split(':', 1)[1].strip()} with a {shapes[0]} and b {shapes[1]}",
                names=["a", "b"], hint=BINARY_HINTS[op], against="torch.autograd")


NUMBER_OPERANDS = {  # a number (or an array) on either side of your Tensor
    "lambda a: 2.0 - a": lambda a: 2.0 - a,
    "lambda a: 3.0 * a + 1.5": lambda a: 3.0 * a + 1.5,
    "lambda a: 1.0 / a": lambda a: 1.0 / a,
    "lambda a: (a - 0.5) / 4.0": lambda a: (a - 0.5) / 4.0,
    "lambda a: np.full((2, 1, 1), 0.5) * a": lambda a: a.new_full((2, 1, 1), 0.5) * a,
}


@pytest.mark.points(1.5)
def test_numbers_and_arrays_as_operands_match_torch(graph, check_graph, torch_graph, rng):
    a = rng.uniform(0.5, 2.0, (3, 4))
    for expression, fn in NUMBER_OPERANDS.items():
        out_shape = (2, 3, 4) if "full" in expression else a.shape
        g = rng.standard_normal(out_shape)
        check_graph(graph(expression, [a], g), *torch_graph(fn, [a], g), expression.split(":", 1)[1].strip(), names=["a"],
                    hint="A number or array operand is a constant Tensor (as_tensor): it gets no gradient, yours does.", against="torch.autograd")


@pytest.mark.points(0.5)
def test_neg_matches_torch(graph, check_graph, torch_graph, rng):
    a, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    check_graph(graph("lambda a: -(-a * a)", [a], g), *torch_graph(lambda t: -(-t * t), [a], g), "-(-a * a)",
                names=["a"], hint="The gradient of -a is -grad.", against="torch.autograd")


@pytest.mark.points(0.3)
@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.0, 1.5])
def test_pow_matches_torch(graph, check_graph, torch_graph, rng, exponent):
    a, g = rng.uniform(0.5, 2.0, (3, 2)), rng.standard_normal((3, 2))
    expected = torch_graph(lambda t: t**exponent, [a], g)
    check_graph(graph(f"lambda a: a ** {exponent!r}", [a], g), *expected, f"a ** {exponent!r}", names=["a"],
                hint="d(a ** p) = p * a ** (p - 1), times grad.", against="torch.autograd")


@pytest.mark.points(1)
@pytest.mark.parametrize("name", list(UNARY))
@EXAMPLES
@given(shape=SHAPES, seed=SEEDS)
@example(shape=(2, 3), seed=5)
def test_unary_function_matches_torch(graph, check_graph, torch_graph, name, shape, seed):
    expression, fn, hint = UNARY[name]
    (a,) = operands([shape], seed, positive="all" if name == "log" else False)
    a = a if name == "log" else 3 * a
    g = upstream(shape, seed)
    check_graph(graph(expression, [a], g), *torch_graph(fn, [a], g), f"a.{name}() with a {shape}", names=["a"], hint=hint, against="torch.autograd")


@pytest.mark.points(1)
def test_sigmoid_is_finite_without_overflow_on_huge_inputs(graph, check_graph, torch_graph):
    a = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0])
    result = graph("lambda a: a.sigmoid()", [a], np.ones_like(a), strict=True,
                   hint="Never take exp of a large positive number: for x < 0 use e^x / (1 + e^x) (np.where), "
                        "or np.exp(-np.logaddexp(0, -x)).")
    check_graph(result, *torch_graph(lambda t: t.sigmoid(), [a], np.ones_like(a)), "a.sigmoid() with a = +-1000, +-50",
                names=["a"], hint="sigmoid(-1000) is 0 and sigmoid(1000) is 1, with gradient 0 at both.", against="torch.autograd")


def summed_to(grad, shape):
    """Return grad summed back to `shape` (the reference for unbroadcast)."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


@pytest.mark.points(1.5)
@EXAMPLES
@given(shapes=SHAPE_PAIRS, seed=SEEDS)
@example(shapes=((1, 3), (4, 1, 1)), seed=6)
@example(shapes=((), (2, 2)), seed=7)
def test_unbroadcast_sums_back_to_the_input_shape(submission, shapes, seed):
    shape = shapes[0]
    grad = upstream(np.broadcast_shapes(*shapes), seed)
    got = assert_array(f"unbroadcast(grad of shape {grad.shape}, {shape})", submission.tensor.unbroadcast(grad.copy(), shape),
                       shape=shape, hint="Return an array of exactly `shape`.")
    assert_close(f"unbroadcast(grad of shape {grad.shape}, {shape})", got, summed_to(grad, shape), atol=1e-12,
                 against="grad summed over the broadcast axes",
                 hint="Sum over the leading axes `shape` lacks, then over its size-1 axes with keepdims=True.")
