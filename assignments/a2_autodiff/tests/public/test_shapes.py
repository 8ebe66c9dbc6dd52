"""Public tests for the reductions, shape operations and matrix product of tensor.py.

The expected numbers were computed once with the reference solution.
"""
import numpy as np
import pytest

A = np.linspace(-1, 1, 6).reshape(2, 3)
G = np.linspace(-1, 2, 6).reshape(2, 3)
TOL = 1e-6


@pytest.mark.points(1)
def test_sum_and_mean_with_axis_and_keepdims(graph, check_graph):
    result = graph("lambda a: a.sum(axis=0, keepdims=True) * a.mean(axis=1).sum()", [np.linspace(-1, 2, 12).reshape(3, 4)],
                   np.linspace(1, 2, 4).reshape(1, 4))
    row = [4.0909090909, 4.5909090909, 5.0909090909, 5.5909090909]
    check_graph(result, [[0.4090909091, 1.6363636364, 2.8636363636, 4.0909090909]], [[row, row, row]],
                "a.sum(axis=0, keepdims=True) * a.mean(axis=1).sum() with a (3, 4)", names=["a"], tol=TOL,
                hint="Each element gets the gradient of every sum it went into; a mean is a sum times a number.")


@pytest.mark.points(1)
def test_matmul_values_and_gradients(graph, check_graph):
    result = graph("lambda a, b: a @ b", [A, np.linspace(-0.5, 1, 6).reshape(3, 2)], [[1.0, -1.0], [0.5, 2.0]])
    check_graph(result, [[0.3, -0.24], [0.66, 1.2]],
                [[[-0.3, -0.3, -0.3], [-0.65, 0.85, 2.35]], [[-0.9, 1.4], [-0.3, 1.8], [0.3, 2.2]]],
                "a @ b with a (2, 3), b (3, 2)", names=["a", "b"], tol=TOL,
                hint="Let the shapes tell you the products: d a is (2, 3), d b is (3, 2).")


@pytest.mark.points(1)
def test_reshape_and_transpose_values_and_gradients(graph, check_graph):
    result = graph("lambda a: a.reshape(3, 2).T * a + a.transpose(1, 0).sum(axis=1)", [A], G)
    check_graph(result, [[0.2, 0.12, 0.68], [-0.92, 0.12, 1.8]], [[[1.8, 1.24, 2.56], [0.16, 1.24, 6.2]]],
                "a.reshape(3, 2).T * a + a.transpose(1, 0).sum(axis=1) with a (2, 3)", names=["a"], tol=TOL)


@pytest.mark.points(1)
def test_logsumexp_values_and_gradients(graph, check_graph):
    result = graph("lambda a: a.logsumexp(axis=1)", [3 * A], [1.0, -2.0])
    check_graph(result, [-0.2693215398, 3.3306784602],
                [[[0.065175056, 0.2163888063, 0.7184361377], [-0.130350112, -0.4327776126, -1.4368722754]]],
                "a.logsumexp(axis=1) with a (2, 3)", names=["a"], tol=TOL,
                hint="The gradient of logsumexp along an axis is the softmax along that axis, times grad.")
