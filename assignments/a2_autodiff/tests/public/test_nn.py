"""Public tests for nn.py: the loss on fixed logits, shapes of the layers, one SGD step."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close


@pytest.mark.points(1)
def test_softmax_cross_entropy_value_and_gradient(submission, graph, check_graph):
    names = {"softmax_cross_entropy": submission.nn.softmax_cross_entropy, "y": np.array([0, 3, 1])}
    result = graph("lambda z: softmax_cross_entropy(z, y)", [np.linspace(-1, 2, 12).reshape(3, 4)], names=names)
    check_graph(result, 1.4777557461, [[[-0.2804678371, 0.0694410474, 0.0912137293, 0.1198130605],
                                        [0.0528654962, 0.0694410474, 0.0912137293, -0.2135202729],
                                        [0.0528654962, -0.263892286, 0.0912137293, 0.1198130605]]],
                "softmax_cross_entropy(logits, y) with logits (3, 4)", names=["logits"], tol=1e-6,
                hint="The loss is the mean over the rows of logsumexp(row) - row[label].")


def mlp_shapes(MLP, softmax_cross_entropy, X, y):
    model = MLP([4, 5, 3], seed=0)
    loss = softmax_cross_entropy(model(X), y)
    loss.backward()
    return {"logits": model(X).data.shape, "loss": loss.data.shape,
            "grads": [None if p.grad is None else np.shape(p.grad) for p in model.parameters()]}


@pytest.mark.points(1)
def test_mlp_logits_loss_and_gradient_shapes(submission):
    X, y = np.linspace(-1, 1, 8).reshape(2, 4), np.array([2, 0])
    result = submission.define(mlp_shapes)(submission.nn.MLP, submission.nn.softmax_cross_entropy, X, y)
    if tuple(result["logits"]) != (2, 3) or tuple(result["loss"]) != ():
        raise AssertionError(f"MLP([4, 5, 3]) on X (2, 4) gave logits of shape {tuple(result['logits'])} and a loss of "
                             f"shape {tuple(result['loss'])}, expected (2, 3) and (). Apply every layer, then the mean loss.")
    expected = [(4, 5), (5,), (5, 3), (3,)]
    got = [None if s is None else tuple(s) for s in result["grads"]]
    if got != expected:
        raise AssertionError(f"the gradients of [W1, b1, W2, b2] after loss.backward() have shapes {got}, expected "
                             f"{expected}. Every parameter must get a gradient of its own shape.")


def one_sgd_step(Tensor, SGD, w, g):
    p = Tensor(w, requires_grad=True)
    p.grad = g
    SGD([p], lr=0.5).step()
    return p.data


@pytest.mark.points(1)
def test_sgd_step_moves_against_the_gradient(submission):
    w, g = np.linspace(-1, 1, 4), np.array([1.0, -2.0, 0.5, 0.0])
    new = submission.define(one_sgd_step)(submission.tensor.Tensor, submission.nn.SGD, w, g)
    assert_close("p.data after SGD(lr=0.5).step()", assert_array("p.data", new, shape=(4,)), w - 0.5 * g,
                 against="data - lr * grad")
