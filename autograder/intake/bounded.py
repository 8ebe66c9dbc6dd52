"""Run one function in a forked child bounded in memory, CPU, file size and wall-clock time.

Staging parses files a student chose (zips, notebooks, Python source). Doing it in a child means
a hostile file can cost that child its life, never the grading process: the child's answer is a
small JSON document sent back through a pipe, and anything else (a signal, a timeout, no answer)
is reported as a `BoundedFailure` naming what happened.
"""

from __future__ import annotations

import faulthandler
import json
import os
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_ANSWER_BYTES = 1 << 20


@dataclass(frozen=True)
class Bounds:
    """Limits of one bounded child."""

    memory_bytes: int = 2**30  # on top of what the child inherits from the grading process
    cpu_s: int = 60
    wall_s: float = 90.0
    file_bytes: int = 64 * 2**20


class BoundedFailure(Exception):
    """The child gave no answer: `why` is `timeout`, `memory`, `cpu`, `file size` or `crash`."""

    def __init__(self, why: str, detail: str = "") -> None:
        super().__init__(f"{why}{': ' + detail if detail else ''}")
        self.why = why
        self.detail = detail


def _vm_bytes(field: str) -> int:
    """Return a `/proc/self/status` size field (VmSize, VmData) in bytes, or 0 where there is none."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _set(limit: int, value: int, grace: int = 0) -> None:
    """Lower a limit to `value` (the hard limit `grace` above it: past the soft CPU limit comes SIGXCPU, past the hard one SIGKILL)."""
    try:
        _, hard = resource.getrlimit(limit)
        top = value + grace if hard == resource.RLIM_INFINITY else min(value + grace, hard)
        resource.setrlimit(limit, (min(value, top), top))
    except (ValueError, OSError):
        pass  # a platform without this limit still has the wall-clock timeout


def _apply(bounds: Bounds) -> None:
    """Limit the current (freshly forked) child, quiet on the terminal; memory counts from what it already maps."""
    faulthandler.disable()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails with EFBIG instead of killing
    _set(resource.RLIMIT_CORE, 0)
    _set(resource.RLIMIT_CPU, bounds.cpu_s, grace=5)
    _set(resource.RLIMIT_FSIZE, bounds.file_bytes)
    for limit, field in ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData")):
        if used := _vm_bytes(field):  # where the current size is unknown (no /proc), a guess could starve the child
            _set(limit, used + bounds.memory_bytes)


def _child(body: Callable[[], dict[str, Any]], bounds: Bounds, fd: int) -> None:
    """Body of the child: limits, the function, its answer on `fd`; never returns."""
    try:
        _apply(bounds)
        try:
            answer = body()
        except MemoryError:
            answer = {"failure": "memory"}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which decides
            answer = {"failure": "exception", "detail": f"{type(exc).__name__}: {exc}"[:2000]}
        data = json.dumps(answer).encode("utf-8", "surrogatepass")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os._exit(0)


def _read_answer(fd: int, deadline: float) -> bytes | None:
    """Read the child's answer until it closes the pipe; None when the deadline passes first."""
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        if size <= MAX_ANSWER_BYTES:  # past the cap, drain without keeping: the answer is refused
            chunks.append(chunk)
        size += len(chunk)


def _why(status: int, bounds: Bounds) -> BoundedFailure:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return BoundedFailure("cpu", f"more than {bounds.cpu_s} s of CPU time")
        return BoundedFailure("crash", f"killed by signal {signal.Signals(sig).name}")
    return BoundedFailure("crash", f"exit code {os.WEXITSTATUS(status)} without an answer")


def run_bounded(body: Callable[[], dict[str, Any]], bounds: Bounds = Bounds()) -> dict[str, Any]:
    """Return what `body()` returns, computed in a bounded child; raise `BoundedFailure` when it gives no answer."""
    if not hasattr(os, "fork"):  # no fork (Windows): a student's own machine, their own files
        return body()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        _child(body, bounds, write_fd)
    os.close(write_fd)
    try:
        raw = _read_answer(read_fd, time.monotonic() + bounds.wall_s)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_fd)
    if raw is None:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if raw is None:
        raise BoundedFailure("timeout", f"more than {bounds.wall_s:g} s")
    if not raw:
        raise _why(status, bounds)
    return _answer(raw, bounds)


def _answer(raw: bytes, bounds: Bounds) -> dict[str, Any]:
    if len(raw) > MAX_ANSWER_BYTES:
        raise BoundedFailure("crash", f"an answer of more than {MAX_ANSWER_BYTES} bytes")
    try:
        answer = json.loads(raw.decode("utf-8", "surrogatepass"))
    except ValueError:
        raise BoundedFailure("crash", "an answer that is not JSON") from None
    if answer.get("failure") == "memory":
        raise BoundedFailure("memory", f"more than {bounds.memory_bytes // 2**20} MiB")
    if answer.get("failure") == "exception":
        raise BoundedFailure("crash", answer.get("detail", ""))
    return answer
