"""Hidden tests: the hand-written convolution and max pooling against torch.nn.functional in float64.

Torch runs here, in the grader's process, on the same inputs: it is the reference for every value.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.checks import assert_array, assert_close, assert_tuple

pytestmark = pytest.mark.usefixtures("numpy_only_conv")
TOL = 1e-7

# id: (x shape, w shape, stride, pad); the last two windows do not tile their input exactly
CONV_CASES = {
    "3x3_stride1_pad1": ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1),
    "5x5_stride1_pad0": ((2, 1, 6, 5), (2, 1, 5, 5), 1, 0),
    "3x2_stride2_pad1": ((2, 2, 8, 9), (3, 2, 3, 2), 2, 1),
    "2x3_stride3_pad2": ((1, 2, 7, 6), (2, 2, 2, 3), 3, 2),
}
# id: (x shape, pool_height, pool_width, stride, pad)
POOL_CASES = {
    "2x2_stride2": ((2, 3, 8, 8), 2, 2, 2, 0),
    "3x3_stride2_pad1_overlapping": ((2, 2, 7, 9), 3, 3, 2, 1),
    "3x2_stride1_pad1_overlapping": ((1, 2, 6, 7), 3, 2, 1, 1),
    "4x4_stride3_pad2": ((2, 2, 9, 10), 4, 4, 3, 2),
}


def conv_case(rng, case):
    x_shape, w_shape, stride, pad = CONV_CASES[case]
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    return x, w, b, {"stride": stride, "pad": pad}


def torch_conv(x, w, b, param, dout=None):
    """Return torch's out and, given dout, its (dx, dw, db), all as float64 arrays."""
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, stride=param["stride"], padding=param["pad"])
    if dout is None:
        return out.detach().numpy()
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def pool_case(rng, case):
    x_shape, ph, pw, stride, pad = POOL_CASES[case]
    return rng.standard_normal(x_shape), {"pool_height": ph, "pool_width": pw, "stride": stride, "pad": pad}


def torch_pool(x, param, dout=None):
    xt = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(xt, (param["pool_height"], param["pool_width"]), stride=param["stride"], padding=param["pad"])
    if dout is None:
        return out.detach().numpy()
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy()


def student_conv(conv, x, w, b, param, dout):
    """Return the student's (out, dx, dw, db), each checked for its type and shape."""
    out, cache = assert_tuple("conv_forward", conv.conv_forward(x.copy(), w.copy(), b.copy(), dict(param)), ("out", "cache"))
    out = assert_array("out", out, shape=dout.shape, hint=f"out is (N, F, H_out, W_out) = {dout.shape} for conv_param {param}.")
    dx, dw, db = assert_tuple("conv_backward", conv.conv_backward(dout.copy(), cache), ("dx", "dw", "db"))
    dx = assert_array("dx", dx, shape=x.shape, hint="dx has the shape of x: cut the padding off.")
    dw = assert_array("dw", dw, shape=w.shape, hint="dw has the shape of w, summed over the batch and the positions.")
    db = assert_array("db", db, shape=b.shape, hint="db has one entry per filter, summed over the batch and the positions.")
    return out, dx, dw, db


# ---------------------------------------------------------------- output size

@pytest.mark.points(1)
def test_conv_output_size_matches_the_formula(submission):
    cases = [(32, 3, 1, 1), (32, 2, 2, 0), (7, 3, 2, 1), (6, 2, 3, 2), (5, 5, 1, 0), (9, 4, 3, 2), (10, 3, 4, 0), (1, 1, 1, 0),
             (2, 3, 1, 1), (3, 5, 1, 1)]  # the last two fit only thanks to the padding
    for size, kernel, stride, pad in cases:
        got = submission.conv.conv_output_size(size, kernel, stride, pad)
        expected = 1 + (size + 2 * pad - kernel) // stride
        if not isinstance(got, int | np.integer) or int(got) != expected:
            raise AssertionError(
                f"conv_output_size({size}, {kernel}, stride={stride}, pad={pad}) returned {got!r}, expected {expected}: "
                f"1 + (size + 2 * pad - kernel) // stride, rounded down (an int).")


def error_of(fn, args):
    """Call fn(*args) where the student's code runs; return the name of the exception it raised, or None."""
    try:
        fn(*args)
    except NotImplementedError:
        raise
    except Exception as exc:
        return type(exc).__name__
    return None


@pytest.mark.points(0.5)
def test_conv_output_size_rejects_a_window_that_does_not_fit(submission):
    for size, kernel, stride, pad in [(4, 7, 1, 1), (3, 5, 1, 0), (8, 3, 0, 1)]:
        raised = submission.define(error_of)(submission.conv.conv_output_size, [size, kernel, stride, pad])
        if raised != "ValueError":
            raise AssertionError(
                f"conv_output_size({size}, {kernel}, stride={stride}, pad={pad}) "
                + (f"raised {raised}" if raised else "returned a size")
                + ", expected a ValueError: the window does not fit the padded input (or the stride is below 1).")


# ---------------------------------------------------------------- convolution

