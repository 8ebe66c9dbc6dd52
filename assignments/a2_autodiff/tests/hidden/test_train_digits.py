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


@pytest.mark.points(5)
def test_trained_mlp_reaches_the_accuracy_threshold_on_held_out_digits(submission, digits, spec, budget, record):
    threshold = threshold_for(spec, digits.source)
    seed = int(spec["seed"])
    model = submission.nn.MLP(SIZES, activation="relu", seed=seed)
    with budget.measure() as used:
        submission.train.train(model, digits.training_data(), seed=seed, **SETTINGS)
    if used.seconds > budget:
        raise AssertionError(
            f"training is too slow: your train() took {used.seconds:.1f} s of {used.clock}, the budget is "
            f"{budget.explain()} for {SETTINGS['epochs']} epochs of {len(digits.y_train)} digits with MLP({SIZES}). "
            "Keep Python loops to the graph walk: every operation works on whole arrays.")
    y_pred = assert_array("model.predict(X_test)", model.predict(digits.X_test), shape=digits.y_test.shape,
                          hint="predict(X) returns one integer label per row of X.")
    accuracy = float(np.mean(y_pred == digits.y_test))
    record("held_out_accuracy", round(accuracy, 4))
    if not accuracy >= threshold:
        raise AssertionError(
            f"held-out accuracy is too low: got {accuracy:.3f}, expected at least {threshold:.3f} on "
            f"{len(digits.y_test)} held-out digits (MLP({SIZES}), relu, {SETTINGS['epochs']} epochs of SGD with "
            f"learning_rate={SETTINGS['learning_rate']:g}, batch_size={SETTINGS['batch_size']}, trained in "
            f"{used.seconds:.1f} s). If your gradient tests pass, check that train() visits every batch each epoch.")
