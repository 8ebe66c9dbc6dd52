"""Layers for a fully connected network, written with NumPy only.

Every layer has a forward function that returns ``(out, cache)`` and a
backward function that takes ``(dout, cache)`` and returns the gradient of
the loss with respect to each input of the forward function. No function
changes the arrays it is given (x, w, dout, ...): each returns new arrays.
"""

import numpy as np


def affine_forward(x, w, b):
    """Compute the forward pass of a fully connected (affine) layer.

    Inputs:
    - x: (N, d_1, ..., d_k) input batch; each row is flattened to D = d_1 * ... * d_k
    - w: (D, M) weights
    - b: (M,) biases

    Returns:
    - out: (N, M) output, x_flat @ w + b
    - cache: (x, w, b) for the backward pass
    """
    # ---- YOUR CODE HERE: out (N, M) = x reshaped to (N, D), times w, plus b.
    # Pitfall: reshape a view for the product only; cache the ORIGINAL x. ----
    x = np.asarray(x)
    w = np.asarray(w)
    b = np.asarray(b)
    assert x.ndim >= 1, f"x must have a batch axis, got shape {x.shape}"
    assert w.ndim == 2, f"w must be (D, M), got shape {w.shape}"
    N = x.shape[0]
    D = int(np.prod(x.shape[1:], dtype=np.int64))
    M = w.shape[1]
    assert w.shape[0] == D, f"x rows flatten to D={D}, but w has shape {w.shape}"
    assert b.shape == (M,), f"b must have shape ({M},), got {b.shape}"
    out_dtype = np.result_type(x.dtype, w.dtype, b.dtype)
    if not np.issubdtype(out_dtype, np.floating):
        out_dtype = np.dtype(np.float64)
    x_flat = x.reshape(N, D)  # a view (or copy) used for the product only
    out = (x_flat.astype(out_dtype, copy=False) @ w.astype(out_dtype, copy=False)
           + b.astype(out_dtype, copy=False))
    assert out.shape == (N, M)
    # ---- END YOUR CODE ----
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Compute the backward pass of a fully connected (affine) layer.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (x, w, b) from affine_forward

    Returns:
    - dx: same shape as x, (N, d_1, ..., d_k)
    - dw: (D, M)
    - db: (M,)
    """
    x, w, _ = cache
    # ---- YOUR CODE HERE: dx, dw, db; let the shapes guide the products.
    # Pitfall: dx must come back in x's original shape, not (N, D). ----
    dout = np.asarray(dout)
    x = np.asarray(x)
    w = np.asarray(w)
    N = x.shape[0]
    D, M = w.shape
    assert dout.shape == (N, M), f"dout must have shape {(N, M)}, got {dout.shape}"
    out_dtype = np.result_type(dout.dtype, x.dtype, w.dtype)
    if not np.issubdtype(out_dtype, np.floating):
        out_dtype = np.dtype(np.float64)
    g = dout.astype(out_dtype, copy=False)
    x_flat = x.reshape(N, D).astype(out_dtype, copy=False)
    dx = (g @ w.astype(out_dtype, copy=False).T).reshape(x.shape)
    dw = x_flat.T @ g
    db = g.sum(axis=0)
    assert dx.shape == x.shape and dw.shape == (D, M) and db.shape == (M,)
    # ---- END YOUR CODE ----
    return dx, dw, db


def relu_forward(x):
    """Compute the forward pass of a ReLU, max(0, x), elementwise.

    Inputs:
    - x: any shape

    Returns:
    - out: same shape as x
    - cache: x
    """
    # ---- YOUR CODE HERE: out = max(0, x) elementwise.
    # Pitfall: np.max reduces an axis; you want np.maximum. ----
    x = np.asarray(x)
    out = np.maximum(x, 0)  # elementwise; a new array, x is left alone
    # ---- END YOUR CODE ----
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Compute the backward pass of a ReLU.

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: x from relu_forward

    Returns:
    - dx: same shape as x
    """
    x = cache
    # ---- YOUR CODE HERE: dx = dout where x > 0, else 0.
    # Pitfall: do not modify dout in place; the caller may still need it. ----
    dout = np.asarray(dout)
    x = np.asarray(x)
    assert dout.shape == x.shape, f"dout shape {dout.shape} != x shape {x.shape}"
    dx = np.where(x > 0, dout, np.zeros((), dtype=dout.dtype))  # new array, dout untouched
    # ---- END YOUR CODE ----
    return dx


