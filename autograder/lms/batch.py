"""Read a results folder for an export: every `OUT/<name>.json`, with a warning for each file that is not a result."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.intake.roster import students_in
from autograder.lms.roster import Roster, Student
from autograder.results import SubmissionResult
from autograder.results.store import read_result_or_reason


class BatchError(Exception):
    """The results folder cannot be exported at all (missing, empty, several assignments)."""


@dataclass
class Batch:
    """The results read from one folder, and what was left out and why."""

    folder: Path
    results: list[SubmissionResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def assignment(self) -> str:
        return self.results[0].assignment if self.results else ""

    def __repr__(self) -> str:
        return f"Batch({str(self.folder)!r}, {len(self.results)} results, {len(self.warnings)} warnings)"


def read_batch(folder: Path) -> Batch:
    """Read every `<name>.json` directly in `folder` (not `logs/`, not hidden temp files); all must be one assignment."""
    if not folder.is_dir():
        raise BatchError(f"{folder} is not a folder of results; give the --out folder of `autograder grade`.")
    batch = Batch(folder)
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith(".") or not path.is_file():
            continue
        got = read_result_or_reason(path)
        if isinstance(got, str):
            batch.warnings.append(f"{path} is {got}; skipped (regrade that submission, or remove the file)")
        else:
            batch.results.append(got)
    if not batch.results:
        raise BatchError(f"{folder} holds no result files (<name>.json written by `autograder grade`).")
    assignments = sorted({r.assignment for r in batch.results})
    if len(assignments) > 1:
        raise BatchError(f"{folder} holds results of {len(assignments)} assignments ({', '.join(assignments)}); export one assignment's folder at a time.")
    return batch


@dataclass(frozen=True)
class Entry:
    """A result to send, and the roster student it belongs to (None: no roster, or no match)."""

    result: SubmissionResult
    student: Student | None


def _newest(entries: list[Entry], warnings: list[str]) -> list[Entry]:
    """Keep one result per roster student, the most recently graded; say which were dropped."""
    by_student: dict[Student, list[Entry]] = {}
    for e in entries:
        if e.student is not None:
            by_student.setdefault(e.student, []).append(e)
    dropped: set[int] = set()
    for student, mine in by_student.items():
        if len(mine) > 1:
            mine = sorted(mine, key=lambda e: e.result.graded_at, reverse=True)
            names = ", ".join(f"`{e.result.submission}`" for e in mine[1:])
            warnings.append(f"{student.label()} has {len(mine)} results; sending the newest, `{mine[0].result.submission}`, not {names}")
            dropped |= {id(e) for e in mine[1:]}
    return [e for e in entries if id(e) not in dropped]


def pair_with_roster(batch: Batch, roster: Roster | None) -> tuple[list[Entry], list[str]]:
    """Pair each result with its roster student; leave out grader errors; warn about unmatched names and missing students."""
    entries, warnings = [], []
    for r in sorted(batch.results, key=lambda r: r.submission):
        if r.status == "grader error":
            warnings.append(f"`{r.submission}`: grader error, not exported (our fault, not the student's); regrade it first")
            continue
        student, why = roster.match(students_in(r.metadata), r.submission, r.original_name) if roster else (None, "")
        if roster and student is None:
            warnings.append(f"`{r.submission}`: {why}")
        entries.append(Entry(r, student))
    entries = _newest(entries, warnings)
    if roster:
        seen = {e.student for e in entries}
        warnings += [f"no result for roster student {s.label()}; not exported (grade or mark them by hand)" for s in roster.students if s not in seen]
    return entries, warnings


@dataclass
class ExportReport:
    """Where an export went, how many students it holds, and what it left out or could not identify."""

    path: Path
    rows: int
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"ExportReport({str(self.path)!r}, {self.rows} rows, {len(self.warnings)} warnings)"
