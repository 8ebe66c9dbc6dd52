"""Hidden tests: the backward passes against centred differences in float64, and inputs left unchanged.

The numeric gradient goes through torch's forward pass (the true function), so a backward pass is
judged on its own even when the student's forward pass is wrong.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.checks import assert_array, assert_close, assert_keys, assert_tuple, grad_check

pytestmark = pytest.mark.usefixtures("numpy_only_conv")
CONV_PARAM = {"stride": 2, "pad": 1}
POOL_PARAM = {"pool_height": 3, "pool_width": 2, "stride": 2, "pad": 1}


def conv_ref(x, w, b):
    return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=2, padding=1).numpy()


def pool_ref(x):
    return F.max_pool2d(torch.from_numpy(x), (3, 2), stride=2, padding=1).numpy()


@pytest.fixture
def conv_inputs(rng):
    x, w, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    dout = rng.standard_normal(conv_ref(x, w, b).shape)
    return x, w, b, dout


def conv_grads(conv, x, w, b, dout):
    _, cache = assert_tuple("conv_forward", conv.conv_forward(x.copy(), w.copy(), b.copy(), dict(CONV_PARAM)), ("out", "cache"))
    return assert_tuple("conv_backward", conv.conv_backward(dout.copy(), cache), ("dx", "dw", "db"))


@pytest.mark.points(1)
def test_conv_backward_dx_matches_numeric_gradient(submission, conv_inputs):
    x, w, b, dout = conv_inputs
    dx_st, _, _ = conv_grads(submission.conv, x, w, b, dout)
    grad_check("dx", dx_st, lambda v: conv_ref(v, w, b), x, dout,
               hint="dx gathers, for every entry of x, dout times the filter weight that met it in each window.")


@pytest.mark.points(1)
def test_conv_backward_dw_matches_numeric_gradient(submission, conv_inputs):
    x, w, b, dout = conv_inputs
    _, dw_st, _ = conv_grads(submission.conv, x, w, b, dout)
    grad_check("dw", dw_st, lambda v: conv_ref(x, v, b), w, dout,
               hint="dw sums dout times the input windows over the batch and every output position.")


@pytest.mark.points(0.5)
def test_maxpool_backward_matches_numeric_gradient(submission, rng):
    x = rng.standard_normal((2, 2, 5, 6))
    dout = rng.standard_normal(pool_ref(x).shape)
    _, cache = assert_tuple("maxpool_forward", submission.conv.maxpool_forward(x.copy(), dict(POOL_PARAM)), ("out", "cache"))
    dx_st = submission.conv.maxpool_backward(dout.copy(), cache)
    grad_check("dx", dx_st, pool_ref, x, dout, hint="Only the maximum of a window receives that window's gradient.")


def run_and_compare_inputs(conv_forward, conv_backward, maxpool_forward, maxpool_backward, arrays, conv_param, pool_param):
    """Call the four functions where the student's code runs; return their results and which inputs changed."""
    x, w, b, dout_conv, dout_pool = arrays
    kept = {k: np.array(v, copy=True) for k, v in zip(["x", "w", "b", "dout_conv", "dout_pool"], arrays, strict=True)}
    out, cache = conv_forward(x, w, b, conv_param)
    dx, dw, db = conv_backward(dout_conv, cache)
    pooled, pool_cache = maxpool_forward(x, pool_param)
    dx_pool = maxpool_backward(dout_pool, pool_cache)
    changed = [k for k, v in zip(kept, arrays, strict=True) if not np.array_equal(v, kept[k])]
    return {"out": out, "dx": dx, "dw": dw, "db": db, "pooled": pooled, "dx_pool": dx_pool, "changed": changed}


@pytest.mark.points(0.5)
def test_layer_functions_leave_their_inputs_unchanged(submission, conv_inputs, rng):
    x, w, b, dout = conv_inputs
    dout_pool = rng.standard_normal(pool_ref(x).shape)
    conv = submission.conv
    got = submission.define(run_and_compare_inputs)(conv.conv_forward, conv.conv_backward, conv.maxpool_forward,
                                                   conv.maxpool_backward, [x, w, b, dout, dout_pool], dict(CONV_PARAM),
                                                   dict(POOL_PARAM))
    assert_keys("the results", got, ["out", "dx", "changed"])
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, stride=2, padding=1)
    out.backward(torch.tensor(dout))
    xp = torch.tensor(x, requires_grad=True)
    pooled = F.max_pool2d(xp, (3, 2), stride=2, padding=1)
    pooled.backward(torch.tensor(dout_pool))
    expected = {"out": out, "dx": xt.grad, "dw": wt.grad, "db": bt.grad, "pooled": pooled, "dx_pool": xp.grad}
    for name, ref in expected.items():  # only a right answer can earn the point
        ref = ref.detach().numpy()
        assert_array(name, got.get(name), shape=ref.shape)
        assert_close(name, got[name], ref, tol=1e-7, atol=1e-10, against="torch")
    changed = list(got["changed"])
    if changed:
        raise AssertionError(
            f"your layer functions changed the arrays they were given: {', '.join(changed)} differ after "
            "conv_forward, conv_backward, maxpool_forward and maxpool_backward. Work on new arrays (np.pad returns one; "
            "`a = a + ...` rather than `a += ...` on an input).")
