"""Serve the grader's calls into a submission's modules, from inside the confined child process.

Forked by `autograder.isolation.zygote` and confined first. It imports the student's modules, then
answers requests on an inherited socket: call a function, read or set an attribute, index
an object. Plain values go back by value (`autograder.isolation.wire`), other objects as handles.
Nothing the grader holds (tests, expected values, labels) is ever sent here.
"""

from __future__ import annotations

import errno
import os
import socket
import traceback
from pathlib import Path
from typing import Any

from autograder.isolation import wire
from autograder.isolation.loader import BrokenModule, ModuleProxy, load_modules

MAX_MESSAGE = 2000
MAX_FRAMES = 20


class Server:
    """Holds the student's modules and every object handed out as a handle."""

    def __init__(self, folder: Path, modules: dict[str, Any]) -> None:
        self.folder = str(folder.resolve()) + os.sep
        self.modules = modules
        self.objects: dict[int, Any] = {}

    def handle_for(self, obj: Any) -> wire.Handle:
        key = id(obj)
        self.objects[key] = obj
        try:
            text = object.__repr__(obj)
        except Exception:  # noqa: BLE001
            text = ""
        return wire.Handle(key, type(obj).__name__, text)

    def resolve(self, value: Any) -> Any:
        """Replace handles inside a decoded argument with the objects they stand for."""
        if isinstance(value, wire.Handle):
            if value.id not in self.objects:
                raise LookupError(f"stale handle to a {value.type}: the process was restarted")
            return self.objects[value.id]
        if type(value) is list:
            return [self.resolve(v) for v in value]
        if type(value) is tuple:
            return tuple(self.resolve(v) for v in value)
        if type(value) is dict:
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def target(self, spec: dict[str, Any]) -> Any:
        if "handle" in spec:
            return self.resolve(wire.Handle(spec["handle"], "object"))
        module, *attrs = spec["path"]
        obj = self.modules[module]
        if isinstance(obj, BrokenModule):
            obj.reraise()
        for attr in attrs:
            obj = getattr(obj, attr)
        return obj._module if isinstance(obj, ModuleProxy) else obj

    def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "ping":
            return {"ok": None}
        if op == "define":
            namespace: dict[str, Any] = {"__name__": "grader_helpers", "np": __import__("numpy")}
            exec(compile(request["source"], "<grader helper>", "exec"), namespace)  # the grader's own code
            return {"ok": namespace[request["name"]]}
        obj = self.target(request["target"])
        if op == "call":
            args = self.resolve(request.get("args", []))
            kwargs = self.resolve(request.get("kwargs", {}))
            result = obj(*args, **kwargs)
            mutated = {str(i): a for i, a in enumerate(args) if _mutable(a)}
            mutated |= {k: v for k, v in kwargs.items() if _mutable(v)}
            return {"ok": result, "mutated": mutated}
        if op == "getattr":
            return self._live(getattr(obj, request["name"]))
        if op == "setattr":
            setattr(obj, request["name"], self.resolve(request["value"]))
            return {"ok": None}
        if op == "getitem":
            return self._live(obj[self.resolve(request["key"])])
        if op == "define":
            namespace: dict[str, Any] = {"__name__": "grader_helpers", "np": __import__("numpy")}
            exec(compile(request["source"], "<grader helper>", "exec"), namespace)  # the grader's own code
            return {"ok": namespace[request["name"]]}
        if op == "setitem":
            obj[self.resolve(request["key"])] = self.resolve(request["value"])
            return {"ok": None}
        if op == "len":
            return {"ok": len(obj)}
        raise ValueError(f"unknown operation {op!r}")

    def _live(self, value: Any) -> dict[str, Any]:
        """Return a value; a dict also comes with a handle, so the grader's writes reach it."""
        if type(value) is dict:
            return {"ok": value, "live": self.handle_for(value)}
        return {"ok": value}

    def describe(self, exc: BaseException) -> dict[str, Any]:
        """Turn an exception into an error message, with the traceback cut to the student's files."""
        cause = exc.__cause__ if type(exc).__name__ == "SubmissionImportError" and exc.__cause__ else exc
        frames = [f for f in traceback.extract_tb(cause.__traceback__) if f.filename.startswith(self.folder)]
        message = _safe_str(cause)
        head = f"{type(cause).__name__}: {message[:MAX_MESSAGE]}" + (" [...]" if len(message) > MAX_MESSAGE else "")
        if isinstance(cause, SyntaxError):
            head = "".join(traceback.format_exception_only(type(cause), cause)).rstrip()
        body = head
        if frames and not isinstance(cause, SyntaxError):
            body = "Traceback (your code only):\n" + "".join(traceback.format_list(frames[-MAX_FRAMES:])) + head
        if cause is not exc:
            body = f"{_safe_str(exc)}:\n{body}"
        return {"error": {"kind": _kind(exc, cause, bool(frames)), "type": type(cause).__name__,
                          "message": message[:MAX_MESSAGE], "trace": body.replace(self.folder, "")}}  # fmt: skip


def _safe_str(exc: BaseException) -> str:
    """Return str(exc), even when the student's exception class breaks __str__."""
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return f"<{type(exc).__name__} whose message cannot be shown>"


def _mutable(value: Any) -> bool:
    """Return whether an argument may have been changed in place and should be sent back."""
    import numpy as np

    return type(value) in (dict, list) or isinstance(value, np.random.Generator)


def _kind(exc: BaseException, cause: BaseException, in_student_code: bool) -> str:
    name = type(exc).__name__
    if isinstance(cause, NotImplementedError) and in_student_code:
        return "not_attempted"
    if name == "MissingDefinition":
        return "missing"
    if name == "SubmissionImportError":
        return "import"
    if isinstance(cause, MemoryError):
        return "memory"
    if isinstance(cause, OSError) and cause.errno == errno.EFBIG:
        return "output"
    if isinstance(cause, wire.WireError):
        return "wire"
    return "student" if in_student_code else "usage"


def _isolation_facts() -> dict[str, Any]:
    interfaces = {name for _, name in socket.if_nameindex()}
    return {"uid": os.getuid(), "network": "none" if interfaces <= {"lo"} else "host"}


def serve(settings: dict[str, Any]) -> None:
    """Import the submission, say hello, then answer requests until the socket closes."""
    sock = socket.socket(fileno=int(settings["fd"]))
    if settings.get("forbidden"):
        from autograder.checks import install_import_blocker

        hint = f"this assignment allows none of {', '.join(settings['forbidden'])}."
        install_import_blocker(settings["forbidden"], hint)
    folder = Path(settings["submission"])
    modules = load_modules(folder, settings["modules"])._modules
    server = Server(folder, modules)
    wire.send_frame(sock, wire.encode({"hello": _isolation_facts()}))
    while (raw := wire.recv_frame(sock)) is not None:
        try:
            reply = server.dispatch(wire.decode(raw))
            payload = wire.encode(reply, to_handle=server.handle_for)
        except BaseException as exc:  # everything the student raises (KeyboardInterrupt too) is reported
            try:
                payload = wire.encode(server.describe(exc))
            except BaseException:  # a student exception that breaks formatting itself
                error = {"kind": "student", "type": "BaseException", "message": "", "trace": "Your code raised an exception that cannot be shown."}
                payload = wire.encode({"error": error})
        wire.send_frame(sock, payload)

