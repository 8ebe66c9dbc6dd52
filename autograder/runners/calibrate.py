"""Calibrate time budgets to the runner: a fixed workload's CPU time here against the course's machine.

The workload (a small MLP's forward and backward passes in NumPy, plus a small convolutional
network in torch for torch assignments) runs single-threaded in a fresh process, as a
submission's code does, best of `REPEATS`. Its CPU seconds against the seconds the spec
records for the machine the budget was set on give the speed factor a training budget is
multiplied by; its wall seconds give the factor the wall-clock safety limits are multiplied by.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.isolation.confine import ONE_THREAD

if TYPE_CHECKING:  # the workload's process must not pay for pydantic
    from autograder.spec import AssignmentSpec

REPEATS = 3
NUMPY_STEPS = 80  # about 0.3 s of CPU on a 2.6 GHz Xeon core
TORCH_STEPS = 15
MAX_WALL_FACTOR = 10.0  # wall time lost to other load beyond this: the limits stop growing
MEASURE_TIMEOUT_S = 300.0
SPEED_OPTION = "--ag-speed-factor"


def _numpy_workload() -> None:
    """Train a 784-256-10 ReLU network on random data with plain NumPy, like an A1 training step."""
    import numpy as np

    rng = np.random.default_rng(0)
    N, D, H, C = 256, 784, 256, 10
    X, y = rng.standard_normal((N, D)), rng.integers(0, C, N)
    W1, b1 = rng.standard_normal((D, H)) * 0.01, np.zeros(H)
    W2, b2 = rng.standard_normal((H, C)) * 0.01, np.zeros(C)
    for _ in range(NUMPY_STEPS):
        h = X @ W1 + b1  # (N, H)
        a = np.maximum(h, 0)
        s = a @ W2 + b2  # (N, C)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(N), y] -= 1
        p /= N
        da = p @ W2.T
        da[h <= 0] = 0
        W2 -= 0.1 * (a.T @ p)
        b2 -= 0.1 * p.sum(axis=0)
        W1 -= 0.1 * (X.T @ da)
        b1 -= 0.1 * da.sum(axis=0)


def _torch_workload() -> None:
    """Train a small convolutional network on random images with torch on the CPU."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 16 * 16, 10),
    )  # fmt: skip
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    for _ in range(TORCH_STEPS):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _best_of(framework: str, repeats: int) -> dict[str, float]:
    """Run the workload `repeats` times in this process; return its least CPU and wall seconds."""
    if framework == "torch":
        import torch  # noqa: F401 - imported before the clock starts

    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        _numpy_workload()
        if framework == "torch":
            _torch_workload()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_s": min(cpu), "wall_s": min(wall)}


@dataclass(frozen=True)
class Workload:
    """Seconds the calibration workload took on this runner, best of several runs."""

    cpu_s: float
    wall_s: float

    def __repr__(self) -> str:
        return f"Workload(cpu_s={self.cpu_s:.3f}, wall_s={self.wall_s:.3f})"


