"""Fixtures for A3: the grader's image split, and the rule that conv.py uses NumPy only."""
import shutil
from pathlib import Path

import pytest

from autograder.checks import forbid_imports
from autograder.data import Split, load_cifar10

N_TRAIN = 10_000  # CIFAR-10: a seeded subset keeps training within the budget; the offline split has 3,500
N_TEST = 2_000  # held-out images scored (the offline split has 1,000)
NOT_NUMPY = ("torch", "jax", "tensorflow", "keras", "scipy", "cupy", "sklearn")


@pytest.fixture(scope="session")
def images(spec, record) -> Split:
    """Return the grader's split: CIFAR-10 from the data folder, else MNIST padded to 32x32 RGB; X_test is held out."""
    split = load_cifar10(seed=int(spec["seed"]), n_train=N_TRAIN, n_test=N_TEST)
    record("dataset", split.source)
    return split


@pytest.fixture
def numpy_only_conv(submission, tmp_path):
    """Fail a test when conv.py imports a library that would do the convolution for you."""
    source = Path(submission.path) / "conv.py"
    if not source.is_file():
        return  # the test itself reports the missing file
    shutil.copy(source, tmp_path / "conv.py")
    forbid_imports(tmp_path, NOT_NUMPY, hint="conv.py is NumPy only: write the convolution and the pooling yourself "
                                             "with NumPy arrays and remove the import.")
