"""Run an assignment's tests against one staged submission in a limited child process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.spec import AssignmentSpec

TAIL_BYTES = 20_000
MAX_OUTPUT_BYTES = 64 * 2**20
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}


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
    """Apply resource limits in the child before it starts Python (runs after fork)."""
    import resource

    if memory_mb:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
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


def _command(tests: list[Path], confcutdir: Path, config: Path, ini: Path) -> list[str]:
    return [
        sys.executable, "-m", "pytest", *map(str, tests),
        "-p", "autograder.plugin", "--ag-config", str(config),
        "-c", str(ini), "--rootdir", str(confcutdir), "--confcutdir", str(confcutdir),
        "--import-mode=importlib", "--strict-markers", "-q", "-rN", "--no-header",
        "-p", "no:cacheprovider", "-p", "no:junitxml", "-p", "no:doctest", "-p", "no:pastebin",
    ]  # fmt: skip


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a grading child: one BLAS thread, no bytecode, fixed hash seed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AUTOGRADER_SUBMISSION"))}
    env.update(ONE_THREAD, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0", MPLBACKEND="Agg")
    env.update(extra or {})
    return env


def run_tests(
    spec: AssignmentSpec,
    tests: list[Path],
    submission: Path,
    work: Path,
    reference: Path | None = None,
    per_submission_s: float | None = None,
) -> ChildRun:
    """Run `tests` against the staged `submission` in a child; return its events and status."""
    work.mkdir(parents=True, exist_ok=True)
    events, config, ini = work / "events.jsonl", work / "settings.json", work / "pytest.ini"
    settings = {
        "spec": spec.model_dump(mode="json"),
        "submission": str(submission.resolve()),
        "reference": str(reference.resolve()) if reference else None,
        "events": str(events),
        "per_test_s": spec.limits.per_test_s,
    }
    config.write_text(json.dumps(settings), encoding="utf-8")
    ini.write_text("[pytest]\n", encoding="utf-8")
    confcutdir = tests[0].parent if tests[0].name != "tests" else tests[0].parent
    while confcutdir.name in {"tests", "public", "hidden"}:
        confcutdir = confcutdir.parent
    deadline = per_submission_s or spec.limits.per_submission_s
    start = time.perf_counter()
    with open(work / "stdout.txt", "wb") as out, open(work / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(
            _command(tests, confcutdir, config, ini),
            cwd=submission, env=child_env(), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True, preexec_fn=lambda: _limit_child(spec.limits.memory_mb),
        )  # fmt: skip
        killed = False
        try:
            proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            killed = True
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: no stray grandchildren
            except ProcessLookupError:
                pass
            proc.wait()
    return ChildRun(
        events=_read_events(events),
        returncode=None if killed else proc.returncode,
        wall_s=time.perf_counter() - start,
        killed_for_time=killed,
        stdout_tail=_tail(work / "stdout.txt"),
        stderr_tail=_tail(work / "stderr.txt"),
        limits={"per_submission_s": deadline, "memory_mb": spec.limits.memory_mb},
    )
