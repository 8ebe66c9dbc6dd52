"""Map what a test raised to one of the grading outcomes, with a message for the student."""

from __future__ import annotations

import ast
import functools
import inspect
import re
import sys
import traceback
from pathlib import Path
from typing import Any

from autograder import checks
from autograder.isolation.confine import OUTPUT_LIMIT_BYTES
from autograder.isolation.loader import MissingDefinition, SubmissionImportError, SubmissionRejected
from autograder.outcomes import (
    ATTRIBUTE_MSG,
    CALL_MSG,
    CRASH_MSG,
    CRASHED,
    ERRORED,
    FAILED,
    GRADER_ERROR,
    GRADER_ERROR_MSG,
    ITEM_MSG,
    NOT_ATTEMPTED,
    NOT_ATTEMPTED_MSG,
    OOM_MSG,
    OUTPUT_MSG,
    REPLY_MSG,
    SERVE_FAILED_MSG,
    SIGNATURE_MSG,
    STARTUP_TIMEOUT_MSG,
    TIMED_OUT,
    TIMEOUT_MSG,
    UNFIT_MSG,
    UNUSABLE_MSG,
)
from autograder.referee.proxies import (
    GraderFault,
    NotAttempted,
    StartupCrashed,
    StartupTimedOut,
    StudentCrashed,
    StudentError,
    StudentMismatch,
    StudentOutOfMemory,
    StudentOutputLimit,
    helper_source,
)


class TestTimeout(BaseException):
    """Raised by the per-test alarm; a BaseException so `except Exception` in student code cannot swallow it."""

    __test__ = False

# ---------------------------------------------------------------- the handout's definitions (the reference solution)

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
CALL_ERROR = re.compile(r"^(?P<name>[\w.]+)\(\) (takes|got|missing) ")
MAX_SHOWN = 300


class _Source:
    """A default value shown as it is written in the handout (`config=None`)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


@functools.lru_cache(maxsize=64)
def _parsed(path: str) -> ast.Module | None:
    try:
        return ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None


def _handout_node(reference: Path | None, ref: tuple[str, ...]) -> tuple[ast.AST | None, ast.ClassDef | None]:
    """Return the reference's definition named by `ref` (see `Origin`) and the class it sits in, or (None, None)."""
    if reference is None or len(ref) < 2:
        return None, None
    module, *names = ref
    files = [reference / f"{module}.py"] if module else sorted(reference.glob("*.py"))
    for file in files:
        node: ast.AST | None = _parsed(str(file))
        owner = None
        for name in names:
            if not isinstance(node, ast.Module | ast.ClassDef):
                node = None
                break
            owner = node if isinstance(node, ast.ClassDef) else None
            node = next((n for n in node.body if isinstance(n, DEFINITIONS) and n.name == name), None)
        if node is not None:
            return node, owner
    return None, None


