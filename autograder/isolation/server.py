"""Serve the grader's calls into a submission's modules, from inside the confined child process.

Forked by `autograder.isolation.zygote` and confined first. It imports the student's modules, then
answers requests on an inherited socket: call a function, read or set an attribute, index
an object. Plain values go back by value (`autograder.isolation.wire`), other objects as handles.
Nothing the grader holds (tests, expected values, labels) is ever sent here.

Every error goes back with a `kind` that says whose it is: the student's code raised
(`student`, `not_attempted`, `memory`, `output`, `import`, `missing`), the student's object
cannot take the request the handout promises it can (`unfit`: a changed signature, a missing
attribute, a lazy `map` where a list belongs), what came back cannot cross (`reply`), or the
grader's own code failed (`grader`: a malformed request, a helper sent by `define`).
"""

from __future__ import annotations

import errno
import inspect
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from autograder.isolation import wire
from autograder.isolation.loader import BrokenModule, ModuleProxy, load_modules, seed_everything

MAX_MESSAGE = 2000
MAX_FRAMES = 20
MAX_SIGNATURE = 300
HELPER_FILE = "<grader helper>"


class GraderSide(Exception):
    """A request the grader should never have sent: unknown operation, stale handle, failing helper."""


class Unfit(Exception):
    """The student's object cannot take the grader's request; raised by the operation itself, before any student code."""

    def __init__(self, op: str, obj: Any, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {_safe_str(error)}")
        self.op, self.error = op, error
        self.type_name = _type_name(obj)
        self.signature = _signature_of(obj) if op == "call" else ""


def _type_name(obj: Any) -> str:
    return type(obj).__name__[:100]


def _signature_of(obj: Any) -> str:
    """Return `name(params)` for a student's function, method or class; "" when it has none."""
    if not (inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
        return ""
    try:
        text = f"{getattr(obj, '__name__', '')}{inspect.signature(obj)}"
    except Exception:  # noqa: BLE001 - a signature is a courtesy; the error message still says what went wrong
        return ""
    return text if len(text) <= MAX_SIGNATURE else text[: MAX_SIGNATURE - 5] + " ...)"


def _raised_here(exc: BaseException) -> bool:
    """Return whether `exc` was raised by the operation in the catching frame itself, before any code below it ran."""
    tb = exc.__traceback__
    return tb is not None and tb.tb_next is None


class Server:
    """Holds the student's modules and every object handed out as a handle."""

    def __init__(self, folder: Path, modules: dict[str, Any], forbidden: list[str] | None = None) -> None:
        self.folder = str(folder.resolve()) + os.sep
        self.modules = modules
        self.objects: dict[int, Any] = {}
        self.forbidden = set(forbidden or [])

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
                raise GraderSide(f"stale handle to a {value.type}: the process was restarted")
            return self.objects[value.id]
        if type(value) is list:
            return [self.resolve(v) for v in value]
        if type(value) is tuple:
            return tuple(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def target(self, spec: dict[str, Any]) -> Any:
        if "handle" in spec:
            return self.resolve(wire.Handle(spec["handle"], "object"))
        module, *attrs = spec["path"]
        if module not in self.modules:
            raise GraderSide(f"no module {module!r} in this submission")
        obj = self.modules[module]
        if isinstance(obj, BrokenModule):
            obj.reraise()
        for attr in attrs:
            try:
                obj = getattr(obj, attr)
            except Exception as exc:
                if _raised_here(exc):
                    raise Unfit("getattr", obj, exc) from exc
                raise
        return obj._module if isinstance(obj, ModuleProxy) else obj

    def define(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a grader helper's source (a class or function) here and hand it back as a handle.

        Its names: `np`, and for an assignment whose students may use torch, `torch`, `nn` and `F`.
        """
        namespace: dict[str, Any] = {"__name__": "grader_helpers", "np": __import__("numpy"), **self._torch_names()}
        try:
            exec(compile(request["source"], HELPER_FILE, "exec"), namespace)  # the grader's own code
            return {"ok": namespace[request["name"]]}
        except Exception as exc:  # noqa: BLE001
            raise GraderSide(f"defining the helper {request.get('name')!r} failed: {type(exc).__name__}: {exc}") from exc

    def _torch_names(self) -> dict[str, Any]:
        """Return `torch`, `nn` and `F` for helpers, where the student's code may use torch and it is already imported."""
        torch = sys.modules.get("torch")  # preloaded for torch assignments; never imported here for the others
        if torch is None or "torch" in self.forbidden:
            return {}
        return {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}

    def apply(self, op: str, obj: Any, request: dict[str, Any]) -> dict[str, Any]:
        """Apply one operation to the student's object; an error the operation itself raises is `Unfit`."""
        args, kwargs = self.resolve(request.get("args", [])), self.resolve(request.get("kwargs", {}))
        key, value, name = self.resolve(request.get("key")), self.resolve(request.get("value")), str(request.get("name"))
        try:
            if op == "call":
                return {"ok": obj(*args, **kwargs), "mutated": _mutated(request, args, kwargs)}
            if op == "getattr":
                return self._live(getattr(obj, name))
            if op == "setattr":
                setattr(obj, name, value)
            elif op == "getitem":
                return self._live(obj[key])
            elif op == "setitem":
                obj[key] = value
            else:
                return {"ok": len(obj)}
        except Exception as exc:
            if _raised_here(exc):
                raise Unfit(op, obj, exc) from exc
            raise
        return {"ok": None}

    def dispatch(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op") if isinstance(request, dict) else None
        if op == "ping":
            return {"ok": None}
        if op == "define":
            return self.define(request)
        if op == "seed":
            seed_everything(int(request["seed"]))
            return {"ok": None}
        if op == "pin":  # a student function or class named by path, to pass to a grader helper
            return {"ok": self.handle_for(self.target(request["target"]))}
        if op not in ("call", "getattr", "setattr", "getitem", "setitem", "len"):
            raise GraderSide(f"unknown operation {op!r}")
        return self.apply(op, self.target(request["target"]), request)

    def _live(self, value: Any) -> dict[str, Any]:
        """Return a value; a dict (any dict subclass too) also comes with a handle, so the grader's writes reach it."""
        if isinstance(value, dict):
            return {"ok": dict.copy(value), "live": self.handle_for(value)}
        return {"ok": value}

    def describe(self, exc: BaseException, stage: str = "dispatch") -> dict[str, Any]:
        """Turn an exception into an error message, with the traceback cut to the student's files."""
        cause = exc.__cause__ if type(exc).__name__ == "SubmissionImportError" and exc.__cause__ else exc
        shown = cause.error if isinstance(cause, Unfit) else cause
        mine = [f for f in _frames(cause.__traceback__) if f.filename.startswith(self.folder)]
        message = _safe_str(shown)
        head = f"{type(shown).__name__}: {message[:MAX_MESSAGE]}" + (" [...]" if len(message) > MAX_MESSAGE else "")
        if isinstance(cause, SyntaxError):
            head = "".join(traceback.format_exception_only(type(cause), cause)).rstrip()
        body = head
        if mine and not isinstance(cause, SyntaxError):
            body = "Traceback (your code only):\n" + "".join(traceback.format_list(mine[-MAX_FRAMES:])) + head
        if cause is not exc:
            body = f"{_safe_str(exc)}:\n{body}"
        kind = _kind(exc, cause, bool(mine), stage)
        error = {"kind": kind, "type": type(shown).__name__, "message": message[:MAX_MESSAGE], "trace": body.replace(self.folder, "")}
        if isinstance(cause, Unfit):
            error.update(op=cause.op, object=cause.type_name, signature=cause.signature)
        if kind == "grader":  # for the grader's log, never shown to the student
            error["trace"] = "".join(traceback.format_exception(cause))[-20 * MAX_MESSAGE :]
        return {"error": error}


def _frames(tb: Any) -> traceback.StackSummary:
    """Return a traceback's frames without reading any source line (lines are read on formatting)."""
    return traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False)


def _safe_str(exc: BaseException) -> str:
    """Return str(exc), even when the student's exception class breaks __str__."""
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001
        return f"<{type(exc).__name__} whose message cannot be shown>"


def _mutable(value: Any) -> bool:
    """Return whether an argument may have been changed in place and should be sent back."""
    import numpy as np

    return isinstance(value, dict | list) or isinstance(value, np.random.Generator)


def _mutated(request: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Return the arguments the grader sent by value that the call may have changed (handles stay where they are)."""
    sent_args, sent_kwargs = request.get("args", []), request.get("kwargs", {})
    mutated = {str(i): a for i, (a, s) in enumerate(zip(args, sent_args, strict=False)) if _mutable(a) and not isinstance(s, wire.Handle)}
    return mutated | {k: v for k, v in kwargs.items() if _mutable(v) and not isinstance(sent_kwargs.get(k), wire.Handle)}


def _kind(exc: BaseException, cause: BaseException, in_student_code: bool, stage: str) -> str:
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
    if in_student_code:
        return "student"
    if isinstance(cause, Unfit):
        return "unfit"
    if isinstance(cause, wire.WireError) and stage == "reply":
        return "reply"
    return "grader"


def _answer(server: Server, raw: bytes) -> bytes:
    """Decode one request, run it and encode the reply; every failure becomes an error reply."""
    stage = "request"
    try:
        request = wire.decode(raw)
        stage = "dispatch"
        reply = server.dispatch(request)
        stage = "reply"
        return wire.encode(reply, to_handle=server.handle_for)
    except BaseException as exc:  # everything the student raises (KeyboardInterrupt too) is reported
        try:
            return wire.encode(server.describe(exc, stage))
        except BaseException:  # a student exception that breaks formatting itself
            error = {"kind": "student", "type": "BaseException", "message": "", "trace": "Your code raised an exception that cannot be shown."}
            return wire.encode({"error": error})


def serve(settings: dict[str, Any]) -> None:
    """Import the submission, say hello, then answer requests until the socket closes."""
    sock = socket.socket(fileno=int(settings["fd"]))
    if settings.get("forbidden"):
        from autograder.checks import install_import_blocker

        hint = f"this assignment allows none of {', '.join(settings['forbidden'])}."
        install_import_blocker(settings["forbidden"], hint)
    folder = Path(settings["submission"])
    seed_everything(int(settings.get("seed", 0)))  # what the student's modules draw as they are imported, the same on every start
    modules = load_modules(folder, settings["modules"])._modules
    server = Server(folder, modules, settings.get("forbidden"))
    wire.send_frame(sock, wire.encode({"hello": True}))  # imported; its confinement is the grader's record
    while (raw := wire.recv_frame(sock)) is not None:
        wire.send_frame(sock, _answer(server, raw))
