"""Hidden tests: every backward pass against a centered-difference gradient in float64.

The numeric gradient goes through the reference forward pass (the true function), so a
backward pass is judged on its own even when the student's forward pass is wrong.
"""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_tuple, grad_check


def forward(layers, name, *args):
    """Call `layers.<name>(*args)` and check that it returned (out, cache)."""
    return assert_tuple(name, getattr(layers, name)(*args), ("out", "cache"))


def bn_param(D):
    return {"mode": "train", "eps": 1e-5, "momentum": 0.9,
            "running_mean": np.zeros(D), "running_var": np.ones(D)}


# ---------------------------------------------------------------- affine

@pytest.fixture
def affine_case(rng):
    x = rng.standard_normal((4, 2, 3))  # N=4, each row flattens to D=6
    w = rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    return x, w, b, dout


def affine_grads(layers, x, w, b, dout):
    _, cache = forward(layers, "affine_forward", x.copy(), w.copy(), b.copy())
    return assert_tuple("affine_backward", layers.affine_backward(dout.copy(), cache), ("dx", "dw", "db"))


@pytest.mark.points(1)
def test_affine_backward_dx_matches_numeric_gradient(submission, reference, affine_case):
    x, w, b, dout = affine_case
    dx_st, _, _ = affine_grads(submission.layers, x, w, b, dout)
    grad_check("dx", dx_st, lambda v: reference.layers.affine_forward(v, w, b)[0], x, dout,
               hint="dx is dout @ w.T, reshaped back to the shape of x.")


@pytest.mark.points(1)
def test_affine_backward_dw_matches_numeric_gradient(submission, reference, affine_case):
    x, w, b, dout = affine_case
    _, dw_st, _ = affine_grads(submission.layers, x, w, b, dout)
    grad_check("dw", dw_st, lambda v: reference.layers.affine_forward(x, v, b)[0], w, dout,
               hint="dw is the flattened x transposed, times dout.")


@pytest.mark.points(0.5)
def test_affine_backward_db_matches_numeric_gradient(submission, reference, affine_case):
    x, w, b, dout = affine_case
    _, _, db_st = affine_grads(submission.layers, x, w, b, dout)
    grad_check("db", db_st, lambda v: reference.layers.affine_forward(x, w, v)[0], b, dout,
               hint="db sums dout over the batch axis.")


# ---------------------------------------------------------------- activations

ACTIVATION_HINTS = {
    "relu": "The gradient passes where x > 0 and is zero elsewhere.",
    "sigmoid": "Use the cached output: dx = dout * out * (1 - out).",
    "tanh": "Use the cached output: dx = dout * (1 - out**2).",
}


@pytest.mark.points(0.5)
@pytest.mark.parametrize("name", list(ACTIVATION_HINTS))
def test_activation_backward_dx_matches_numeric_gradient(submission, reference, rng, name):
    x = rng.standard_normal((5, 7))
    x[np.abs(x) < 1e-3] = 0.5  # keep ReLU's kink out of reach of the finite difference
    dout = rng.standard_normal((5, 7))
    _, cache = forward(submission.layers, f"{name}_forward", x.copy())
    dx_st = getattr(submission.layers, f"{name}_backward")(dout.copy(), cache)
    forward_ref = getattr(reference.layers, f"{name}_forward")
    grad_check("dx", dx_st, lambda v: forward_ref(v)[0], x, dout, hint=ACTIVATION_HINTS[name])


# ---------------------------------------------------------------- softmax cross-entropy

@pytest.mark.points(1)
def test_softmax_cross_entropy_dscores_matches_numeric_gradient(submission, reference, rng):
    scores = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, size=6)
    returned = submission.layers.softmax_cross_entropy(scores.copy(), y.copy())
    _, dscores_st = assert_tuple("softmax_cross_entropy", returned, ("loss", "dscores"))
    grad_check("dscores", dscores_st, lambda s: reference.layers.softmax_cross_entropy(s, y)[0], scores,
               hint="dscores is (softmax - one_hot(y)) / N.")


