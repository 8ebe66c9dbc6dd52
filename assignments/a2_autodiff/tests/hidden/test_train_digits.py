"""Hidden test: your MLP, trained by your train() on the grader's digits split, scored on held-out
digits that train() never sees."""
import numpy as np
import pytest

from autograder.checks import assert_array

SIZES = [64, 64, 10]
SETTINGS = {"epochs": 20, "batch_size": 32, "learning_rate": 0.1}


def threshold_for(spec, source):
    thresholds = spec.get("thresholds", {})
    if source not in thresholds:
        raise RuntimeError(f"assignment.yaml has no accuracy threshold for dataset source {source!r}; add it under "
                           "`thresholds`.")
    return float(thresholds[source])


AGREEMENT = 0.99  # predict() must give what the trained parameters give through the documented forward pass


def forward_predictions(arrays, X):
    """Return the labels of the documented MLP (x @ W + b, relu between layers) with these parameters."""
    shapes = [np.shape(a) for a in arrays]
    expected = [s for d_in, d_out in zip(SIZES[:-1], SIZES[1:], strict=True) for s in ((d_in, d_out), (d_out,))]
    if shapes != expected:
        raise AssertionError(f"after train(), model.parameters() holds arrays of shapes {shapes}, expected {expected} "
                             f"([W1, b1, W2, b2] of MLP({SIZES})): train() updates the model's own parameters.")
    x = np.asarray(X, dtype=np.float64)
    for i in range(0, len(arrays), 2):
        x = x @ np.asarray(arrays[i], dtype=np.float64) + np.asarray(arrays[i + 1], dtype=np.float64)
        if i + 2 < len(arrays):
            x = np.maximum(x, 0.0)
    return np.argmax(x, axis=1)


def parameter_arrays(model):
    return [np.array(p.data) for p in model.parameters()]


@pytest.mark.points(5)
def test_trained_mlp_reaches_the_accuracy_threshold_on_held_out_digits(submission, digits, spec, budget, record):
    threshold = threshold_for(spec, digits.source)
    seed = int(spec["seed"])
    model = submission.nn.MLP(SIZES, activation="relu", seed=seed)
    with budget.measure() as used:  # everything your code does for this result counts, prediction included
        submission.train.train(model, digits.training_data(), seed=seed, **SETTINGS)
        y_pred = model.predict(digits.X_test)
        arrays = submission.define(parameter_arrays)(model)
    if used.seconds > budget:
        raise AssertionError(
            f"training is too slow: your train() and predict() took {used.seconds:.1f} s of {used.clock}, the budget "
            f"is {budget.explain()} for {SETTINGS['epochs']} epochs of {len(digits.y_train)} digits with "
            f"MLP({SIZES}). Keep Python loops to the graph walk: every operation works on whole arrays.")
    y_pred = assert_array("model.predict(X_test)", y_pred, shape=digits.y_test.shape,
                          hint="predict(X) returns one integer label per row of X.")
    agreement = float(np.mean(y_pred == forward_predictions(list(arrays), digits.X_test)))
    if agreement < AGREEMENT:
        raise AssertionError(
            f"predict() does not follow your trained network: on {len(y_pred)} held-out digits it agrees with the "
            f"logits that model.parameters() give through the handout's forward pass (x @ W + b, relu between "
            f"layers) on {agreement:.1%} of them, expected at least {AGREEMENT:.0%}. predict(X) is the argmax of "
            "the model's logits, with the parameters train() trained.")
    accuracy = float(np.mean(y_pred == digits.y_test))
    record("held_out_accuracy", round(accuracy, 4))
    if not accuracy >= threshold:
        raise AssertionError(
            f"held-out accuracy is too low: got {accuracy:.3f}, expected at least {threshold:.3f} on "
            f"{len(digits.y_test)} held-out digits (MLP({SIZES}), relu, {SETTINGS['epochs']} epochs of SGD with "
            f"learning_rate={SETTINGS['learning_rate']:g}, batch_size={SETTINGS['batch_size']}, trained in "
            f"{used.seconds:.1f} s). If your gradient tests pass, check that train() visits every batch each epoch.")
