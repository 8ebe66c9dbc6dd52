"""The pytest plugin that runs inside a grading child: fixtures, markers, limits and outcomes.

It stays lean on purpose (pytest, the standard library, numpy on demand): a NumPy
assignment's grading path never imports torch or pydantic.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from autograder.checks import find_forbidden_imports, install_import_blocker
from autograder.intake.names import clean_text
from autograder.isolation import cgroups, zygote
from autograder.isolation.confine import (
    NONE,
    Confinement,
    ProcessCpuClock,
    dataset_folders,
    facts,
    interpreter_paths,
    package_dirs,
    student_uid,
)
from autograder.isolation.loader import BrokenModule, ModuleSet, SubmissionRejected, load_modules, seed_everything
from autograder.isolation.zygote import Zygote
from autograder.outcomes import CRASHED, FAILED, GRADER_ERROR, GRADER_ERROR_MSG, OOM_MSG, PASSED
from autograder.referee.classify import TestTimeout, classify
from autograder.referee.proxies import RemoteSubmission

CONFIG_OPTION = "--ag-config"
DEVICE_OPTION = "--ag-device"  # the runners pass it as well (autograder.runners.local)


class Settings:
    """What this grading run needs: paths, spec values and limits, read from a JSON file or options."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.spec: dict[str, Any] = raw["spec"]
        self.submission = Path(raw["submission"]) if raw.get("submission") else None
        self.reference = Path(raw["reference"]) if raw.get("reference") else None
        self.events = Path(raw["events"]) if raw.get("events") else None
        self.per_test_s = float(raw.get("per_test_s") or self.spec.get("limits", {}).get("per_test_s", 0) or 0)
        self.memory_mb = int(self.spec.get("limits", {}).get("memory_mb", 0) or 0)
        self.modules = [f[:-3] for f in self.spec["student_files"]]
        self.isolate = bool(raw.get("isolate", False))
        self.hide = [str(p) for p in raw.get("hide", [])]
        self.work = Path(raw["work"]) if raw.get("work") else None
        self.per_submission_s = float(self.spec.get("limits", {}).get("per_submission_s", 600))
        self.max_processes = int(self.spec.get("limits", {}).get("max_processes", 64))
        self.isolation: dict[str, str] = raw.get("isolation") or {"level": NONE, "why": "not isolated"}
        self.device = "cpu"  # set by pytest_configure from --ag-device and the spec


# ---------------------------------------------------------------- settings


def _find_spec_dir(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / "assignment.yaml").is_file():
            return folder
    return None


def _settings_from_options(config: pytest.Config) -> Settings:
    args = [Path(a.split("::")[0]).resolve() for a in config.args] or [Path.cwd()]
    spec_dir = _find_spec_dir(args[0] if args[0].is_dir() else args[0].parent) or _find_spec_dir(Path.cwd())
    if spec_dir is None:
        raise pytest.UsageError("autograder: no assignment.yaml above the tests; pass --ag-config or run inside an assignment.")
    from autograder.spec import load_spec  # development and handout mode only; grading passes JSON

    spec = load_spec(spec_dir).model_dump(mode="json")
    submission = config.getoption("ag_submission") or os.environ.get("AUTOGRADER_SUBMISSION")
    if submission is None and all((spec_dir / f).is_file() for f in spec["student_files"]):
        submission = str(spec_dir)  # a student handout: the modules sit beside assignment.yaml
    reference = config.getoption("ag_reference") or os.environ.get("AUTOGRADER_REFERENCE")
    return Settings({"spec": spec, "submission": submission, "reference": reference})


def _settings(config: pytest.Config) -> Settings:
    path = config.getoption("ag_config")
    if path:
        return Settings(json.loads(Path(path).read_text(encoding="utf-8")))
    return _settings_from_options(config)


# ---------------------------------------------------------------- events


MAX_EVENT_MESSAGE = 8000


class EventLog:
    """Append one JSON line per event and flush, so a crash loses nothing already graded."""

    def __init__(self, path: Path | None) -> None:
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115

    def write(self, **event: Any) -> None:
        if self._file is not None:
            if isinstance(event.get("message"), str):  # the student chose it: capped and valid UTF-8
                event["message"] = clean_text(event["message"], MAX_EVENT_MESSAGE)
            self._file.write(json.dumps(event, default=str) + "\n")
            self._file.flush()


