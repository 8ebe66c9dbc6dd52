"""Public tests for custom operations: ReLU, and a Function subclass of the test's own."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close


@pytest.mark.points(1)
def test_relu_values_and_gradients(graph, check_graph):
    result = graph("lambda a: a.relu()", [[[-1.5, 0.0, 2.0], [0.5, -0.25, 0.0]]], np.linspace(-1, 2, 6).reshape(2, 3))
    check_graph(result, [[0.0, 0.0, 2.0], [0.5, 0.0, 0.0]], [[[0.0, 0.0, 0.2], [0.8, 0.0, 0.0]]], "a.relu()",
                names=["a"], tol=1e-9, hint="The gradient passes where the input is > 0 and is 0 elsewhere, at 0 too.")


def square_op(Function, Tensor, a, g):
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = Tensor(a, requires_grad=True)
    out = Square.apply(x)
    out.backward(g)
    return {"out": out.data, "grad": x.grad}


@pytest.mark.points(1)
def test_a_custom_op_built_on_your_function_class(submission):
    a, g = np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(1, 2, 6).reshape(2, 3)
    result = submission.define(square_op)(submission.tensor.Function, submission.tensor.Tensor, a, g)
    assert_close("Square.apply(x).data", assert_array("Square.apply(x).data", result["out"], shape=a.shape), a * a,
                 against="x * x", hint="apply() returns a Tensor holding what cls.forward returned.")
    assert_close("x.grad", assert_array("x.grad", result["grad"], shape=a.shape), 2 * a * g, against="2 * x * grad",
                 hint="The output's backward calls cls.backward(ctx, grad); a single array is the gradient of the one input.")
