"""Hidden tests: the whole network's loss against the reference and its gradients against finite differences.

Both models get the same parameters drawn by the test, so the student's initialisation does not matter.
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


def check_grads(model_st, model_ref, X, y, hint):
    """Compare every gradient of the student's loss with finite differences of that same loss."""
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


@pytest.mark.points(2)
def test_mlp_scores_match_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng)
    X, _ = data(rng)
    assert_close("scores", model_st.loss(X.copy()), model_ref.loss(X),
                 hint="Chain affine -> activation for each hidden layer, then a last affine layer.")


@pytest.mark.points(2)
def test_mlp_loss_with_l2_matches_reference(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, reg=0.7)
    X, y = data(rng)
    assert_close("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], model_ref.loss(X, y)[0],
                 hint="Add 0.5 * reg * sum(W**2) over every weight matrix, not the biases.")


@pytest.mark.points(1)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_mlp_loss_with_other_activations_matches_reference(submission, reference, rng, activation):
    model_st, model_ref = make_models(submission, reference, rng, activation=activation)
    X, y = data(rng)
    assert_close("loss", loss_and_grads(model_st, X.copy(), y.copy())[0], model_ref.loss(X, y)[0],
                 hint=f"Use the {activation} layer for every hidden layer when activation='{activation}'.")


@pytest.mark.points(4)
def test_mlp_grads_match_numeric_gradient(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng)
    check_grads(model_st, model_ref, *data(rng), hint="Backpropagate through the layers in reverse order.")


@pytest.mark.points(2)
def test_mlp_grads_with_l2_match_numeric_gradient(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, reg=0.7)
    check_grads(model_st, model_ref, *data(rng), hint="Add reg * W to the gradient of every weight matrix.")


@pytest.mark.points(2)
def test_mlp_grads_with_batchnorm_match_numeric_gradient(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True)
    check_grads(model_st, model_ref, *data(rng), hint="Put batchnorm between each hidden affine layer and its activation.")


@pytest.mark.points(1)
def test_mlp_scores_with_dropout_are_computed_in_eval_mode(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, dropout=0.5)
    X, _ = data(rng)
    assert_close("scores with dropout=0.5", model_st.loss(X.copy()), model_ref.loss(X),
                 hint="Without y the model is evaluating: call dropout_forward with train=False.")


@pytest.mark.points(1)
def test_mlp_with_batchnorm_scores_use_running_stats(submission, reference, rng):
    model_st, model_ref = make_models(submission, reference, rng, use_batchnorm=True)
    for _ in range(3):
        X, y = data(rng)
        model_st.loss(X.copy(), y.copy())
        model_ref.loss(X, y)
    X, _ = data(rng)
    assert_close("scores after three training batches", model_st.loss(X.copy()), model_ref.loss(X),
                 hint="Without y, run batchnorm in test mode with the running statistics of training.")