# ---------------------------------------------------------------- hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder")
    group.addoption(CONFIG_OPTION, dest="ag_config", default=None, help="grading settings JSON written by the engine")
    group.addoption("--ag-submission", dest="ag_submission", default=None, help="folder with the student's modules")
    group.addoption("--ag-reference", dest="ag_reference", default=None, help="folder with the reference solution")
    group.addoption(
        "--ag-speed-factor", dest="ag_speed_factor", type=float, default=1.0,
        help="this machine is F times slower than the one the budgets were set on: the `budget` fixture allows F times `training_budget_s`",
    )  # fmt: skip
    group.addoption(
        DEVICE_OPTION, dest="ag_device", choices=("auto", "cpu", "cuda"), default="auto",
        help="where a torch assignment's tests run: auto (cuda when the spec allows gpu and this machine has one), cpu or cuda",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): points the test is worth (default 1)")
    config.addinivalue_line("markers", "hidden: the test is hidden from students until grades are published")
    if config.getoption("help", False) or config.getoption("markers", False):
        return
    settings = _settings(config)
    settings.device = choose_device(settings.spec, config.getoption("ag_device", "auto") or "auto")
    config.stash[SETTINGS] = settings
    config.stash[EVENTS] = EventLog(settings.events)
    roots = [str(p.resolve()) + os.sep for p in (settings.submission,) if p is not None]
    config.stash[ROOTS] = roots
    if settings.isolate:
        # forked now, before any test module, reference or data is loaded: nothing secret to inherit
        config.stash[ZYGOTE] = zygote.take()  # forked before pytest read any conftest.py


def pytest_unconfigure(config: pytest.Config) -> None:
    if ZYGOTE in config.stash:
        config.stash[ZYGOTE].close()


SETTINGS = pytest.StashKey[Settings]()
EVENTS = pytest.StashKey[EventLog]()
ROOTS = pytest.StashKey[list]()
RESULT = pytest.StashKey[dict]()
TESTS_ROOT = pytest.StashKey[str]()
ZYGOTE = pytest.StashKey[Zygote]()
CGROUP = pytest.StashKey["cgroups.Cgroup | None"]()
SUBMISSION = pytest.StashKey[RemoteSubmission]()
CURRENT_TEST = pytest.StashKey[str]()
HIDDEN_STARTED = pytest.StashKey[bool]()
OOM_KILLS = pytest.StashKey[int]()


def _test_id(item: pytest.Item) -> str:
    """Return the id relative to the assignment's tests folder: `hidden/test_x.py::test_y`."""
    parts = Path(item.path).parts
    last = len(parts) - 1 - parts[::-1].index("tests") if "tests" in parts else None
    rel = Path(*parts[last + 1 :]) if last is not None else Path(item.path.name)
    return rel.as_posix() + item.nodeid[len(item.nodeid.split("::")[0]) :]