# ---------------------------------------------------------------- batchnorm (train mode)

@pytest.fixture
def batchnorm_case(rng):
    x = 2.0 * rng.standard_normal((8, 4)) + 1.0
    gamma = 1.0 + 0.5 * rng.standard_normal(4)
    beta = rng.standard_normal(4)
    dout = rng.standard_normal((8, 4))
    return x, gamma, beta, dout


def batchnorm_grads(layers, x, gamma, beta, dout):
    _, cache = forward(layers, "batchnorm_forward", x.copy(), gamma.copy(), beta.copy(), bn_param(x.shape[1]))
    return assert_tuple("batchnorm_backward", layers.batchnorm_backward(dout.copy(), cache), ("dx", "dgamma", "dbeta"))


def batchnorm_ref(reference, x, gamma, beta):
    return reference.layers.batchnorm_forward(x, gamma, beta, bn_param(x.shape[1]))[0]


@pytest.mark.points(1.5)
def test_batchnorm_backward_dx_matches_numeric_gradient(submission, reference, batchnorm_case):
    x, gamma, beta, dout = batchnorm_case
    dx_st, _, _ = batchnorm_grads(submission.layers, x, gamma, beta, dout)
    grad_check("dx", dx_st, lambda v: batchnorm_ref(reference, v, gamma, beta), x, dout,
               hint="The batch mean and variance depend on every row: include their gradients too.")


@pytest.mark.points(0.5)
def test_batchnorm_backward_dgamma_matches_numeric_gradient(submission, reference, batchnorm_case):
    x, gamma, beta, dout = batchnorm_case
    _, dgamma_st, _ = batchnorm_grads(submission.layers, x, gamma, beta, dout)
    grad_check("dgamma", dgamma_st, lambda v: batchnorm_ref(reference, x, v, beta), gamma, dout,
               hint="dgamma sums dout * x_hat over the batch axis.")


@pytest.mark.points(0.5)
def test_batchnorm_backward_dbeta_matches_numeric_gradient(submission, reference, batchnorm_case):
    x, gamma, beta, dout = batchnorm_case
    _, _, dbeta_st = batchnorm_grads(submission.layers, x, gamma, beta, dout)
    grad_check("dbeta", dbeta_st, lambda v: batchnorm_ref(reference, x, gamma, v), beta, dout,
               hint="dbeta sums dout over the batch axis.")


# ---------------------------------------------------------------- dropout (fixed mask)

def check_dropout_output(out, x, p):
    """Fail unless every unit of out is 0 or x / (1 - p), with some of each: the forward the gradient is taken of."""
    kept = out != 0
    dropped = float(np.mean(~kept))
    if not 0.1 <= dropped <= 0.7:
        raise AssertionError(
            f"dropout_forward with p={p} dropped {dropped:.0%} of {x.size} units, expected about {p:.0%}; the "
            "gradient of a forward pass that does not drop units as the docstring says cannot be judged. "
            "Fix dropout_forward first (the dropout tests say more).")
    assert_close("kept units of out", out[kept], x[kept] / (1 - p), against="x / (1 - p)",
                 hint="Fix dropout_forward first: kept units are x / (1 - p).")


@pytest.mark.points(1.5)
def test_dropout_backward_dx_matches_numeric_gradient(submission, rng):
    x = rng.standard_normal((6, 8))
    dout = rng.standard_normal((6, 8))
    seed = int(rng.integers(2**31))

    def forward_st(v):  # a fresh generator each call: the same mask every time
        return forward(submission.layers, "dropout_forward", v, 0.4, True, np.random.default_rng(seed))[0]

    out, cache = forward(submission.layers, "dropout_forward", x.copy(), 0.4, True, np.random.default_rng(seed))
    check_dropout_output(assert_array("out", out, shape=x.shape), x, 0.4)
    dx_st = submission.layers.dropout_backward(dout.copy(), cache)
    grad_check("dx", dx_st, forward_st, x, dout,
               hint="Multiply dout by the same scaled mask the forward pass used.")