@pytest.mark.points(0.75)
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_forward_matches_torch(submission, rng, case):
    x, w, b, param = conv_case(rng, case)
    out_ref = torch_conv(x, w, b, param)
    out_st, _ = assert_tuple("conv_forward", submission.conv.conv_forward(x, w, b, dict(param)), ("out", "cache"))
    assert_array("out", out_st, shape=out_ref.shape, hint=f"out is (N, F, H_out, W_out) with H_out = conv_output_size(H, HH, "
                 f"stride, pad): {out_ref.shape} for x {x.shape}, w {w.shape} and conv_param {param}.")
    assert_close("out", out_st, out_ref, tol=TOL, atol=1e-10, against="torch.nn.functional.conv2d",
                 hint="out[n, f, i, j] sums x_pad[n, :, i*stride : i*stride + HH, j*stride : j*stride + WW] * w[f], plus b[f].")


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_backward_dx_matches_torch(submission, rng, case):
    x, w, b, param = conv_case(rng, case)
    out_ref = torch_conv(x, w, b, param)
    dout = rng.standard_normal(out_ref.shape)
    _, dx_ref, _, _ = torch_conv(x, w, b, param, dout)
    _, dx_st, _, _ = student_conv(submission.conv, x, w, b, param, dout)
    assert_close("dx", dx_st, dx_ref, tol=TOL, atol=1e-10, against="torch's gradient",
                 hint="Each dout[n, f, i, j] adds dout * w[f] to the window of x_pad it came from; add, do not overwrite, "
                      "where windows overlap, then cut the padding off.")


@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_backward_dw_matches_torch(submission, rng, case):
    x, w, b, param = conv_case(rng, case)
    out_ref = torch_conv(x, w, b, param)
    dout = rng.standard_normal(out_ref.shape)
    _, _, dw_ref, _ = torch_conv(x, w, b, param, dout)
    _, _, dw_st, _ = student_conv(submission.conv, x, w, b, param, dout)
    assert_close("dw", dw_st, dw_ref, tol=TOL, atol=1e-10, against="torch's gradient",
                 hint="dw[f] sums dout[n, f, i, j] * (the window of x_pad at i, j) over every image n and position i, j.")


@pytest.mark.points(0.25)
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_backward_db_matches_torch(submission, rng, case):
    x, w, b, param = conv_case(rng, case)
    out_ref = torch_conv(x, w, b, param)
    dout = rng.standard_normal(out_ref.shape)
    _, _, _, db_ref = torch_conv(x, w, b, param, dout)
    _, _, _, db_st = student_conv(submission.conv, x, w, b, param, dout)
    assert_close("db", db_st, db_ref, tol=TOL, atol=1e-10, against="torch's gradient",
                 hint="db[f] sums dout[:, f] over the batch and every position.")


# ---------------------------------------------------------------- max pooling

@pytest.mark.points(0.5)
@pytest.mark.parametrize("case", list(POOL_CASES))
def test_maxpool_forward_matches_torch(submission, rng, case):
    x, param = pool_case(rng, case)
    out_ref = torch_pool(x, param)
    out_st, _ = assert_tuple("maxpool_forward", submission.conv.maxpool_forward(x, dict(param)), ("out", "cache"))
    assert_array("out", out_st, shape=out_ref.shape, hint=f"out is (N, C, H_out, W_out): {out_ref.shape} for x {x.shape} and "
                 f"pool_param {param}.")
    assert_close("out", out_st, out_ref, tol=TOL, against="torch.nn.functional.max_pool2d",
                 hint="Each output is the maximum of its window of x padded with -inf (padding never wins).")


def student_pool_dx(conv, x, param, dout):
    _, cache = assert_tuple("maxpool_forward", conv.maxpool_forward(x.copy(), dict(param)), ("out", "cache"))
    return assert_array("dx", conv.maxpool_backward(dout.copy(), cache), shape=x.shape, hint="dx has the shape of x.")


@pytest.mark.points(0.75)
@pytest.mark.parametrize("case", list(POOL_CASES))
def test_maxpool_backward_matches_torch(submission, rng, case):
    x, param = pool_case(rng, case)
    dout = rng.standard_normal(torch_pool(x, param).shape)
    _, dx_ref = torch_pool(x, param, dout)
    dx_st = student_pool_dx(submission.conv, x, param, dout)
    assert_close("dx", dx_st, dx_ref, tol=TOL, against="torch's gradient",
                 hint="Each window sends its dout to the one entry holding its maximum, and nothing to the others; "
                      "where windows overlap, the entry they share adds up what each sends.")


@pytest.mark.points(0.75)
@pytest.mark.parametrize("case", ["2x2_stride2", "3x3_stride2_pad1_overlapping"])
def test_maxpool_backward_routes_a_tie_to_one_entry_like_torch(submission, rng, case):
    x, param = pool_case(rng, case)
    x = rng.integers(0, 3, size=x.shape).astype(np.float64)  # few values: most windows hold a tie
    dout = rng.standard_normal(torch_pool(x, param).shape)
    _, dx_ref = torch_pool(x, param, dout)
    dx_st = student_pool_dx(submission.conv, x, param, dout)
    assert_close("dx", dx_st, dx_ref, tol=TOL, against="torch's gradient",
                 hint="Where several entries of a window share the maximum, send the window's dout to the first of them "
                      "in row-major order only (mark it, and let no later entry of that window take it).")
