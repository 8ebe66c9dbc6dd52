"""Hidden tests: forward passes against the reference, numerical stability, dropout and batchnorm modes."""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_tuple, assert_within


def forward(layers, name, *args):
    """Call `layers.<name>(*args)` and check that it returned (out, cache)."""
    return assert_tuple(name, getattr(layers, name)(*args), ("out", "cache"))


def bn_param(mode, D, rng=None, eps=1e-5, momentum=0.9):
    running_mean = np.zeros(D) if rng is None else rng.standard_normal(D)
    running_var = np.ones(D) if rng is None else 0.5 + rng.random(D)
    return {"mode": mode, "eps": eps, "momentum": momentum,
            "running_mean": running_mean, "running_var": running_var}


class FloatErrorLog:
    """Collects the floating-point errors NumPy reports while it is installed as NumPy's error callback."""

    def __init__(self):
        self.kinds = []

    def __call__(self, kind, flag):
        self.kinds.append(str(kind))


def float_errors_during(submission, call):
    """Return call()'s result and the floating-point errors (overflow, invalid, divide) NumPy saw in it.

    NumPy's error state is set in the process that runs the student's code, and put back afterwards.
    """
    np_st = submission.layers.np
    log = submission.define(FloatErrorLog)()
    old_call = np_st.seterrcall(log)
    old = np_st.seterr(over="call", invalid="call", divide="call")
    try:
        result = call()
    finally:
        np_st.seterr(**old)
        np_st.seterrcall(old_call)
    return result, list(log.kinds)


# ---------------------------------------------------------------- forward passes

@pytest.mark.points(0.25)
def test_affine_forward_matches_reference(submission, reference, rng):
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((20, 6)), rng.standard_normal(6)
    out_st, _ = forward(submission.layers, "affine_forward", x.copy(), w.copy(), b.copy())
    out_ref, _ = reference.layers.affine_forward(x, w, b)
    assert_close("out", out_st, out_ref, hint="Flatten each row of x to D values, then x @ w + b.")


@pytest.mark.points(0.25)
@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_forward_matches_reference(submission, reference, rng, name):
    x = 3 * rng.standard_normal((4, 6))
    out_st, _ = forward(submission.layers, f"{name}_forward", x.copy())
    out_ref, _ = getattr(reference.layers, f"{name}_forward")(x)
    assert_close("out", out_st, out_ref)