def measure_workload(framework: str = "numpy", repeats: int = REPEATS) -> Workload:
    """Run the workload for `framework` in a fresh single-threaded process; return its best seconds.

    The process imports from the package's own root, never from the working folder (a
    submissions folder may hold a `numpy.py`).
    """
    root = str(Path(__file__).resolve().parents[2])
    code = f"import sys; sys.path[0] = {root!r}; from autograder.runners.calibrate import main; main()"
    cmd = [sys.executable, "-c", code, framework, str(repeats)]
    done = subprocess.run(
        cmd, env={**os.environ, **ONE_THREAD}, capture_output=True, text=True, timeout=MEASURE_TIMEOUT_S, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the calibration workload failed (exit code {done.returncode}): {done.stderr.strip()[-2000:]}")
    seconds = json.loads(lines[-1])
    return Workload(cpu_s=float(seconds["cpu_s"]), wall_s=float(seconds["wall_s"]))


def speed_factor(measured_s: float, reference_s: float) -> float:
    """Return how many times slower this runner is (measured / reference), never below 1."""
    return max(1.0, measured_s / reference_s)


@dataclass(frozen=True)
class Speed:
    """How much slower this runner is than the machine an assignment's budget was set on.

    `factor` multiplies the training budget (CPU time); `wall_factor` multiplies the
    wall-clock limits (`per_test_s`, `per_submission_s`), which are safety nets.
    """

    factor: float = 1.0
    wall_factor: float = 1.0
    measured: Workload | None = None
    reference_cpu_s: float | None = None
    machine: str = ""
    note: str = ""

    def limits_for(self, spec: AssignmentSpec) -> AssignmentSpec:
        """Return the spec with its wall-clock limits multiplied by `wall_factor`."""
        if self.wall_factor == 1.0:
            return spec
        limits = spec.limits.model_copy(update={
            "per_test_s": spec.limits.per_test_s * self.wall_factor,
            "per_submission_s": spec.limits.per_submission_s * self.wall_factor,
        })  # fmt: skip
        return spec.model_copy(update={"limits": limits})

    def pytest_args(self) -> tuple[str, ...]:
        """Return the referee's option that multiplies the `budget` fixture by `factor`."""
        return (SPEED_OPTION, repr(self.factor))

    def record(self, spec: AssignmentSpec) -> dict[str, Any]:
        """Return what a TA needs to see in a result: the factors, the budget before and after, the measurement."""
        limits = self.limits_for(spec).limits
        return {
            "factor": self.factor, "wall_factor": self.wall_factor,
            "budget_s": spec.budget_s(), "scaled_budget_s": round(spec.budget_s() * self.factor, 3),
            "per_test_s": round(limits.per_test_s, 3), "per_submission_s": round(limits.per_submission_s, 3),
            "workload_cpu_s": round(self.measured.cpu_s, 4) if self.measured else None,
            "workload_wall_s": round(self.measured.wall_s, 4) if self.measured else None,
            "reference_workload_cpu_s": self.reference_cpu_s, "reference_machine": self.machine, "note": self.note,
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"Speed(factor={self.factor:.3f}, wall_factor={self.wall_factor:.3f}, measured={self.measured!r})"


def speed_from(measured: Workload, reference_cpu_s: float, machine: str = "") -> Speed:
    """Return the speed of a runner whose workload took `measured` against the course machine's `reference_cpu_s`."""
    factor = round(speed_factor(measured.cpu_s, reference_cpu_s), 3)
    wall = round(max(factor, min(MAX_WALL_FACTOR, speed_factor(measured.wall_s, reference_cpu_s))), 3)
    return Speed(factor, wall, measured, reference_cpu_s, machine)


def calibrate(spec: AssignmentSpec) -> Speed:
    """Measure this runner against the machine the spec's budget was set on (factor 1 where it records none)."""
    if spec.calibration is None:
        return Speed(note="the spec records no calibration: budgets and limits are used as written")
    try:
        measured = measure_workload(spec.framework)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, subprocess.TimeoutExpired) as exc:
        sys.stderr.write(f"autograder: calibration failed, budgets are used as written: {exc}\n")
        return Speed(note=f"calibration failed, budgets are used as written: {exc}")
    return speed_from(measured, spec.calibration.workload_cpu_s, spec.calibration.machine)


def this_machine() -> str:
    """Describe this machine for the spec's `calibration.machine`: CPU model, CPUs, NumPy version."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    import numpy

    return f"{model}, {os.cpu_count()} CPUs, {platform.system()}, Python {platform.python_version()}, NumPy {numpy.__version__}"


def calibration_report(spec: AssignmentSpec, machine: str = "") -> str:
    """Measure this machine's workload for `spec` and return the spec entry to record, with the factor against the current one."""
    measured = measure_workload(spec.framework)
    lines = [
        f"# {spec.framework} workload on this machine: {measured.cpu_s:.3f} s CPU, {measured.wall_s:.3f} s wall (best of {REPEATS})",
        "calibration:",
        f"  workload_cpu_s: {measured.cpu_s:.3f}",
        f"  machine: {json.dumps(machine or this_machine())}",
    ]
    if spec.calibration is not None:
        now = speed_from(measured, spec.calibration.workload_cpu_s)
        lines.insert(1, f"# against the spec's {spec.calibration.workload_cpu_s:g} s: speed factor {now.factor:.2f}, wall factor {now.wall_factor:.2f}")
    return "\n".join(lines)


def main() -> None:
    """Print the workload's best seconds as JSON: the fresh process `measure_workload` starts."""
    print(json.dumps(_best_of(sys.argv[1], int(sys.argv[2]))))