def sigmoid_forward(x):
    """Compute the forward pass of a logistic sigmoid, 1 / (1 + exp(-x)), elementwise.

    Inputs:
    - x: any shape, any finite values: no overflow (no RuntimeWarning), even for |x| = 1e4

    Returns:
    - out: same shape as x, values in [0, 1]
    - cache: out
    """
    # ---- YOUR CODE HERE: out = sigmoid(x), without overflow for x = -1e4.
    # Pitfall: exp(-x) overflows for large negative x; only ever call exp on
    # non-positive numbers (use exp(-|x|) and one formula per sign of x). ----
    x = np.asarray(x)
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    x64 = x.astype(np.float64)
    # exp is only ever evaluated at -|x| <= 0, so it cannot overflow
    # (it may underflow to 0 for very negative arguments, which is harmless).
    with np.errstate(under="ignore"):
        z = np.exp(-np.abs(x64))
    # x >= 0: 1 / (1 + e^{-x});  x < 0: e^{x} / (1 + e^{x})
    out64 = np.where(x64 >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    out = out64.astype(out_dtype, copy=False)
    # ---- END YOUR CODE ----
    cache = out
    return out, cache


def sigmoid_backward(dout, cache):
    """Compute the backward pass of a logistic sigmoid.

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: out from sigmoid_forward

    Returns:
    - dx: same shape as x
    """
    out = cache
    # ---- YOUR CODE HERE: dx from dout and the cached OUTPUT.
    # Pitfall: the cache holds sigmoid(x), not x. ----
    dout = np.asarray(dout)
    out = np.asarray(out)
    assert dout.shape == out.shape, f"dout shape {dout.shape} != out shape {out.shape}"
    out_dtype = np.result_type(dout.dtype, out.dtype)
    if not np.issubdtype(out_dtype, np.floating):
        out_dtype = np.dtype(np.float64)
    s = out.astype(np.float64)
    dx = (dout.astype(np.float64) * s * (1.0 - s)).astype(out_dtype, copy=False)
    # ---- END YOUR CODE ----
    return dx


def tanh_forward(x):
    """Compute the forward pass of a hyperbolic tangent, elementwise.

    Inputs:
    - x: any shape

    Returns:
    - out: same shape as x, values in [-1, 1]
    - cache: out
    """
    # ---- YOUR CODE HERE: out = tanh(x).
    # Pitfall: (exp(x) - exp(-x)) / (exp(x) + exp(-x)) overflows; np.tanh does not. ----
    x = np.asarray(x)
    out = np.tanh(x)  # stable for any finite x
    if not np.issubdtype(out.dtype, np.floating):
        out = out.astype(np.float64)
    # ---- END YOUR CODE ----
    cache = out
    return out, cache


def tanh_backward(dout, cache):
    """Compute the backward pass of a hyperbolic tangent.

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: out from tanh_forward

    Returns:
    - dx: same shape as x
    """
    out = cache
    # ---- YOUR CODE HERE: dx from dout and the cached OUTPUT.
    # Pitfall: the cache holds tanh(x), not x. ----
    dout = np.asarray(dout)
    out = np.asarray(out)
    assert dout.shape == out.shape, f"dout shape {dout.shape} != out shape {out.shape}"
    out_dtype = np.result_type(dout.dtype, out.dtype)
    if not np.issubdtype(out_dtype, np.floating):
        out_dtype = np.dtype(np.float64)
    t = out.astype(np.float64)
    dx = (dout.astype(np.float64) * (1.0 - t * t)).astype(out_dtype, copy=False)
    # ---- END YOUR CODE ----
    return dx


def softmax_cross_entropy(scores, y):
    """Compute the mean softmax cross-entropy loss and its gradient.

    Inputs:
    - scores: (N, C) unnormalised class scores (logits)
    - y: (N,) integer labels, 0 <= y[i] < C

    Returns:
    - loss: scalar, mean over the N rows of -log softmax(scores)[i, y[i]]
    - dscores: (N, C) gradient of loss with respect to scores
    """
    N = scores.shape[0]
    # ---- YOUR CODE HERE: loss (a mean over rows) and dscores = (softmax - one_hot(y)) / N.
    # Pitfall: subtract each row's max before exp, or logits like 1e4 give inf/nan. ----
    scores = np.asarray(scores)
    assert scores.ndim == 2, f"scores must be (N, C), got shape {scores.shape}"
    N, C = scores.shape
    assert N > 0 and C > 0, f"scores must be non-empty, got shape {scores.shape}"
    y = np.asarray(y)
    assert y.shape == (N,), f"y must have shape ({N},), got {y.shape}"
    if not np.issubdtype(y.dtype, np.integer):
        assert np.all(np.equal(np.mod(y, 1), 0)), "labels y must be integers"
        y = y.astype(np.int64)
    assert np.all((y >= 0) & (y < C)), f"labels must lie in [0, {C})"
    out_dtype = scores.dtype if np.issubdtype(scores.dtype, np.floating) else np.dtype(np.float64)
    s = scores.astype(np.float64)
    # log-sum-exp with each row's max subtracted: exp only sees values <= 0
    shifted = s - s.max(axis=1, keepdims=True)
    with np.errstate(under="ignore"):
        exp_shifted = np.exp(shifted)
    log_norm = np.log(exp_shifted.sum(axis=1, keepdims=True))  # >= log(1) = 0, finite
    log_probs = shifted - log_norm
    rows = np.arange(N)
    loss = float(-np.mean(log_probs[rows, y]))
    probs = exp_shifted / np.exp(log_norm)  # softmax probabilities, rows sum to 1
    dscores64 = probs.copy()
    dscores64[rows, y] -= 1.0
    dscores64 /= N
    dscores = dscores64.astype(out_dtype, copy=False)
    # ---- END YOUR CODE ----
    return loss, dscores


def dropout_forward(x, p, train, rng):
    """Compute the forward pass of inverted dropout.

    Inputs:
    - x: any shape
    - p: probability of DROPPING each unit, 0 <= p < 1
    - train: True to drop units; False (evaluation) returns x unchanged
    - rng: numpy Generator used to draw the mask

    Returns:
    - out: same shape as x
    - cache: mask, same shape as x, or None when nothing was dropped
    """
    if not train or p == 0:
        return x, None
    # ---- YOUR CODE HERE: mask = (rng.random(x.shape) >= p) / (1 - p); out = x * mask.
    # Pitfall: p is the DROP probability, and kept units are scaled by
    # 1 / (1 - p) now so that evaluation needs no rescaling. ----
    x = np.asarray(x)
    assert 0 <= p < 1, f"dropout drop probability must satisfy 0 <= p < 1, got {p}"
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    # exactly one draw of x.shape uniforms; keep a unit where u >= p
    mask = (rng.random(x.shape) >= p) / (1 - p)
    out = (x.astype(np.float64) * mask).astype(out_dtype, copy=False)
    # ---- END YOUR CODE ----
    cache = mask
    return out, cache


def dropout_backward(dout, cache):
    """Compute the backward pass of inverted dropout.

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: mask from dropout_forward (None when nothing was dropped)

    Returns:
    - dx: same shape as x
    """
    mask = cache
    if mask is None:
        return dout
    # ---- YOUR CODE HERE: dx = gradient through out = x * mask.
    # Pitfall: the mask already holds the 1 / (1 - p) scale; do not apply it twice. ----
    dout = np.asarray(dout)
    mask = np.asarray(mask)
    assert dout.shape == mask.shape, f"dout shape {dout.shape} != mask shape {mask.shape}"
    out_dtype = dout.dtype if np.issubdtype(dout.dtype, np.floating) else np.dtype(np.float64)
    dx = (dout.astype(np.float64) * mask).astype(out_dtype, copy=False)
    # ---- END YOUR CODE ----
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Compute the forward pass of batch normalisation.

    Inputs:
    - x: (N, D) input batch
    - gamma: (D,) scale
    - beta: (D,) shift
    - bn_param: dict with
      - 'mode': 'train' (normalise with batch statistics and update the
        running averages) or 'test' (normalise with the running averages)
      - 'eps': added to the variance, default 1e-5
      - 'momentum': default 0.9; running = momentum * running + (1 - momentum) * batch
      - 'running_mean', 'running_var': (D,) arrays, created as zeros / ones
        when missing; train mode stores the updated arrays back into bn_param

    Returns:
    - out: (N, D)
    - cache: values needed by batchnorm_backward (None in test mode)
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(D, dtype=x.dtype))

    if mode == "train":
        # ---- YOUR CODE HERE: normalise x with the batch mean and variance
        # (per column), scale by gamma, shift by beta; cache what backward
        # needs; update running_mean and running_var.
        # Pitfall: the batch variance is the biased one (np.var, divide by N). ----
        x = np.asarray(x)
        gamma = np.asarray(gamma)
        beta = np.asarray(beta)
        assert x.ndim == 2, f"x must be (N, D), got shape {x.shape}"
        assert x.shape[0] > 0, "batchnorm needs at least one row in train mode"
        assert gamma.shape == (D,) and beta.shape == (D,), (
            f"gamma and beta must have shape ({D},), got {gamma.shape} and {beta.shape}")
        out_dtype = np.result_type(x.dtype, gamma.dtype, beta.dtype)
        if not np.issubdtype(out_dtype, np.floating):
            out_dtype = np.dtype(np.float64)
        x64 = x.astype(np.float64)
        mu = x64.mean(axis=0)
        var = x64.var(axis=0)  # biased: divides by N
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x64 - mu) * inv_std
        out = (gamma.astype(np.float64) * xhat + beta.astype(np.float64)).astype(out_dtype, copy=False)
        cache = {
            "xhat": xhat,
            "inv_std": inv_std,
            "gamma": gamma.astype(np.float64),
            "mean": mu,
            "var": var,
            "eps": eps,
            "x_dtype": out_dtype,
            "gamma_dtype": gamma.dtype if np.issubdtype(gamma.dtype, np.floating) else np.dtype(np.float64),
        }
        # new arrays for the running averages: never update the caller's arrays in place
        rm = np.asarray(running_mean)
        rv = np.asarray(running_var)
        assert rm.shape == (D,) and rv.shape == (D,), "running_mean/running_var must have shape (D,)"
        rm_dtype = rm.dtype if np.issubdtype(rm.dtype, np.floating) else out_dtype
        rv_dtype = rv.dtype if np.issubdtype(rv.dtype, np.floating) else out_dtype
        running_mean = (momentum * rm.astype(np.float64) + (1 - momentum) * mu).astype(rm_dtype)
        running_var = (momentum * rv.astype(np.float64) + (1 - momentum) * var).astype(rv_dtype)
        # ---- END YOUR CODE ----
    elif mode == "test":
        # ---- YOUR CODE HERE: the same normalisation with running_mean and
        # running_var; set cache = None.
        # Pitfall: do not touch the running averages in test mode. ----
        x = np.asarray(x)
        gamma = np.asarray(gamma)
        beta = np.asarray(beta)
        assert x.ndim == 2, f"x must be (N, D), got shape {x.shape}"
        assert gamma.shape == (D,) and beta.shape == (D,), (
            f"gamma and beta must have shape ({D},), got {gamma.shape} and {beta.shape}")
        out_dtype = np.result_type(x.dtype, gamma.dtype, beta.dtype)
        if not np.issubdtype(out_dtype, np.floating):
            out_dtype = np.dtype(np.float64)
        rm = np.asarray(running_mean, dtype=np.float64)
        rv = np.asarray(running_var, dtype=np.float64)
        assert rm.shape == (D,) and rv.shape == (D,), "running_mean/running_var must have shape (D,)"
        xhat = (x.astype(np.float64) - rm) / np.sqrt(rv + eps)
        out = (gamma.astype(np.float64) * xhat + beta.astype(np.float64)).astype(out_dtype, copy=False)
        cache = None
        # ---- END YOUR CODE ----
    else:
        raise ValueError(f"invalid batchnorm mode {mode!r}; valid: 'train', 'test'")

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Compute the backward pass of batch normalisation (train mode).

    Inputs:
    - dout: (N, D) upstream gradient
    - cache: from batchnorm_forward in train mode

    Returns:
    - dx: (N, D)
    - dgamma: (D,)
    - dbeta: (D,)
    """
    # ---- YOUR CODE HERE: dx, dgamma, dbeta from what your forward pass cached.
    # Pitfall: the batch mean and variance depend on every row, so dx is NOT
    # just dout * gamma / std; work through the graph (or simplify on paper). ----
    assert cache is not None, "batchnorm_backward needs the cache of a train-mode forward pass"
    dout = np.asarray(dout)
    xhat = cache["xhat"]
    inv_std = cache["inv_std"]
    gamma = cache["gamma"]
    N, D = xhat.shape
    assert dout.shape == (N, D), f"dout must have shape {(N, D)}, got {dout.shape}"
    g = dout.astype(np.float64)
    dbeta64 = g.sum(axis=0)
    dgamma64 = (g * xhat).sum(axis=0)
    dxhat = g * gamma
    # closed form of the graph xhat = (x - mean(x)) / sqrt(var(x) + eps):
    # dx = inv_std / N * (N * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))
    dx64 = (inv_std / N) * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    dx = dx64.astype(cache["x_dtype"], copy=False)
    dgamma = dgamma64.astype(cache["gamma_dtype"], copy=False)
    dbeta = dbeta64.astype(cache["gamma_dtype"], copy=False)
    # ---- END YOUR CODE ----
    return dx, dgamma, dbeta
