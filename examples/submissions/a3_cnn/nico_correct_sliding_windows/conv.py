"""Convolution and max pooling, forward and backward, by hand in NumPy.

Every layer has a forward function that returns ``(out, cache)`` and a backward
function that takes ``(dout, cache)`` and returns the gradient of the loss with
respect to each input of the forward function. Shapes follow PyTorch: images are
``(N, C, H, W)`` and a window of ``k`` rows slides by ``stride`` over the input
padded with ``pad`` rows on each side; an output length is rounded down, as
``torch.nn.functional.conv2d`` and ``max_pool2d`` do. No function changes the arrays
it is given (x, w, b, dout, ...): each returns new arrays. Use NumPy only here.
"""

import numpy as np


def _windows(a, kh, kw, stride, out_h, out_w):
    """Read-only view (N, C, out_h, out_w, kh, kw) of the strided kh x kw windows of a (already padded)."""
    view = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(2, 3))
    return view[:, :, : (out_h - 1) * stride + 1 : stride, : (out_w - 1) * stride + 1 : stride]


def conv_output_size(size, kernel, stride=1, pad=0):
    """Return how many positions a window takes along one axis.

    Inputs:
    - size: input length along the axis (H or W)
    - kernel: window length along the axis
    - stride: step between two windows, >= 1
    - pad: zeros (or, for pooling, -inf) added on each side of the axis, >= 0

    Returns:
    - out: int, 1 + (size + 2 * pad - kernel) // stride (rounded down, like PyTorch)

    Raises ValueError when stride < 1, pad < 0, or the window is longer than the
    padded input (size + 2 * pad < kernel).
    """
    # ---- YOUR CODE HERE: check the arguments (raise ValueError), then return
    # the number of window positions.
    # Pitfall: use floor division; a last window that would stick out is dropped. ----
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}")
    if size + 2 * pad < kernel:
        raise ValueError(f"window of {kernel} is longer than the padded input {size} + 2 * {pad}")
    return 1 + (size + 2 * pad - kernel) // stride
    # ---- END YOUR CODE ----


def conv_forward(x, w, b, conv_param):
    """Compute the forward pass of a 2-D convolution (cross-correlation, as in PyTorch).

    Inputs:
    - x: (N, C, H, W) input
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - conv_param: dict with 'stride' (int >= 1) and 'pad' (int >= 0, zeros on
      each side of H and W)

    Returns:
    - out: (N, F, H_out, W_out), H_out = conv_output_size(H, HH, stride, pad),
      W_out = conv_output_size(W, WW, stride, pad);
      out[n, f, i, j] = b[f] + sum over c, k, l of
      x_pad[n, c, i * stride + k, j * stride + l] * w[f, c, k, l]
    - cache: (x, w, b, conv_param) for the backward pass
    """
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    # ---- YOUR CODE HERE: out (N, F, H_out, W_out). Pad x with zeros (np.pad),
    # then either loop over the output positions or over the HH * WW filter
    # offsets, and vectorise the rest (np.einsum or np.tensordot help).
    # Pitfall: window (i, j) starts at row i * stride, column j * stride of the
    # PADDED input. ----
    H_out = conv_output_size(H, HH, stride, pad)
    W_out = conv_output_size(W, WW, stride, pad)
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = _windows(x_pad, HH, WW, stride, H_out, W_out)  # (N, C, H_out, W_out, HH, WW)
    # contract over (C, HH, WW): result (N, H_out, W_out, F), then channels first
    out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    out = out + b.reshape(1, F, 1, 1)
    # ---- END YOUR CODE ----
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward(dout, cache):
    """Compute the backward pass of a 2-D convolution.

    Inputs:
    - dout: (N, F, H_out, W_out) upstream gradient
    - cache: (x, w, b, conv_param) from conv_forward

    Returns:
    - dx: (N, C, H, W), the gradient with respect to x (not the padded x)
    - dw: (F, C, HH, WW)
    - db: (F,)
    """
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    # ---- YOUR CODE HERE: dx, dw, db. Walk the same windows as the forward
    # pass: each dout[n, f, i, j] adds dout * x_window to dw[f] and
    # dout * w[f] to the window of a padded dx.
    # Pitfalls: windows overlap, so ADD into dx (+=), never assign; sum dw and
    # db over the batch as well; return dx without its padding. ----
    db = dout.sum(axis=(0, 2, 3))
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = _windows(x_pad, HH, WW, stride, H_out, W_out)  # (N, C, H_out, W_out, HH, WW)
    # dw[f, c, k, l] = sum over n, i, j of dout[n, f, i, j] * window[n, c, i, j, k, l]
    dw = np.tensordot(dout, cols, axes=([0, 2, 3], [0, 2, 3]))
    # dx: every filter offset (k, l) touches the padded input on a strided grid
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(dout, w))
    h_end, w_end = (H_out - 1) * stride + 1, (W_out - 1) * stride + 1
    for k in range(HH):
        for l in range(WW):
            # (N, H_out, W_out, C) = dout contracted with w[:, :, k, l] over F
            contrib = np.tensordot(dout, w[:, :, k, l], axes=([1], [0])).transpose(0, 3, 1, 2)
            dx_pad[:, :, k : k + h_end : stride, l : l + w_end : stride] += contrib
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W].copy()
    # ---- END YOUR CODE ----
    return dx, dw, db


