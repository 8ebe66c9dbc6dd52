"""Confine untrusted submission code, and run an assignment's tests in a grading process.

Two processes grade a submission. The *referee* (pytest, the tests, the reference and the
grader's data) is forked from a warm server. The referee has the *submission process*
forked from its zygote (`autograder.zygote`); it imports only the student's modules and is
confined here: its own session, no network, a filesystem view without the course, an
unprivileged user, and resource limits.
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the grading process must not pay for pydantic
    from autograder.spec import AssignmentSpec

TAIL_BYTES = 20_000
MAX_OUTPUT_BYTES = 64 * 2**20
# Built-in pytest plugins a grading run does not use; `unraisableexception` alone costs
# several full garbage collections per run.
UNUSED_PYTEST_PLUGINS = (
    "cacheprovider", "junitxml", "doctest", "pastebin", "unraisableexception", "threadexception",
    "legacypath", "stepwise", "lsp", "nose",
)  # fmt: skip
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


CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_REC, MS_PRIVATE, MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND = 0x4000, 0x40000, 0x1, 0x2, 0x4, 0x1000
STUDENT_UID_BASE = 200_000
OUTPUT_LIMIT_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Confinement:
    """Limits and isolation for a submission process."""

    memory_mb: int
    cpu_s: int
    submission: str = ""
    hide: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    scratch_mb: int = 64
    max_processes: int = 64
    max_open_files: int = 256
    max_file_bytes: int = OUTPUT_LIMIT_BYTES
    uid: int | None = None


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (no orphans after a killed batch)."""
    try:
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# Top-level folders a Python process needs; every other one (homes, /work, /opt, /srv, /var,
# other checkouts of the course...) is covered, and what the process needs from it bound back.
SYSTEM_DIRS = {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc", "dev", "sys", "tmp"}
MS_REMOUNT = 0x20


def _under(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def _outside_system() -> list[str]:
    """Return the top-level entries other than the system folders (homes, /work, /opt, stray files)."""
    return [f"/{d}" for d in os.listdir("/") if d not in SYSTEM_DIRS and not os.path.islink(f"/{d}")]


def _cover_points(c: Confinement, outside: list[str]) -> list[str]:
    """Return the folders to cover with an empty tmpfs, outermost first, none inside another.

    Private folders on the way to an exposed path (a home holding the interpreter) are
    among them, being outside the system folders.
    """
    wanted = [*c.hide, *SCRATCH_DIRS, *outside]
    covered: list[str] = []
    for path in sorted({os.path.abspath(p) for p in wanted if os.path.isdir(p)}, key=len):
        if not _under(path, covered):
            covered.append(path)
    return covered


def _bind(libc: ctypes.CDLL, fd: int, path: str, read_only: bool) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)
    libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None)
    os.close(fd)  # an open handle on the host's view would let the process walk out of this one
    if read_only:
        libc.mount(b"none", path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def _isolate_namespaces(c: Confinement) -> None:
    """No network; a filesystem view that shows the system, Python and the submission, and nothing else.

    Every top-level folder outside `SYSTEM_DIRS`, every folder in `hide`, and the shared
    scratch folders (/tmp, /var/tmp, /dev/shm) are covered by an empty tmpfs in this mount
    namespace only; top-level files outside them read as empty. The interpreter and its packages (`expose`) are bound back
    in read-only at the same paths, the submission folder read-only too; the scratch folders
    are private and small. Forbidden packages (`blocked`) are covered last, so they cannot be
    imported however the import is spelled.
    """
    libc = _libc()
    if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
        return  # not permitted here: limits still apply, the result records the isolation level
    libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    keep = [p for p in (*c.expose, c.submission) if os.path.isdir(p)]
    fds = {p: os.open(p, os.O_PATH) for p in keep}
    outside = _outside_system()
    for folder in _cover_points(c, outside):
        options = f"size={c.scratch_mb}m,mode=1777" if folder in SCRATCH_DIRS else "size=64k,mode=0755"
        libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
    for path in sorted(keep, key=len):
        _bind(libc, fds.pop(path), path, read_only=True)
    for path in (*c.hide, *outside):
        if os.path.isfile(path):
            libc.mount(b"/dev/null", path.encode(), None, MS_BIND, None)
        elif os.path.isdir(path) and _under(path, keep):
            libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=0")
    for path in c.blocked:
        _block_package(libc, path)


BLOCKED_INIT = "raise ImportError({message!r}, name={name!r})\n"


def _block_package(libc: ctypes.CDLL, path: str) -> None:
    """Replace an installed package by one whose import fails with a message naming the rule."""
    if os.path.isfile(path):
        libc.mount(b"/dev/null", path.encode(), None, MS_BIND, None)
        return
    if not os.path.isdir(path):
        return
    name = os.path.basename(path)
    libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=4k,mode=0755")
    message = f"`{name}` is not available: this assignment does not allow it."
    with open(os.path.join(path, "__init__.py"), "w") as f:
        f.write(BLOCKED_INIT.format(message=message, name=name))
    libc.mount(b"none", path.encode(), None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def confine(c: Confinement) -> None:
    """Apply isolation and limits to the current process (in the forked submission process)."""
    import resource

    if os.geteuid() == 0:
        _isolate_namespaces(c)
    limits = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: c.max_file_bytes,
        resource.RLIMIT_NOFILE: c.max_open_files,
        resource.RLIMIT_CPU: c.cpu_s,
    }
    if c.memory_mb:
        # RLIMIT_DATA counts the heap and anonymous mappings (NumPy and torch buffers), not the
        # shared libraries a pre-imported process has already mapped.
        limits[resource.RLIMIT_DATA] = c.memory_mb * 2**20
    if os.geteuid() == 0 and c.uid is not None:
        limits[resource.RLIMIT_NPROC] = c.max_processes
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))
    if os.geteuid() == 0 and c.uid is not None:
        os.setgroups([])
        os.setgid(c.uid)
        os.setuid(c.uid)
    die_with_parent()  # after setuid, which clears it
    os.environ.update(HOME="/tmp", TMPDIR="/tmp", MPLCONFIGDIR="/tmp/matplotlib")