def _points(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker and marker.args else 1.0


def _hidden(item: pytest.Item) -> bool:
    return item.get_closest_marker("hidden") is not None or "hidden" in Path(item.path).parts


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run public tests first, then hidden ones (each group in its own order)."""
    if SETTINGS in config.stash:
        items.sort(key=_hidden)


def _start_hidden_part(item: pytest.Item) -> None:
    """Before the first hidden test, replace the submission process by a fresh one.

    Public tests' feedback is visible to students before the deadline: the process that
    served them must never have seen anything of the hidden tests (arguments, helpers).
    """
    config = item.config
    if config.stash.get(HIDDEN_STARTED, False) or not _hidden(item):
        return
    config.stash[HIDDEN_STARTED] = True
    remote = config.stash.get(SUBMISSION, None)
    if remote is not None:
        remote.close()


def seed_of_test(spec_seed: int, whose: str, test_id: str) -> int:
    """A test's seed for `whose` generators ("student" or "grader"): the same on every run and in any order.

    A keyed one-way hash, so the student's code, which can read its own seed, learns nothing of the grader's.
    """
    digest = hashlib.blake2b(f"{spec_seed}\0{test_id}".encode(), digest_size=4, person=f"ag-seed-{whose}".encode())
    return int.from_bytes(digest.digest(), "big")


def _seed_of(config: pytest.Config, whose: str, test_id: str) -> int:
    return seed_of_test(int(config.stash[SETTINGS].spec.get("seed", 0)), whose, test_id)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture of the test runs, seed the global generators for this test.

    Isolated: the grader's own (a test's `torch.randn` input is the same on every run) from one seed, and the
    submission process's from another; the connection keeps that seed and sends it to a process started or
    restarted later, so no process is started here. Where the tests and the student's code share one process
    (`autograder check`, unconfined runs), that process is seeded once, with the student's seed.
    """
    config = item.config
    if SETTINGS not in config.stash:
        return
    test_id = _test_id(item)
    config.stash[CURRENT_TEST] = test_id
    if not config.stash[SETTINGS].isolate:
        seed_everything(_seed_of(config, "student", test_id))
        return
    seed_everything(_seed_of(config, "grader", test_id))
    remote = config.stash.get(SUBMISSION, None)
    if remote is not None:
        _seed_remote(remote, config)


def _seed_remote(remote: RemoteSubmission, config: pytest.Config) -> None:
    """Give the submission process the current test's seed (a failure is the test's first call's to report)."""
    try:
        remote.seed(_seed_of(config, "student", config.stash[CURRENT_TEST]))
    except Exception:  # noqa: BLE001, S110 - the connection keeps it; the test's first call into the submission reports it
        pass


def pytest_collection_finish(session: pytest.Session) -> None:
    if SETTINGS not in session.config.stash:
        return
    tests = [{"id": _test_id(i), "points": _points(i), "hidden": _hidden(i)} for i in session.items]
    session.config.stash[EVENTS].write(event="collected", tests=tests)
    _report_collection_errors(session, tests)
    roots = {str(Path(i.path).parent) for i in session.items}
    session.config.stash[TESTS_ROOT] = os.path.commonpath(sorted(roots)) if roots else "\0"


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        # A broken test file (an unknown marker, an import error) is the instructor's mistake:
        # the real message goes to the log, and every test is a grader error (never the student's).
        sys.stderr.write(f"autograder: collecting {report.nodeid} failed:\n{report.longreprtext}\n")
        COLLECT_ERRORS.append(report.nodeid or "the test folder")


COLLECT_ERRORS: list[str] = []


def _report_collection_errors(session: pytest.Session, tests: list[dict[str, Any]]) -> None:
    """Give every collected test a grader error when a test file could not be collected."""
    if not COLLECT_ERRORS:
        return
    events = session.config.stash[EVENTS]
    for test in tests:
        message = GRADER_ERROR_MSG.format(test=test["id"]) + f" (collecting {', '.join(COLLECT_ERRORS)} failed)"
        events.write(event="start", id=test["id"])
        events.write(event="result", id=test["id"], outcome=GRADER_ERROR, message=message, duration_s=0.0)


def _alarm(seconds: float) -> Callable[[], None]:
    """Arm a per-test alarm that raises TestTimeout; return the disarm function."""
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        return lambda: None

    def on_alarm(signum: int, frame: Any) -> None:
        raise TestTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)

    def disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    return disarm


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if SETTINGS not in item.config.stash:
        yield
        return
    events = item.config.stash[EVENTS]
    test_id = _test_id(item)
    _start_hidden_part(item)
    events.write(event="start", id=test_id)
    item.stash[RESULT] = {"outcome": PASSED, "message": "", "start": time.perf_counter()}
    group = item.config.stash.get(CGROUP, None)
    item.stash[OOM_KILLS] = group.oom_kills() if group else 0
    disarm = _alarm(item.config.stash[SETTINGS].per_test_s)
    try:
        yield
    finally:
        disarm()
    result = item.stash[RESULT]
    duration = time.perf_counter() - result.pop("start")
    events.write(event="result", id=test_id, duration_s=round(duration, 4), **result)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if RESULT not in item.stash or call.excinfo is None or item.stash[RESULT]["outcome"] != PASSED:
        return
    if report.skipped:
        item.stash[RESULT].update(outcome=FAILED, message=f"Skipped: {call.excinfo.value}")
        return
    settings = item.config.stash[SETTINGS]
    exc = call.excinfo.value
    verdict, message = classify(
        exc, call.when, _test_id(item), settings, item.config.stash[ROOTS], item.config.stash.get(TESTS_ROOT, "\0")
    )
    group = item.config.stash.get(CGROUP, None)
    if verdict == CRASHED and group is not None and group.oom_kills() > item.stash.get(OOM_KILLS, 0):
        # the kernel killed it for memory (shared memory counts too): say so, not "signal 9"
        message = OOM_MSG.format(test=_test_id(item), limit=settings.memory_mb)
    item.stash[RESULT].update(outcome=verdict, message=message)
    if verdict == GRADER_ERROR:
        # in full (--tb=no cuts pytest's own report); grader errors are rare, so the cost is fine
        trace = str(exc.formatrepr() if isinstance(exc, pytest.FixtureLookupError) else call.excinfo.getrepr(style="long"))
        sys.stderr.write(f"autograder: internal error in {item.nodeid}:\n{trace}\n")


