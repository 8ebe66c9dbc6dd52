"""Load and validate an assignment spec (`assignment.yaml`) into an `AssignmentSpec`."""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SPEC_FILENAME = "assignment.yaml"


class SpecError(ValueError):
    """An assignment spec is missing or malformed; the message names the file and field."""


class Question(BaseModel):
    """A graded question: a title, its points, and the tests that make it up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Short identifier, used as the gradebook column (e.g. `q1_layers`).")
    title: str = Field(description="Human-readable title shown to students and TAs.")
    points: float = Field(
        ge=0,
        description="Points for the question; must equal the sum of its tests' `points` markers.",
    )
    tests: list[str] = Field(
        min_length=1,
        description=(
            "Glob patterns over test ids relative to the assignment's `tests/` folder, "
            "e.g. `hidden/test_layers.py::test_affine_*`. A test belongs to the first question that matches."
        ),
    )

    covers: list[str] = Field(
        default_factory=list,
        description=(
            "What the question grades, for the strength report: student files or `file.py::function` patterns "
            "(e.g. `layers.py::*_backward`). Empty: the student files whose stem appears in `tests`."
        ),
    )

    def matches(self, test_id: str) -> bool:
        """Return whether a test id belongs to this question."""
        return any(fnmatch.fnmatchcase(test_id, pattern) for pattern in self.tests)


class Limits(BaseModel):
    """Time and resource limits for one submission's grading run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_test_s: float = Field(default=60.0, gt=0, description="Wall-clock seconds one test may take.")
    per_submission_s: float = Field(
        default=600.0, gt=0, description="Wall-clock seconds the whole grading run of one submission may take."
    )
    memory_mb: int = Field(
        default=4096, gt=0,
        description="Memory of the submission process, in MiB: its data (rlimit) and, where control groups exist, every page it touches, shared memory included.",
    )
    referee_memory_mb: int = Field(
        default=2048, gt=0,
        description="Data memory of the referee (tests, reference, data), in MiB; a submission's replies cannot take it past this.",
    )
    max_processes: int = Field(default=64, gt=0, description="Processes and threads the submission may run at once.")


class Probe(BaseModel):
    """A degenerate answer of the right shape that must earn (near) nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["zeros", "ones", "random", "constant", "inert"] = Field(
        description=(
            "What the degraded functions return: zeros, ones or random values of the right shape; `constant`: a "
            "constant loss (log 10) with zero gradients; `inert`: the right values, but nothing they are given is "
            "changed (a `train` that returns a plausible history without training the model)."
        )
    )
    functions: list[str] = Field(
        default=["*"], description="`file.py::function` patterns of the student functions to degrade (default: all of them)."
    )
    description: str = Field(default="", description="What the probe imitates, for the report.")


DEFAULT_PROBES = [
    Probe(kind="zeros", description="every student function returns zeros of the right shape"),
    Probe(kind="ones", description="every student function returns ones of the right shape"),
    Probe(kind="random", description="every student function returns random values of the right shape"),
    Probe(kind="constant", description="a constant loss with zero gradients everywhere"),
]


class Strength(BaseModel):
    """What `autograder strength` requires of an assignment's tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    goal: float = Field(
        default=0.9, ge=0, le=1,
        description="Least mutation score (killed / non-equivalent mutants) `validate --strength` accepts.",
    )
    probe_max_fraction: float = Field(
        default=0.05, ge=0, le=1,
        description="Most a degenerate answer (zeros, ones, random values, no training) may earn, as a fraction of the points.",
    )
    probes: list[Probe] = Field(
        default_factory=lambda: list(DEFAULT_PROBES),
        description="Degenerate answers to try; each must earn at most `probe_max_fraction` of the questions it touches.",
    )
    timeout_factor: float = Field(
        default=4.0, gt=1,
        description="A mutant's grading run may take this many times the solution's before it counts as killed by timeout.",
    )


Device = Literal["cpu", "gpu"]


class PerDevice(BaseModel):
    """A value that differs between CPU and GPU runners: `{cpu: 20, gpu: 8}` (`gpu` defaults to `cpu`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: float = Field(description="The value on a runner without a GPU (or where the spec allows none).")
    gpu: float | None = Field(default=None, description="The value where the tests run on CUDA; the `cpu` value when absent.")

    def on(self, device: str) -> float:
        """Return the value for `device` (`cpu`, or `gpu`/`cuda`)."""
        return self.cpu if device == "cpu" or self.gpu is None else self.gpu


def per_device(value: float | PerDevice, device: str) -> float:
    """Return a spec value for `device`, whether it was written as one number or per device."""
    return value.on(device) if isinstance(value, PerDevice) else float(value)


class Calibration(BaseModel):
    """The calibration workload's time on the machine an assignment's budgets were set on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload_cpu_s: float = Field(
        gt=0,
        description=(
            "CPU seconds of the calibration workload on that machine, as `autograder calibrate` prints them; "
            "a runner where it takes longer multiplies `training_budget_s` (and the wall-clock limits) to match."
        ),
    )
    machine: str = Field(default="", description="Free text naming that machine (CPU model, cores, library versions).")


