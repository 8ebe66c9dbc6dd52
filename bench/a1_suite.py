"""Time of the A1 hidden suite on the reference solution, and the reference's held-out accuracy.

Run: .venv/bin/python bench/a1_suite.py
With the four MNIST IDX files in $AUTOGRADER_DATA/MNIST/raw/ it also trains the reference
on full MNIST and scores it on the official 10,000-image test set.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import find_assignment
from autograder.grade import grade_one, prepare_data

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def hidden_suite() -> None:
    a1 = find_assignment("a1_mlp_numpy")
    prepare_data(a1)
    with tempfile.TemporaryDirectory() as tmp:
        result = grade_one(a1, a1.solution, Path(tmp), "reference", tests=[a1.tests / "hidden"], force=True)
    print(f"A1 hidden suite on the reference: {result.execution_time:.1f} s wall, one core "
          f"({sum(t.outcome == 'passed' for t in result.tests)} of {len(result.tests)} tests passed)")
    for t in sorted(result.tests, key=lambda t: -t.duration_s)[:3]:
        print(f"  slowest: {t.name} {t.duration_s:.2f} s")
    acc = result.metadata.get("held_out_accuracy")
    print(f"reference held-out accuracy ({result.metadata.get('dataset')}): {acc}")


def full_mnist() -> None:
    from autograder import data

    if data._mnist_idx_paths(data.data_root()) is None:
        print(f"full MNIST: not found under {data.data_root() / 'MNIST' / 'raw'}; skipped "
              "(run `autograder data --download mnist` online, or copy the four IDX files there)")
        return
    sys.path.insert(0, str(find_assignment("a1_mlp_numpy").solution))
    from mlp import MLP
    from train import train

    split = data.load_mnist(seed=0)
    start = time.perf_counter()
    model = MLP([512], reg=1e-4, seed=0)
    train(model, split.training_data(), update_rule="adam", optim_config={"learning_rate": 1e-3},
          epochs=12, batch_size=128, seed=0, patience=3)
    acc = float((model.predict(split.X_test) == split.y_test).mean())
    print(f"full MNIST, official test set: {acc:.4f} accuracy after {time.perf_counter() - start:.0f} s (target >= 0.975)")


if __name__ == "__main__":
    hidden_suite()
    full_mnist()
