"""Public tests for conv.py: output sizes, and shapes and values on small fixed inputs.

The expected numbers were computed once with torch.nn.functional in float64.
"""
from functools import partial

import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_tuple

pytestmark = pytest.mark.usefixtures("numpy_only_conv")
expect = partial(assert_close, against="the expected values")
TOL = 1e-6  # the expected values below are rounded to 10 decimals


def conv_inputs():
    x = np.linspace(-1, 1, 18).reshape(1, 2, 3, 3)
    w = np.linspace(-0.5, 0.4, 16).reshape(2, 2, 2, 2)
    b = np.array([0.1, -0.2])
    return x, w, b


@pytest.mark.points(1)
def test_conv_output_size_examples(submission):
    for args, expected in [((32, 3, 1, 1), 32), ((32, 2, 2, 0), 16), ((7, 3, 2, 1), 4), ((6, 2, 3, 2), 3)]:
        got = submission.conv.conv_output_size(*args)
        if got != expected:
            raise AssertionError(f"conv_output_size{args} returned {got!r}, expected {expected}: "
                                 "1 + (size + 2 * pad - kernel) // stride.")


@pytest.mark.points(1.5)
def test_conv_forward_values(submission):
    x, w, b = conv_inputs()
    out, _ = assert_tuple("conv_forward", submission.conv.conv_forward(x, w, b, {"stride": 1, "pad": 0}), ("out", "cache"))
    assert_array("out", out, shape=(1, 2, 2, 2), hint="out is (N, F, H_out, W_out).")
    expect("out", out, [[[[1.2529411765, 0.98], [0.4341176471, 0.1611764706]],
                         [[0.0494117647, 0.2282352941], [0.5858823529, 0.7647058824]]]], tol=TOL)
    x2, w2 = np.linspace(-1, 1, 16).reshape(1, 1, 4, 4), np.linspace(-0.4, 0.4, 9).reshape(1, 1, 3, 3)
    out2, _ = assert_tuple("conv_forward", submission.conv.conv_forward(x2, w2, np.array([0.05]), {"stride": 2, "pad": 1}),
                           ("out", "cache"))
    assert_array("out with stride 2 and pad 1", out2, shape=(1, 1, 2, 2))
    expect("out with stride 2 and pad 1", out2, [[[[-0.31, -0.0766666667], [0.75, 1.09]]]], tol=TOL)


@pytest.mark.points(1.5)
def test_conv_backward_values(submission):
    x, w, b = conv_inputs()
    _, cache = assert_tuple("conv_forward", submission.conv.conv_forward(x, w, b, {"stride": 1, "pad": 0}), ("out", "cache"))
    dout = np.linspace(-1, 1, 8).reshape(1, 2, 2, 2)
    dx, dw, db = assert_tuple("conv_backward", submission.conv.conv_backward(dout, cache), ("dx", "dw", "db"))
    assert_array("dx", dx, shape=x.shape)
    assert_array("dw", dw, shape=w.shape)
    assert_array("db", db, shape=b.shape)
    expect("dx", dx, [[[[0.4971428571, 0.7942857143, 0.3314285714], [0.5942857143, 0.9257142857, 0.4],
                        [0.2342857143, 0.4057142857, 0.2057142857]],
                       [[0.2914285714, 0.52, 0.2628571429], [0.4571428571, 0.9257142857, 0.5371428571],
                        [0.3028571429, 0.68, 0.4114285714]]]], tol=TOL)
    expect("dw", dw, [[[[1.9831932773, 1.7142857143], [1.1764705882, 0.9075630252]],
                       [[-0.4369747899, -0.7058823529], [-1.243697479, -1.512605042]]],
                      [[[-1.512605042, -1.243697479], [-0.7058823529, -0.4369747899]],
                       [[0.9075630252, 1.1764705882], [1.7142857143, 1.9831932773]]]], tol=TOL)
    expect("db", db, [-2.2857142857, 2.2857142857], tol=TOL)


@pytest.mark.points(1)
def test_maxpool_forward_and_backward_values(submission):
    x = 0.5 * np.array([[1, 3, 2, 0], [4, -1, 5, 1], [0, 2, -3, -2], [6, 1, 0, 7.0]]).reshape(1, 1, 4, 4)
    param = {"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 0}
    out, cache = assert_tuple("maxpool_forward", submission.conv.maxpool_forward(x, param), ("out", "cache"))
    assert_array("out", out, shape=(1, 1, 2, 2))
    expect("out", out, [[[[2.0, 2.5], [3.0, 3.5]]]], tol=TOL)
    dx = submission.conv.maxpool_backward(np.array([1.0, -2, 3, 4]).reshape(1, 1, 2, 2), cache)
    assert_array("dx", dx, shape=x.shape)
    expect("dx", dx, [[[[0, 0, 0, 0], [1, 0, -2, 0], [0, 0, 0, 0], [3, 0, 0, 4]]]], tol=TOL,
           hint="Each window's gradient goes to the entry that holds its maximum, and only there.")
