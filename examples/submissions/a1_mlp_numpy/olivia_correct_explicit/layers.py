"""Layers for a fully connected network, written with NumPy only.

Every layer has a forward function that returns ``(out, cache)`` and a
backward function that takes ``(dout, cache)`` and returns the gradient of
the loss with respect to each input of the forward function.
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
    N = x.shape[0]
    D = 1
    for d in x.shape[1:]:
        D *= d
    x_flat = x.reshape(N, D)
    product = np.dot(x_flat, w)  # (N, M)
    out = product + b
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
    N = x.shape[0]
    x_flat = x.reshape(N, -1)  # (N, D)
    dx_flat = np.dot(dout, w.T)  # (N, D)
    dx = dx_flat.reshape(x.shape)
    dw = np.dot(x_flat.T, dout)  # (D, M)
    db = np.sum(dout, axis=0)  # (M,)
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
    out = np.maximum(0, x)
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
    positive = x > 0
    dx = dout * positive
    # ---- END YOUR CODE ----
    return dx


def sigmoid_forward(x):
    """Compute the forward pass of a logistic sigmoid, 1 / (1 + exp(-x)), elementwise.

    Inputs:
    - x: any shape

    Returns:
    - out: same shape as x, values in [0, 1]
    - cache: out
    """
    # ---- YOUR CODE HERE: out = sigmoid(x), without overflow for x = -1e4.
    # Pitfall: exp(-x) overflows for large negative x; only ever call exp on
    # non-positive numbers (use exp(-|x|) and one formula per sign of x). ----
    abs_x = np.abs(x)
    z = np.exp(-abs_x)  # in (0, 1], never overflows
    value_if_positive = 1.0 / (1.0 + z)
    value_if_negative = z / (1.0 + z)
    out = np.where(x >= 0, value_if_positive, value_if_negative)
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
    local_grad = out * (1.0 - out)
    dx = dout * local_grad
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
    out = np.tanh(x)
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
    local_grad = 1.0 - out * out
    dx = dout * local_grad
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
    row_max = np.max(scores, axis=1, keepdims=True)
    shifted = scores - row_max  # every row's largest entry is 0
    exp_scores = np.exp(shifted)
    sum_exp = np.sum(exp_scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(sum_exp)
    probs = exp_scores / sum_exp
    rows = np.arange(N)
    correct_log_probs = log_probs[rows, y]
    loss = -np.sum(correct_log_probs) / N
    dscores = probs.copy()
    dscores[rows, y] -= 1.0
    dscores = dscores / N
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
    keep_prob = 1.0 - p
    uniform = rng.random(x.shape)
    keep = uniform >= p
    mask = keep / keep_prob
    out = x * mask
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
    dx = dout * mask
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
        N = x.shape[0]
        # step 1: batch mean
        mu = np.sum(x, axis=0) / N
        # step 2: centre
        xmu = x - mu
        # step 3: square
        sq = xmu ** 2
        # step 4: biased batch variance
        var = np.sum(sq, axis=0) / N
        # step 5: standard deviation
        sqrtvar = np.sqrt(var + eps)
        # step 6: its inverse
        ivar = 1.0 / sqrtvar
        # step 7: normalise
        xhat = xmu * ivar
        # step 8: scale
        gammax = gamma * xhat
        # step 9: shift
        out = gammax + beta
        cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        # ---- END YOUR CODE ----
    elif mode == "test":
        # ---- YOUR CODE HERE: the same normalisation with running_mean and
        # running_var; set cache = None.
        # Pitfall: do not touch the running averages in test mode. ----
        std = np.sqrt(running_var + eps)
        xhat = (x - running_mean) / std
        out = gamma * xhat + beta
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
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    # step 9: out = gammax + beta
    dbeta = np.sum(dout, axis=0)
    dgammax = dout
    # step 8: gammax = gamma * xhat
    dgamma = np.sum(dgammax * xhat, axis=0)
    dxhat = dgammax * gamma
    # step 7: xhat = xmu * ivar
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    # step 6: ivar = 1 / sqrtvar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    # step 5: sqrtvar = sqrt(var + eps)
    dvar = 0.5 / np.sqrt(var + eps) * dsqrtvar
    # step 4: var = sum(sq) / N
    dsq = np.ones((N, D)) * dvar / N
    # step 3: sq = xmu ** 2
    dxmu2 = 2.0 * xmu * dsq
    # step 2: xmu = x - mu
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=0)
    # step 1: mu = sum(x) / N
    dx2 = np.ones((N, D)) * dmu / N
    dx = dx1 + dx2
    # ---- END YOUR CODE ----
    return dx, dgamma, dbeta
