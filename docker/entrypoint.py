"""Grade one submission inside a grading image, as `autograder grade` does, and write OUT/<name>.json.

The same entry point for the CPU and the CUDA image. The container sees:

    /submission   the staged submission (read-only)
    /course       assignments/<id> and solutions/<id> (read-only), closed to the submission's uid
    /data         the grader's data (the image's offline cache, host datasets mounted read-only)
    /out          where the result and the engine's log land; read back by the runner

It runs as root without CAP_SYS_ADMIN, so the engine detects the `container` isolation level:
the student's code runs as an unused uid that cannot read /course, /data or /out.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COURSE, SUBMISSION, OUT = Path("/course"), Path("/submission"), Path("/out")


def _speed(text: str | None):
    """Rebuild the batch's calibration (measured once on the host) so every container uses the same factors."""
    from autograder.runners.calibrate import Speed, Workload

    if not text:
        return None
    fields = json.loads(text)
    measured = fields.pop("measured", None)
    return Speed(**fields, measured=Workload(**measured) if measured else None)


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="autograder-container", description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", required=True, help="Assignment id under /course/assignments.")
    parser.add_argument("--name", required=True, help="The submission's name: the result is OUT/<name>.json.")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--per-submission-s", type=float, default=None)
    parser.add_argument("--speed", default=None, help="The batch's calibration as JSON (measured here when absent).")
    parser.add_argument("--pytest-arg", action="append", default=[], help="Passed to pytest first (repeat).")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Grade /submission and write /out/<name>.json; exit 0 when a result was written."""
    args = _arguments(sys.argv[1:] if argv is None else argv)
    from autograder.course import find_assignment
    from autograder.grade import RunOptions, grade_one
    from autograder.runners.local import isolation_level

    level, why = isolation_level()
    print(f"autograder-container: isolation level `{level}`{': ' + why if why else ''}", file=sys.stderr, flush=True)
    assignment = find_assignment(args.assignment, COURSE)
    options = RunOptions(pytest_args=tuple(args.pytest_arg), per_submission_s=args.per_submission_s, device=args.device)
    result = grade_one(assignment, SUBMISSION, OUT, name=args.name, force=True, options=options, speed=_speed(args.speed))
    print(f"autograder-container: {result!r}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
