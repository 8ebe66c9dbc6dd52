"""Hidden test: the submission trains with NumPy only, by source scan and with the forbidden modules blocked.

The engine already refuses a submission whose source imports a forbidden module; this test also
runs a tiny training under the import blocker, so imports hidden inside function bodies surface here.
"""
import numpy as np
import pytest

from autograder.checks import DEFAULT_FORBIDDEN, block_imports, forbid_imports


@pytest.mark.points(1)
def test_submission_uses_numpy_only(submission, spec):
    forbidden = tuple(spec.get("forbidden_imports") or DEFAULT_FORBIDDEN)
    forbid_imports(submission.path, forbidden)
    rng = np.random.default_rng(0)
    data = {"X_train": rng.standard_normal((20, 6)), "y_train": rng.integers(0, 3, size=20),
            "X_val": rng.standard_normal((10, 6)), "y_val": rng.integers(0, 3, size=10)}
    try:
        with block_imports(forbidden):  # catches imports the scan cannot see, done at run time
            model = submission.mlp.MLP([8], input_dim=6, num_classes=3)
            submission.train.train(model, data, update_rule="sgd", epochs=1, batch_size=10)
            model.predict(data["X_val"])
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in forbidden:
            raise AssertionError(str(exc)) from None
        raise