@pytest.mark.points(0.25)
def test_relu_passes_no_gradient_at_exactly_zero(submission):
    x, dout = np.array([[-2.0, 0.0, 3.0], [0.0, 1.5, -0.5]]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out, cache = forward(submission.layers, "relu_forward", x.copy())
    assert_close("relu_forward(x)", out, np.maximum(0, x))
    dx = assert_array("relu_backward(dout, cache)", submission.layers.relu_backward(dout.copy(), cache), shape=x.shape)
    assert_close("dx", dx, np.where(x > 0, dout, 0.0),
                 hint="The handout's rule is dx = dout where x > 0, else 0: an input of exactly 0 passes no gradient (use x > 0, not x >= 0).")


@pytest.mark.points(0.25)
def test_softmax_cross_entropy_loss_matches_reference(submission, reference, rng):
    scores, y = rng.standard_normal((7, 4)), rng.integers(0, 4, size=7)
    returned = submission.layers.softmax_cross_entropy(scores.copy(), y.copy())
    loss_st, _ = assert_tuple("softmax_cross_entropy", returned, ("loss", "dscores"))
    loss_ref, _ = reference.layers.softmax_cross_entropy(scores, y)
    assert_close("loss", loss_st, loss_ref, hint="The loss is the mean of -log softmax at the true class.")


# ---------------------------------------------------------------- numerical stability

@pytest.mark.points(1)
def test_softmax_cross_entropy_is_stable_on_huge_logits(submission, reference, rng):
    scores, y = 1e4 * rng.standard_normal((5, 10)), rng.integers(0, 10, size=5)
    returned = submission.layers.softmax_cross_entropy(scores.copy(), y.copy())
    loss_st, dscores_st = assert_tuple("softmax_cross_entropy", returned, ("loss", "dscores"))
    loss_ref, dscores_ref = reference.layers.softmax_cross_entropy(scores, y)
    hint = "Subtract each row's largest score before exp, and take log-softmax rather than log(softmax)."
    assert_close("loss", loss_st, loss_ref, hint=hint)
    assert_close("dscores", dscores_st, dscores_ref, hint=hint)


HUGE = np.array([[-1e4, -1000.0, -50.0, 0.0, 50.0, 1000.0, 1e4]])


@pytest.mark.points(0.25)
def test_sigmoid_is_finite_on_huge_inputs(submission, reference):
    out_st, _ = forward(submission.layers, "sigmoid_forward", HUGE.copy())
    out_ref, _ = reference.layers.sigmoid_forward(HUGE)
    assert_close("out", out_st, out_ref, hint="Compute exp only of non-positive numbers to avoid overflow.")


@pytest.mark.points(0.25)
def test_sigmoid_does_not_overflow_on_huge_inputs(submission, reference):
    (out_st, _), errors = float_errors_during(submission,
                                              lambda: forward(submission.layers, "sigmoid_forward", HUGE.copy()))
    assert_close("out", out_st, reference.layers.sigmoid_forward(HUGE)[0],
                 hint="The values are off already (the test on huge inputs says more); this test judges overflow "
                      "of a right sigmoid only.")
    if errors:
        raise AssertionError(
            f"`sigmoid_forward` overflows on x = {HUGE.ravel().tolist()}: NumPy reported {', '.join(sorted(set(errors)))} "
            f"{len(errors)} time(s), expected none (the docstring asks for no overflow; each one is a RuntimeWarning). "
            "Even where the output comes out right, exp(-x) of a large negative x overflows to inf: call exp only "
            "on non-positive numbers, exp(-|x|), with one formula per sign of x (np.where evaluates both formulas "
            "on every element, so index the two halves instead)."
        )


@pytest.mark.points(0.25)
def test_tanh_is_finite_on_huge_inputs(submission, reference):
    out_st, _ = forward(submission.layers, "tanh_forward", HUGE.copy())
    out_ref, _ = reference.layers.tanh_forward(HUGE)
    hint = "(exp(x) - exp(-x)) / (exp(x) + exp(-x)) is inf / inf = NaN for large |x|: use np.tanh."
    out_st = assert_array("out", out_st, shape=HUGE.shape, hint=hint)
    bad = ~np.isfinite(out_st)
    if bad.any():
        raise AssertionError(f"`tanh_forward` is not finite on x = {HUGE.ravel().tolist()}: got "
                             f"{out_st.ravel().tolist()}, expected {out_ref.ravel().tolist()}. {hint}")
    assert_close("out", out_st, out_ref, hint=hint)


# ---------------------------------------------------------------- dropout

@pytest.fixture
def dropout_run(submission, rng):
    """Run train-mode dropout with p = 0.3 on a large positive input."""
    x = 1.0 + rng.random((400, 500))
    out, _ = forward(submission.layers, "dropout_forward", x.copy(), 0.3, True, np.random.default_rng(1))
    return x, assert_array("out", out, shape=x.shape)


@pytest.mark.points(1)
def test_dropout_drops_a_fraction_p_of_units(dropout_run):
    _, out = dropout_run
    assert_within("fraction of units dropped", np.mean(out == 0), 0.3, atol=0.01,
                  hint="p is the probability of DROPPING a unit: keep it where rng.random(x.shape) >= p.")


@pytest.mark.points(0.25)
def test_dropout_preserves_the_expected_value(dropout_run):
    x, out = dropout_run
    assert_within("mean(out) / mean(x)", np.mean(out) / np.mean(x), 1.0, atol=0.01,
                  hint="Inverted dropout scales the kept units by 1 / (1 - p).")


@pytest.mark.points(0.25)
def test_dropout_scales_kept_units_by_one_over_keep_probability(dropout_run):
    x, out = dropout_run
    kept = out != 0
    if kept.mean() < 0.5:
        raise AssertionError(f"dropout with p = 0.3 kept {kept.mean():.0%} of the units, expected about 70%, so their "
                             "scale cannot be judged. Keep a unit where rng.random(x.shape) >= p.")
    assert_close("kept units of out", out[kept], x[kept] / 0.7, against="x / (1 - p)",
                 hint="Multiply each kept unit by 1 / (1 - p), here 1 / 0.7.")


@pytest.mark.points(0.25)
def test_dropout_draws_a_mask_value_for_every_unit(dropout_run):
    _, out = dropout_run
    patterns = {tuple(row) for row in (out[:50] == 0)}
    if len(patterns) == 1:
        raise AssertionError(
            "dropout drops the same units in every row: the first 50 rows of out share one pattern of zeros, "
            "expected each row to get its own random mask. Draw the mask with the shape of x, rng.random(x.shape), "
            "not one value per column.")


# ---------------------------------------------------------------- batchnorm train vs eval

@pytest.mark.points(0.5)
def test_batchnorm_train_forward_matches_reference(submission, reference, rng):
    x, gamma, beta = 3 * rng.standard_normal((10, 5)) + 2, rng.standard_normal(5), rng.standard_normal(5)
    out_st, _ = forward(submission.layers, "batchnorm_forward", x.copy(), gamma, beta, bn_param("train", 5))
    out_ref, _ = reference.layers.batchnorm_forward(x, gamma, beta, bn_param("train", 5))
    assert_close("out", out_st, out_ref, hint="Normalise with the batch mean and the biased variance (divide by N).")


@pytest.mark.points(0.25)
def test_batchnorm_train_forward_uses_the_given_eps(submission, reference, rng):
    x, gamma, beta = 0.3 * rng.standard_normal((10, 5)) + 2, rng.standard_normal(5), rng.standard_normal(5)
    out_st, _ = forward(submission.layers, "batchnorm_forward", x.copy(), gamma, beta, bn_param("train", 5, eps=0.05))
    out_ref, _ = reference.layers.batchnorm_forward(x, gamma, beta, bn_param("train", 5, eps=0.05))
    assert_close("out with bn_param['eps'] = 0.05", out_st, out_ref,
                 hint="Read eps from bn_param (default 1e-5 only when it is missing) and add it to the variance "
                      "inside the square root: sqrt(var + eps).")


@pytest.mark.points(0.25)
def test_batchnorm_running_stats_use_the_given_momentum(submission, reference, rng):
    gamma, beta = np.ones(4), np.zeros(4)
    param_st, param_ref = bn_param("train", 4, momentum=0.6), bn_param("train", 4, momentum=0.6)
    x = 2 * rng.standard_normal((16, 4)) + 5
    submission.layers.batchnorm_forward(x.copy(), gamma, beta, param_st)
    reference.layers.batchnorm_forward(x, gamma, beta, param_ref)
    assert_close("bn_param['running_mean'] with momentum 0.6", param_st.get("running_mean"),
                 param_ref["running_mean"],
                 hint="Read momentum from bn_param (default 0.9 only when it is missing): "
                      "running = momentum * running + (1 - momentum) * batch statistic.")


@pytest.mark.points(1.5)
def test_batchnorm_train_updates_running_stats(submission, reference, rng):
    gamma, beta = np.ones(4), np.zeros(4)
    param_st, param_ref = bn_param("train", 4), bn_param("train", 4)
    for _ in range(3):
        x = 2 * rng.standard_normal((16, 4)) + 5
        submission.layers.batchnorm_forward(x.copy(), gamma, beta, param_st)
        reference.layers.batchnorm_forward(x, gamma, beta, param_ref)
    hint = ("Store running = momentum * running + (1 - momentum) * batch statistic back into bn_param, "
            "using the biased batch variance.")
    assert_close("bn_param['running_mean'] after 3 steps", param_st.get("running_mean"),
                 param_ref["running_mean"], hint=hint)
    assert_close("bn_param['running_var'] after 3 steps", param_st.get("running_var"),
                 param_ref["running_var"], hint=hint)


@pytest.mark.points(1)
def test_batchnorm_eval_uses_running_stats(submission, reference, rng):
    x, gamma, beta = rng.standard_normal((6, 4)), rng.standard_normal(4), rng.standard_normal(4)
    param_st = bn_param("test", 4, rng)
    param_ref = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in param_st.items()}
    out_st, _ = forward(submission.layers, "batchnorm_forward", x.copy(), gamma, beta, param_st)
    out_ref, _ = reference.layers.batchnorm_forward(x, gamma, beta, param_ref)
    assert_close("out in test mode", out_st, out_ref,
                 hint="In test mode normalise with bn_param's running_mean and running_var, not the batch's.")


