"""Fixtures for A2: the grader's digits split, PyTorch as the referee's reference, and `graph`,
which builds an expression from your Tensor class, backpropagates and returns plain values."""
import functools
import importlib

import numpy as np
import pytest

from autograder.checks import assert_array, assert_close
from autograder.data import Split

DIGITS_TEST_SEED = 20_240_202  # fixed: the held-out test rows are the same for every seed
DIGITS_SIZES = {"test": 497, "val": 200}  # the other 1,100 rows are for training


def import_for_the_grader(name):
    """Import a module the tests use and a submission may not (torch, sklearn).

    When grading, your code runs in another process. Where it runs in this same process
    instead (the tests run by hand), the blocker of forbidden imports refuses only imports
    made with your code on the stack, so the tests' own torch may import parts of itself.
    """
    return importlib.import_module(name)


@pytest.fixture(scope="session")
def torch():
    """PyTorch, imported on first use: the referee's reference for gradients, never the submission's."""
    return import_for_the_grader("torch")


@pytest.fixture(scope="session")
def digits(spec, record) -> Split:
    """Return scikit-learn's 8x8 digits scaled to [0, 1]: 1,100 train, 200 val, 497 held-out test rows."""
    datasets = import_for_the_grader("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    X, y = X.astype(np.float64) / 16.0, y.astype(np.int64)
    order = np.random.default_rng(DIGITS_TEST_SEED).permutation(len(X))
    test, rest = order[: DIGITS_SIZES["test"]], order[DIGITS_SIZES["test"] :]
    rest = rest[np.random.default_rng(int(spec["seed"])).permutation(len(rest))]
    val, train = rest[: DIGITS_SIZES["val"]], rest[DIGITS_SIZES["val"] :]
    record("dataset", "digits")
    return Split(X[train], y[train], X[val], y[val], X[test], y[test], source="digits", seed=int(spec["seed"]))


def evaluate_graph(Tensor, expression, arrays, requires_grad, grad, names, strict):
    """Build `expression` (a lambda's source) on new leaf Tensors, backpropagate `grad`, return plain values.

    With `strict`, overflow, division by zero and invalid values raise instead of warning.
    """
    leaves = [Tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad, strict=True)]
    errors = "raise" if strict else "warn"
    try:
        with np.errstate(over=errors, divide=errors, invalid=errors):
            out = eval(expression, {"np": np, **names})(*leaves)
            if not isinstance(out, Tensor):
                return {"problem": f"`{expression}` returned {type(out).__name__}, expected a Tensor. "
                                   "Return a Tensor from every operation, as the docstring says"}
            data = out.data.copy() if isinstance(out.data, np.ndarray) else out.data
            out.backward(grad)
    except FloatingPointError as error:
        return {"problem": f"`{expression}` overflowed: NumPy reports `{error}` in the forward or backward pass, "
                           "which a float64 computation of these values does not need"}
    return {"out": data, "grads": [t.grad for t in leaves], "requires_grad": out.requires_grad}


class Graph:
    """Runs expressions on the submission's Tensor class in the submission's process (see `evaluate_graph`)."""

    def __init__(self, submission):
        self.submission = submission
        self.helper = None

    def __call__(self, expression, arrays, grad=None, requires_grad=None, names=None, strict=False, hint=""):
        """Return {"out", "grads", "requires_grad"} for `expression` applied to leaves made from `arrays`."""
        if self.helper is None:
            self.helper = self.submission.define(evaluate_graph)
        arrays = [np.array(a, dtype=np.float64) for a in arrays]
        requires_grad = [True] * len(arrays) if requires_grad is None else list(requires_grad)
        grad = None if grad is None else np.array(grad, dtype=np.float64)
        result = self.helper(self.submission.tensor.Tensor, expression, arrays, requires_grad, grad, names or {}, strict)
        if "problem" in result:
            raise AssertionError(f"{result['problem']}. {hint}".rstrip())
        return result


@pytest.fixture
def graph(submission):
    """`graph(expression, arrays, grad=None)`: evaluate and backpropagate with the submission's Tensor."""
    return Graph(submission)


def _check_graph(result, expected_out, expected_grads, what, names=None, tol=1e-6, hint="", against="the expected values"):
    """Compare a `graph` result with the expected output and gradients (None where no gradient is expected)."""
    names = names or [f"leaf {i}" for i in range(len(expected_grads))]
    out = assert_array(f"the output of {what}", result["out"], shape=np.shape(expected_out))
    assert_close(f"the output of {what}", out, expected_out, tol=tol, atol=1e-10, hint=hint, against=against)
    grads = result["grads"]
    for name, got, want in zip(names, grads, expected_grads, strict=True):
        if want is None:
            if got is not None:
                raise AssertionError(f"`{name}.grad` in {what} is set, expected None: {name} was made with "
                                     "requires_grad=False, or the output does not depend on it, so backward() "
                                     "must leave its grad alone.")
            continue
        got = assert_array(f"{name}.grad in {what}", got, shape=np.shape(want), dtype_kind="f",
                           hint="A gradient has the shape of its tensor: sum it back over broadcast axes.")
        assert_close(f"{name}.grad in {what}", got, want, tol=tol, atol=1e-10, hint=hint, against=against)


def _torch_graph(torch, fn, arrays, grad=None, requires_grad=None):
    """Return (out, grads) of fn on float64 torch leaves, the reference for `graph`; None for leaves without grad."""
    requires_grad = [True] * len(arrays) if requires_grad is None else requires_grad
    leaves = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=r) for a, r in zip(arrays, requires_grad, strict=True)]
    out = fn(*leaves)
    out.backward(torch.ones_like(out) if grad is None else torch.tensor(np.asarray(grad, dtype=np.float64)))
    grads = [t.grad.numpy() if r else None for t, r in zip(leaves, requires_grad, strict=True)]
    return out.detach().numpy(), grads


@pytest.fixture(scope="session")
def check_graph():
    """`check_graph(result, expected_out, expected_grads, what, names)`: compare a `graph` result, output first."""
    return _check_graph


@pytest.fixture(scope="session")
def torch_graph(torch):
    """`torch_graph(fn, arrays, grad=None, requires_grad=None)`: the same expression on float64 torch tensors."""
    return functools.partial(_torch_graph, torch)
