"""Run an assignment's tests for one submission in a referee process on this machine.

The *referee* (pytest, the tests, the reference and the grader's data) is forked from a warm
fork server; it has the submission process forked from its zygote and confined by
`autograder.isolation.confine`.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.isolation import zygote
from autograder.isolation.confine import (
    CONTAINER,
    LEVELS,
    ONE_THREAD,
    dataset_folders,
    detect_level,
    die_with_parent,
    interpreter_paths,
    kill_uid,
    protect_by_mode,
    student_uid,
)

if TYPE_CHECKING:  # the grading process must not pay for pydantic
    from autograder.spec import AssignmentSpec

TAIL_BYTES = 256 * 1024  # of the referee's stdout and stderr, kept for the TA's log
MAX_OUTPUT_BYTES = 64 * 2**20
DEVICE_OPTION = "--ag-device"  # the referee plugin's option: auto, cpu or cuda

# Built-in pytest plugins a grading run does not use; `unraisableexception` alone costs
# several full garbage collections per run.
UNUSED_PYTEST_PLUGINS = (
    "cacheprovider", "junitxml", "doctest", "pastebin", "unraisableexception", "threadexception",
    "legacypath", "stepwise", "lsp", "nose",
)  # fmt: skip


@dataclass
class ChildRun:
    """What a grading child left behind: its events, exit status and output tails."""

    events: list[dict[str, Any]]
    returncode: int | None
    wall_s: float
    killed_for_time: bool
    stdout_tail: str = ""
    stderr_tail: str = ""
    limits: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ChildRun(events={len(self.events)}, returncode={self.returncode}, wall_s={self.wall_s:.2f}, killed_for_time={self.killed_for_time})"


def _limit_child(memory_mb: int) -> None:
    """Bound the referee itself: data memory (heap and private mappings), no core files, output size.

    RLIMIT_DATA rather than RLIMIT_AS: a pre-imported torch reserves address space it never
    touches. Set after the zygote is forked, which must not inherit it.
    """
    import resource

    if memory_mb:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES))


def _tail(path: Path) -> str:
    if not path.exists():
        return ""
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - TAIL_BYTES))
        return f.read().decode("utf-8", errors="replace")


def _read_events(path: Path) -> list[dict[str, Any]]:
    events = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut short by a kill: everything before it stands
    return events


def _pytest_args(tests: list[Path], confcutdir: Path, config: Path, ini: Path, extra: tuple[str, ...] = ()) -> list[str]:
    return [*extra,
        *map(str, tests), "-p", "autograder.referee.plugin", "--ag-config", str(config),
        "-c", str(ini), "--rootdir", str(confcutdir), "--confcutdir", str(confcutdir),
        "--import-mode=importlib", "--strict-markers", "-q", "-rN", "--no-header", "--tb=no",
        *[arg for name in UNUSED_PYTEST_PLUGINS for arg in ("-p", f"no:{name}")],
    ]  # fmt: skip


def _child_main(args: list[str], cwd: str, out: str, err: str, memory_mb: int, isolate: bool) -> None:
    """Body of a referee forked from the warm server: new session, the zygote, limits, pytest.

    The zygote is forked before pytest reads a conftest.py or a test, so submission processes
    inherit nothing assignment-specific. The referee's working folder is the grader's own,
    and neither it nor the submission is on `sys.path`: a student's `json.py` or
    `conftest.py` must never be imported here.
    """
    os.setsid()  # own process group, so a timeout kills grandchildren too
    die_with_parent()
    if isolate:
        zygote.prefork()
    _limit_child(memory_mb)
    for fd, path in ((1, out), (2, err)):
        with open(path, "wb") as f:
            os.dup2(f.fileno(), fd)
    os.chdir(cwd)
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != os.path.abspath(cwd)]
    import pytest

    code = pytest.main(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))


_CONTEXT: multiprocessing.context.BaseContext | None = None
_PRELOADED: tuple[str, ...] = ()
_CONTEXT_LOCK = threading.Lock()


def _context(framework: str) -> multiprocessing.context.BaseContext:
    """Return a fork-server context whose server has pytest, numpy (and torch) imported once.

    Each submission then starts as a fork of that warm process: a fresh address space
    without paying the imports again (about 0.3 s for pytest and numpy, 1.3 s for torch).
    A torch assignment graded after a NumPy one in the same process restarts the server
    with torch preloaded (and the other way round), so neither pays for the other.
    """
    with _CONTEXT_LOCK:
        return _context_locked(framework)


def _context_locked(framework: str) -> multiprocessing.context.BaseContext:
    global _CONTEXT, _PRELOADED
    if _CONTEXT is None:
        os.environ.update(ONE_THREAD, PYTHONHASHSEED="0", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        # the referee asks whether a GPU exists through NVML, without starting CUDA in a process that
        # forks: a submission process starts CUDA itself, after it was forked from the zygote
        os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no third-party pytest plugins in grading
        _CONTEXT = multiprocessing.get_context("forkserver")
    from _pytest.config import default_plugins

    builtin = [f"_pytest.{p}" for p in default_plugins if p not in UNUSED_PYTEST_PLUGINS]
    engine = ["autograder.referee.plugin", "autograder.checks", "autograder.isolation.zygote", "autograder.isolation.server"]
    preload = ("pytest", *builtin, "numpy", *engine, *(["torch"] if framework == "torch" else []))
    if preload != _PRELOADED:
        if _PRELOADED:
            multiprocessing.forkserver._forkserver._stop()  # the next start forks a server with the new preload
        _CONTEXT.set_forkserver_preload(list(preload))
        _PRELOADED = preload
    return _CONTEXT


_START_LOCK = threading.Lock()


def _start(proc: multiprocessing.process.BaseProcess) -> None:
    """Start a referee without multiprocessing re-running `__main__` in it.

    The referee needs nothing from the caller's main module (the `autograder` script, a
    notebook, `python -`); re-importing it would cost the CLI's imports once per
    submission, or fail where it has no file.
    """
    main = sys.modules["__main__"]
    with _START_LOCK:
        saved = {k: main.__dict__.pop(k) for k in ("__file__",) if k in main.__dict__}
        spec, main.__spec__ = getattr(main, "__spec__", None), None
        try:
            proc.start()
        finally:
            main.__dict__.update(saved)
            main.__spec__ = spec


@functools.cache
def isolation_level() -> tuple[str, str]:
    """Return the isolation level for this process's submissions, and why it is not stronger.

    Detected once; `AUTOGRADER_ISOLATION` may ask for a weaker level than the host allows
    (to test the `container` path on a full host), never a stronger one.
    """
    level, why = detect_level()
    wanted = os.environ.get("AUTOGRADER_ISOLATION", "")
    if wanted in LEVELS and LEVELS.index(wanted) > LEVELS.index(level):
        return wanted, f"weaker level asked for by AUTOGRADER_ISOLATION={wanted}"
    return level, why


@functools.cache
def _protect(hide: tuple[str, ...]) -> tuple[str, ...]:
    """At the container level, close the hidden folders to other users by mode (once per set)."""
    changed = protect_by_mode((*hide, *dataset_folders()), interpreter_paths())
    if changed:
        listed = "\n  ".join(changed)
        sys.stderr.write(f"autograder: closed to other users (container isolation):\n  {listed}\n")
    return tuple(changed)


class Interrupted(BaseException):
    """The batch was stopped (Ctrl-C) while this submission was being graded: it has no result."""


_STOPPING = threading.Event()
_RUNNING: set[int] = set()  # referee pids, so a stopped batch can end them at once
_RUNNING_LOCK = threading.Lock()


def stop_all() -> None:
    """End every referee this process is running (and what it started); their submissions get no result."""
    _STOPPING.set()
    with _RUNNING_LOCK:
        pids = list(_RUNNING)
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def resume() -> None:
    """Let referees start again after `stop_all` (a new batch in the same process)."""
    _STOPPING.clear()


def run_tests(
    spec: AssignmentSpec,
    tests: list[Path],
    submission: Path,
    work: Path,
    reference: Path | None = None,
    per_submission_s: float | None = None,
    isolate: bool = True,
    hide: tuple[Path, ...] = (),
    pytest_args: tuple[str, ...] = (),
) -> ChildRun:
    """Run `tests` in a referee process against the staged `submission`; return its events and status.

    With `isolate`, the student's code runs in a separate confined process, at the isolation
    level this host allows (`isolation_level`), and the referee (tests, expected values, data)
    only exchanges plain values with it.

    With `pytest_args` (e.g. `-x` to stop at the first lost point), pytest gets them first.
    """
    level, why = isolation_level()
    if isolate and level == CONTAINER:
        _protect(tuple(str(p) for p in hide))
    work = work.resolve()
    tests = [t.resolve() for t in tests]
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o700)
    events, config, ini = work / "events.jsonl", work / "settings.json", work / "pytest.ini"
    settings = {
        "spec": spec.model_dump(mode="json"),
        "submission": str(submission.resolve()),
        "reference": str(reference.resolve()) if reference else None,
        "events": str(events),
        "per_test_s": spec.limits.per_test_s,
        "isolate": isolate,
        "hide": [str(p) for p in hide],
        "work": str(work),
        "isolation": {"level": level, "why": why},
    }
    config.write_text(json.dumps(settings), encoding="utf-8")
    ini.write_text("[pytest]\n", encoding="utf-8")
    confcutdir = tests[0]
    while confcutdir.name in {"tests", "public", "hidden"}:
        confcutdir = confcutdir.parent
    deadline = per_submission_s or spec.limits.per_submission_s
    args = _pytest_args(tests, confcutdir, config, ini, pytest_args)
    out, err = work / "stdout.txt", work / "stderr.txt"
    start = time.perf_counter()
    referee_memory = spec.limits.referee_memory_mb if isolate else spec.limits.memory_mb
    child_args = (args, str(work), str(out), str(err), referee_memory, isolate)
    if _STOPPING.is_set():
        raise Interrupted()
    proc = _context(spec.framework).Process(target=_child_main, args=child_args)
    _start(proc)
    with _RUNNING_LOCK:
        _RUNNING.add(proc.pid)
    try:
        proc.join(timeout=deadline)
        killed = proc.exitcode is None
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: no stray grandchildren
        except (ProcessLookupError, PermissionError):
            pass
        proc.join()
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc.pid)
        uid = student_uid(proc.pid)
        if uid is not None:
            kill_uid(uid)  # whatever the submission started, even outside its process group
    if _STOPPING.is_set():
        raise Interrupted()  # killed by `stop_all`: what ran is not a result
    return ChildRun(
        events=_read_events(events),
        returncode=None if killed else proc.exitcode,
        wall_s=time.perf_counter() - start,
        killed_for_time=killed,
        stdout_tail=_tail(out),
        stderr_tail=_tail(err),
        limits={"per_submission_s": deadline, "memory_mb": spec.limits.memory_mb},
    )