def _signature(fn: ast.FunctionDef | ast.AsyncFunctionDef, drop_first: bool) -> inspect.Signature:
    """Build an `inspect.Signature` from a function's source, defaults shown as written."""
    a, P = fn.args, inspect.Parameter
    positional = [*a.posonlyargs, *a.args]
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    params = [
        P(arg.arg, P.POSITIONAL_ONLY if i < len(a.posonlyargs) else P.POSITIONAL_OR_KEYWORD,
          default=P.empty if d is None else _Source(ast.unparse(d)))
        for i, (arg, d) in enumerate(zip(positional, defaults, strict=True))
    ]  # fmt: skip
    params = params[1:] if drop_first else params
    if a.vararg:
        params.append(P(a.vararg.arg, P.VAR_POSITIONAL))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(P(arg.arg, P.KEYWORD_ONLY, default=P.empty if d is None else _Source(ast.unparse(d))))
    if a.kwarg:
        params.append(P(a.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(params)


def _handout_signature(reference: Path | None, ref: tuple[str, ...]) -> tuple[inspect.Signature, str] | None:
    """Return the handout's signature of the callable `ref` names and how to show it: `affine_forward(x, w, b)`."""
    node, owner = _handout_node(reference, ref)
    if isinstance(node, ast.ClassDef):
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        return (_signature(init, drop_first=True), node.name) if init is not None else None
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
        return _signature(node, drop_first=owner is not None and not static), node.name
    return None


def _handout_defines(reference: Path | None, ref: tuple[str, ...]) -> bool | None:
    """Return whether the handout's class `ref[:-1]` has attribute `ref[-1]`; None when the class is unknown."""
    cls, _ = _handout_node(reference, ref[:-1])
    return _class_has(cls, ref[-1]) if isinstance(cls, ast.ClassDef) else None


def _class_has(cls: ast.ClassDef, attr: str) -> bool:
    """Return whether a class's source defines `attr`: a method, a class attribute or `self.<attr> = ...`."""
    for node in ast.walk(cls):
        if isinstance(node, DEFINITIONS) and node.name == attr:
            return True
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Store):
            if getattr(node, "id", None) == attr or (getattr(node, "attr", None) == attr and isinstance(node.value, ast.Name) and node.value.id == "self"):
                return True
    return False


def _binds(signature: inspect.Signature, positional: int, keywords: tuple[str, ...]) -> bool:
    try:
        signature.bind(*range(positional), **dict.fromkeys(keywords))
    except TypeError:
        return False
    return True


# ---------------------------------------------------------------- requests the student's object could not take


def _short(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 5] + " [...]"


def _instructor_error(test: str, reason: str) -> tuple[str, str]:
    """Log why a test's request is the test's own mistake; the student sees only the grader-error message."""
    sys.stderr.write(f"autograder: {test}: the test's own mistake, not the submission's: {reason}\n")
    return GRADER_ERROR, GRADER_ERROR_MSG.format(test=test)


def _mismatched_call(exc: StudentMismatch, test: str, reference: Path | None) -> tuple[str, str]:
    error = f"{exc.error_type}: {_short(exc.message)}"
    found = _handout_signature(reference, exc.origin.ref)
    if found is None:
        return FAILED, CALL_MSG.format(name=exc.origin.label, error=error)
    signature, name = found
    handout = _short(f"{name}{signature}")
    if exc.call is not None and not _binds(signature, *exc.call):
        return _instructor_error(test, f"{exc}. The handout's {handout} cannot take these arguments either.")
    why = _short(re.sub(r"^[\w.<>]+\(\) ", "", exc.message))
    yours = f"yours is {exc.signature}: {why}" if exc.signature else f"yours is a `{exc.object}`, not a function"
    return FAILED, SIGNATURE_MSG.format(name=exc.origin.label, handout=handout, yours=yours)


def _mismatched_attribute(exc: StudentMismatch, test: str, reference: Path | None) -> tuple[str, str]:
    error = f"{exc.error_type}: {_short(exc.message)}"
    ref = (*exc.origin.ref, exc.attr) if exc.attr else exc.origin.ref
    known = _handout_defines(reference, ref) if len(ref) >= 3 else None
    if known is False:
        return _instructor_error(test, f"{exc}. The handout's `{ref[-2]}` has no attribute `{ref[-1]}` either.")
    if known:
        return FAILED, ATTRIBUTE_MSG.format(owner=ref[-2], attr=ref[-1], error=error)
    return FAILED, UNFIT_MSG.format(subject=_subject(exc), error=error)


def _subject(exc: StudentMismatch) -> str:
    """Name what the test could not use, with its type: "The `map` object from `train.train`"."""
    label = exc.origin.label
    if exc.object and f"`{exc.object}`" not in label:
        label = f"{label} (a `{exc.object}`)"
    return label[:1].upper() + label[1:]


def _helper_member(exc: StudentMismatch) -> Any:
    """Return the helper class or function the failed request was aimed at, or None where it cannot be told."""
    helper, ref = exc.origin.helper, exc.origin.ref
    if not ref:
        return helper  # the helper itself: `submission.define(Helper)(...)`
    if len(ref) == 2 and ref[1] == getattr(helper, "__name__", None):
        return helper if exc.attr else None  # an instance of it: its attributes are checked below
    if len(ref) == 3 and ref[1] == getattr(helper, "__name__", None):
        return getattr(helper, ref[2], None)
    return None


def _helper_takes(target: Any, exc: StudentMismatch) -> bool | None:
    """Return whether the helper's own signature takes the test's call (None: unknown); methods lose `self`."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    if inspect.isfunction(target) and len(exc.origin.ref) == 3:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    return _binds(signature, *exc.call) if exc.call else None


def _mismatched_helper(exc: StudentMismatch, test: str) -> tuple[str, str] | None:
    """Judge a failed request aimed at the test's own helper by the helper's code, which the grader holds.

    The submission process's word is not enough (it runs the student's code and may forge replies):
    a grader error needs the helper itself to refuse the request here. Returns None when it does not.
    """
    target = _helper_member(exc)
    if target is None:
        return None
    if exc.op == "call" and _helper_takes(target, exc) is False:
        return _instructor_error(test, f"{exc}. The test's own helper `{getattr(target, '__qualname__', target)}` cannot take these arguments either.")
    if exc.op in ("getattr", "setattr") and exc.attr and inspect.isclass(target):
        if not (hasattr(target, exc.attr) or _class_has(ast.parse(helper_source(target)).body[0], exc.attr)):
            return _instructor_error(test, f"{exc}. The test's own helper `{target.__name__}` has no attribute `{exc.attr}` either.")
    return None


def _classify_mismatch(exc: StudentMismatch, test: str, settings: Any) -> tuple[str, str]:
    """Decide whose fault a request the student's object could not take is, with the handout as the judge."""
    if exc.origin.helper is not None and (verdict := _mismatched_helper(exc, test)) is not None:
        return verdict
    reference = getattr(settings, "reference", None)
    error = f"{exc.error_type}: {_short(exc.message)}"
    if exc.op == "reply":
        subject = f"`{exc.origin.ref[-1]}.{exc.attr}`" if exc.attr and exc.origin.ref else exc.origin.label
        return FAILED, REPLY_MSG.format(subject=subject, error=_short(exc.message))
    if exc.op == "call":
        return _mismatched_call(exc, test, reference)
    if exc.op in ("getattr", "setattr") and exc.error_type == "AttributeError":
        return _mismatched_attribute(exc, test, reference)
    if exc.op == "getitem" and exc.error_type in ("KeyError", "IndexError"):
        return FAILED, ITEM_MSG.format(subject=_subject(exc), key=_short(exc.message), error=error)
    return FAILED, UNFIT_MSG.format(subject=_subject(exc), error=error)