@pytest.mark.points(0.25)
def test_batchnorm_eval_leaves_running_stats_unchanged(submission, reference, rng):
    x, gamma, beta = rng.standard_normal((6, 4)), np.ones(4), np.zeros(4)
    param_st = bn_param("test", 4, rng)
    mean_before, var_before = param_st["running_mean"].copy(), param_st["running_var"].copy()
    out_st, _ = forward(submission.layers, "batchnorm_forward", x.copy(), gamma, beta, param_st)
    param_ref = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in bn_param("test", 4).items()}
    param_ref["running_mean"], param_ref["running_var"] = mean_before.copy(), var_before.copy()
    assert_close("out in test mode", out_st, reference.layers.batchnorm_forward(x, gamma, beta, param_ref)[0],
                 hint="Test mode is off already (the test of test mode says more); this test judges the running "
                      "statistics of a right test-mode pass only.")
    hint, before = "Update the running statistics in train mode only.", "its value before the call"
    assert_close("bn_param['running_mean'] after a test-mode call", param_st.get("running_mean"), mean_before,
                 against=before, hint=hint)
    assert_close("bn_param['running_var'] after a test-mode call", param_st.get("running_var"), var_before,
                 against=before, hint=hint)


# ---------------------------------------------------------------- inputs left unchanged

