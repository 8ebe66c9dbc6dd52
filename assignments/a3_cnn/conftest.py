"""Fixtures for A3: the grader's image split, and the rule that conv.py uses NumPy only."""
import shutil
from pathlib import Path

import pytest

from autograder.checks import allow_only_imports, forbid_calls
from autograder.data import Split, load_cifar10
from autograder.referee.proxies import RemoteSubmission

N_TRAIN = 10_000  # CIFAR-10: a seeded subset keeps training within the budget; the offline split has 3,500
N_TEST = 2_000  # held-out images scored (the offline split has 1,000)
CONV_IMPORTS = ("numpy", "math", "functools", "itertools", "typing", "__future__", "collections", "dataclasses",
                "numbers", "operator", "warnings")
NUMPY_ONLY = ("conv.py is NumPy only: write the convolution and the pooling yourself with NumPy arrays, "
              "without torch or another library doing it for you.")


@pytest.fixture(scope="session")
def images(spec, record) -> Split:
    """Return the grader's split: CIFAR-10 from the data folder, else MNIST padded to 32x32 RGB; X_test is held out."""
    split = load_cifar10(seed=int(spec["seed"]), n_train=N_TRAIN, n_test=N_TEST)
    record("dataset", split.source)
    return split


def watch_torch():
    """Record every torch function called in this process from now until stop(); return the watch."""
    import torch

    class Watch(torch.overrides.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.calls = set()

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.calls.add(getattr(func, "__name__", None) or repr(func))
            return func(*args, **(kwargs or {}))

        def stop(self):
            self.__exit__(None, None, None)
            return sorted(self.calls)

    watch = Watch()
    watch.__enter__()
    return watch


@pytest.fixture
def numpy_only_conv(submission, tmp_path):
    """Fail a test when conv.py imports anything but NumPy and a few standard modules, or (when graded, your code
    in its own process) when your code calls torch while the test runs."""
    source = Path(submission.path) / "conv.py"
    if source.is_file():  # else the test itself reports the missing file
        shutil.copy(source, tmp_path / "conv.py")
        allow_only_imports(tmp_path, CONV_IMPORTS, hint=NUMPY_ONLY)
    if not isinstance(submission, RemoteSubmission):
        yield  # your code shares this process with the test, whose own torch calls would count: imports only
        return
    watch = submission.define(watch_torch)()
    yield
    try:
        calls = watch.stop()
    except Exception as exc:  # noqa: BLE001 - a watch that cannot stop was tampered with, or the process is gone
        calls = [f"(the torch watch could not be stopped: {type(exc).__name__})"]
    forbid_calls("while this test ran, your code", calls, hint=NUMPY_ONLY)
