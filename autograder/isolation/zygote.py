"""Fork confined submission processes from a clean process that has already paid the imports.

The referee forks the zygote first thing, before pytest reads its arguments, any conftest.py,
test module, expected value, reference solution or data set, so a submission process forked
from it inherits NumPy (and PyTorch, for torch assignments) and the engine's own modules but
nothing assignment-specific. Starting one takes milliseconds instead of an interpreter start
plus the imports, which matters for every submission and again after each crash or restart.

The referee's per-test alarm may fire at any point: a request to the zygote runs with SIGALRM
blocked, and replies carry the request's number, so a late reply is never taken for the next.
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

from autograder.isolation import server, wire
from autograder.isolation.confine import SETUP_FAILED_EXIT, Confinement, ConfinementError, die_with_parent, enter, facts

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
    """In the forked child: own session, output redirected, confined, then serve the referee.

    The first frame on the socket is sent before any student code runs: either the
    confinement as set up, or why it could not be (then the process exits and nothing runs).
    """
    os.setsid()
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    _close_other_fds({sock_fd})
    sock = socket.socket(fileno=sock_fd)
    for name in list(sys.modules):
        if name.split(".")[0] in settings.get("forbidden", []):
            del sys.modules[name]  # so the import blocker sees a fresh import
    try:
        enter(confinement)
        os.chdir(settings["submission"])
    except (ConfinementError, OSError) as exc:
        wire.send_frame(sock, wire.encode({"setup_failed": f"{type(exc).__name__}: {exc}"}))
        os._exit(SETUP_FAILED_EXIT)
    wire.send_frame(sock, wire.encode({"confined": facts(confinement)}))
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sock.detach()
    server.serve({**settings, "fd": sock_fd})
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
            _send(sock, {"seq": message["seq"], "pid": _spawn(message, fds)})
        elif message["op"] == "wait":
            _send(sock, {"seq": message["seq"], "code": _wait(int(message["pid"]), done)})


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
        self.pid, self.sock, self.seq = pid, mine, 0

    def _ask(self, message: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        """Send one request and return its reply, with the per-test alarm held off meanwhile."""
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            self.seq += 1
            _send(self.sock, {**message, "seq": self.seq}, fds)
            while True:
                reply, _ = _receive(self.sock)
                if reply is None:
                    raise RuntimeError("the zygote ended unexpectedly")
                if reply.get("seq") == self.seq:
                    return reply
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def spawn(self, settings: dict[str, Any], confinement: Confinement, sock_fd: int, out_fd: int) -> int:
        """Start a submission process serving on `sock_fd`, writing its output to `out_fd`; return its pid."""
        message = {"op": "spawn", "settings": settings, "confinement": dataclasses.asdict(confinement)}
        return int(self._ask(message, [sock_fd, out_fd])["pid"])

    def exit_code(self, pid: int) -> int | None:
        """Return how a submission process ended (negative: killed by that signal), or None if unknown."""
        return self._ask({"op": "wait", "pid": pid}).get("code")

    def close(self) -> None:
        self.sock.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


_PREFORKED: Zygote | None = None


def prefork() -> None:
    """Fork the zygote now, before anything assignment-specific is loaded (the referee's first step)."""
    global _PREFORKED
    _PREFORKED = Zygote()


def take() -> Zygote:
    """Return the zygote forked by `prefork`, or a new one (a referee run outside the runner)."""
    global _PREFORKED
    zygote, _PREFORKED = _PREFORKED or Zygote(), None
    return zygote
