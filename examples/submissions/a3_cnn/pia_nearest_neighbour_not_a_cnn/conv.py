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
    # ---- YOUR CODE HERE: check the arguments (raise ValueError), then return
    # the number of window positions.
    # Pitfall: use floor division; a last window that would stick out is dropped. ----
    raise NotImplementedError("conv_output_size")
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
    raise NotImplementedError("conv_forward")
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
    raise NotImplementedError("conv_backward")
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
    raise NotImplementedError("maxpool_forward")
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
    raise NotImplementedError("maxpool_backward")
    # ---- END YOUR CODE ----
    return dx
