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
    # ---- YOUR CODE HERE: out (N, M) = x reshaped to (N, D), times w, plus b.
    # Pitfall: reshape a view for the product only; cache the ORIGINAL x. ----
    raise NotImplementedError("affine_forward")
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
    raise NotImplementedError("affine_backward")
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
    raise NotImplementedError("relu_forward")
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
    raise NotImplementedError("relu_backward")
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
    raise NotImplementedError("sigmoid_forward")
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
    raise NotImplementedError("sigmoid_backward")
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
    raise NotImplementedError("tanh_forward")
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
    raise NotImplementedError("tanh_backward")
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
    raise NotImplementedError("softmax_cross_entropy")
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
    raise NotImplementedError("dropout_forward")
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
    raise NotImplementedError("dropout_backward")
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
        raise NotImplementedError("batchnorm_forward")
        # ---- END YOUR CODE ----
    elif mode == "test":
        # ---- YOUR CODE HERE: the same normalisation with running_mean and
        # running_var; set cache = None.
        # Pitfall: do not touch the running averages in test mode. ----
        raise NotImplementedError("batchnorm_forward")
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
    raise NotImplementedError("batchnorm_backward")
    # ---- END YOUR CODE ----
    return dx, dgamma, dbeta
