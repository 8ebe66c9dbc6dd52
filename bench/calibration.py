"""The calibration's run-to-run spread: measure an assignment's speed factor N times on this machine.

Each measurement is what a batch does once: the workload, best of 3, in a fresh process.
Prints the workload's CPU and wall seconds and both factors (mean, min, max, standard
deviation and spread = (max - min) / mean) against the seconds the spec records.
Run: .venv/bin/python bench/calibration.py [N] [ASSIGNMENT]
"""

from __future__ import annotations

import statistics
import sys
import time

from autograder.course import find_assignment
from autograder.runners.calibrate import measure_workload, speed_from


def _row(name: str, values: list[float]) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    spread = (max(values) - min(values)) / mean if mean else 0.0
    return f"{name:16s} mean {mean:7.3f}  min {min(values):7.3f}  max {max(values):7.3f}  sd {sd:6.3f}  spread {spread:6.1%}"


def main(n: int = 10, assignment: str = "a1_mlp_numpy") -> None:
    spec = find_assignment(assignment).spec
    if spec.calibration is None:
        sys.exit(f"{spec.id} records no calibration; run `autograder calibrate {spec.id}` and add its entry to the spec")
    reference = spec.calibration.workload_cpu_s
    workloads, start = [], time.perf_counter()
    for _ in range(n):
        workloads.append(measure_workload(spec.framework))
    wall = time.perf_counter() - start
    speeds = [speed_from(w, reference) for w in workloads]
    raw = [w.cpu_s / reference for w in workloads]
    print(f"{spec.id} ({spec.framework}): {n} calibrations against {reference:g} s recorded on {spec.calibration.machine or 'an unnamed machine'}")
    print(_row("workload CPU s", [w.cpu_s for w in workloads]))
    print(_row("workload wall s", [w.wall_s for w in workloads]))
    print(_row("measured/spec", raw))
    print(_row("speed factor", [s.factor for s in speeds]))
    print(_row("wall factor", [s.wall_factor for s in speeds]))
    print(f"one calibration takes {wall / n:.2f} s of wall time")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10, sys.argv[2] if len(sys.argv) > 2 else "a1_mlp_numpy")
