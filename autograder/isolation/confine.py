"""Confine the submission process: namespaces, a filesystem view without the course, a uid, limits.

The referee has the submission process forked from its zygote (`autograder.isolation.zygote`);
`confine` runs in it before any student code: its own session, no network, a filesystem view
without the course, an unprivileged user, and resource limits.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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


