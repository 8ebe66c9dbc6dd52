"""Build the A2 handout notebook, student_templates/a2_autodiff/a2_autodiff.ipynb.

Run from anywhere: ``python scripts/build_a2_notebook.py``. The notebook is
written without outputs; it imports the student's modules from its own folder,
runs top to bottom with the stubs (saying which function to write next), and
its written answers are cells tagged `written-answer` (see handout_cells.py).
"""

from pathlib import Path

import nbformat
from handout_cells import answer_cells, guard_cells, guarded, summary_cells
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "student_templates" / "a2_autodiff" / "a2_autodiff.ipynb"

CELLS = [
    new_markdown_cell(
        """# Assignment 2: automatic differentiation from scratch in NumPy

In Assignment 1 you wrote every backward pass by hand. Here you write the machine that
does it for you: a `Tensor` that remembers how it was computed, and a `backward()` that
walks that record in reverse, as PyTorch's autograd does. Then you build a small network
on top of it, with no gradient written by hand, and train it on real handwritten digits.

| file | what you write |
|---|---|
| `tensor.py` | `unbroadcast`; the operations of `Tensor` (`+ - * / ** @`, `sum`, `mean`, `reshape`, `transpose`, `exp`, `log`, `sigmoid`, `tanh`, `logsumexp`); `backward()` and `zero_grad()`; `Function.apply` and the custom op `ReLU` |
| `nn.py` | `softmax_cross_entropy`, `Linear`, `MLP`, `SGD` |
| `train.py` | `train` (minibatch SGD) and `compare_activations` (ReLU against sigmoid) |

Fill in every region marked `YOUR CODE HERE`; each stub raises `NotImplementedError` until
you do. Read the docstring at the top of `tensor.py` first: every operation follows the same
contract. The grade comes from the tests (`pytest`, `autograder check`); this notebook checks
your engine by finite differences, trains a network and compares two activations. The
questions at the end are part of the write-up.

NumPy only: importing torch, jax, autograd or scikit-learn in your modules scores 0 (this
notebook loads the digits with scikit-learn; your modules never do)."""
    ),
    new_markdown_cell("## Settings\n\nSmall enough to run in seconds on a laptop CPU."),
    new_code_cell(
        """import os

EPOCHS = int(os.environ.get("A2_EPOCHS", 20))
BATCH_SIZE = 32
LEARNING_RATE = 0.1
HIDDEN = [64]
SEED = 0"""
    ),
    new_code_cell(
        """import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

# your modules, from this folder
from nn import MLP, SGD, Linear, softmax_cross_entropy
from tensor import Function, Tensor, unbroadcast
from train import compare_activations, train

np.set_printoptions(precision=4, suppress=True)"""
    ),
    *guard_cells(),
    new_markdown_cell(
        """## Check your operations by finite differences

`numeric_grad` nudges one input value at a time by `h` and measures how the result moves:
`(f(x + h) - f(x - h)) / 2h`. Your `backward()` must agree with it to about `1e-7` in
float64; `1e-2` or more means a bug. Each check builds a small expression, reduces it to a
single number with a fixed random weighting, and compares every leaf's `grad`."""
    ),
    guarded(
        """def rel_error(a, b):
    \"\"\"Relative error of two arrays, on their norms.\"\"\"
    return np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b))


def numeric_grad(f, arrays, i, h=1e-6):
    \"\"\"Centred-difference gradient of the number f(*arrays) with respect to arrays[i].\"\"\"
    x = arrays[i]
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(*arrays)
        x[index] = old - h
        minus = f(*arrays)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def check(name, expression, *shapes, positive=False):
    \"\"\"Compare the grads backward() gives for `expression` with finite differences.\"\"\"
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(0.5, 2.0, s) if positive else rng.standard_normal(s) for s in shapes]
    weights = rng.standard_normal(expression(*[Tensor(a) for a in arrays]).shape)
    leaves = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    (expression(*leaves) * weights).sum().backward()
    value = lambda *xs: float((expression(*[Tensor(x) for x in xs]) * weights).sum().data)
    errors = [rel_error(leaf.grad, numeric_grad(value, arrays, i)) for i, leaf in enumerate(leaves)]
    print(f"{name:28s}", "  ".join(f"{e:.1e}" for e in errors))


check("a + b, b broadcast", lambda a, b: a + b, (3, 4), (4,))
check("a - b, b (3, 1)", lambda a, b: a - b, (3, 4), (3, 1))
check("a * b, b broadcast", lambda a, b: a * b, (2, 3, 4), (3, 1))
check("a / b", lambda a, b: a / b, (3, 4), (4,), positive=True)
check("-a ** 3 + a ** 0.5", lambda a: -(a**3) + a**0.5, (3, 4), positive=True)
check("a @ b", lambda a, b: a @ b, (3, 4), (4, 2))
check("batched a @ b", lambda a, b: a @ b, (2, 3, 4), (4, 2))
check("sum(axis=1)", lambda a: a.sum(axis=1), (3, 4))
check("mean(axis=0, keepdims)", lambda a: a.mean(axis=0, keepdims=True), (3, 4))
check("reshape, transpose", lambda a: a.reshape(4, 3).transpose() * a, (3, 4))
check("exp, log", lambda a: a.exp() + a.log(), (3, 4), positive=True)
check("sigmoid, tanh", lambda a: a.sigmoid() * a.tanh(), (3, 4))
check("relu", lambda a: a.relu(), (3, 4))
check("logsumexp(axis=1)", lambda a: a.logsumexp(axis=1), (3, 4))
check("shared: h * h + h, h = a*b", lambda a, b: (lambda h: h * h + h)(a * b), (3, 4), (3, 4))"""
    ),
    new_markdown_cell(
        """## A custom operation

Any operation can be written as a `Function` with its own forward and backward, which is
how your `ReLU` works. Here is `Square`; try writing `Sin` the same way and check it."""
    ),
    guarded(
        """class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


check("Square", lambda a: Square.apply(a), (3, 4))"""
    ),
    new_markdown_cell(
        """## A deep graph

A recursive walk of the graph needs one Python frame per tensor and fails past about a
thousand; yours must not."""
    ),
    guarded(
        """x = Tensor(np.array([1.5, -2.0]), requires_grad=True)
y = x
for _ in range(10_000):
    y = y * 1.0001
y.sum().backward()
print("grad", x.grad, "expected", 1.0001**10_000)"""
    ),
    new_markdown_cell(
        """## Data: handwritten digits

scikit-learn ships 1,797 real 8x8 digits, with pixel values 0..16. We scale them to
[0, 1] and keep 300 for validation."""
    ),
    guarded(
        """X, y = load_digits(return_X_y=True)
X = X / 16.0
order = np.random.default_rng(SEED).permutation(len(X))
X, y = X[order], y[order]
data = {"X_train": X[300:], "y_train": y[300:], "X_val": X[:300], "y_val": y[:300]}
for k, v in data.items():
    print(f"{k}: {v.shape}")

fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, img, label in zip(axes, data["X_train"], data["y_train"]):
    ax.imshow(img.reshape(8, 8), cmap="gray_r")
    ax.set_title(int(label))
    ax.axis("off")
plt.show()"""
    ),
    new_markdown_cell("## Train a network\n\nOne hidden layer of 64 ReLU units, plain SGD."),
    guarded(
        """model = MLP([64, *HIDDEN, 10], activation="relu", seed=SEED)
history = train(model, data, epochs=EPOCHS, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, seed=SEED)
print(f"validation accuracy after {EPOCHS} epochs: {history['val_acc'][-1]:.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
ax1.plot(history["loss"], lw=0.6)
ax1.set_xlabel("update")
ax1.set_ylabel("training loss")
epochs = np.arange(1, len(history["val_acc"]) + 1)
ax2.plot(epochs, history["train_acc"], "o-", label="train")
ax2.plot(epochs, history["val_acc"], "o-", label="validation")
ax2.set_xlabel("epoch")
ax2.set_ylabel("accuracy")
ax2.legend()
plt.show()"""
    ),
    new_markdown_cell(
        """## ReLU against sigmoid

Same data, same initial weights, same order of batches: only the activation differs."""
    ),
    guarded(
        """histories = compare_activations(data, [64, *HIDDEN, 10], epochs=EPOCHS, batch_size=BATCH_SIZE,
                                learning_rate=LEARNING_RATE, seed=SEED)


def smooth(values, k=20):
    \"\"\"Moving average over k updates, to see the trend through the minibatch noise.\"\"\"
    k = max(1, min(k, len(values)))
    return np.convolve(values, np.ones(k) / k, mode="valid")


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
for activation, h in histories.items():
    ax1.plot(smooth(h["loss"]), label=activation, lw=1)
    ax2.plot(np.arange(1, len(h["val_acc"]) + 1), h["val_acc"], "o-", label=activation)
    print(f"{activation:8s} final validation accuracy {h['val_acc'][-1]:.3f}")
ax1.set_xlabel("update")
ax1.set_ylabel("training loss (moving average)")
ax1.set_yscale("log")
ax1.legend()
ax2.set_xlabel("epoch")
ax2.set_ylabel("validation accuracy")
ax2.legend()
plt.show()"""
    ),
    *answer_cells(
        [
            (
                "a2_w1_activation_gradients",
                "Which activation lowers the loss faster early on, and which ends higher after the same number of epochs? Explain it with the size of the gradient each one passes back: what is the largest value sigmoid's derivative can take, and ReLU's?",
            ),
            (
                "a2_w2_depth",
                "Try `HIDDEN = [64, 64, 64]`. Does the gap between the two activations grow? Why would it grow with depth?",
            ),
            (
                "a2_w3_backward_order",
                "Your `backward()` visits each tensor once, after every tensor computed from it. What goes wrong with a plain depth-first recursion on the deep graph above, and what would go wrong if a tensor passed its gradient on before all of its consumers had added theirs?",
            ),
        ]
    ),
    *summary_cells(),
]


def build():
    """Return the notebook (no outputs)."""
    nb = new_notebook(cells=CELLS)
    for i, cell in enumerate(nb.cells):
        cell.id = f"a2-{i:02d}"  # stable ids: rebuilding gives the same file
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def main():
    nb = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