class LatePenalty(BaseModel):
    """What a late submission loses: a fraction of its earned score per day late, and the day after which it earns 0."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_day: float = Field(
        gt=0, le=1,
        description=(
            "Fraction of the earned score taken off per day late, days counted up from `due` (1 hour late is 1 day): "
            "0.1 takes 10% a day."
        ),
    )
    max_days: int | None = Field(
        default=None, ge=0,
        description="Days late accepted; a submission later than this earns 0. Absent: the penalty grows until it reaches 100%.",
    )


class AssignmentSpec(BaseModel):
    """Everything the engine needs to know about one assignment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^a\d+_[a-z0-9_]+$", description="Short ordered id, e.g. `a1_mlp_numpy`.")
    title: str = Field(description="Title shown in handouts and reports.")
    version: str = Field(
        description="Version of the assignment; a change invalidates earlier grading results for resuming."
    )
    framework: Literal["numpy", "torch"] = Field(
        description="`numpy` assignments never import torch while grading; `torch` ones preload it once."
    )
    student_files: list[str] = Field(
        min_length=1, description="Module files the student edits and submits, e.g. `layers.py`."
    )
    questions: list[Question] = Field(min_length=1, description="Questions, in the order shown to students.")
    weight_files: list[str] = Field(
        default_factory=list,
        description=(
            "Trained-weights files a submission may include beside its modules, e.g. `model.pt` (torch assignments "
            "only): staged with the modules; tests load them with the `weights` fixture (weights_only, checked)."
        ),
    )
    max_weights_mb: int = Field(
        default=50, gt=0, le=50,
        description="Largest weights file accepted, in MiB (at most 50, the intake's cap on any file); a larger one is left out with a note.",
    )
    limits: Limits = Field(default_factory=Limits, description="Per-test and per-submission limits.")
    training_budget_s: float | PerDevice = Field(
        default=30.0,
        description=(
            "Seconds a training run in an accuracy test is allowed (the `budget` fixture): one number, "
            "or `{cpu: 20, gpu: 8}`. CPU time on a CPU, wall time on a GPU."
        ),
    )
    devices: list[Device] = Field(
        default_factory=lambda: ["cpu"],
        description=(
            "Where the tests may run: `[cpu]`, or `[cpu, gpu]` to let the `device` fixture be `cuda` on a runner "
            "with a GPU (torch assignments only). The same suite must pass on both."
        ),
    )
    seed: int = Field(default=0, description="Base seed for the `rng` fixture and for data splits.")
    datasets: list[Literal["mnist", "cifar10", "digits", "toy_sequences"]] = Field(
        default_factory=list, description="Datasets the tests use; `autograder data` reports on them."
    )
    thresholds: dict[str, float | PerDevice] = Field(
        default_factory=dict,
        description=(
            "Minimum held-out accuracy per dataset source, e.g. `mnist-offline: 0.9`, `cifar10: {cpu: 0.55, gpu: 0.7}` "
            "(the `threshold` fixture picks the one for the data and device in use)."
        ),
    )
    forbidden_imports: list[str] = Field(
        default_factory=list,
        description="Top-level modules a submission may not import (checked by source scan and at import time).",
    )
    strength: Strength = Field(default_factory=Strength, description="Goals of the mutation analysis of the tests.")
    public_visibility: Literal["visible", "after_due_date", "after_published", "hidden"] = Field(
        default="visible", description="Gradescope visibility of tests under `tests/public/`."
    )
    hidden_visibility: Literal["visible", "after_due_date", "after_published", "hidden"] = Field(
        default="after_published", description="Gradescope visibility of tests under `tests/hidden/`."
    )
    due: dt.datetime | None = Field(
        default=None,
        description=(
            "Due date and time, ISO 8601 with a time zone (`2026-03-01T23:59:00-05:00`, or `...Z` for UTC); a "
            "submission's time comes from the LMS download. Absent: no submission is late."
        ),
    )
    grace_minutes: float = Field(
        default=0.0, ge=0, description="Minutes after `due` during which a submission still counts as on time."
    )
    late_penalty: LatePenalty | None = Field(
        default=None,
        description=(
            "What a late submission loses, e.g. `{per_day: 0.1, max_days: 5}`: 10% of its earned score per day late, "
            "0 after 5 days. Absent: late submissions are marked late and lose nothing."
        ),
    )
    calibration: Calibration | None = Field(
        default=None,
        description=(
            "The calibration workload's time on the machine the budgets were set on; without it, budgets and "
            "limits are used as written on every runner."
        ),
    )

    @field_validator("student_files")
    @classmethod
    def _python_files(cls, files: list[str]) -> list[str]:
        bad = [f for f in files if not f.endswith(".py") or "/" in f]
        if bad:
            raise ValueError(f"student files must be plain `name.py` file names, got {bad}")
        return files

    @field_validator("weight_files")
    @classmethod
    def _weight_file_names(cls, files: list[str]) -> list[str]:
        bad = [f for f in files if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.(pt|pth)", f)]
        if bad:
            raise ValueError(f"weight files must be plain file names ending in .pt or .pth (no folders), got {bad}")
        if len(set(files)) != len(files):
            raise ValueError(f"weight files must be unique, got {files}")
        return files

    @field_validator("thresholds")
    @classmethod
    def _fractions(cls, thresholds: dict[str, float | PerDevice]) -> dict[str, float | PerDevice]:
        def values(v: float | PerDevice) -> list[float]:
            return [v.cpu, *([v.gpu] if v.gpu is not None else [])] if isinstance(v, PerDevice) else [v]

        bad = {k: v for k, v in thresholds.items() if not all(0.0 <= x <= 1.0 for x in values(v))}
        if bad:
            raise ValueError(f"thresholds are accuracies between 0 and 1, got {bad}")
        return thresholds

    @field_validator("training_budget_s")
    @classmethod
    def _positive_budget(cls, value: float | PerDevice) -> float | PerDevice:
        seconds = [value.cpu, value.gpu] if isinstance(value, PerDevice) else [value]
        if any(s is not None and s <= 0 for s in seconds):
            raise ValueError(f"a training budget is a positive number of seconds, got {value}")
        return value

    @model_validator(mode="after")
    def _gpu_needs_torch(self) -> AssignmentSpec:
        if "gpu" in self.devices and self.framework != "torch":
            raise ValueError("`devices` lists gpu, but only a torch assignment can run on a GPU; remove gpu or set framework: torch")
        if "cpu" not in self.devices:
            raise ValueError("`devices` must list cpu: every suite must pass on a runner without a GPU (CI has none)")
        return self

    @model_validator(mode="after")
    def _weights_need_torch(self) -> AssignmentSpec:
        if self.weight_files and self.framework != "torch":
            raise ValueError("`weight_files` are loaded with torch: set framework: torch, or remove weight_files")
        return self

    @field_validator("due")
    @classmethod
    def _due_has_a_time_zone(cls, due: dt.datetime | None) -> dt.datetime | None:
        if due is not None and due.utcoffset() is None:
            raise ValueError(
                f"`due` needs a time zone, got {due.isoformat()}; write it as {due.isoformat()}-05:00 (your offset from UTC) or {due.isoformat()}Z"
            )
        return due

    @model_validator(mode="after")
    def _late_rules_need_a_due_date(self) -> AssignmentSpec:
        if self.due is None and (self.late_penalty is not None or self.grace_minutes):
            raise ValueError("`late_penalty` and `grace_minutes` count from `due`: set `due` (ISO 8601 with a time zone), or remove them")
        return self

    @model_validator(mode="after")
    def _unique_question_ids(self) -> AssignmentSpec:
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"question ids must be unique, repeated: {dupes}")
        return self

    @property
    def modules(self) -> list[str]:
        """Return the student module names (file names without `.py`)."""
        return [f[:-3] for f in self.student_files]

    @property
    def max_points(self) -> float:
        """Return the total points of the assignment."""
        return sum(q.points for q in self.questions)

    def budget_s(self, device: str = "cpu") -> float:
        """Return the training budget, in seconds, on `device`."""
        return per_device(self.training_budget_s, device)

    def threshold(self, source: str, device: str = "cpu") -> float | None:
        """Return the accuracy threshold for the data `source` on `device`, or None when the spec sets none."""
        return per_device(self.thresholds[source], device) if source in self.thresholds else None

    def question_for(self, test_id: str) -> Question | None:
        """Return the first question whose patterns match a test id, or None."""
        return next((q for q in self.questions if q.matches(test_id)), None)


def _format_errors(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: the assignment spec is invalid ({err.error_count()} problem(s)):"]
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  - field `{where}`: {e['msg']}")
    fields = ", ".join(AssignmentSpec.model_fields)
    lines.append(f"Allowed top-level fields: {fields}. See README.md, section 'The spec format'.")
    return "\n".join(lines)


def load_spec(path: str | Path) -> AssignmentSpec:
    """Load `assignment.yaml` (or the folder holding it) into an `AssignmentSpec`."""
    path = Path(path)
    if path.is_dir():
        path = path / SPEC_FILENAME
    if not path.is_file():
        raise SpecError(f"{path}: no assignment spec here. An assignment folder must hold `{SPEC_FILENAME}`.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping of fields at the top level, got {type(raw).__name__}.")
    try:
        return AssignmentSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_format_errors(path, exc)) from None
