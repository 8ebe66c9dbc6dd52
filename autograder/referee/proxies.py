"""The grader's view of a submission running in another process: modules and objects as proxies.

`RemoteSubmission` stands where the student's modules used to be imported in-process:
`submission.layers.affine_forward(x, w, b)` sends the arguments by value, the submission
process runs the call, and the result comes back by value (arrays, numbers, dicts) or as a
`RemoteObject` (a model, a closure). Dicts and lists passed as arguments are updated in
place afterwards, so `bn_param` or an optimizer `config` behave as in a local call.

Each proxy remembers where it came from (`Origin`), so a request the student's object cannot
take (`StudentMismatch`) names what the test asked for in the handout's words.
"""

from __future__ import annotations

import ast
import os
import socket
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.isolation import wire
from autograder.isolation.confine import Confinement, give_to, kill_submission_process, kill_uid
from autograder.isolation.loader import MissingDefinition, SubmissionImportError
from autograder.isolation.zygote import Zygote

MAX_REPLY_BYTES = 256 * 2**20


def _hidden_from_reports(excinfo: Any) -> bool:
    """Leave this module's frames out of pytest's report of a student's failure (formatting them is slow and says nothing)."""
    return isinstance(excinfo.value, StudentError | StudentCrashed | StudentMismatch | MissingDefinition | SubmissionImportError)


__tracebackhide__ = _hidden_from_reports


@dataclass(frozen=True)
class Origin:
    """Where a proxy came from: `label` names it for the student, `ref` finds it in the handout.

    `ref` is a module path (`("layers", "affine_forward")`) or, for an object of the
    student's, `("", class name[, member])`; `helper` is the grader's helper class or
    function (sent by `define`) the proxy came from, None for the student's own objects.
    """

    label: str
    ref: tuple[str, ...] = ()
    helper: Any = None


class StudentError(Exception):
    """The student's code raised; `trace` is their traceback, trimmed to their own files."""

    def __init__(self, trace: str, type_name: str = "", message: str = "") -> None:
        super().__init__(trace)
        self.trace = trace
        self.type_name = type_name
        self.message = message


class NotAttempted(StudentError):
    """A stub still raises NotImplementedError."""


class StudentOutOfMemory(StudentError):
    """The student's code ran out of memory under its limit."""


class StudentOutputLimit(StudentError):
    """The student's code wrote more than its file/output limit."""


class StudentCrashed(Exception):
    """The submission process died (segfault, `os._exit`, killed for CPU time)."""


class ConfinementFailed(RuntimeError):
    """The grader could not confine the submission process: the grader's failure, no student code ran."""


class StartupTimedOut(StudentCrashed):
    """Importing the student's modules did not finish within a test's time limit."""


class StartupCrashed(StudentCrashed):
    """The submission process died while importing the student's modules."""


class StudentMismatch(Exception):
    """The student's object could not take the test's request: a changed signature, a missing attribute,
    a lazy `map` where a list belongs, or a value that cannot cross. Raised before any student code ran.

    `classify` decides, with the handout's signature, whether the student or the test is at fault.
    """

    def __init__(self, error: dict[str, Any]) -> None:
        self.op = str(error.get("op", ""))
        self.error_type, self.message = str(error.get("type", "")), str(error.get("message", ""))
        self.object, self.signature = str(error.get("object", "")), str(error.get("signature", ""))
        self.origin = Origin("the value")
        self.attr: str | None = None
        self.call: tuple[int, tuple[str, ...]] | None = None
        super().__init__(self.message)

    def __str__(self) -> str:
        called = f" with {self.call[0]} positional arguments and keywords {list(self.call[1])}" if self.call else ""
        attr = f" (attribute {self.attr!r})" if self.attr else ""
        return (f"{self.op} on {self.origin.label}{attr}{called} failed in the submission process, before any of its code ran: "
                f"{self.error_type}: {self.message}")  # fmt: skip


class GraderFault(RuntimeError):
    """The submission process says the grader's own request or helper failed there; the message holds its trace.

    Only the submission process says so, and it runs the student's code: `classify` never
    takes its word for a grader error.
    """


ERRORS = {"not_attempted": NotAttempted, "memory": StudentOutOfMemory, "output": StudentOutputLimit}


