"""Map what a test raised to one of the grading outcomes, with a message for the student."""

from __future__ import annotations

import traceback
from typing import Any

from autograder.isolation.confine import OUTPUT_LIMIT_BYTES
from autograder.isolation.loader import MissingDefinition, SubmissionImportError, SubmissionRejected
from autograder.outcomes import (
    CRASH_MSG,
    CRASHED,
    ERRORED,
    FAILED,
    GRADER_ERROR,
    GRADER_ERROR_MSG,
    NOT_ATTEMPTED,
    NOT_ATTEMPTED_MSG,
    OOM_MSG,
    OUTPUT_MSG,
    STARTUP_TIMEOUT_MSG,
    TIMED_OUT,
    TIMEOUT_MSG,
    UNUSABLE_MSG,
)
from autograder.referee.proxies import (
    NotAttempted,
    StartupCrashed,
    StartupTimedOut,
    StudentCrashed,
    StudentError,
    StudentOutOfMemory,
    StudentOutputLimit,
)


class TestTimeout(BaseException):
    """Raised by the per-test alarm; a BaseException so `except Exception` in student code cannot swallow it."""

    __test__ = False

def _student_frames(tb: Any, roots: list[str]) -> list[traceback.FrameSummary]:
    frames = traceback.extract_tb(tb)
    return [f for f in frames if any(f.filename.startswith(r) for r in roots)]


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
    return None


def classify(exc: BaseException, when: str, test: str, settings: Any, roots: list[str], test_files: str) -> tuple[str, str]:
    """Map an exception raised while running a test to (outcome, message)."""
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
    if isinstance(exc, AssertionError) and when == "call":
        return FAILED, _assertion_message(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    raised_in_test = bool(frames) and frames[-1].filename.startswith(test_files)
    if when == "call" and raised_in_test and isinstance(exc, TypeError | ValueError | IndexError | KeyError | AttributeError):
        return FAILED, UNUSABLE_MSG.format(kind=type(exc).__name__, error=exc)
    return GRADER_ERROR, GRADER_ERROR_MSG.format(test=test)


