"""Write results atomically, one JSON file per submission, and read them back."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

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


def read_result(path: Path) -> SubmissionResult | None:
    """Read a result file, or None when it is missing, oversized or unreadable."""
    try:
        if path.stat().st_size > READ_LIMIT_BYTES:
            return None
        return SubmissionResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError):
        return None
