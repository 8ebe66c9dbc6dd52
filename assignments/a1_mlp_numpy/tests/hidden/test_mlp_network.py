"""Hidden tests: the whole network's loss against the reference and its gradients against finite differences.

Both models get the same parameters drawn by the test, so the student's initialisation does not matter.
A gradient test first checks the loss against the reference: finite differences of a wrong (say,
constant) loss would otherwise agree with wrong (say, zero) gradients.
"""
import numpy as np
import pytest

from autograder.checks import assert_array, assert_close, assert_keys, assert_shape, assert_tuple, grad_check

N, D, C, HIDDEN = 5, 6, 4, [7, 5]


def make_models(submission, reference, rng, **kwargs):
    """Return (model_st, model_ref) built with kwargs and given the same random parameters."""
    args = dict(input_dim=D, num_classes=C, seed=0, dtype=np.float64, **kwargs)
    model_st, model_ref = submission.mlp.MLP(HIDDEN, **args), reference.mlp.MLP(HIDDEN, **args)
    assert_keys("model.params", model_st.params, model_ref.params,
                hint="Name the parameters W1, b1, ..., and gamma1, beta1, ... for batchnorm.")
    for name in sorted(model_ref.params):
        shape = model_ref.params[name].shape
        assert_shape(f"params['{name}']", model_st.params[name], shape)
        value = rng.standard_normal(shape) / np.sqrt(shape[0] if len(shape) == 2 else 1)
        if name.startswith("gamma"):
            value = 1.0 + 0.1 * value
        model_st.params[name], model_ref.params[name] = value.copy(), value.copy()
    return model_st, model_ref


def data(rng):
    return rng.standard_normal((N, D)), rng.integers(0, C, size=N)


def loss_and_grads(model, X, y):
    """Return model.loss(X, y), checked to be (loss, grads)."""
    return assert_tuple("model.loss(X, y)", model.loss(X, y), ("loss", "grads"))


LOSS_FIRST = ("Your loss differs from the reference's for the same parameters, so its gradients cannot be "
              "judged yet: fix the loss first (the loss tests say more).")


def check_loss(model_st, model_ref, X, y, hint):
    """Compare the student's training loss with the reference's on the same batch."""
    assert_close("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], model_ref.loss(X, y)[0], hint=hint)


def check_grads(model_st, model_ref, X, y, hint):
    """Check the loss against the reference, then every gradient against finite differences of the student's loss."""
    check_loss(model_st, model_ref, X, y, LOSS_FIRST)
    _, grads_st = loss_and_grads(model_st, X, y)
    params = model_st.params
    assert_keys("grads", grads_st, model_ref.params, hint="Return one gradient per entry of self.params.")
    for name in sorted(model_ref.params):
        start = assert_array(f"params['{name}']", params[name], shape=model_ref.params[name].shape).astype(np.float64)

        def loss_at(value, name=name):
            model_st.params[name] = value  # assigned, not changed in place: the model may live in another process
            return loss_and_grads(model_st, X, y)[0]

        grad_check(f"grads['{name}']", grads_st[name], loss_at, start.copy(), tol=1e-5, hint=hint)
        model_st.params[name] = start


@pytest.mark.points(1.5)
def test_mlp_scores_match_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng)
    X, _ = data(rng)
    assert_close("scores", model_st.loss(X.copy()), model_ref.loss(X),
                 hint="Chain affine -> activation for each hidden layer, then a last affine layer.")


@pytest.mark.points(1)
def test_mlp_loss_with_l2_matches_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, reg=0.7)
    X, y = data(rng)
    assert_close("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], model_ref.loss(X, y)[0],
                 hint="Add 0.5 * reg * sum(W**2) over every weight matrix, not the biases.")


@pytest.mark.points(0.5)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_mlp_loss_with_other_activations_matches_reference(submission, reference, rng, activation):
    model_st, model_ref = make_models(submission, reference, rng, activation=activation)
    X, y = data(rng)
    assert_close("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], model_ref.loss(X, y)[0],
                 hint=f"Use the {activation} layer for every hidden layer when activation='{activation}'.")


@pytest.mark.points(2)
def test_mlp_grads_match_numeric_gradient(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng)
    check_grads(model_st, model_ref, *data(rng), hint="Backpropagate through the layers in reverse order.")


@pytest.mark.points(0.75)
def test_mlp_grads_with_l2_match_numeric_gradient(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, reg=0.7)
    check_grads(model_st, model_ref, *data(rng), hint="Add reg * W to the gradient of every weight matrix.")


@pytest.mark.points(1.5)
def test_mlp_grads_with_batchnorm_match_numeric_gradient(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True)
    check_grads(model_st, model_ref, *data(rng),
                hint="In the backward pass run batchnorm_backward between the activation's backward and the "
                     "affine layer's, with the cache of that layer's forward call, and store its dgamma and "
                     "dbeta as grads['gamma{i}'] and grads['beta{i}'].")


BN_ORDER = ("Each hidden layer is affine -> batchnorm -> activation: normalise the affine output, before the "
            "activation, and with y given run batchnorm in 'train' mode (batch statistics).")