# ---------------------------------------------------------------- exceptions


def _frames(tb: Any) -> traceback.StackSummary:
    """Return a traceback's frames without reading source lines (formatting reads the few it shows)."""
    return traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False)


def _student_frames(tb: Any, roots: list[str]) -> list[traceback.FrameSummary]:
    return [f for f in _frames(tb) if any(f.filename.startswith(r) for r in roots)]


def _trimmed(exc: BaseException, roots: list[str]) -> str:
    """Format an exception with only the frames from the student's own files, paths made relative."""
    header = ""
    if isinstance(exc, SubmissionImportError):
        header = f"{exc}:\n"
        exc = exc.__cause__ or exc
    if isinstance(exc, SyntaxError):
        body = "".join(traceback.format_exception_only(type(exc), exc))
    else:
        frames = _student_frames(exc.__traceback__, roots)
        body = "".join(traceback.format_exception_only(type(exc), exc))
        if frames:
            body = "Traceback (your code only):\n" + "".join(traceback.format_list(frames)) + body
    text = header + body.rstrip()
    for root in roots:
        text = text.replace(root, "")
    return text


def _root_cause(exc: BaseException) -> BaseException:
    while isinstance(exc, SubmissionImportError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def _is_not_attempted(exc: BaseException, roots: list[str]) -> bool:
    exc = _root_cause(exc)
    return isinstance(exc, NotImplementedError) and bool(_student_frames(exc.__traceback__, roots))


def _assertion_message(exc: AssertionError) -> str:
    """Return the test's own message, without pytest's `+ where ...` introspection of grader objects."""
    lines = str(exc).splitlines()
    cut = next((i for i, line in enumerate(lines) if line.startswith("assert ")), None)
    if cut is None:
        return str(exc) or "A check failed."
    return "\n".join(lines[:cut]).rstrip() if cut > 0 else lines[0]


def _classify_remote(exc: BaseException, test: str, settings: Any) -> tuple[str, str] | None:
    """Map what the submission process reported (isolated grading) to an outcome."""
    if isinstance(exc, StartupTimedOut):
        return TIMED_OUT, STARTUP_TIMEOUT_MSG.format(limit=settings.per_test_s)
    if isinstance(exc, StartupCrashed):
        return CRASHED, f"Crashed: {exc}."
    if isinstance(exc, StudentCrashed):
        return CRASHED, CRASH_MSG.format(why=str(exc).rstrip("."), test=test)
    if isinstance(exc, StudentOutOfMemory):
        return CRASHED, OOM_MSG.format(test=test, limit=settings.memory_mb or "available")
    if isinstance(exc, NotAttempted):
        return NOT_ATTEMPTED, NOT_ATTEMPTED_MSG.format(name=exc.message or "this function")
    if isinstance(exc, StudentOutputLimit):
        return ERRORED, OUTPUT_MSG.format(limit=OUTPUT_LIMIT_BYTES // 2**20, test=test)
    if isinstance(exc, StudentError):
        return ERRORED, exc.trace
    if isinstance(exc, SubmissionImportError) and exc.__cause__ is None:
        return ERRORED, str(exc)
    if isinstance(exc, StudentMismatch):
        return _classify_mismatch(exc, test, settings)
    if isinstance(exc, GraderFault):
        # only the submission process says so: never a grader error it could forge; the TA sees the trace
        sys.stderr.write(f"autograder: {test}: the submission process reports a fault in the grader's request; "
                         f"graded as the submission's error (if every submission gets it, check the test):\n{exc}\n")
        return ERRORED, SERVE_FAILED_MSG
    return None


def classify(exc: BaseException, when: str, test: str, settings: Any, roots: list[str], test_files: str) -> tuple[str, str]:
    """Map an exception raised while running a test to (outcome, message)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]  # several failures at once (hypothesis, task groups): the first one speaks for all
    if isinstance(exc, TestTimeout):
        return TIMED_OUT, TIMEOUT_MSG.format(test=test, limit=settings.per_test_s)
    remote = _classify_remote(exc, test, settings)
    if remote is not None:
        return remote
    if isinstance(exc, MemoryError):
        return CRASHED, OOM_MSG.format(test=test, limit=settings.memory_mb or "available")
    if _is_not_attempted(exc, roots):
        name = str(_root_cause(exc)) or "this function"
        return NOT_ATTEMPTED, NOT_ATTEMPTED_MSG.format(name=name)
    if isinstance(exc, SubmissionImportError):
        return ERRORED, _trimmed(exc, roots)
    if isinstance(exc, MissingDefinition | SubmissionRejected):
        return FAILED, str(exc)
    if _student_frames(exc.__traceback__, roots):
        return ERRORED, _trimmed(exc, roots)
    frames = _frames(exc.__traceback__)
    if isinstance(exc, AssertionError) and (when == "call" or (frames and frames[-1].filename == checks.__file__)):
        return FAILED, _assertion_message(exc)  # a check on the student's value fails in a fixture too
    raised_in_test = bool(frames) and frames[-1].filename.startswith(test_files)
    if when == "call" and raised_in_test and isinstance(exc, TypeError) and (call := CALL_ERROR.match(str(exc))):
        # in-process (a student's local check): the student's function refused the handout's arguments
        return FAILED, CALL_MSG.format(name=f"`{call['name']}`", error=f"TypeError: {_short(str(exc))}")
    if when == "call" and raised_in_test and isinstance(exc, TypeError | ValueError | IndexError | KeyError | AttributeError | ArithmeticError):
        return FAILED, UNUSABLE_MSG.format(kind=type(exc).__name__, error=exc)
    return GRADER_ERROR, GRADER_ERROR_MSG.format(test=test)


