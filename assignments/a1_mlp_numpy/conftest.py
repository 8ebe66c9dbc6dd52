"""Fixtures for A1: the grader's MNIST split."""
import pytest

from autograder.data import Split, load_mnist


@pytest.fixture(scope="session")
def mnist(spec) -> Split:
    """Return the grader's MNIST split for the spec's seed; X_test is held out from training."""
    return load_mnist(seed=int(spec["seed"]))
