"""Hidden test: the student's MLP, trained by the student's train() on the grader's MNIST split,
scored on held-out test images that train() never sees."""
import numpy as np
import pytest

from autograder.checks import assert_array

# Per data source: enough updates for the reference to clear the threshold in a few seconds.
TRAINING = {
    "mnist-offline": {"hidden_dims": [256, 128], "epochs": 8, "batch_size": 100, "learning_rate": 2e-3},
    "mnist-full": {"hidden_dims": [100], "epochs": 2, "batch_size": 100, "learning_rate": 1e-3},
}


def threshold_for(spec, source):
    thresholds = spec.get("thresholds", {})
    if source not in thresholds:
        raise RuntimeError(f"assignment.yaml has no accuracy threshold for dataset source {source!r}; "
                           f"add it under `thresholds` (known sources: {', '.join(TRAINING)}).")
    return float(thresholds[source])


AGREEMENT = 0.99  # predict() must give what model.params give through the documented forward pass


def reference_predictions(reference, cfg, params, X):
    """Return the labels the documented forward pass gives with the student's trained params."""
    model = reference.mlp.MLP(cfg["hidden_dims"])
    expected = {k: v.shape for k, v in model.params.items()}
    got = {k: np.shape(v) for k, v in params.items()} if isinstance(params, dict) else type(params).__name__
    if got != expected:
        raise AssertionError(f"after train(), model.params holds {got}, expected the arrays {expected} that MLP(...) "
                             "creates: train() updates the model's own parameters, and predict() uses them.")
    model.params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    return model.predict(X)


@pytest.mark.points(15)
def test_trained_mlp_reaches_the_accuracy_threshold_on_held_out_mnist(submission, mnist, spec, budget, record,
                                                                        reference):
    threshold = threshold_for(spec, mnist.source)
    cfg = TRAINING[mnist.source]
    model = submission.mlp.MLP(cfg["hidden_dims"], seed=int(spec["seed"]))
    with budget.measure() as used:  # everything your code does for this result counts, prediction included
        submission.train.train(model, mnist.training_data(), update_rule="adam",
                               optim_config={"learning_rate": cfg["learning_rate"]}, epochs=cfg["epochs"],
                               batch_size=cfg["batch_size"], seed=int(spec["seed"]))
        y_pred = model.predict(mnist.X_test)
        params = model.params
    elapsed = used.seconds
    if elapsed > budget:
        raise AssertionError(
            f"training is too slow: your train() and predict() took {elapsed:.1f} s of {used.clock}, the budget is "
            f"{budget.explain()} for {cfg['epochs']} epochs of {len(mnist.y_train)} images with "
            f"hidden_dims={cfg['hidden_dims']}. Replace Python loops over rows or units with NumPy array operations."
        )
    y_pred = assert_array("model.predict(X_test)", y_pred, shape=mnist.y_test.shape,
                          hint="predict(X) returns one integer label per row of X, shape (N,).")
    agreement = float(np.mean(y_pred == reference_predictions(reference, cfg, params, mnist.X_test)))
    if agreement < AGREEMENT:
        raise AssertionError(
            f"predict() does not follow your trained network: on {len(y_pred)} test images it agrees with the "
            f"scores that model.params give through the handout's forward pass (affine - relu ... - affine, argmax) "
            f"on {agreement:.1%} of them, expected at least {AGREEMENT:.0%}. predict(X) is the argmax of "
            "self.loss(X), in eval mode, with the parameters train() left in self.params.")
    accuracy = float(np.mean(y_pred == mnist.y_test))
    record("held_out_accuracy", round(accuracy, 4))
    if not accuracy >= threshold:
        raise AssertionError(
            f"held-out accuracy is too low: got {accuracy:.3f}, expected at least {threshold:.3f} on "
            f"{len(mnist.y_test)} {mnist.source} test images (MLP({cfg['hidden_dims']}), adam, "
            f"learning_rate={cfg['learning_rate']:g}, {cfg['epochs']} epochs, trained in {elapsed:.1f} s). "
            "If your gradient checks pass, check that train() visits every batch each epoch, "
            "that it keeps the best epoch's parameters, and that predict() uses eval mode."
        )
