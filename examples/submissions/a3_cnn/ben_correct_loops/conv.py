"""Convolution and max pooling with a loop over the output positions and einsum inside."""

import numpy as np


def conv_output_size(size, kernel, stride=1, pad=0):
    if stride < 1:
        raise ValueError("stride must be at least 1")
    if pad < 0:
        raise ValueError("pad must not be negative")
    if size + 2 * pad < kernel:
        raise ValueError("the window is larger than the padded input")
    return (size + 2 * pad - kernel) // stride + 1


def conv_forward(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = conv_output_size(H, HH, stride, pad)
    W_out = conv_output_size(W, WW, stride, pad)
    x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant")
    out = np.empty((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            window = x_pad[:, :, top : top + HH, left : left + WW]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w) + b
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant")
    dx_pad = np.zeros_like(x_pad, dtype=float)
    dw = np.zeros_like(w, dtype=float)
    db = np.zeros(F)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            g = dout[:, :, i, j]  # (N, F)
            window = x_pad[:, :, top : top + HH, left : left + WW]
            dw += np.einsum("nf,nchw->fchw", g, window)
            dx_pad[:, :, top : top + HH, left : left + WW] += np.einsum("nf,fchw->nchw", g, w)
            db += g.sum(axis=0)
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]
    return dx, dw, db


def maxpool_forward(x, pool_param):
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param["pad"]
    N, C, H, W = x.shape
    H_out = conv_output_size(H, ph, stride, pad)
    W_out = conv_output_size(W, pw, stride, pad)
    x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant", constant_values=-np.inf)
    out = np.empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x_pad[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw].max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def maxpool_backward(dout, cache):
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param["pad"]
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant", constant_values=-np.inf)
    dx_pad = np.zeros(x_pad.shape)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            window = x_pad[:, :, top : top + ph, left : left + pw].reshape(N, C, ph * pw)
            winner = window.argmax(axis=2)  # the first maximum, row-major
            mask = (np.arange(ph * pw) == winner[:, :, None]).reshape(N, C, ph, pw)
            dx_pad[:, :, top : top + ph, left : left + pw] += mask * dout[:, :, i, j][:, :, None, None]
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]
    return dx
