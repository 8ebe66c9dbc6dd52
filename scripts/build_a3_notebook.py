"""Build the A3 handout notebook, student_templates/a3_cnn/a3_cnn.ipynb.

Run from anywhere: ``python scripts/build_a3_notebook.py``. The notebook is
written without outputs; it imports the student's modules from its own folder,
runs top to bottom with the stubs (saying which function to write next), and
its written answers are cells tagged `written-answer` (see handout_cells.py).
"""

from pathlib import Path

import nbformat
from handout_cells import answer_cells, guard_cells, guarded, summary_cells
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parent.parent / "student_templates" / "a3_cnn" / "a3_cnn.ipynb"

CELLS = [
    new_markdown_cell(
        """# Assignment 3: convolutional networks, by hand and in PyTorch

First you write a convolution and max pooling yourself, with NumPy, forward and
backward. Then you build a small convolutional network in PyTorch, train it on
CIFAR-10 (or, where CIFAR-10 is not on disk, on MNIST digits padded to 32x32 RGB),
and compare SGD with Adam.

| file | what you write |
|---|---|
| `conv.py` | `conv_output_size`, `conv_forward` / `conv_backward`, `maxpool_forward` / `maxpool_backward` (NumPy only) |
| `model.py` | `SmallCNN`: conv-BN-ReLU blocks, global max or mean pooling, dropout, a linear classifier |
| `train.py` | `make_optimizer`, `augment_batch`, `evaluate`, `train` (under a time budget), `compare_optimizers` |

Fill in every region marked `YOUR CODE HERE`; each stub raises
`NotImplementedError` until you do. The grade comes from the tests (`pytest`,
`autograder check`), not from this notebook; the questions at the end are part
of the write-up.

Conventions (as in CS231n and PyTorch): images are `(N, C, H, W)`; a forward
function returns `(out, cache)`, a backward function takes `(dout, cache)`."""
    ),
    new_markdown_cell("## Settings\n\nSmall enough for a laptop CPU. Raise them once everything works."),
    new_code_cell(
        """import os

EPOCHS = int(os.environ.get("A3_EPOCHS", 3))
N_TRAIN = int(os.environ.get("A3_N_TRAIN", 5000))
BATCH_SIZE = 64
SEED = 0"""
    ),
    new_code_cell(
        """import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

# your modules, from this folder
from conv import conv_backward, conv_forward, conv_output_size, maxpool_backward, maxpool_forward
from model import SmallCNN, count_parameters
from train import augment_batch, compare_optimizers, evaluate, train

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
np.set_printoptions(precision=4, suppress=True)
print("device:", DEVICE)"""
    ),
    *guard_cells(),
    new_markdown_cell(
        """## 1. Convolution and max pooling by hand

`torch.nn.functional` computes the same layers; in float64 your values should
agree to about `1e-12`. A numerical gradient, the centred difference
`(f(x + h) - f(x - h)) / 2h`, checks the backward passes one entry at a time."""
    ),
    guarded(
        """rng = np.random.default_rng(SEED)
x = rng.standard_normal((2, 3, 7, 6))
w = rng.standard_normal((4, 3, 3, 3))
b = rng.standard_normal(4)
conv_param = {"stride": 2, "pad": 1}
print("output size:", conv_output_size(7, 3, 2, 1), conv_output_size(6, 3, 2, 1))  # 4 3

out, cache = conv_forward(x, w, b, conv_param)
xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
out_t = F.conv2d(xt, wt, bt, stride=2, padding=1)
print("forward, max difference to torch:", np.abs(out - out_t.detach().numpy()).max())

dout = rng.standard_normal(out.shape)
dx, dw, db = conv_backward(dout, cache)
out_t.backward(torch.tensor(dout))
for name, mine, theirs in (("dx", dx, xt.grad), ("dw", dw, wt.grad), ("db", db, bt.grad)):
    print(f"{name}, max difference to torch:", np.abs(mine - theirs.numpy()).max())"""
    ),
    guarded(
        """def numeric_grad(f, x, h=1e-6):
    \"\"\"Centred-difference gradient of the scalar function f() with respect to x (changed in place).\"\"\"
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


f = lambda: np.sum(conv_forward(x, w, b, conv_param)[0] * dout)
print("conv dx vs numeric:", np.abs(dx - numeric_grad(f, x)).max())
print("conv dw vs numeric:", np.abs(dw - numeric_grad(f, w)).max())

pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2, "pad": 1}  # overlapping windows
pooled, pool_cache = maxpool_forward(x, pool_param)
dpool = rng.standard_normal(pooled.shape)
g = lambda: np.sum(maxpool_forward(x, pool_param)[0] * dpool)
print("max pool dx vs numeric:", np.abs(maxpool_backward(dpool, pool_cache) - numeric_grad(g, x)).max())"""
    ),
    new_markdown_cell(
        """## 2. Data

`autograder.data.load_cifar10` reads CIFAR-10 from the course's data folder
(`AUTOGRADER_DATA`, torchvision's `cifar-10-batches-py`). Where it is absent it
gives MNIST digits padded to 32x32 and repeated in three channels: the same
shapes, an easier problem."""
    ),
    guarded(
        """from autograder.data import load_cifar10

split = load_cifar10(seed=SEED, n_train=N_TRAIN)
print(split)
data = {key: torch.from_numpy(value) for key, value in split.training_data().items()}
X_test, y_test = torch.from_numpy(split.X_test), torch.from_numpy(split.y_test)

g = torch.Generator().manual_seed(SEED)
shown = data["X_train"][:8]
fig, axes = plt.subplots(2, 8, figsize=(10, 2.8))
for ax, img in zip(axes[0], shown):
    ax.imshow(img.permute(1, 2, 0).numpy())
    ax.axis("off")
for ax, img in zip(axes[1], augment_batch(shown, g)):  # flipped and shifted copies
    ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy())
    ax.axis("off")
axes[0, 0].set_title("images", loc="left")
axes[1, 0].set_title("augmented", loc="left")
plt.show()"""
    ),
    new_markdown_cell(
        """## 3. The network

Global pooling makes the classifier independent of the image size: the same
network maps 24x24, 28x28, 32x32 and 40x40 images to ten scores."""
    ),
    guarded(
        """torch.manual_seed(SEED)
model = SmallCNN(pool="max")
print(f"SmallCNN: {count_parameters(model):,} parameters")
model.eval()
for size in (24, 28, 32, 40):
    print(size, "->", tuple(model(torch.randn(2, 3, size, size)).shape))"""
    ),
    new_markdown_cell(
        """## 4. Training

`train` returns a history of plain lists. The budget (seconds) stops a run that
would take too long; the grader gives your `train` one, so make sure it is
respected."""
    ),
    guarded(
        """torch.manual_seed(SEED)
model = SmallCNN(pool="max")
history = train(model, data, optimizer="adam", lr=3e-3, weight_decay=1e-4, augment=False, epochs=EPOCHS,
                batch_size=BATCH_SIZE, budget=300, device=DEVICE, seed=SEED)
print(f"{history['epochs_run']} epochs in {history['seconds']:.1f} s; validation accuracy {history['val_acc']}")
print(f"held-out accuracy: {evaluate(model, X_test, y_test, device=DEVICE):.3f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
ax1.plot(history["loss"], lw=0.8)
ax1.set_xlabel("update")
ax1.set_ylabel("training loss")
epochs = np.arange(1, history["epochs_run"] + 1)
ax2.plot(epochs, history["train_acc"], "o-", label="train")
ax2.plot(epochs, history["val_acc"], "o-", label="validation")
ax2.set_xlabel("epoch")
ax2.set_ylabel("accuracy")
ax2.legend()
plt.show()"""
    ),
    new_markdown_cell(
        """### Resolutions the network never saw

The test images framed by zeros (40x40), cropped (28x28) and resized (24x24)."""
    ),
    guarded(
        """variants = {
    "32x32 (trained)": X_test,
    "40x40, framed by zeros": F.pad(X_test, (4, 4, 4, 4)),
    "28x28, centre crop": X_test[:, :, 2:30, 2:30],
    "24x24, resized": F.interpolate(X_test, size=24, mode="bilinear", align_corners=False),
}
for name, images in variants.items():
    print(f"{name:24s} accuracy {evaluate(model, images, y_test, device=DEVICE):.3f}")"""
    ),
    new_markdown_cell(
        """## 5. SGD against Adam

The same network, the same initial weights, the same batches; each optimizer
with a learning rate in its usual range."""
    ),
    guarded(
        """LRS = {"sgd": 0.05, "adam": 0.002}
histories = compare_optimizers(data, lrs=LRS, model_kwargs={"pool": "max"}, epochs=EPOCHS, batch_size=BATCH_SIZE,
                               device=DEVICE, seed=SEED)


def smooth(values, k=20):
    \"\"\"Moving average over k updates, to see the trend through the minibatch noise.\"\"\"
    k = max(1, min(k, len(values)))
    return np.convolve(values, np.ones(k) / k, mode="valid")


fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.5))
for name, h in histories.items():
    ax1.plot(smooth(h["loss"]), label=f"{name} (lr {LRS[name]:g})", lw=1)
    ax2.plot(np.arange(1, h["epochs_run"] + 1), h["val_acc"], "o-", label=name)
ax1.set_xlabel("update")
ax1.set_ylabel("training loss (moving average)")
ax1.legend()
ax2.set_xlabel("epoch")
ax2.set_ylabel("validation accuracy")
ax2.legend()
plt.show()"""
    ),
    *answer_cells(
        [
            (
                "a3_w1_optimizers",
                "Which optimizer lowers the training loss faster at first, and which one is ahead after the last epoch? Try two other learning rates for each: how sensitive is each optimizer to its learning rate?",
            ),
            (
                "a3_w2_pooling",
                'Train with `pool="mean"` instead of `"max"` and compare the accuracy on the 40x40 framed images. Why does the zero frame hurt one pooling more than the other?',
            ),
            (
                "a3_w3_augmentation",
                "Train with `augment=True`. What changes in the gap between training and validation accuracy, and why?",
            ),
            (
                "a3_w4_speed",
                "Your `conv_forward` and `F.conv2d` compute the same numbers. Time both on a batch of 64 CIFAR-sized images: where does the difference come from?",
            ),
        ]
    ),
    *summary_cells(),
]


def build():
    """Return the notebook (no outputs)."""
    nb = new_notebook(cells=CELLS)
    for i, cell in enumerate(nb.cells):
        cell.id = f"a3-{i:02d}"  # stable ids: rebuilding gives the same file
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
