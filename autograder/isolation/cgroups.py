"""Per-submission control groups: memory (shared memory included), a fair CPU share, a process cap.

rlimits count one process at a time and miss shared memory (a shared anonymous `mmap`, a
`memfd`, System V segments). A control group charges every page its processes touch, tmpfs
and shared memory included, and its CPU accounting counts every process of the submission,
so a training budget can be measured as CPU time nobody else can inflate or forge.

cgroup v2 is used where the host has its controllers on the unified mount; otherwise the v1
(hybrid) hierarchies `memory`, `cpu`, `cpuacct` and `pids`, each under this process's own
group. Where neither is writable (a container without cgroup access, no root), `create`
returns None and the caller falls back to rlimits, saying so in the isolation record.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids")
CPU_SHARES = 1024  # every submission the same share, however many processes it runs
CPU_WEIGHT = 100


def _own_v1_path(controller: str) -> str | None:
    """Return this process's group in a v1 hierarchy (`/process_api/x`), or None if not mounted."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path
    return None


def _own_v2_path() -> str | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 2)[2] for line in lines if line.startswith("0::")), None)


def _v2_usable() -> Path | None:
    """Return this process's v2 group if memory, cpu and pids can be delegated below it."""
    own = _own_v2_path()
    if own is None or not (ROOT / "cgroup.controllers").is_file():
        return None
    base = ROOT / own.lstrip("/")
    try:
        available = set((base / "cgroup.controllers").read_text().split())
    except OSError:
        return None
    return base if {"memory", "cpu", "pids"} <= available and os.access(base, os.W_OK) else None


def _write(path: Path, value: str | int) -> None:
    with open(path, "w") as f:
        f.write(str(value))


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class Cgroup:
    """One group (per hierarchy in v1) that holds a submission's processes."""

    version: int
    paths: dict[str, Path]

    def add(self, pid: int = 0) -> None:
        """Move a process (default: the caller) into the group, in every hierarchy."""
        for path in dict.fromkeys(self.paths.values()):
            _write(path / "cgroup.procs", pid or os.getpid())

    def cpu_seconds(self) -> float:
        """Return the CPU time used by every process that ever ran in the group."""
        if self.version == 2:
            for line in (self.paths["cpu"] / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) / 1e6
            return 0.0
        return _read_int(self.paths["cpuacct"] / "cpuacct.usage") / 1e9

    def oom_kills(self) -> int:
        """Return how many processes of the group the kernel killed for memory so far."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            words = (self.paths["memory"] / name).read_text().split()
        except OSError:
            return 0
        return int(dict(zip(words[::2], words[1::2], strict=False)).get("oom_kill", 0))

    def remove(self, attempts: int = 50) -> None:
        """Remove the group once its processes are gone (kill them first)."""
        for path in dict.fromkeys(self.paths.values()):
            for _ in range(attempts):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)

    def __repr__(self) -> str:
        return f"Cgroup(v{self.version}, {sorted(self.paths)})"


def _create_v2(base: Path, name: str, memory_bytes: int, max_processes: int) -> Cgroup:
    _write(base / "cgroup.subtree_control", "+memory +cpu +pids")
    path = base / name
    path.mkdir(exist_ok=True)
    _write(path / "memory.max", memory_bytes)
    _write(path / "memory.swap.max", 0) if (path / "memory.swap.max").exists() else None
    _write(path / "cpu.weight", CPU_WEIGHT)
    _write(path / "pids.max", max_processes)
    return Cgroup(2, {c: path for c in ("memory", "cpu", "pids")})


def _create_v1(name: str, memory_bytes: int, max_processes: int) -> Cgroup:
    paths = {}
    for controller in V1_CONTROLLERS:
        own = _own_v1_path(controller)
        if own is None:
            raise OSError(f"the cgroup v1 controller `{controller}` is not mounted")
        path = ROOT / controller / own.lstrip("/") / name
        path.mkdir(exist_ok=True)
        paths[controller] = path
    _write(paths["memory"] / "memory.limit_in_bytes", memory_bytes)
    if (paths["memory"] / "memory.memsw.limit_in_bytes").exists():
        _write(paths["memory"] / "memory.memsw.limit_in_bytes", memory_bytes)  # no escape into swap
    _write(paths["cpu"] / "cpu.shares", CPU_SHARES)
    _write(paths["pids"] / "pids.max", max_processes)
    return Cgroup(1, paths)


def create(name: str, memory_mb: int, max_processes: int) -> Cgroup:
    """Create a group below this process's own; raise OSError naming what is missing."""
    memory_bytes = memory_mb * 2**20
    base = _v2_usable()
    if base is not None:
        return _create_v2(base, name, memory_bytes, max_processes)
    return _create_v1(name, memory_bytes, max_processes)
