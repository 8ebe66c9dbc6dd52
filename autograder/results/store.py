"""Write results atomically, one JSON file per submission, and read them back."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from autograder.intake.names import file_stem
from autograder.results.models import MAX_RESULT_BYTES, SubmissionResult

READ_LIMIT_BYTES = 4 * MAX_RESULT_BYTES  # anything larger in a results folder is not one of ours


def result_path(out_dir: Path, submission: str) -> Path:
    """Return `OUT/<submission>.json`, the name made safe for a file."""
    return out_dir / f"{file_stem(submission)}.json"


RESULT_MODE = 0o640  # the TA's group may read results; others may not (they hold grades)


def write_atomic(path: Path, text: str, mode: int = RESULT_MODE) -> Path:
    """Write `text` to `path` through a temp file in the same folder, fsync and rename; the file gets `mode`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".autograder.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_result(result: SubmissionResult, out_dir: Path) -> Path:
    """Write `OUT/<submission>.json` atomically; the result is validated again, so a later edit cannot bypass its caps."""
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = SubmissionResult.model_validate(result.model_dump())
    return write_atomic(result_path(out_dir, safe.submission), safe.model_dump_json(indent=2))


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "the file"
    return f"{exc.error_count()} invalid field(s), first `{where}`: {first['msg']}"


def read_result_or_reason(path: Path) -> SubmissionResult | str:
    """Return the result in `path`, or a phrase saying why it is not a readable result (`not valid JSON (...)`)."""
    try:
        if path.stat().st_size > READ_LIMIT_BYTES:
            return f"larger than {READ_LIMIT_BYTES // 1_000_000} MB, so not a result file"
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    except RecursionError:
        return "nested too deeply to be a result file"
    if not isinstance(doc, dict) or "submission" not in doc or "tests" not in doc:
        return "not a result file (no `submission` and `tests` fields)"
    try:
        return SubmissionResult.model_validate(doc)
    except ValidationError as exc:
        return f"not a valid result: {_first_problem(exc)}"


def read_result(path: Path) -> SubmissionResult | None:
    """Read a result file, or None when it is missing, oversized or unreadable."""
    got = read_result_or_reason(path)
    return None if isinstance(got, str) else got
