"""Hidden tests: custom operations. Your ReLU, and ops the test defines on your Function class,
judged by centered finite differences of the true function (computed here, in float64)."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_sequence, grad_check


def custom_op(Function, Tensor, kind, arrays, requires_grad, grad):
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    class ScaledAdd(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + 2 * b

        @staticmethod
        def backward(ctx, g):
            return g, 2 * g

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            return [g * ctx.k, None]

    ops = {
        "relu": lambda a: a.relu(),
        "cube": lambda a: Cube.apply(a),
        "scaled_add": lambda a, b: ScaledAdd.apply(a, b),
        "scale": lambda a, k: Scale.apply(a, k),
        "scale_by_number": lambda a: Scale.apply(a, 3.0),
        "graph": lambda a, b: (Cube.apply(a) * b + a.relu() + ScaledAdd.apply(a, b).tanh()).sum(),
    }
    leaves = [Tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad, strict=True)]
    out = ops[kind](*leaves)
    if not isinstance(out, Tensor):
        return {"problem": f"{kind} returned {type(out).__name__}, expected a Tensor"}
    out.backward(grad)
    return {"out": out.data, "grads": [t.grad for t in leaves]}


def run(submission, kind, arrays, grad=None, requires_grad=None):
    """Run the test's custom op `kind` with the submission's Function and Tensor; return out and the leaves' grads."""
    requires_grad = requires_grad or [True] * len(arrays)
    result = submission.define(custom_op)(submission.tensor.Function, submission.tensor.Tensor, kind,
                                          [np.array(a, dtype=np.float64) for a in arrays], requires_grad, grad)
    if "problem" in result:
        raise AssertionError(f"{result['problem']}: Function.apply returns a Tensor linked into the graph.")
    return result["out"], assert_sequence(f"the leaves' grads after {kind}", result["grads"], length=len(arrays))


def away_from_zero(rng, shape):
    x = rng.standard_normal(shape)
    x[np.abs(x) < 0.05] = 0.5  # keep the kink of ReLU out of reach of the finite difference
    return x


@pytest.mark.points(1.5)
def test_relu_matches_the_numeric_gradient(submission, rng):
    x, g = away_from_zero(rng, (4, 5)), rng.standard_normal((4, 5))
    out, (dx,) = run(submission, "relu", [x], g)
    assert_close("x.relu().data", assert_array("x.relu().data", out, shape=x.shape), np.maximum(x, 0), against="max(x, 0)")
    grad_check("x.grad of x.relu()", dx, lambda v: np.maximum(v, 0), x.copy(), g,
               hint="ReLU.backward passes grad where x > 0 and 0 elsewhere.")


@pytest.mark.points(1)
def test_relu_passes_no_gradient_at_exactly_zero(submission):
    x = np.array([[0.0, 1e-12, -1e-12], [0.0, 2.0, -3.0]])
    _, (dx,) = run(submission, "relu", [x], np.ones_like(x))
    assert_close("x.grad of x.relu() at 0, +-1e-12, 2 and -3", assert_array("x.grad", dx, shape=x.shape),
                 (x > 0).astype(float), against="1 where x > 0, else 0",
                 hint="The handout's ReLU passes the gradient where x > 0: at exactly 0 the gradient is 0.")


@pytest.mark.points(1.5)
def test_a_one_input_custom_op_matches_the_numeric_gradient(submission, rng):
    x, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    out, (dx,) = run(submission, "cube", [x], g)
    assert_close("Cube.apply(x).data", assert_array("Cube.apply(x).data", out, shape=x.shape), x**3, against="x ** 3",
                 hint="apply() returns a Tensor holding what cls.forward returned for the inputs' data.")
    grad_check("x.grad of Cube.apply(x)", dx, lambda v: v**3, x.copy(), g,
               hint="The output's backward calls cls.backward(ctx, grad); a single array it returns is the gradient "
                    "of the one input.")


@pytest.mark.points(1.5)
def test_a_broadcasting_custom_op_gets_its_gradients_summed_back(submission, rng):
    a, b, g = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))
    out, (da, db) = run(submission, "scaled_add", [a, b], g)
    assert_close("ScaledAdd.apply(a, b).data", assert_array("ScaledAdd.apply(a, b).data", out, shape=a.shape), a + 2 * b,
                 against="a + 2 * b")
    grad_check("a.grad of ScaledAdd.apply(a, b)", da, lambda v: v + 2 * b, a.copy(), g)
    grad_check("b.grad of ScaledAdd.apply(a, b), b of shape (4,)", db, lambda v: a + 2 * v, b.copy(), g,
               hint="The op's backward returned 2 * grad of shape (3, 4) for b of shape (4,): apply() sums it back to "
                    "b's shape with unbroadcast.")


@pytest.mark.points(1)
def test_a_custom_op_may_return_none_for_an_input(submission, rng):
    x, k, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    out, (dx, dk) = run(submission, "scale", [x, k], g)
    assert_close("Scale.apply(x, k).data", assert_array("Scale.apply(x, k).data", out, shape=x.shape), x * k, against="x * k")
    assert_close("x.grad of Scale.apply(x, k)", assert_array("x.grad", dx, shape=x.shape), g * k, against="grad * k")
    assert_close("k.grad of Scale.apply(x, k) whose backward returned None for k",
                 assert_array("k.grad", dk, shape=k.shape), np.zeros_like(k), against="zeros",
                 hint="A None from backward means no gradient for that input: use zeros of its shape.")
    _, (dx,) = run(submission, "scale_by_number", [x], g)
    assert_close("x.grad of Scale.apply(x, 3.0)", assert_array("x.grad", dx, shape=x.shape), 3 * g, against="3 * grad",
                 hint="apply() turns a number into a constant Tensor (as_tensor) before calling forward on the data.")


@pytest.mark.points(1.5)
def test_custom_ops_inside_a_larger_graph_match_the_numeric_gradient(submission, rng):
    a, b = away_from_zero(rng, (3, 4)), rng.standard_normal(4)
    out, (da, db) = run(submission, "graph", [a, b])
    f = lambda a, b: np.sum(a**3 * b + np.maximum(a, 0) + np.tanh(a + 2 * b))
    assert_close("the output of (Cube(a) * b + a.relu() + ScaledAdd(a, b).tanh()).sum()", out, f(a, b))
    grad_check("a.grad in (Cube(a) * b + a.relu() + ScaledAdd(a, b).tanh()).sum()", da, lambda v: f(v, b), a.copy(),
               hint="Custom ops and ordinary operations meet in one graph: backward() must treat them alike.")
    grad_check("b.grad in (Cube(a) * b + a.relu() + ScaledAdd(a, b).tanh()).sum()", db, lambda v: f(a, v), b.copy())