# ---------------------------------------------------------------- fixtures


def _settings_of(request: pytest.FixtureRequest) -> Settings:
    return request.config.stash[SETTINGS]


@pytest.fixture(scope="session")
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The assignment spec as a plain dict (read-only by convention)."""
    return _settings_of(request).spec


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest) -> Iterator[ModuleSet | RemoteSubmission]:
    """The student's modules: `submission.layers.affine_forward` (in a confined process when grading)."""
    settings = _settings_of(request)
    if settings.submission is None:
        raise pytest.UsageError("autograder: no submission folder; pass --ag-submission DIR.")
    forbidden = settings.spec.get("forbidden_imports") or []
    hint = f"this assignment allows none of {', '.join(forbidden)}. Remove the import and write it with NumPy."
    hits = find_forbidden_imports(settings.submission, forbidden) if forbidden else []
    if hits:
        raise SubmissionRejected("\n".join(h.message(hint) for h in hits) + "\nNo test can award points until it is removed.")
    if settings.isolate:
        yield from _remote_submission(request, settings, forbidden)
        return
    if forbidden:
        install_import_blocker(forbidden, hint, roots=[str(settings.submission)])  # what the source scan cannot see
    yield load_modules(settings.submission, settings.modules)


def _control_group(settings: Settings) -> cgroups.Cgroup | None:
    """Make the submission's control group, or None where this host gives none (rlimits remain)."""
    if settings.isolation["level"] == NONE:
        return None
    try:
        return cgroups.create(f"autograder-{os.getpid()}", settings.memory_mb, settings.max_processes)
    except OSError as exc:
        sys.stderr.write(f"autograder: no control group for this submission ({exc}); rlimits only\n")
        return None


def _confinement(settings: Settings, forbidden: list[str], group: cgroups.Cgroup | None) -> Confinement:
    level = settings.isolation["level"]
    return Confinement(
        memory_mb=settings.memory_mb, cpu_s=int(settings.per_submission_s) + 1, level=level,
        submission=str(settings.submission), hide=(*settings.hide, *dataset_folders()), expose=interpreter_paths(),
        blocked=package_dirs(forbidden), cgroup={k: str(v) for k, v in group.paths.items()} if group else {},
        max_processes=settings.max_processes, uid=student_uid() if level != NONE else None, gpu=settings.device == "cuda",
    )  # fmt: skip


def _remote_submission(request: pytest.FixtureRequest, settings: Settings, forbidden: list[str]) -> Iterator[RemoteSubmission]:
    """Start the student's code in a confined process; the tests talk to it through proxies."""
    assert settings.submission is not None and settings.work is not None
    group = _control_group(settings)
    confinement = _confinement(settings, forbidden, group)
    output = settings.work / "student-output.txt"
    import_seed = _seed_of(request.config, "student", "import")
    remote = RemoteSubmission(request.config.stash[ZYGOTE], settings.submission, settings.modules, forbidden, confinement, output, import_seed)
    request.config.stash[CGROUP] = group
    request.config.stash[SUBMISSION] = remote
    # recorded from the grader's own set-up, never from what the submission process says
    isolation = {**facts(confinement), "why": settings.isolation.get("why", "")}
    request.config.stash[EVENTS].write(event="record", key="isolation", value=isolation)
    _seed_remote(remote, request.config)  # kept, and sent once the process has started
    remote.start()
    try:
        yield remote
    finally:
        remote.close()  # kills the process and every process of its uid
        if group is not None:
            group.remove()


