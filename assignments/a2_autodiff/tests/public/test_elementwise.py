"""Public tests for the elementwise operations of tensor.py: small fixed values and gradients.

Each test builds an expression from your Tensor class, calls backward() with a fixed upstream
gradient and compares the output and every leaf's grad with numbers computed once with the
reference solution.
"""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close

A = np.linspace(-1, 1, 6).reshape(2, 3)
G = np.linspace(-1, 2, 6).reshape(2, 3)  # the upstream gradient given to backward()
TOL = 1e-6  # the expected values are rounded to 10 decimals


@pytest.mark.points(1)
def test_add_broadcasts_and_sums_the_gradient_back(graph, check_graph):
    result = graph("lambda a, b: a + b", [A, np.linspace(0.5, 1.5, 3)], G)
    check_graph(result, [[-0.5, 0.4, 1.3], [0.7, 1.6, 2.5]],
                [[[-1.0, -0.4, 0.2], [0.8, 1.4, 2.0]], [-0.2, 1.0, 2.2]], "a + b with a (2, 3), b (3,)",
                names=["a", "b"], tol=TOL, hint="b was broadcast along axis 0: its gradient is summed over that axis.")


@pytest.mark.points(1)
def test_sub_mul_div_values_and_gradients(graph, check_graph):
    result = graph("lambda a, b: (a - b) * a / b", [A, [[0.5], [2.0]]], G)
    check_graph(result, [[3.0, 1.32, 0.28], [-0.18, -0.42, -0.5]],
                [[[5.0, 1.36, -0.36], [-0.64, -0.56, 0.0]], [[4.544], [-0.634]]], "(a - b) * a / b with a (2, 3), b (2, 1)",
                names=["a", "b"], tol=TOL)


@pytest.mark.points(1)
def test_neg_and_pow_values_and_gradients(graph, check_graph):
    result = graph("lambda a: -(a ** 3) + a ** 0.5", [np.linspace(0.5, 2, 4).reshape(2, 2)])
    check_graph(result, [[0.5821067812, 0.0], [-2.1502551286, -6.5857864376]],
                [[[-0.0428932188, -2.5], [-6.3417517095, -11.6464466094]]], "-(a ** 3) + a ** 0.5",
                names=["a"], tol=TOL, hint="With no argument, backward() starts from a gradient of ones.")


@pytest.mark.points(1)
def test_exp_log_sigmoid_tanh_values_and_gradients(graph, check_graph):
    result = graph("lambda a: a.exp() + (a * a + 1).log() + a.sigmoid() * a.tanh()", [A], G)
    check_graph(result, [[0.8562024069, 0.6659962085, 0.7690998073], [1.3691471326, 2.4763529398, 3.9681989502]],
                [[[0.6689105618, 0.0817066758, 0.1635781167], [1.7466287284, 4.6014848441, 8.3500923461]]],
                "a.exp() + (a * a + 1).log() + a.sigmoid() * a.tanh()", names=["a"], tol=TOL)


@pytest.mark.points(1)
def test_unbroadcast_sums_over_the_broadcast_axes(submission):
    grad = np.linspace(-1, 1, 24).reshape(2, 3, 4)
    expected = {(3, 1): [[-2.7826086957], [0.0], [2.7826086957]],
                (4,): [-0.7826086957, -0.2608695652, 0.2608695652, 0.7826086957], (): 0.0}
    for shape, want in expected.items():
        got = assert_array(f"unbroadcast(grad, {shape})", submission.tensor.unbroadcast(grad.copy(), shape), shape=shape)
        assert_close(f"unbroadcast(grad of shape (2, 3, 4), {shape})", got, want, tol=TOL, atol=1e-10,
                     against="the expected values",
                     hint="Sum over the leading axes `shape` lacks, then over its size-1 axes with keepdims=True.")
