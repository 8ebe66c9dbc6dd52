"""Fixtures for A1: the grader's MNIST split."""
import pytest

from autograder.data import Split, load_mnist


@pytest.fixture(scope="session")
def mnist(spec, record) -> Split:
    """Return the grader's MNIST split for the spec's seed; X_test is held out from training."""
    split = load_mnist(seed=int(spec["seed"]))
    record("dataset", split.source)
    return split