@pytest.mark.points(1.5)
def test_mlp_loss_with_batchnorm_matches_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True)
    X, y = data(rng)
    check_loss(model_st, model_ref, X, y, BN_ORDER)


@pytest.mark.points(0.25)
def test_mlp_loss_with_batchnorm_after_an_evaluation_call_matches_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True)
    X, y = data(rng)
    model_st.loss(X.copy())
    model_ref.loss(X)
    assert_close("loss after a call without y", loss_and_grads(model_st, X.copy(), y.copy())[0],
                 model_ref.loss(X, y)[0],
                 hint="Set every bn_param['mode'] on each call: 'test' without y, 'train' with y. A mode left "
                      "at 'test' by an evaluation call makes the next training step use the running statistics.")


L2_BN = ("Regularise the weight matrices W1..WL only: b, gamma and beta get no L2 term "
         "(the loss adds 0.5 * reg * sum(W**2) over the W's).")


@pytest.mark.points(0.75)
def test_mlp_loss_with_l2_and_batchnorm_matches_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True, reg=0.7)
    X, y = data(rng)
    check_loss(model_st, model_ref, X, y, L2_BN)


def l2_grad_hint(name, diff, param, reg):
    """Name the L2 mistake that explains a gradient's difference from the reference, if one does."""
    tol = 1e-6 * max(1.0, float(np.abs(param).max()))
    if not name.startswith("W") and np.allclose(diff, reg * param, rtol=0, atol=tol):
        return f"Your grads['{name}'] has an extra reg * {name}: only the weight matrices W get the L2 term."
    if name.startswith("W") and np.allclose(diff, -reg * param, rtol=0, atol=tol):
        return f"Add reg * {name} to grads['{name}']."
    return ("The difference is not an L2 term: check the backward pass with batchnorm first "
            "(the batchnorm gradient test says more).")


@pytest.mark.points(1)
def test_mlp_grads_with_l2_and_batchnorm_match_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True, reg=0.7)
    X, y = data(rng)
    _, grads_st = loss_and_grads(model_st, X.copy(), y.copy())
    _, grads_ref = model_ref.loss(X, y)
    assert_keys("grads", grads_st, grads_ref, hint="Return one gradient per entry of self.params.")
    for name in sorted(grads_ref):
        g_st = assert_array(f"grads['{name}']", grads_st[name], shape=grads_ref[name].shape)
        hint = l2_grad_hint(name, g_st - grads_ref[name], model_ref.params[name], 0.7) if np.isfinite(g_st).all() else ""
        assert_close(f"grads['{name}'] with reg=0.7 and batchnorm", g_st, grads_ref[name], tol=1e-6, hint=hint)


@pytest.mark.points(0.5)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_mlp_grads_with_other_activations_match_reference(submission, reference, rng, activation):
    model_st, model_ref = make_models(submission, reference, rng, activation=activation)
    X, y = data(rng)
    check_loss(model_st, model_ref, X, y, LOSS_FIRST)
    _, grads_st = loss_and_grads(model_st, X.copy(), y.copy())
    _, grads_ref = model_ref.loss(X, y)
    assert_keys("grads", grads_st, grads_ref, hint="Return one gradient per entry of self.params.")
    for name in sorted(grads_ref):
        assert_close(f"grads['{name}'] with activation='{activation}'", grads_st[name], grads_ref[name], tol=1e-6,
                     hint=f"Backpropagate with {activation}_backward and the cache of the same layer's "
                          f"{activation}_forward call (the cache holds the activation's output).")


# ---------------------------------------------------------------- dropout in training

DROPOUT = 0.4


class RngRewinder:
    """Puts the model's generator back to a saved state, in place, so every loss call draws the same masks."""

    def __init__(self, model):
        self.model = model
        self.state = model.rng.bit_generator.state

    def loss_at(self, name, value, X, y):
        if name is not None:
            self.model.params[name] = value
        self.model.rng.bit_generator.state = self.state
        return self.model.loss(X, y)


def dropout_models(submission, reference, rng, activation="relu", grads_too=False):
    """Return (model_st, model_ref, X, y) with dropout, once the student's model without dropout matches the reference."""
    model_st, model_ref = make_models(submission, reference, rng, dropout=0.0, activation=activation)
    X, y = rng.standard_normal((20, D)), rng.integers(0, C, size=20)
    check_loss(model_st, model_ref, X, y, "Your loss without dropout differs from the reference's, so dropout "
                                          "cannot be judged yet: fix the loss first (the loss tests say more).")
    if grads_too:
        grads_st, grads_ref = loss_and_grads(model_st, X.copy(), y.copy())[1], model_ref.loss(X, y)[1]
        assert_keys("grads", grads_st, grads_ref, hint="Return one gradient per entry of self.params.")
        for name in sorted(grads_ref):
            assert_close(f"grads['{name}'] without dropout, activation='{activation}'", grads_st[name],
                         grads_ref[name], tol=1e-6,
                         hint="Your gradients differ already without dropout, so the dropout path cannot be "
                              "judged yet: fix them first (the gradient tests without dropout say more).")
    model_st.dropout, model_ref.dropout = DROPOUT, DROPOUT
    return model_st, model_ref, X, y


