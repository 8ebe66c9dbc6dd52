"""Public tests for layers.py: shapes and values on small fixed inputs.

The expected numbers were computed once with the reference solution.
"""
from functools import partial

import numpy as np
import pytest

from autograder.checks import assert_close, assert_shape, assert_tuple

expect = partial(assert_close, against="the expected values")

TOL = 1e-6  # the expected values below are rounded to 10 decimals


def affine_inputs():
    x = np.linspace(-0.1, 0.5, num=8).reshape(2, 2, 2)  # N=2, each row flattens to D=4
    w = np.linspace(-0.2, 0.3, num=12).reshape(4, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    return x, w, b


X_ACT = np.linspace(-3, 3, 8).reshape(2, 4)
DOUT_ACT = np.linspace(-1, 1.5, 8).reshape(2, 4)


@pytest.mark.points(1)
def test_affine_forward_values(submission):
    out, _ = assert_tuple("affine_forward", submission.layers.affine_forward(*affine_inputs()), ("out", "cache"))
    expected = np.array([[-0.241038961, -0.0358441558, 0.1693506494],
                         [-0.2348051948, 0.0327272727, 0.3002597403]])
    expect("out", out, expected, tol=TOL, hint="Flatten each row of x to D values, then x @ w + b.")


@pytest.mark.points(1)
def test_affine_backward_values(submission):
    x, w, b = affine_inputs()
    _, cache = assert_tuple("affine_forward", submission.layers.affine_forward(x, w, b), ("out", "cache"))
    dout = np.linspace(-1, 1, 6).reshape(2, 3)
    dx, dw, db = assert_tuple("affine_backward", submission.layers.affine_backward(dout, cache), ("dx", "dw", "db"))
    assert_shape("dx", dx, x.shape, hint="`dx` must have the shape of the original x, not the flattened one.")
    expect("dx", dx, [[[0.3145454545, 0.0690909091], [-0.1763636364, -0.4218181818]],
                      [[-0.2418181818, 0.0036363636], [0.2490909091, 0.4945454545]]], tol=TOL)
    expect("dw", dw, [[0.1485714286, 0.2057142857, 0.2628571429],
                      [0.08, 0.2057142857, 0.3314285714],
                      [0.0114285714, 0.2057142857, 0.4],
                      [-0.0571428571, 0.2057142857, 0.4685714286]], tol=TOL)
    expect("db", db, [-0.8, 0.0, 0.8], tol=TOL)


@pytest.mark.points(1)
def test_relu_forward_and_backward_values(submission):
    out, cache = assert_tuple("relu_forward", submission.layers.relu_forward(X_ACT), ("out", "cache"))
    expect("out", out, [[0, 0, 0, 0], [0.4285714286, 1.2857142857, 2.1428571429, 3.0]], tol=TOL)
    dx = submission.layers.relu_backward(DOUT_ACT, cache)
    expect("dx", dx, [[0, 0, 0, 0], [0.4285714286, 0.7857142857, 1.1428571429, 1.5]], tol=TOL)


@pytest.mark.points(1)
def test_sigmoid_forward_and_backward_values(submission):
    out, cache = assert_tuple("sigmoid_forward", submission.layers.sigmoid_forward(X_ACT), ("out", "cache"))
    expect("out", out, [[0.0474258732, 0.105000585, 0.2165790958, 0.3944675128],
                        [0.6055324872, 0.7834209042, 0.894999415, 0.9525741268]], tol=TOL)
    dx = submission.layers.sigmoid_backward(DOUT_ACT, cache)
    expect("dx", dx, [[-0.0451766597, -0.0604127971, -0.0484778832, 0.0170616353],
                      [0.1023698118, 0.1333141787, 0.1074005282, 0.0677649896]], tol=TOL)


@pytest.mark.points(1)
def test_tanh_forward_and_backward_values(submission):
    out, cache = assert_tuple("tanh_forward", submission.layers.tanh_forward(X_ACT), ("out", "cache"))
    expect("out", out, [[-0.9950547537, -0.9728461661, -0.8579999617, -0.4041267398],
                        [0.4041267398, 0.8579999617, 0.9728461661, 0.9950547537]], tol=TOL)
    dx = submission.layers.tanh_backward(DOUT_ACT, cache)
    expect("dx", dx, [[-0.0098660372, -0.0344380738, -0.0753817331, 0.0597629699],
                      [0.3585778192, 0.2072997659, 0.0612232424, 0.0147990557]], tol=TOL)


@pytest.mark.points(1)
def test_softmax_cross_entropy_values(submission):
    scores = np.linspace(-1, 2, 12).reshape(3, 4)
    returned = submission.layers.softmax_cross_entropy(scores, np.array([0, 3, 1]))
    loss, dscores = assert_tuple("softmax_cross_entropy", returned, ("loss", "dscores"))
    expect("loss", loss, 1.477755746103479, tol=TOL, hint="The loss is the mean over the N rows.")
    expect("dscores", dscores, [[-0.2804678371, 0.0694410474, 0.0912137293, 0.1198130605],
                                [0.0528654962, 0.0694410474, 0.0912137293, -0.2135202729],
                                [0.0528654962, -0.263892286, 0.0912137293, 0.1198130605]],
           tol=TOL, hint="Subtract one at each row's true class, then divide by N.")


@pytest.mark.points(1)
def test_dropout_shapes_and_eval_identity(submission):
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    returned = submission.layers.dropout_forward(x, 0.5, True, np.random.default_rng(0))
    out, cache = assert_tuple("dropout_forward", returned, ("out", "cache"))
    assert_shape("out", out, x.shape)
    assert_shape("dx", submission.layers.dropout_backward(np.ones_like(x), cache), x.shape)
    returned = submission.layers.dropout_forward(x, 0.5, False, np.random.default_rng(0))
    out_eval, _ = assert_tuple("dropout_forward", returned, ("out", "cache"))
    expect("out in eval mode", out_eval, x, hint="In eval mode (train=False) return x unchanged.")


def batchnorm_inputs():
    x = np.linspace(-1, 2, 12).reshape(4, 3) ** 2
    return x, np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 0.3])


