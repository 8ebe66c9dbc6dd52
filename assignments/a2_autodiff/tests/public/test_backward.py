"""Public tests for Tensor.backward and Tensor.zero_grad."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close

A = np.linspace(-1, 1, 6).reshape(2, 3)
TOL = 1e-6


@pytest.mark.points(1)
def test_backward_of_a_single_value_starts_from_one(graph, check_graph):
    result = graph("lambda a: (a * a).sum()", [A])
    check_graph(result, 2.8, [[[-2.0, -1.2, -0.4], [0.4, 1.2, 2.0]]], "(a * a).sum() with a (2, 3)", names=["a"],
                tol=TOL, hint="backward() with no argument starts from a gradient of 1.")


@pytest.mark.points(1)
def test_a_tensor_used_twice_gets_both_gradients(graph, check_graph):
    result = graph("lambda a, b: a * b + a", [A, np.linspace(0.5, 1.5, 3)], np.linspace(-1, 2, 6).reshape(2, 3))
    check_graph(result, [[-1.5, -1.2, -0.5], [0.3, 1.2, 2.5]], [[[-1.5, -0.8, 0.5], [1.2, 2.8, 5.0]], [1.16, 1.08, 1.96]],
                "a * b + a", names=["a", "b"], tol=TOL,
                hint="a reaches the output along two paths: add the gradients of both, do not overwrite.")


def backward_then_zero_grad(Tensor, a):
    x = Tensor(a, requires_grad=True)
    (x * 2.0).sum().backward()
    before = x.grad.copy() if isinstance(x.grad, np.ndarray) else x.grad
    x.zero_grad()
    return {"before": before, "after": x.grad}


@pytest.mark.points(1)
def test_zero_grad_sets_grad_back_to_none(submission):
    result = submission.define(backward_then_zero_grad)(submission.tensor.Tensor, A)
    before = assert_array("x.grad after backward()", result["before"], shape=A.shape)
    assert_close("x.grad after backward() of (x * 2).sum()", before, np.full(A.shape, 2.0), against="the expected values")
    if result["after"] is not None:
        raise AssertionError(f"x.grad after x.zero_grad() is {type(result['after']).__name__}, expected None. "
                             "zero_grad() sets grad back to None.")
