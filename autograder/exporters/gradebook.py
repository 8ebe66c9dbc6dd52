"""Write `grades.csv`: a row per roster student (or per submission), a column per question, raw and late-adjusted totals, why.

Every text cell is made safe for a spreadsheet. With a roster the rows are exactly its students: those
with no submission in the batch are `missing`; submissions matching no student are reported, not listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.intake.names import csv_cell
from autograder.intake.roster import Roster, Student, students_in
from autograder.results import SubmissionResult
from autograder.results.lateness import final_score, late_from_metadata
from autograder.results.store import write_atomic
from autograder.spec import AssignmentSpec

IDENTITY = ("student", "submission", "lms_id", "sis_id", "login", "email")
TOTALS = ("raw", "late_days", "late_penalty", "total", "max", "percent", "status", "why", "submitted_at")
MISSING = "missing"
MAX_WHY_CHARS = 160
FORBIDDEN = re.compile(r"imports `([\w.]+)`; this assignment allows none")
SYNTAX_AT = re.compile(r'File "([^"]+)", line (\d+)')
IMPORT_FAILED = re.compile(r"Importing your `([^`]+)` failed")
NOT_ATTEMPTED = re.compile(r"Not attempted: `([^`]+)`")
# Notes worth a TA's eye in `why`: files missing, and a choice made among several candidates.
CHOICE_NOTES = ("missing files", "folders hold the handout files", "zips were handed in", "uploaded more than once")


def _first_sentence(text: str, limit: int = 100) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = line.removeprefix("Your submission could not be read: ")
    cut = re.split(r"(?<=[.;])\s", line, maxsplit=1)[0]
    return cut if len(cut) <= limit else cut[: limit - 3] + "..."


def _code_reason(result: SubmissionResult) -> str:
    """Return the one problem that cost every point, when the tests' messages name one: forbidden import, syntax error."""
    outputs = [t.output for t in result.tests if t.outcome != "passed"]
    for text in outputs:
        if m := FORBIDDEN.search(text):
            return f"forbidden import: {m.group(1)}"
    for text in outputs:
        at = text.find("SyntaxError")
        where = list(SYNTAX_AT.finditer(text, 0, at)) if at >= 0 else []
        if where:
            return f"syntax error in {where[-1].group(1)} (line {where[-1].group(2)})"
    for text in outputs:
        if m := IMPORT_FAILED.search(text):
            return f"importing {m.group(1)} failed"
    return ""


def _test_reason(result: SubmissionResult) -> str:
    """Return what the tests say in a few words: stubs left, questions that lost points, or all passed."""
    if not result.tests:
        return _first_sentence(result.output)
    stubs = list(dict.fromkeys(m.group(1) for t in result.tests if t.outcome == "not attempted" and (m := NOT_ATTEMPTED.search(t.output))))
    if stubs and all(t.outcome == "not attempted" for t in result.tests):
        return "not attempted: every function is still the handout's stub"
    parts = []
    if stubs:
        parts.append(f"not attempted: {', '.join(stubs[:3])}" + (f" (+{len(stubs) - 3})" if len(stubs) > 3 else ""))
    timed = sum(1 for t in result.tests if t.outcome == "timed out")
    if timed:
        parts.append(f"{timed} test{'s' if timed > 1 else ''} timed out")
    lost = [q.id for q in result.questions if q.score < q.max_score]
    if lost and not stubs:
        parts.append(f"lost points in {', '.join(lost[:4])}" + (f" (+{len(lost) - 4})" if len(lost) > 4 else ""))
    return "; ".join(parts) or "all tests passed"


def why(spec: AssignmentSpec, result: SubmissionResult) -> str:
    """Return a short reason for a submission's grade: `forbidden import: torch`, `syntax error in mlp.py`, `late 2 days: -20%`."""
    if result.status == "graded":
        main = _code_reason(result) or _test_reason(result)
    else:
        main = _first_sentence(result.output) or result.status
    notes = [*(result.metadata.get("notes") or []), *(result.metadata.get("intake_notes") or [])]
    choices = [n.split(". ")[0].rstrip(".") for n in notes if isinstance(n, str) and any(k in n for k in CHOICE_NOTES)]
    late = late_from_metadata(result.metadata)
    parts = [main, *choices[:2], late.describe(spec) if late else ""]
    text = "; ".join(p for p in parts if p)
    return text if len(text) <= MAX_WHY_CHARS else text[: MAX_WHY_CHARS - 3] + "..."