@pytest.mark.points(1)
def test_mlp_training_loss_applies_dropout(submission, reference, rng):
    model_st, model_ref, X, y = dropout_models(submission, reference, rng)
    loss_st = float(assert_array("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], shape=()))
    model_ref.dropout = 0.0
    loss_without = float(model_ref.loss(X, y)[0])
    if abs(loss_st - loss_without) <= 1e-9 * max(1.0, abs(loss_without)):
        raise AssertionError(
            f"the training loss with dropout={DROPOUT} is the loss without dropout: got {loss_st:.6g}, expected a "
            f"different value (some hidden units dropped). With y given the model is training: call "
            f"dropout_forward with train=True after each hidden activation.")


@pytest.mark.points(0.5)
def test_mlp_dropout_masks_change_between_loss_calls(submission, reference, rng):
    model_st, _, X, y = dropout_models(submission, reference, rng)
    first = float(assert_array("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], shape=()))
    second = float(assert_array("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], shape=()))
    if first == second:
        raise AssertionError(
            f"two training calls of model.loss on the same batch with dropout={DROPOUT} gave the same loss, "
            f"{first:.6g}: expected new dropout masks on every call. Draw the masks from self.rng, the generator "
            "made once in __init__, not from a generator made anew (or reseeded) in loss().")


@pytest.mark.points(2.5)
def test_mlp_grads_with_dropout_match_numeric_gradient(submission, reference, rng):
    model_st, model_ref, X, y = dropout_models(submission, reference, rng, activation="sigmoid", grads_too=True)
    X, y = X[:6], y[:6]
    if not isinstance(model_st.rng, np.random.Generator):
        raise AssertionError(f"`model.rng` is {type(model_st.rng).__name__}, expected the numpy Generator that "
                             "__init__ makes with np.random.default_rng(seed). Keep it, and draw the masks from it.")
    rewinder = submission.define(RngRewinder)(model_st)
    start = {name: assert_array(f"params['{name}']", model_st.params[name], shape=model_ref.params[name].shape)
             .astype(np.float64) for name in sorted(model_ref.params)}
    loss_st, grads_st = assert_tuple("model.loss(X, y)", rewinder.loss_at(None, None, X, y), ("loss", "grads"))
    again = assert_tuple("model.loss(X, y)", rewinder.loss_at(None, None, X, y), ("loss", "grads"))[0]
    assert_close("loss with self.rng put back to the same state", again, loss_st, against="the first call",
                 hint="Draw every dropout mask from self.rng, so the same generator state gives the same masks: "
                      "pass self.rng to dropout_forward, and draw there with its rng argument, not np.random.")
    assert_keys("grads", grads_st, model_ref.params, hint="Return one gradient per entry of self.params.")
    for name in sorted(model_ref.params):

        def loss_at(value, name=name):
            return assert_tuple("model.loss(X, y)", rewinder.loss_at(name, value, X, y), ("loss", "grads"))[0]

        grad_check(f"grads['{name}'] with dropout={DROPOUT}", grads_st[name], loss_at, start[name].copy(), tol=1e-5,
                   hint="Backpropagate through each dropout layer with dropout_backward and the mask its forward "
                        "call cached, before the activation's backward; and leave the activation's output as it is "
                        "in dropout_forward (out = x * mask, not x *= mask: the sigmoid's cache is that array).")
        model_st.params[name] = start[name]


@pytest.mark.points(0.25)
def test_mlp_dropout_comes_after_the_activation(submission, reference, rng):
    """With p = 1 - 1e-9 every hidden unit is dropped, whatever the masks: only the last bias reaches the scores."""
    model_st, model_ref = make_models(submission, reference, rng, activation="sigmoid", dropout=1 - 1e-9)
    X, y = data(rng)
    check_loss(model_st, model_ref, X, y,
               "With every unit dropped the hidden outputs must be 0, which holds only when dropout comes after "
               "the activation: affine -> [batchnorm] -> activation -> dropout (sigmoid(0) is 0.5, not 0).")


@pytest.mark.points(1.5)
def test_mlp_scores_with_dropout_are_computed_in_eval_mode(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, dropout=0.5)
    X, _ = data(rng)
    assert_close("scores with dropout=0.5", model_st.loss(X.copy()), model_ref.loss(X),
                 hint="Without y the model is evaluating: call dropout_forward with train=False.")


@pytest.mark.points(1.5)
def test_mlp_with_batchnorm_scores_use_running_stats(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True)
    for _ in range(3):
        X, y = data(rng)
        model_st.loss(X.copy(), y.copy())
        model_ref.loss(X, y)
    X, _ = data(rng)
    assert_close("scores after three training batches", model_st.loss(X.copy()), model_ref.loss(X),
                 hint="Without y, run batchnorm in test mode with the running statistics of training.")