def _raise_remote(error: dict[str, Any]) -> None:
    kind, trace = error.get("kind"), str(error.get("trace", ""))
    if kind == "missing":
        raise MissingDefinition(str(error.get("message", trace)))
    if kind == "import":
        raise SubmissionImportError(trace)
    if kind in ("unfit", "reply"):
        raise StudentMismatch({**error, "op": error.get("op") if kind == "unfit" else "reply"})
    if kind == "grader":
        raise GraderFault(f"the submission process could not serve the grader's request:\n{trace}")
    cls = ERRORS.get(str(kind), StudentError)
    raise cls(trace, str(error.get("type", "")), str(error.get("message", "")))


class Connection:
    """One submission process and the socket to it; restarted after a crash or a timeout."""

    def __init__(self, zygote: Zygote, settings: dict[str, Any], confinement: Confinement, output: Path) -> None:
        self.zygote, self.settings, self.confinement, self.output = zygote, settings, confinement, output
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.failed_start: StudentCrashed | ConfinementFailed | None = None  # kept: every later test reports the same
        self.generation = 0
        self.seed: int | None = None  # the current test's, sent to every process started for it

    def _start(self) -> None:
        if self.failed_start is not None:
            raise type(self.failed_start)(str(self.failed_start))
        mine, theirs = socket.socketpair()
        out_fd = os.open(self.output, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self.pid = self.zygote.spawn(self.settings, self.confinement, theirs.fileno(), out_fd)
        finally:
            theirs.close()
            os.close(out_fd)
        self.sock = mine
        self.generation += 1
        self._await_confinement()
        try:
            self._receive()  # the hello: the student's modules are imported
        except BaseException as exc:  # a timeout alarm or a death, while importing the student's modules
            if isinstance(exc, StudentCrashed):
                self.failed_start = StartupCrashed(f"{str(exc).rstrip('.')} while importing your modules, so no test could run")
            else:
                self.failed_start = StartupTimedOut("importing your modules did not finish")
            self.close()
            raise type(self.failed_start)(str(self.failed_start)) from exc
        if self.seed is not None:
            self._send_seed()

    def set_seed(self, seed: int) -> None:
        """Keep the current test's seed; send it now to a running process, or to the next one at its start."""
        self.seed = seed
        if self.pid is not None:
            self._send_seed()

    def _send_seed(self) -> None:
        self.request({"op": "seed", "target": {}, "seed": self.seed})

    def _await_confinement(self) -> None:
        """Read the first frame, sent before any student code runs: confined, or why not; fail closed."""
        try:
            first = self._receive()
        except StudentCrashed as exc:
            first = {"setup_failed": str(exc)}
        if not isinstance(first, dict) or "confined" not in first:
            why = first.get("setup_failed") if isinstance(first, dict) else None
            self.failed_start = ConfinementFailed(f"the submission process could not be confined ({why or first!r}); no student code ran")
            self.close()
            raise ConfinementFailed(str(self.failed_start))

    def _receive(self) -> Any:
        """Return the next reply; a death or a malformed reply is the submission process's crash."""
        assert self.sock is not None
        try:
            raw = wire.recv_frame(self.sock, MAX_REPLY_BYTES)
            if raw is None:
                raise StudentCrashed(self._death())
            return wire.decode(raw)
        except wire.WireError as exc:
            raise StudentCrashed(f"The process running your code sent a malformed reply ({exc})") from None

    def _death(self) -> str:
        code = self.zygote.exit_code(self.pid) if self.pid else None
        if code is not None and code < 0:
            return f"The process running your code was killed by signal {-code}"
        return f"The process running your code exited (exit code {code})"

    def request(self, message: dict[str, Any]) -> Any:
        """Send one request and return the decoded reply; any interruption kills the process."""
        if self.pid is None:
            self._start()
        payload = wire.encode(message)
        try:
            wire.send_frame(self.sock, payload)
            reply = self._receive()
        except BaseException:
            self.close()  # a timeout or crash mid-call leaves the protocol in an unknown state
            raise
        if not isinstance(reply, dict):
            raise StudentCrashed("the process running your code sent an unreadable reply")
        if "error" in reply:
            _raise_remote(reply["error"])
        return reply

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.pid is not None:
            kill_submission_process(self.pid)
            self.zygote.exit_code(self.pid)  # reap it
            if self.confinement.uid is not None:
                kill_uid(self.confinement.uid)
        self.pid, self.sock = None, None


def _to_wire(value: Any) -> Any:
    """Replace proxies inside an argument with their handles."""
    if isinstance(value, RemoteObject):
        return value._target_handle()
    if type(value) in (list, tuple):
        return type(value)(_to_wire(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    return value


def _copy_back(original: Any, updated: Any) -> None:
    """Apply the submission's in-place changes to an argument: dict (any subclass), list or random generator."""
    import numpy as np

    if isinstance(original, dict) and isinstance(updated, dict):
        dict.clear(original)
        dict.update(original, updated)
    elif type(original) is list and type(updated) is list:
        original[:] = updated
    elif isinstance(original, np.random.Generator) and isinstance(updated, np.random.Generator):
        original.bit_generator.state = updated.bit_generator.state


class LiveDict(dict):
    """A dict read from the submission (e.g. `model.params`): a copy for reading, writes go back.

    `model.params["W1"] = w` updates the model in the submission's process. Changing an array
    in place (`model.params["W1"][0] += h`) changes only the copy: assign the array back.
    """

    def __init__(self, owner: RemoteObject, value: dict[Any, Any]) -> None:
        super().__init__(value)
        self._owner = owner

    def __setitem__(self, key: Any, value: Any) -> None:
        self._owner[key] = value
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


class RemoteObject:
    """A proxy for an object in the submission process: attribute access, calls and indexing cross over."""

    __slots__ = ("_conn", "_generation", "_origin", "_target", "_type")

    def __init__(self, conn: Connection, target: dict[str, Any], type_name: str = "object", origin: Origin | None = None) -> None:
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_generation", conn.generation)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_origin", origin or Origin(f"a `{type_name}` object", ("", type_name)))

    @property
    def remote_type_name(self) -> str:
        """The type of the object in the submission process (`checks` names it in messages)."""
        return self._type

    def _target_handle(self) -> wire.Handle:
        """Return the handle to pass this object back: a module's function (`submission.layers.relu_forward`) is pinned first."""
        if "handle" not in self._target:
            pinned = self._ask("pin")["ok"]
            if not isinstance(pinned, wire.Handle):
                raise TypeError(f"{self._origin.label} cannot be passed to the submission's code")
            return pinned
        return wire.Handle(self._target["handle"], self._type)

    def _wrap(self, value: Any, origin: Origin) -> Any:
        """Turn the handles in a reply into proxies; `origin` describes where the reply came from."""
        if isinstance(value, wire.Handle):
            label = f"the `{value.type}` object from {origin.label}"
            return RemoteObject(self._conn, {"handle": value.id}, value.type, Origin(label, ("", value.type), origin.helper))
        if type(value) in (list, tuple):
            return type(value)(self._wrap(v, origin) for v in value)
        if isinstance(value, dict):
            return {k: self._wrap(v, origin) for k, v in value.items()}
        return value

    def _member(self, name: str) -> Origin:
        """Return the origin of this object's attribute `name`."""
        return Origin(f"`{self._type}.{name}`", ("", self._type, name), self._origin.helper)

    def _ask(self, op: str, attr: str | None = None, **fields: Any) -> Any:
        if "handle" in self._target and self._generation != self._conn.generation:
            raise StudentCrashed("this object was lost when the process running your code was restarted")
        try:
            return self._conn.request({"op": op, "target": self._target, **({"name": attr} if attr else {}), **fields})
        except StudentMismatch as exc:
            exc.origin, exc.attr = self._origin, attr
            raise

    def _value(self, reply: dict[str, Any], origin: Origin) -> Any:
        """Return what an attribute or item read gave; `origin` names that attribute or item itself."""
        value = reply["ok"]
        if "live" in reply and isinstance(reply["live"], wire.Handle):
            owner = RemoteObject(self._conn, {"handle": reply["live"].id}, "dict", origin)
            return LiveDict(owner, self._wrap(value, origin))
        if isinstance(value, wire.Handle):  # a method or other object: it is what `origin` names
            return RemoteObject(self._conn, {"handle": value.id}, value.type, origin)
        return self._wrap(value, origin)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if "path" in self._target:  # a module or something in it: resolved lazily, at call time
            path = [*self._target["path"], name]
            return RemoteObject(self._conn, {"path": path}, name, Origin(f"`{'.'.join(path)}`", tuple(path)))
        return self._value(self._ask("getattr", attr=name), self._member(name))

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask("setattr", attr=name, value=_to_wire(value))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            reply = self._ask("call", args=_to_wire(list(args)), kwargs=_to_wire(kwargs))
        except StudentMismatch as exc:
            exc.call = (len(args), tuple(kwargs))
            raise
        mutated = reply.get("mutated", {})
        for i, arg in enumerate(args):
            _copy_back(arg, mutated.get(str(i)))
        for key, arg in kwargs.items():
            _copy_back(arg, mutated.get(key))
        return self._wrap(reply["ok"], self._origin)

    def __getitem__(self, key: Any) -> Any:
        return self._value(self._ask("getitem", key=_to_wire(key)), Origin(f"an item of {self._origin.label}", (), self._origin.helper))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ask("setitem", key=_to_wire(key), value=_to_wire(value))

    def __len__(self) -> int:
        return int(self._ask("len")["ok"])

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        where = ".".join(self._target["path"]) if "path" in self._target else f"handle {self._target['handle']}"
        return f"RemoteObject({self._type}, {where})"


def _strip_docstrings(node: ast.AST) -> None:
    """Remove the docstring of every class and function in `node`, in place (a body left empty gets `pass`)."""
    for child in ast.walk(node):
        if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = child.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                child.body = body[1:] or [ast.Pass()]


def minimal_source(source: str) -> str:
    """Return `source` without comments or docstrings (parsed and written back)."""
    tree = ast.parse(textwrap.dedent(source))
    _strip_docstrings(tree)
    return ast.unparse(tree)


def helper_source(obj: type | Any) -> str:
    """Return the code that `define` sends for `obj`: its own definition only, without comments or docstrings."""
    import inspect

    return minimal_source(inspect.getsource(obj))


class RemoteSubmission:
    """The `submission` fixture: the student's modules, running in a confined process."""

    def __init__(
        self, zygote: Zygote, path: Path, modules: list[str], forbidden: list[str], confinement: Confinement, output: Path, import_seed: int = 0
    ) -> None:
        self.path = path
        self._modules = modules
        give_to(path, confinement.uid)
        settings = {"submission": str(path), "modules": modules, "forbidden": forbidden, "seed": import_seed}
        self._conn = Connection(zygote, settings, confinement, output)

    def __getattr__(self, name: str) -> RemoteObject:
        if name.startswith("_") or name not in self._modules:
            known = ", ".join(self._modules)
            raise AttributeError(f"no module `{name}` in this assignment; modules: {known}")
        return RemoteObject(self._conn, {"path": [name]}, name, Origin(f"`{name}`", (name,)))

    def start(self) -> None:
        """Start the submission process now (a failure is kept and reported by the first test)."""
        try:
            self._conn.request({"op": "ping", "target": {}})
        except BaseException:  # noqa: BLE001 - remembered in the connection; tests re-raise it
            pass

    def define(self, obj: type | Any) -> RemoteObject:
        """Recreate a grader-side helper (a class or function, e.g. a fake model) in the submission's process.

        The student's code can read what is sent, so only the definition itself goes: its source
        without comments or docstrings (see `helper_source`), nothing else from the test module.
        Pass expected values and thresholds to it only when the student's code must see them.
        The helper may use only builtins and `np`, plus `torch`, `nn` and `F` where the assignment lets students use torch.
        """
        reply = self._conn.request({"op": "define", "target": {}, "source": helper_source(obj), "name": obj.__name__})
        origin = Origin(f"the test's helper `{obj.__name__}`", (), helper=obj)
        return RemoteObject(self._conn, {"handle": reply["ok"].id}, obj.__name__, origin)

    def seed(self, seed: int) -> None:
        """Seed the global random generators in the submission's process, now or when it (re)starts (see `loader.seed_everything`)."""
        self._conn.set_seed(seed)

    def close(self) -> None:
        self._conn.close()

    def __repr__(self) -> str:
        return f"RemoteSubmission(modules={self._modules})"
