"""Budgets calibrated to the runner: the factor's arithmetic, a 3x slower runner, a throttled grader."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from autograder.course import find_assignment
from autograder.grade import grade_batch, grade_one, prepare_data
from autograder.runners import calibrate as calibration
from autograder.runners.calibrate import MAX_WALL_FACTOR, Workload, calibrate, measure_workload, speed_factor, speed_from
from tests.conftest import FIXTURE_COURSE, REPO

RAW_BUDGET_S = 0.25
BURN_S = 0.4  # CPU seconds the submission's `mul` burns: over the raw budget, under three times it
BURNING_SUBMISSION = f"""
import time

def add(a, b):
    return a + b

def mul(a, b):
    end = time.process_time() + {BURN_S}
    while time.process_time() < end:
        pass
    return a * b
"""
BUDGET_TEST = """
def test_mul_within_the_training_budget(submission, budget):
    with budget.measure() as used:
        submission.arith.mul(3, 4)
    assert used.seconds <= budget, f"mul took {used.seconds:.2f} s, the budget is {budget.explain()}"
"""


# ---------------------------------------------------------------- the factor's arithmetic


def test_speed_factor_is_measured_over_recorded_and_never_below_one():
    assert speed_factor(0.9, 0.3) == pytest.approx(3.0)
    assert speed_factor(0.15, 0.3) == 1.0  # a faster runner keeps the instructor's budget


def test_speed_from_a_three_times_slower_runner_triples_budget_and_limits():
    speed = speed_from(Workload(cpu_s=0.9, wall_s=1.2), reference_cpu_s=0.3, machine="course box")
    assert (speed.factor, speed.wall_factor) == (3.0, 4.0)
    spec = find_assignment("a1_mlp_numpy").spec
    record = speed.record(spec)
    assert record["budget_s"] == spec.training_budget_s
    assert record["scaled_budget_s"] == pytest.approx(3 * spec.training_budget_s)
    assert record["reference_machine"] == "course box"
    limits = speed.limits_for(spec).limits
    assert (limits.per_test_s, limits.per_submission_s) == (4 * spec.limits.per_test_s, 4 * spec.limits.per_submission_s)
    assert limits.memory_mb == spec.limits.memory_mb and speed.limits_for(spec).training_budget_s == spec.training_budget_s
    assert speed.pytest_args() == ("--ag-speed-factor", "3.0")


def test_wall_factor_is_at_least_the_cpu_factor_and_what_load_adds_is_capped():
    assert speed_from(Workload(cpu_s=0.6, wall_s=0.5), 0.3).wall_factor == 2.0
    assert speed_from(Workload(cpu_s=0.3, wall_s=30.0), 0.3).wall_factor == MAX_WALL_FACTOR
    assert speed_from(Workload(cpu_s=3.6, wall_s=30.0), 0.3).wall_factor == 12.0  # never below the budget's factor


def test_an_uncalibrated_spec_keeps_its_budget_without_measuring(trivial, monkeypatch):
    monkeypatch.setattr(calibration, "measure_workload", lambda *a: pytest.fail("measured an uncalibrated spec"))
    speed = calibrate(trivial.spec)
    assert (speed.factor, speed.wall_factor, speed.measured) == (1.0, 1.0, None)
    assert speed.limits_for(trivial.spec) is trivial.spec and "no calibration" in speed.note


def test_a_failed_measurement_keeps_the_budget_and_says_why(monkeypatch):
    def broken(*args):
        raise RuntimeError("the calibration workload failed (exit code 1): boom")

    monkeypatch.setattr(calibration, "measure_workload", broken)
    speed = calibrate(find_assignment("a1_mlp_numpy").spec)
    assert speed.factor == 1.0 and "boom" in speed.note


def test_workload_runs_single_threaded_in_a_fresh_process_for_a_few_tenths_of_a_second():
    workload = measure_workload("numpy", repeats=1)
    assert 0.05 < workload.cpu_s < 5.0 and workload.wall_s > 0


def test_calibration_report_prints_the_spec_entry_and_the_factor_against_the_spec(monkeypatch):
    monkeypatch.setattr(calibration, "measure_workload", lambda *a: Workload(cpu_s=0.602, wall_s=0.7))
    spec = find_assignment("a1_mlp_numpy").spec
    report = calibration.calibration_report(spec, machine="lab box")
    entry = yaml.safe_load(report)["calibration"]
    assert entry == {"workload_cpu_s": 0.602, "machine": "lab box"}
    assert f"speed factor {0.602 / spec.calibration.workload_cpu_s:.2f}" in report


# ---------------------------------------------------------------- a three times slower runner, end to end


@pytest.fixture
def budget_course(tmp_path: Path):
    """The trivial course with a budgeted test, a `training_budget_s` of 0.25 s and a calibration to edit."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    folder = root / "assignments" / "a0_trivial"
    (folder / "tests" / "hidden" / "test_budget.py").write_text(textwrap.dedent(BUDGET_TEST), encoding="utf-8")
    (tmp_path / "burner").mkdir()
    (tmp_path / "burner" / "arith.py").write_text(textwrap.dedent(BURNING_SUBMISSION), encoding="utf-8")

    def make(workload_cpu_s: float | None):
        spec = yaml.safe_load((FIXTURE_COURSE / "assignments" / "a0_trivial" / "assignment.yaml").read_text())
        spec["training_budget_s"] = RAW_BUDGET_S
        if workload_cpu_s is not None:
            spec["calibration"] = {"workload_cpu_s": workload_cpu_s, "machine": "a machine three times faster"}
        (folder / "assignment.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
        return find_assignment("a0_trivial", root), tmp_path / "burner"

    return make


def _budget_test(result):
    return next(t for t in result.tests if t.name.endswith("test_mul_within_the_training_budget"))


def test_a_runner_three_times_slower_gets_three_times_the_budget_and_the_result_says_so(budget_course, tmp_path):
    assignment, burner = budget_course(workload_cpu_s=0.1)
    speed = speed_from(Workload(cpu_s=0.3, wall_s=0.3), assignment.spec.calibration.workload_cpu_s)
    result = grade_one(assignment, burner, tmp_path / "out", force=True, speed=speed)
    assert _budget_test(result).outcome == "passed", _budget_test(result).output
    assert result.metadata["budget"] == {"raw_s": RAW_BUDGET_S, "scaled_s": 0.75, "factor": 3.0, "clock": "CPU time"}
    calibration_record = result.metadata["calibration"]
    assert (calibration_record["factor"], calibration_record["budget_s"], calibration_record["scaled_budget_s"]) == (3.0, 0.25, 0.75)
    assert calibration_record["per_test_s"] == 3 * assignment.spec.limits.per_test_s


def test_the_same_work_on_the_course_machine_fails_its_budget_with_the_factor_in_the_message(budget_course, tmp_path):
    assignment, burner = budget_course(workload_cpu_s=None)
    result = grade_one(assignment, burner, tmp_path / "out", force=True)
    test = _budget_test(result)
    assert test.outcome == "failed"
    assert f"the budget is {RAW_BUDGET_S:g} s of CPU time ({RAW_BUDGET_S:g} s on the course's machine x 1.00" in test.output
    assert result.metadata["budget"]["factor"] == 1.0


def test_a_batch_measures_once_and_a_spec_recorded_three_times_faster_triples_the_budget(budget_course, tmp_path, monkeypatch):
    here = measure_workload("numpy").cpu_s
    assignment, burner = budget_course(workload_cpu_s=here / 3)  # the instructor's machine was 3x faster
    calls = []
    real = calibration.measure_workload
    monkeypatch.setattr(calibration, "measure_workload", lambda *a: calls.append(a) or real(*a))
    sources = [burner, burner.parent / "second"]
    shutil.copytree(burner, sources[1])
    results = grade_batch(assignment, sources, tmp_path / "out", workers=2, force=True)
    assert len(calls) == 1
    for result in results:
        assert _budget_test(result).outcome == "passed", _budget_test(result).output
        budget = result.metadata["budget"]
        assert 2.0 < budget["factor"] < 4.5  # measured: 3 up to this machine's run-to-run noise
        assert budget["scaled_s"] == pytest.approx(RAW_BUDGET_S * budget["factor"], abs=1e-3)
        assert result.metadata["calibration"]["factor"] == budget["factor"]


# ---------------------------------------------------------------- a throttled grader

CPU_V1 = Path("/sys/fs/cgroup/cpu")
QUOTA_PERCENT = 30
GRADE_A1 = """
import json, sys
from pathlib import Path
from autograder.course import find_assignment
from autograder.grade import grade_batch
a = find_assignment("a1_mlp_numpy")
r = grade_batch(a, [a.solution], Path(sys.argv[1]), force=True)[0]
print(json.dumps({"score": r.score, "max_score": r.max_score, "status": r.status, "metadata": r.metadata,
                  "failed": {t.name: t.output for t in r.tests if t.outcome != "passed"}}))
"""


def _enter(group: Path, cpu: int):
    """Return a pre-exec hook that moves the new process into `group` and onto one CPU."""

    def hook() -> None:
        (group / "cgroup.procs").write_text(str(os.getpid()))
        os.sched_setaffinity(0, {cpu})

    return hook


@pytest.fixture
def throttled_group():
    """A cgroup v1 CPU group limited to 30 % of one core; skipped where it cannot be made."""
    if os.geteuid() != 0:
        pytest.skip("throttling the grader needs root, to write a cgroup v1 cpu.cfs_quota_us")
    group = CPU_V1 / f"autograder-throttle-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text(str(QUOTA_PERCENT * 1000))
    except OSError as exc:
        if group.is_dir():
            group.rmdir()
        pytest.skip(f"cannot make a cgroup v1 CPU group with a quota at {group}: {exc}")
    yield group
    for _ in range(100):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


@pytest.mark.slow
def test_correct_a1_scores_full_marks_with_the_grader_at_30_percent_of_a_core_beside_a_busy_loop(throttled_group, tmp_path):
    prepare_data(find_assignment("a1_mlp_numpy"))  # the dataset cache is built before the throttle
    cpu = min(os.sched_getaffinity(0))
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=_enter(throttled_group, cpu))
    try:
        done = subprocess.run(
            [sys.executable, "-c", GRADE_A1, str(tmp_path / "out")], preexec_fn=_enter(throttled_group, cpu),
            capture_output=True, text=True, timeout=110, cwd=REPO,
        )  # fmt: skip
    finally:
        hog.kill()
        hog.wait()
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["status"], result["score"], result["max_score"], result["failed"]) == ("graded", 100.0, 100.0, {})
    calibration_record, budget = result["metadata"]["calibration"], result["metadata"]["budget"]
    assert calibration_record["wall_factor"] > 2.0, calibration_record  # the throttle is seen, and the wall limits grow
    assert budget["factor"] == calibration_record["factor"] >= 1.0 and budget["clock"] == "CPU time"
