"""Fork confined submission processes from a clean process that has already paid the imports.

The referee forks the zygote while configuring pytest, before any test module, expected
value, reference solution or data set is loaded, so a submission process forked from it
inherits NumPy (and PyTorch, for torch assignments) but nothing secret. Starting one takes
milliseconds instead of an interpreter start plus the imports, which matters for every
submission and again after each crash or timeout restart.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import sys
import time
from typing import Any

from autograder.isolation.confine import Confinement, confine, die_with_parent

MAX_MESSAGE = 1 << 20


def _send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    socket.send_fds(sock, [json.dumps(message).encode()], fds or [])


def _receive(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 4)
    return (json.loads(data) if data else None), fds


def _close_other_fds(keep: set[int]) -> None:
    for fd in map(int, os.listdir("/proc/self/fd")):
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _become_submission(settings: dict[str, Any], confinement: Confinement, sock_fd: int, out_fd: int) -> None:
    """In the forked child: own session, output redirected, confined, then serve the referee."""
    from autograder.isolation import server as child

    os.setsid()
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    _close_other_fds({sock_fd})
    for name in list(sys.modules):
        if name.split(".")[0] in settings.get("forbidden", []):
            del sys.modules[name]  # so the import blocker sees a fresh import
    confine(confinement)
    os.chdir(settings["submission"])
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    child.serve({**settings, "fd": sock_fd})
    sys.stdout.flush()
    os._exit(0)


def _spawn(message: dict[str, Any], fds: list[int]) -> int:
    sock_fd, out_fd = fds
    pid = os.fork()
    if pid == 0:
        try:
            _become_submission(message["settings"], Confinement(**message["confinement"]), sock_fd, out_fd)
        finally:
            os._exit(70)
    for fd in fds:
        os.close(fd)
    return pid


def _exit_code(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _wait(pid: int, done: dict[int, int], timeout: float = 2.0) -> int | None:
    deadline = time.monotonic() + timeout
    while pid not in done and time.monotonic() < deadline:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if got:
            done[pid] = _exit_code(status)
        else:
            time.sleep(0.005)
    return done.pop(pid, None)


def _serve(sock: socket.socket) -> None:
    """The zygote's loop: spawn on request, report exit codes, reap the rest."""
    done: dict[int, int] = {}
    while True:
        message, fds = _receive(sock)
        if message is None:
            return
        if message["op"] == "spawn":
            _send(sock, {"pid": _spawn(message, fds)})
        elif message["op"] == "wait":
            _send(sock, {"code": _wait(int(message["pid"]), done)})


class Zygote:
    """A forked, clean copy of the referee that starts submission processes on request."""

    def __init__(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            mine.close()
            die_with_parent()
            _close_other_fds({theirs.fileno()})
            try:
                _serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.sock = pid, mine

    def spawn(self, settings: dict[str, Any], confinement: Confinement, sock_fd: int, out_fd: int) -> int:
        """Start a submission process serving on `sock_fd`, writing its output to `out_fd`; return its pid."""
        _send(self.sock, {"op": "spawn", "settings": settings, "confinement": dataclasses.asdict(confinement)}, [sock_fd, out_fd])
        reply, _ = _receive(self.sock)
        return int(reply["pid"])

    def exit_code(self, pid: int) -> int | None:
        """Return how a submission process ended (negative: killed by that signal), or None if unknown."""
        _send(self.sock, {"op": "wait", "pid": pid})
        reply, _ = _receive(self.sock)
        return None if reply is None else reply.get("code")

    def close(self) -> None:
        self.sock.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