class InputGuard:
    """Runs a layer's forward and backward where the student's code runs; returns the inputs as they are after.

    The comparison with the inputs as sent happens in the grader's process, never with the student's NumPy.
    """

    def __init__(self, forward, backward):
        self.forward, self.backward = forward, backward

    def run(self, args, dout):
        out, cache = self.forward(*args)
        grads = self.backward(dout, cache) if self.backward is not None else None
        return out, grads, [a if isinstance(a, np.ndarray) else None for a in args], dout


def _changed(sent, after):
    """Return the positions of the arrays in ``sent`` that ``after`` holds with other values."""
    return [i for i, (a, b) in enumerate(zip(sent, after, strict=False)) if isinstance(a, np.ndarray) and not np.array_equal(a, b)]


LAYER_PAIRS = {  # forward, backward, the forward's argument names
    "affine": ("affine_forward", "affine_backward", ("x", "w", "b")),
    "relu": ("relu_forward", "relu_backward", ("x",)),
    "sigmoid": ("sigmoid_forward", "sigmoid_backward", ("x",)),
    "tanh": ("tanh_forward", "tanh_backward", ("x",)),
    "batchnorm": ("batchnorm_forward", "batchnorm_backward", ("x", "gamma", "beta", "bn_param")),
    "softmax_cross_entropy": ("softmax_cross_entropy", None, ("scores", "y")),
    "dropout": ("dropout_forward", "dropout_backward", ("x", "p", "train", "rng")),
}


def _layer_args(name, rng):
    x = rng.standard_normal((5, 4))
    return {
        "affine": (x, rng.standard_normal((4, 3)), rng.standard_normal(3)),
        "batchnorm": (x, rng.standard_normal(4), rng.standard_normal(4), bn_param("train", 4)),
        "softmax_cross_entropy": (x, rng.integers(0, 4, size=5)),
        "dropout": (x, 0.5, True, np.random.default_rng(3)),
    }.get(name, (x,))


def _check_dropout(out_st, dx_st, x, dout):
    """Judge an inverted dropout by its own mask: each unit dropped (0) or kept and scaled by 2, dx masked the same way."""
    out = assert_array("dropout_forward: out", out_st, shape=x.shape)
    mask = out / x
    if not np.all(np.isclose(mask, 0) | np.isclose(mask, 2)):
        raise AssertionError("`dropout_forward` with p = 0.5 must give 0 or 2 * x for each unit (the dropout tests say more)")
    assert_close("dropout_backward: dx", dx_st, dout * mask)


@pytest.mark.points(0.25)
def test_layer_functions_leave_their_inputs_unchanged(submission, reference, rng):
    for name, (fwd, bwd, names) in LAYER_PAIRS.items():
        args = _layer_args(name, rng)
        guard = submission.define(InputGuard)(getattr(submission.layers, fwd),
                                              getattr(submission.layers, bwd) if bwd else None)
        dout = rng.standard_normal((5, 3) if name == "affine" else (5, 4))
        out_st, grads_st, args_after, dout_after = guard.run(
            [a.copy() if isinstance(a, np.ndarray) else dict(a) if isinstance(a, dict) else a for a in args], dout)
        changed = _changed(args, list(args_after))
        dout_changed = not np.array_equal(dout, dout_after)
        if name == "dropout":
            _check_dropout(out_st, grads_st, args[0], dout)
            ref_args = [args[0].copy(), 0.0, False, None]  # nothing to compare: the masks are the student's own
        else:
            ref_args = [a.copy() if isinstance(a, np.ndarray) else dict(a) if isinstance(a, dict) else a for a in args]
        out_ref, cache_ref = getattr(reference.layers, fwd)(*ref_args)
        if name != "dropout":
            assert_close(f"{fwd}: out", out_st, out_ref)  # a wrong answer is judged by the tests about it
        if bwd and name != "dropout":
            grads_ref = getattr(reference.layers, bwd)(dout, cache_ref)
            for k, (g_st, g_ref) in enumerate(zip(grads_st if isinstance(grads_st, tuple) else (grads_st,),
                                                 grads_ref if isinstance(grads_ref, tuple) else (grads_ref,))):
                assert_close(f"{bwd}: gradient {k}", g_st, g_ref)
        if changed:
            raise AssertionError(
                f"`{fwd}` changes its input `{names[changed[0]]}` in place; expected it unchanged. "
                "The caller may still use it (a cache, the next layer): compute a new array, e.g. "
                "`shifted = scores - scores.max(...)` rather than `scores -= ...`.")
        if dout_changed:
            raise AssertionError(
                f"`{bwd}` changes `dout` in place; expected it unchanged. The caller may still use it: "
                "compute a new array, e.g. `dx = dout * mask` rather than `dout *= mask`.")