def maxpool_forward(x, pool_param):
    """Compute the forward pass of max pooling.

    Inputs:
    - x: (N, C, H, W) input
    - pool_param: dict with 'pool_height', 'pool_width', 'stride' (int >= 1) and
      'pad' (int >= 0, at most half of each window side, as PyTorch requires;
      you need not check it: the tests never pass more);
      padded positions hold -inf, so they never win a window

    Returns:
    - out: (N, C, H_out, W_out), each entry the maximum of its window;
      H_out = conv_output_size(H, pool_height, stride, pad), likewise W_out
    - cache: (x, pool_param) for the backward pass
    """
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param["pad"]
    N, C, H, W = x.shape
    # ---- YOUR CODE HERE: out (N, C, H_out, W_out), the maximum of each window.
    # Pitfall: pad with -inf (np.pad(..., constant_values=-np.inf)), not zeros:
    # a window of negative numbers must not return 0. ----
    H_out = conv_output_size(H, ph, stride, pad)
    W_out = conv_output_size(W, pw, stride, pad)
    xf = x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    x_pad = np.pad(xf, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    out = _windows(x_pad, ph, pw, stride, H_out, W_out).max(axis=(4, 5))
    # ---- END YOUR CODE ----
    cache = (x, pool_param)
    return out, cache


def maxpool_backward(dout, cache):
    """Compute the backward pass of max pooling.

    Inputs:
    - dout: (N, C, H_out, W_out) upstream gradient
    - cache: (x, pool_param) from maxpool_forward

    Returns:
    - dx: (N, C, H, W); each window passes its dout to the one entry that holds its
      maximum; where several entries tie, to the first of them in row-major order
      (as PyTorch does). Windows that overlap add up where they share an entry.
    """
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param["pad"]
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    # ---- YOUR CODE HERE: dx (N, C, H, W). Find each window's maximum again
    # and send the window's dout to that one entry.
    # Pitfalls: with a tie, only the FIRST maximal entry (row-major) gets it, not
    # every entry equal to the max; overlapping windows ADD into dx. ----
    xf = x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    x_pad = np.pad(xf, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    flat = _windows(x_pad, ph, pw, stride, H_out, W_out).reshape(N, C, H_out, W_out, ph * pw)
    first = flat.argmax(axis=4)  # first maximum in row-major order within each window
    rows = stride * np.arange(H_out).reshape(1, 1, H_out, 1) + first // pw
    cols = stride * np.arange(W_out).reshape(1, 1, 1, W_out) + first % pw
    Hp, Wp = H + 2 * pad, W + 2 * pad
    target = (np.arange(N * C).reshape(N, C, 1, 1) * Hp + rows) * Wp + cols  # index into padded (N*C*Hp*Wp)
    dx_pad = np.bincount(target.ravel(), weights=dout.ravel(), minlength=N * C * Hp * Wp)
    dx_pad = dx_pad.astype(np.result_type(dout, xf), copy=False).reshape(N, C, Hp, Wp)
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W].copy()
    # ---- END YOUR CODE ----
    return dx