@pytest.mark.points(1)
def test_batchnorm_train_forward_values(submission):
    x, gamma, beta = batchnorm_inputs()
    bn_param = {"mode": "train"}
    out, _ = assert_tuple("batchnorm_forward", submission.layers.batchnorm_forward(x, gamma, beta, bn_param), ("out", "cache"))
    expect("out", out, [[0.1415776136, -1.9842642423, -0.0923007517],
                        [-1.0854283707, -2.9029108684, -0.1160765548],
                        [-0.6135029921, -1.4593233131, 0.2881120984],
                        [1.5573537492, 2.3464984238, 1.120265208]],
           tol=TOL, hint="Normalise with the batch mean and the biased (divide by N) variance.")
    expect("bn_param['running_mean']", bn_param.get("running_mean"),
           [0.0888429752, 0.108677686, 0.1433884298], tol=TOL)
    expect("bn_param['running_var']", bn_param.get("running_var"),
           [0.9621012909, 1.0284901988, 1.1446707875], tol=TOL)


@pytest.mark.points(1)
def test_batchnorm_backward_values(submission):
    x, gamma, beta = batchnorm_inputs()
    returned = submission.layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    _, cache = assert_tuple("batchnorm_forward", returned, ("out", "cache"))
    returned = submission.layers.batchnorm_backward(np.linspace(-1, 1, 12).reshape(4, 3), cache)
    dx, dgamma, dbeta = assert_tuple("batchnorm_backward", returned, ("dx", "dgamma", "dbeta"))
    expect("dx", dx, [[-1.0960431332, -1.016264102, -0.123301423],
                      [0.0971106919, 0.3449628246, 0.0594321885],
                      [0.5965769125, 0.6806134633, 0.0913668058],
                      [0.4023555287, -0.0093121859, -0.0274975712]], tol=TOL)
    expect("dgamma", dgamma, [1.2870692142, 1.9685284846, 2.2046653812], tol=TOL)
    expect("dbeta", dbeta, [-0.7272727273, 0.0, 0.7272727273], tol=TOL)