@pytest.fixture(scope="session")
def reference(request: pytest.FixtureRequest) -> ModuleSet:
    """The reference solution's modules, with the same names as the submission's."""
    settings = _settings_of(request)
    if settings.reference is None:
        pytest.skip("the reference solution is only available to the grader")
    modules = load_modules(settings.reference, settings.modules)
    broken = [m for m in modules._modules.values() if isinstance(m, BrokenModule)]
    if broken:
        raise RuntimeError(f"the reference solution in {settings.reference} does not import: {broken}")
    return modules


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> Any:
    """A `numpy.random.Generator` seeded from the spec seed and the test's id."""
    import numpy as np

    seed = int(_settings_of(request).spec.get("seed", 0))
    return np.random.default_rng([seed, zlib.crc32(_test_id(request.node).encode())])


class Measured:
    """What `Budget.measure` found: `seconds` of CPU time (or wall time, see `clock`)."""

    def __init__(self, clock: str) -> None:
        self.seconds = 0.0
        self.clock = clock

    def __repr__(self) -> str:
        return f"Measured({self.seconds:.2f} s {self.clock})"


# A budget's clock reads seconds, or several lower bounds of them at once (`ProcessCpuClock`).
Clock = Callable[[], float | tuple[float, ...]]


class Budget(float):
    """Seconds a training run may take, measured as the submission's own CPU time.

    A busy neighbour slows the wall clock, not the CPU time a submission gets, so a correct
    submission cannot fail its budget because of another one. Its value is the spec's
    `training_budget_s` (`raw_s`) times this runner's speed `factor` (1 on the machine the
    budget was set on, 3 on a runner three times slower). Use it as

        with budget.measure() as used:
            submission.train.train(...)
        assert used.seconds <= budget, budget.explain()
    """

    clock_name = "wall"

    def __new__(
        cls, seconds: float, clock: Clock | None = None, clock_name: str = "wall", factor: float = 1.0
    ) -> Budget:
        obj = super().__new__(cls, seconds * factor)
        obj._clock = clock or time.perf_counter
        obj.clock_name = clock_name if clock else "wall"
        obj.raw_s = float(seconds)
        obj.factor = float(factor)
        return obj

    @property
    def seconds(self) -> float:
        """Return the seconds allowed on this runner: `raw_s` times `factor`."""
        return float(self)

    @contextlib.contextmanager
    def measure(self) -> Iterator[Measured]:
        used = Measured(f"{self.clock_name} time")
        watching = getattr(self._clock, "watching", None)  # a clock that samples while the block runs
        with watching() if watching else contextlib.nullcontext():
            start = self._clock()
            try:
                yield used
            finally:
                used.seconds = _elapsed(start, self._clock())

    def explain(self) -> str:
        """Return the budget in words: the seconds allowed here, the spec's seconds and the speed factor."""
        return (f"{self.seconds:.3g} s of {self.clock_name} time ({self.raw_s:g} s on the course's machine "
                f"x {self.factor:.2f}, this grader's speed factor)")  # fmt: skip

    def as_record(self) -> dict[str, Any]:
        """Return the budget as the result's metadata holds it."""
        return {"raw_s": self.raw_s, "scaled_s": round(self.seconds, 3), "factor": self.factor, "clock": f"{self.clock_name} time"}

    def __repr__(self) -> str:
        return f"Budget({self.seconds:g} s of {self.clock_name} time = {self.raw_s:g} s x {self.factor:g})"


def _elapsed(start: float | tuple[float, ...], end: float | tuple[float, ...]) -> float:
    """Return end - start; for a clock that reads several lower bounds, the largest increase."""
    if isinstance(start, tuple):
        return max(e - s for s, e in zip(start, end, strict=True))
    return end - start


def _budget_clock(request: pytest.FixtureRequest) -> tuple[Clock | None, str]:
    """Return the clock that counts the submission's CPU time, or (None, "wall") where none can."""
    settings = _settings_of(request)
    if not settings.isolate:
        return time.process_time, "CPU"  # the student's code runs in this process
    request.getfixturevalue("submission")
    group = request.config.stash.get(CGROUP, None)
    if group is not None:
        return group.cpu_seconds, "CPU"
    uid = student_uid() if settings.isolation["level"] != NONE else None
    return (ProcessCpuClock(uid), "CPU") if uid is not None else (None, "wall")


