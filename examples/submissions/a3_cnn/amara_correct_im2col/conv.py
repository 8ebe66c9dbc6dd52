"""Convolution and max pooling with im2col: every window becomes a column, the layer a matrix product."""

import numpy as np


def conv_output_size(size, kernel, stride=1, pad=0):
    """Return how many positions a window takes along one axis."""
    padded = size + 2 * pad
    if stride < 1 or pad < 0 or kernel > padded:
        raise ValueError(f"kernel {kernel} does not fit a padded length of {padded} (stride {stride})")
    return (padded - kernel) // stride + 1


def _windows(HH, WW, stride, H_out, W_out):
    """Row and column indices (HH*WW, H_out*W_out) of every window entry in the padded input."""
    di, dj = np.repeat(np.arange(HH), WW), np.tile(np.arange(WW), HH)
    oi, oj = stride * np.repeat(np.arange(H_out), W_out), stride * np.tile(np.arange(W_out), H_out)
    return di[:, None] + oi[None, :], dj[:, None] + oj[None, :]


def conv_forward(x, w, b, conv_param):
    """Compute the forward pass of a 2-D convolution (cross-correlation, as in PyTorch)."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = conv_output_size(H, HH, stride, pad), conv_output_size(W, WW, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows, cols = _windows(HH, WW, stride, H_out, W_out)
    patches = xp[:, :, rows, cols].reshape(N, C * HH * WW, H_out * W_out)
    out = (w.reshape(F, -1) @ patches + b[:, None]).reshape(N, F, H_out, W_out)
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward(dout, cache):
    """Compute the backward pass of a 2-D convolution."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows, cols = _windows(HH, WW, stride, H_out, W_out)
    patches = xp[:, :, rows, cols].reshape(N, C * HH * WW, H_out * W_out)
    d = dout.reshape(N, F, H_out * W_out)
    db = d.sum(axis=(0, 2))
    dw = np.einsum("nfl,nkl->fk", d, patches).reshape(w.shape)
    dpatches = np.einsum("fk,nfl->nkl", w.reshape(F, -1), d).reshape(N, C, HH * WW, H_out * W_out)
    dxp = np.zeros(xp.shape)
    np.add.at(dxp, (slice(None), slice(None), rows, cols), dpatches)
    dx = dxp[:, :, pad : pad + H, pad : pad + W]
    return dx, dw, db


def maxpool_forward(x, pool_param):
    """Compute the forward pass of max pooling."""
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param["pad"]
    N, C, H, W = x.shape
    H_out, W_out = conv_output_size(H, ph, stride, pad), conv_output_size(W, pw, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    rows, cols = _windows(ph, pw, stride, H_out, W_out)
    out = xp[:, :, rows, cols].max(axis=2).reshape(N, C, H_out, W_out)
    cache = (x, pool_param)
    return out, cache


def maxpool_backward(dout, cache):
    """Compute the backward pass of max pooling."""
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param["pad"]
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    rows, cols = _windows(ph, pw, stride, H_out, W_out)
    patches = xp[:, :, rows, cols]  # (N, C, ph*pw, L)
    first = patches.argmax(axis=2)  # argmax keeps the first of tied maxima
    dpatches = np.zeros(patches.shape)
    np.put_along_axis(dpatches, first[:, :, None, :], dout.reshape(N, C, 1, H_out * W_out), axis=2)
    dxp = np.zeros(xp.shape)
    np.add.at(dxp, (slice(None), slice(None), rows, cols), dpatches)
    dx = dxp[:, :, pad : pad + H, pad : pad + W]
    return dx