def students_of(result: SubmissionResult) -> list[Student]:
    """Return the students the LMS download said a result belongs to (empty for plain folders graded without one)."""
    return students_in(result.metadata)


@dataclass
class RosterView:
    """The roster's students each with their submission (None: missing), the others they also submitted, the unmatched."""

    rows: list[tuple[Student, SubmissionResult | None, list[SubmissionResult]]] = field(default_factory=list)
    unmatched: list[tuple[SubmissionResult, str]] = field(default_factory=list)

    @property
    def missing(self) -> list[Student]:
        return [s for s, r, _ in self.rows if r is None]


def _submitted(result: SubmissionResult) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(str(result.metadata.get("submitted_at")))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return when if when.utcoffset() is not None else when.replace(tzinfo=dt.UTC)


def _newest_first(results: list[SubmissionResult]) -> list[SubmissionResult]:
    return sorted(results, key=lambda r: (_submitted(r), r.submission), reverse=True)


def roster_view(roster: Roster, results: list[SubmissionResult]) -> RosterView:
    """Match each result to its roster students (a group's result to each member); a student's newest submission counts."""
    mine: dict[int, list[SubmissionResult]] = {}
    view = RosterView()
    for r in sorted(results, key=lambda r: r.submission):
        matched = [m for m in (roster.find_student(s) for s in students_of(r)) if m is not None]
        if not matched:
            found, reason = roster.match([], r.submission, r.original_name)
            matched = [found] if found else []
            if not found:
                view.unmatched.append((r, reason))
        for student in {id(m): m for m in matched}.values():
            mine.setdefault(id(student), []).append(r)
    for student in roster.students:
        got = _newest_first(mine.get(id(student), []))
        view.rows.append((student, got[0] if got else None, got[1:]))
    return view


def _identity(student: Student, result: SubmissionResult | None) -> list[str]:
    label = student.label() if student != Student() else ""
    return [label, result.submission if result else "", student.lms_id, student.sis_id, student.login, student.email]


def _scores(spec: AssignmentSpec, result: SubmissionResult, others: list[SubmissionResult]) -> list[str]:
    by_id = {q.id: q.score for q in result.questions}
    late = late_from_metadata(result.metadata)
    total = final_score(result.score, late)
    percent = 100.0 * total / result.max_score if result.max_score else 0.0
    reason = why(spec, result) + (f"; also submitted: {', '.join(o.submission for o in others)}" if others else "")
    return [
        *[f"{by_id.get(q.id, 0.0):g}" for q in spec.questions], f"{result.score:g}", str(late.days) if late else "",
        f"{late.penalty:g}" if late else "", f"{total:g}", f"{result.max_score:g}", f"{percent:.1f}", result.status,
        reason, str(result.metadata.get("submitted_at") or ""),
    ]  # fmt: skip


def _missing_scores(spec: AssignmentSpec) -> list[str]:
    return [*["0" for _ in spec.questions], "0", "", "", "0", f"{spec.max_points:g}", "0.0", MISSING, "no submission in this batch", ""]


def _result_student(result: SubmissionResult) -> Student:
    students = students_of(result)
    if len(students) > 1:
        return Student(name=" & ".join(s.label() for s in students), sis_id=students[0].sis_id, email=students[0].email)
    return students[0] if students else Student()


def gradebook_rows(spec: AssignmentSpec, results: list[SubmissionResult], roster: Roster | None = None) -> list[list[str]]:
    """Return the header and the rows: one per roster student (missing ones included), else one per submission by name."""
    rows = [list(IDENTITY) + [q.id for q in spec.questions] + list(TOTALS)]
    if roster is None:
        for r in sorted(results, key=lambda r: r.submission):
            rows.append(_identity(_result_student(r), r) + _scores(spec, r, []))
    else:
        for student, r, others in roster_view(roster, results).rows:
            rows.append(_identity(student, r) + (_scores(spec, r, others) if r else _missing_scores(spec)))
    return [[csv_cell(c) for c in row] for row in rows]


def write_gradebook(spec: AssignmentSpec, results: list[SubmissionResult], path: Path, roster: Roster | None = None) -> Path:
    """Write the gradebook CSV atomically (temp file, fsync, rename)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(gradebook_rows(spec, results, roster))
    return write_atomic(path, buffer.getvalue())
