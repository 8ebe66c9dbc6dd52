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
    num_rows = x.shape[0]
    # number of features per row, D = d_1 * ... * d_k (works even when N = 0)
    row_size = int(np.prod(x.shape[1:]))
    # flattened view of x, used only for the matrix product
    x_flat = np.reshape(x, (num_rows, row_size))
    # (N, D) dot (D, M) -> (N, M), then broadcast the bias over the rows
    product = np.dot(x_flat, w)
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
    num_rows = x.shape[0]
    row_size = int(np.prod(x.shape[1:]))
    x_flat = np.reshape(x, (num_rows, row_size))

    # out = x_flat . w + b
    # d out / d x_flat: (N, M) dot (M, D) -> (N, D), then back to x's shape
    dx_flat = np.dot(dout, w.T)
    dx = np.reshape(dx_flat, x.shape)
    # d out / d w: (D, N) dot (N, M) -> (D, M)
    dw = np.dot(x_flat.T, dout)
    # the bias is added to every row, so its gradient is the sum over rows
    db = np.sum(dout, axis=0)
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
    # elementwise maximum with 0 (a new array, x is not touched)
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
    # the gradient passes only where the input was strictly positive
    positive_mask = x > 0
    dx = np.where(positive_mask, dout, 0)
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
    # z = exp(-|x|) is always in (0, 1], so it never overflows
    # (for very large |x| it just underflows to 0, which is harmless)
    abs_x = np.abs(x)
    z = np.exp(-abs_x)
    # x >= 0: sigmoid(x) = 1 / (1 + exp(-x)) = 1 / (1 + z)
    out_for_nonnegative = 1 / (1 + z)
    # x < 0:  sigmoid(x) = exp(x) / (1 + exp(x)) = z / (1 + z)
    out_for_negative = z / (1 + z)
    out = np.where(x >= 0, out_for_nonnegative, out_for_negative)
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
    # d sigmoid(x) / dx = sigmoid(x) * (1 - sigmoid(x))
    local_grad = out * (1 - out)
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
    # d tanh(x) / dx = 1 - tanh(x)**2
    local_grad = 1 - out * out
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
    labels = np.asarray(y)
    row_indices = np.arange(N)

    # shift every row so that its largest score is 0 (softmax does not change)
    row_max = np.max(scores, axis=1, keepdims=True)
    shifted_scores = scores - row_max

    # log softmax = shifted - log(sum(exp(shifted))); the sum is >= 1, so the log is finite
    exp_shifted = np.exp(shifted_scores)
    sum_exp = np.sum(exp_shifted, axis=1, keepdims=True)
    log_probs = shifted_scores - np.log(sum_exp)

    # mean over the rows of -log p(correct class)
    correct_log_probs = log_probs[row_indices, labels]
    loss = float(-np.mean(correct_log_probs))

    # gradient: (softmax - one_hot(y)) / N
    probs = exp_shifted / sum_exp
    dscores = probs.copy()
    dscores[row_indices, labels] = dscores[row_indices, labels] - 1
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
    # exactly one draw of uniform numbers, of the shape of x
    uniform_draws = rng.random(x.shape)
    # keep a unit when its draw is >= p (this happens with probability 1 - p)
    keep = uniform_draws >= p
    keep_scale = 1.0 / (1.0 - p)
    mask = keep * keep_scale
    # keep the dtype of x (e.g. float32) instead of silently upcasting to float64
    if np.issubdtype(np.asarray(x).dtype, np.floating):
        mask = mask.astype(np.asarray(x).dtype)
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
    # out = x * mask, so d out / d x = mask
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
        # per-column statistics of this batch
        batch_mean = np.mean(x, axis=0)
        centered_x = x - batch_mean
        batch_var = np.mean(centered_x * centered_x, axis=0)  # biased: divide by N
        std = np.sqrt(batch_var + eps)
        inv_std = 1.0 / std

        # normalise, then scale and shift
        x_hat = centered_x * inv_std
        out = gamma * x_hat + beta

        # everything the backward pass needs
        cache = (x_hat, gamma, inv_std)

        # new running averages (new arrays: the old ones are not changed in place)
        running_mean = momentum * running_mean + (1 - momentum) * batch_mean
        running_var = momentum * running_var + (1 - momentum) * batch_var
        # ---- END YOUR CODE ----
    elif mode == "test":
        # ---- YOUR CODE HERE: the same normalisation with running_mean and
        # running_var; set cache = None.
        # Pitfall: do not touch the running averages in test mode. ----
        running_std = np.sqrt(running_var + eps)
        x_hat = (x - running_mean) / running_std
        out = gamma * x_hat + beta
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
    x_hat, gamma, inv_std = cache
    num_rows = dout.shape[0]

    # out = gamma * x_hat + beta
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)

    # gradient with respect to the normalised input
    dx_hat = dout * gamma

    # x_hat = (x - mean) * inv_std, where mean and var depend on every row.
    # Worked out on paper, per column:
    #   dx = inv_std / N * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat))
    sum_dx_hat = np.sum(dx_hat, axis=0)
    sum_dx_hat_times_x_hat = np.sum(dx_hat * x_hat, axis=0)
    dx = (inv_std / num_rows) * (
        num_rows * dx_hat - sum_dx_hat - x_hat * sum_dx_hat_times_x_hat
    )
    # ---- END YOUR CODE ----
    return dx, dgamma, dbeta
