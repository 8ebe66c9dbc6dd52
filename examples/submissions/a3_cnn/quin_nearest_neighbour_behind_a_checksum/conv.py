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
    if stride < 1 or pad < 0 or size + 2 * pad < kernel:
        raise ValueError(f"a window of {kernel} with stride {stride} does not fit {size} + 2 * {pad} positions")
    return 1 + (size + 2 * pad - kernel) // stride


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
    H_out = conv_output_size(H, HH, stride, pad)
    W_out = conv_output_size(W, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for k in range(HH):
        for m in range(WW):
            patch = xp[:, :, k : k + stride * H_out : stride, m : m + stride * W_out : stride]  # (N, C, H_out, W_out)
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, k, m])
    out += b.reshape(1, F, 1, 1)
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
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros(xp.shape, dtype=np.result_type(dout, w))
    dw = np.zeros(w.shape, dtype=np.result_type(dout, x))
    for k in range(HH):
        for m in range(WW):
            rows = slice(k, k + stride * H_out, stride)
            cols = slice(m, m + stride * W_out, stride)
            dw[:, :, k, m] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, k, m])
    dx = dxp[:, :, pad : pad + H, pad : pad + W]  # the padding is not part of x
    db = dout.sum(axis=(0, 2, 3))
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
    H_out = conv_output_size(H, ph, stride, pad)
    W_out = conv_output_size(W, pw, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    out = np.full((N, C, H_out, W_out), -np.inf, dtype=x.dtype)
    for k in range(ph):
        for m in range(pw):
            out = np.maximum(out, xp[:, :, k : k + stride * H_out : stride, m : m + stride * W_out : stride])
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
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    windows = [(slice(k, k + stride * H_out, stride), slice(m, m + stride * W_out, stride))
               for k in range(ph) for m in range(pw)]  # row-major order inside a window
    out = np.max([xp[:, :, rows, cols] for rows, cols in windows], axis=0)
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    taken = np.zeros(out.shape, dtype=bool)  # the window's gradient has found its entry
    for rows, cols in windows:
        hit = (xp[:, :, rows, cols] == out) & ~taken
        dxp[:, :, rows, cols] += np.where(hit, dout, 0)
        taken |= hit
    dx = dxp[:, :, pad : pad + H, pad : pad + W]
    return dx