@pytest.fixture(scope="session")
def budget(request: pytest.FixtureRequest) -> Budget:
    """Seconds a training run may take on this runner, as the submission process's CPU time where it can be measured."""
    settings = _settings_of(request)
    seconds = _per_device(settings.spec.get("training_budget_s", 30.0), settings.device)
    clock, name = _budget_clock(request) if settings.device == "cpu" else (None, "wall")  # GPU work is not CPU time
    allowed = Budget(seconds, clock, name, factor=request.config.getoption("ag_speed_factor", 1.0) or 1.0)
    request.config.stash[EVENTS].write(event="record", key="budget", value=allowed.as_record())
    return allowed


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def choose_device(spec: dict[str, Any], asked: str) -> str:
    """Return `cuda` or `cpu` for this run: `asked` (auto, cpu, cuda) within what the spec allows and this machine has."""
    allowed = spec.get("framework") == "torch" and "gpu" in (spec.get("devices") or ["cpu"])
    if asked == "cpu" or (asked == "auto" and not allowed):
        return "cpu"
    if not allowed:
        raise pytest.UsageError(f"autograder: --device cuda, but {spec.get('id')} does not allow a GPU (its spec's `devices` has no gpu); grade with --device auto or cpu.")
    if _cuda_available():
        return "cuda"
    if asked == "cuda":
        raise pytest.UsageError("autograder: --device cuda, but this machine has no usable GPU (torch.cuda.is_available() is False); grade with --device auto or cpu.")
    return "cpu"


def _device_record(device: str) -> dict[str, Any]:
    """Return what a result says about the device really used: its type, and a GPU's name and CUDA version."""
    if device != "cuda":
        return {"type": "cpu"}
    import torch

    return {"type": "cuda", "name": torch.cuda.get_device_name(0), "cuda": torch.version.cuda, "torch": torch.__version__}


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> str:
    """`cuda` when a torch assignment whose spec allows gpu runs on a machine with one, else `cpu`."""
    chosen = _settings_of(request).device
    request.config.stash[EVENTS].write(event="record", key="device", value=_device_record(chosen))
    return chosen


def _per_device(value: Any, device: str) -> float:
    """Return a spec value written as one number or as `{cpu: .., gpu: ..}`, for `device`."""
    if isinstance(value, dict):
        return float(value["gpu"] if device == "cuda" and value.get("gpu") is not None else value["cpu"])
    return float(value)


@pytest.fixture(scope="session")
def threshold(request: pytest.FixtureRequest, device: str) -> Callable[[str], float]:
    """Return `threshold(source)`: the spec's minimum accuracy for that data source on this run's device."""
    spec = _settings_of(request).spec

    def lookup(source: str) -> float:
        thresholds = spec.get("thresholds") or {}
        if source not in thresholds:
            known = ", ".join(thresholds) or "none"
            raise RuntimeError(f"assignment.yaml has no accuracy threshold for the data source {source!r} (it has: {known}); add one under `thresholds`.")
        value = _per_device(thresholds[source], device)
        request.config.stash[EVENTS].write(event="record", key="threshold", value={"source": source, "device": device, "min_accuracy": value})
        return value

    return lookup


@pytest.fixture(scope="session")
def record(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """Record a fact about this grading run (dataset, device) into the submission's result."""
    events = request.config.stash[EVENTS]
    return lambda key, value: events.write(event="record", key=key, value=value)


@pytest.fixture(scope="session")
def weights(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    """Return `weights(name, expected, max_params=None)`: the student's `name` (a spec `weight_files` entry), loaded and checked.

    The file is read here, by the grader, with `autograder.weights.load_weights` (weights_only, names,
    shapes and size checked first); a student's model takes the result with `load_state_dict`.
    """
    settings = _settings_of(request)

    def load(name: str, expected: dict[str, tuple[int | None, ...]], max_params: int | None = None) -> dict[str, Any]:
        from autograder.weights import count_params, load_weights

        declared = settings.spec.get("weight_files") or []
        if name not in declared:
            raise RuntimeError(f"the test loads the weights file {name!r}, which assignment.yaml does not declare (weight_files: {declared}); add it there.")
        if settings.submission is None:
            raise pytest.UsageError("autograder: no submission folder; pass --ag-submission DIR.")
        max_bytes = int(settings.spec.get("max_weights_mb") or 50) * 2**20
        state = load_weights(settings.submission / name, expected, max_params=max_params, max_bytes=max_bytes)
        request.config.stash[EVENTS].write(event="record", key="weights", value={"file": name, "params": count_params(state)})
        return state

    return load
