"""Layers for a fully connected network, written with NumPy only.

Every layer has a forward function that returns ``(out, cache)`` and a
backward function that takes ``(dout, cache)`` and returns the gradient of
the loss with respect to each input of the forward function. No function
writes into the arrays it is given (x, w, dout, ...): results go in new arrays.
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
    N = x.shape[0]
    out = x.reshape(N, -1) @ w + b  # (N, M)
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
    N = x.shape[0]
    dx = (dout @ w.T).reshape(x.shape)  # back to x's original shape
    dw = x.reshape(N, -1).T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db


def relu_forward(x):
    """Compute the forward pass of a ReLU, max(0, x), elementwise.

    Inputs:
    - x: any shape

    Returns:
    - out: same shape as x
    - cache: x
    """
    out = np.maximum(0, x)
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
    dx = dout * (x > 0)  # gradient 0 at x == 0
    return dx


def sigmoid_forward(x):
    """Compute the forward pass of a logistic sigmoid, 1 / (1 + exp(-x)), elementwise.

    Inputs:
    - x: any shape, any finite values: no overflow (no RuntimeWarning), even for |x| = 1e4

    Returns:
    - out: same shape as x, values in [0, 1]
    - cache: out
    """
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
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
    dx = dout * out * (1 - out)
    return dx


def tanh_forward(x):
    """Compute the forward pass of a hyperbolic tangent, elementwise.

    Inputs:
    - x: any shape

    Returns:
    - out: same shape as x, values in [-1, 1]
    - cache: out
    """
    out = np.tanh(x)
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
    dx = dout * (1 - out**2)
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
    shifted = scores - scores.max(
        axis=1, keepdims=True
    )  # largest logit is 0: no overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    loss = -log_probs[np.arange(N), y].mean()
    dscores = np.exp(log_probs)  # softmax probabilities
    dscores[np.arange(N), y] -= 1
    dscores /= N  # the loss is a mean over rows
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
    # kept units are scaled by 1 / (1 - p) so the expected output equals x
    mask = ((rng.random(x.shape) >= p) / (1 - p)).astype(x.dtype, copy=False)
    out = x * mask
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
    dx = dout * mask
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
        mu = x.mean(axis=0)  # (D,)
        var = x.var(axis=0)  # (D,), biased: divides by N
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std  # (N, D)
        out = gamma * x_hat + beta
        cache = (x_hat, gamma, std)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
        cache = None
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
    x_hat, gamma, std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma  # (N, D)
    # mean and variance depend on every row, so each dx gets the two
    # batch-wide correction terms
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    return dx, dgamma, dbeta
