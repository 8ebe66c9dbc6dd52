"""Public tests for mlp.py: parameter shapes, fixed scores, loss and gradients, predictions.

The expected numbers were computed once with the reference solution.
"""
from functools import partial

import numpy as np
import pytest

from autograder.checks import assert_close, assert_keys, assert_shape, assert_tuple

expect = partial(assert_close, against="the expected values")


SHAPES = {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}  # MLP([3], input_dim=4, num_classes=2)


def fixed_model(mlp, **kwargs):
    """Return MLP([3], input_dim=4, num_classes=2) with every parameter set to a fixed ramp."""
    model = mlp.MLP([3], input_dim=4, num_classes=2, **kwargs)
    params = model.params
    assert_keys("model.params", params, SHAPES, hint="Name them W1, b1, W2, ... as the docstring says.")
    for name, shape in SHAPES.items():
        assert_shape(f"params['{name}']", params[name], shape)
        model.params[name] = np.linspace(-0.5, 0.5, int(np.prod(shape))).reshape(shape)
    return model


X = np.linspace(-1, 1, 8).reshape(2, 4)
Y = np.array([1, 0])


@pytest.mark.points(0.5)
def test_mlp_params_have_the_documented_shapes(submission):
    model = submission.mlp.MLP([5, 3], input_dim=4, num_classes=2)
    shapes = {"W1": (4, 5), "b1": (5,), "W2": (5, 3), "b2": (3,), "W3": (3, 2), "b3": (2,)}
    assert_keys("model.params", model.params, shapes, hint="Name them W1, b1, W2, ... as the docstring says.")
    for name, shape in shapes.items():
        assert_shape(f"params['{name}']", model.params[name], shape)


@pytest.mark.points(1)
def test_mlp_scores_values(submission):
    scores = fixed_model(submission.mlp).loss(X)
    expect("scores", scores, [[-0.3831168831, 0.8506493506], [-0.2097402597, 1.0876623377]], tol=1e-6)


@pytest.mark.points(1)
def test_mlp_loss_and_grads_values_with_l2(submission):
    loss, grads = assert_tuple("model.loss(X, y)", fixed_model(submission.mlp, reg=0.1).loss(X, Y), ("loss", "grads"))
    assert_keys("grads", grads, ["W1", "b2"], hint="Return one gradient per entry of self.params.")
    expect("loss", loss, 0.9913584657770002, tol=1e-6,
           hint="Add 0.5 * reg * sum(W**2) for every weight matrix, not the biases.")
    expect("grads['W1']", grads.get("W1"), [[-0.0274477073, -0.0071368337, 0.0019540754],
                                           [-0.0066184923, 0.0361323105, 0.0452232196],
                                           [0.0142107228, 0.0794014548, 0.0884923639],
                                           [0.0350399379, 0.122670599, 0.1317615081]], tol=1e-6)
    expect("grads['b2']", grads.get("b2"), [-0.2799372966, 0.2799372966], tol=1e-6)


@pytest.mark.points(1)
def test_mlp_predict_returns_one_label_per_row(submission):
    y_pred = fixed_model(submission.mlp).predict(X)
    assert_shape("y_pred", y_pred, (2,))
    expect("y_pred", y_pred, [1, 1], hint="Predict the argmax of the scores along axis 1.")