def interpreter_paths() -> tuple[str, ...]:
    """Return the folders a submission process must still read: Python, its packages, this package."""
    here = os.path.dirname(os.path.abspath(__file__))  # this package (an editable install lives in the course)
    return tuple(dict.fromkeys(os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, here)))


def package_dirs(names: list[str]) -> tuple[str, ...]:
    """Return where the named top-level packages are installed, found without importing them."""
    import importlib.util

    found = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec and spec.submodule_search_locations:
            found += list(spec.submodule_search_locations)
        elif spec and spec.origin:
            found.append(spec.origin)
    return tuple(found)


def student_uid(referee_pid: int | None = None) -> int | None:
    """Return the uid a referee's submission processes run as (unused by anyone else), or None when not root."""
    return STUDENT_UID_BASE + (referee_pid or os.getpid()) % 100_000 if os.geteuid() == 0 else None


def give_to(submission: Path, uid: int | None) -> None:
    """Make the staged submission folder owned by the submission process's uid."""
    if uid is None:
        return
    os.chown(submission, uid, uid)
    for path in submission.rglob("*"):
        os.lchown(path, uid, uid)


def kill_submission_process(pid: int) -> None:
    """Kill a submission process and its process group."""
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _live_pids_of(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):  # zombies hold no resources; their parent reaps them
            pids.append(int(entry))
    return pids


def kill_uid(uid: int) -> None:
    """SIGKILL every live process owned by `uid` (escapees of the process group: forks that called setsid)."""
    for _ in range(5):
        pids = _live_pids_of(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


def _limit_child(memory_mb: int) -> None:
    """Apply resource limits to the current (freshly forked) child."""
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


def _pytest_args(tests: list[Path], confcutdir: Path, config: Path, ini: Path) -> list[str]:
    return [
        *map(str, tests), "-p", "autograder.plugin", "--ag-config", str(config),
        "-c", str(ini), "--rootdir", str(confcutdir), "--confcutdir", str(confcutdir),
        "--import-mode=importlib", "--strict-markers", "-q", "-rN", "--no-header",
        *[arg for name in UNUSED_PYTEST_PLUGINS for arg in ("-p", f"no:{name}")],
    ]  # fmt: skip


def _child_main(args: list[str], cwd: str, out: str, err: str, memory_mb: int) -> None:
    """Body of a referee forked from the warm server: new session, limits, pytest.

    Its working folder is the grader's own, and neither it nor the submission is on
    `sys.path`: a student's `json.py` or `conftest.py` must never be imported here.
    """
    os.setsid()  # own process group, so a timeout kills grandchildren too
    die_with_parent()
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


def _context(framework: str) -> multiprocessing.context.BaseContext:
    """Return a fork-server context whose server has pytest, numpy (and torch) imported once.

    Each submission then starts as a fork of that warm process: a fresh address space
    without paying the imports again (about 0.3 s for pytest and numpy, 1.3 s for torch).
    """
    global _CONTEXT
    if _CONTEXT is None:
        os.environ.update(ONE_THREAD, PYTHONHASHSEED="0", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no third-party pytest plugins in grading
        from _pytest.config import default_plugins

        ctx = multiprocessing.get_context("forkserver")
        builtin = [f"_pytest.{p}" for p in default_plugins if p not in UNUSED_PYTEST_PLUGINS]
        preload = ["pytest", *builtin, "numpy", "autograder.plugin", "autograder.checks"]
        ctx.set_forkserver_preload(preload + (["torch"] if framework == "torch" else []))
        _CONTEXT = ctx
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


def run_tests(
    spec: AssignmentSpec,
    tests: list[Path],
    submission: Path,
    work: Path,
    reference: Path | None = None,
    per_submission_s: float | None = None,
    isolate: bool = True,
    hide: tuple[Path, ...] = (),
) -> ChildRun:
    """Run `tests` in a referee process against the staged `submission`; return its events and status.

    With `isolate`, the student's code runs in a separate confined process and the referee
    (tests, expected values, data) only exchanges plain values with it.
    """
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
    }
    config.write_text(json.dumps(settings), encoding="utf-8")
    ini.write_text("[pytest]\n", encoding="utf-8")
    confcutdir = tests[0]
    while confcutdir.name in {"tests", "public", "hidden"}:
        confcutdir = confcutdir.parent
    deadline = per_submission_s or spec.limits.per_submission_s
    args = _pytest_args(tests, confcutdir, config, ini)
    out, err = work / "stdout.txt", work / "stderr.txt"
    start = time.perf_counter()
    referee_memory = 0 if isolate else spec.limits.memory_mb
    proc = _context(spec.framework).Process(target=_child_main, args=(args, str(work), str(out), str(err), referee_memory))
    _start(proc)
    proc.join(timeout=deadline)
    killed = proc.exitcode is None
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: no stray grandchildren
    except (ProcessLookupError, PermissionError):
        pass
    proc.join()
    uid = student_uid(proc.pid)
    if uid is not None:
        kill_uid(uid)  # whatever the submission started, even outside its process group
    return ChildRun(
        events=_read_events(events),
        returncode=None if killed else proc.exitcode,
        wall_s=time.perf_counter() - start,
        killed_for_time=killed,
        stdout_tail=_tail(out),
        stderr_tail=_tail(err),
        limits={"per_submission_s": deadline, "memory_mb": spec.limits.memory_mb},
    )
