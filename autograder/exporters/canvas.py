"""Write a CSV that Canvas's gradebook import (Grades > Import) takes as it is.

Canvas reads the header `Student, ID, SIS User ID, SIS Login ID, Section`, then one column per
assignment named `Title (assignment id)`, and an optional `Points Possible` row. It finds each
student by `ID` (the Canvas user id), else `SIS User ID`, else `SIS Login ID`, else the name; it
finds the assignment by the id in parentheses, else by the exact title, else creates a new
assignment with that title. Blank cells change nothing. The file is UTF-8 with a BOM: Canvas's
header check ignores it and spreadsheet programs need it to show non-ASCII names.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.intake.names import csv_cell
from autograder.lms.batch import Batch, Entry, ExportReport, pair_with_roster
from autograder.lms.feedback import points
from autograder.lms.roster import Roster
from autograder.results.lateness import final_score, late_from_metadata
from autograder.results.store import write_atomic

HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
NO_ROSTER_WARNING = (
    "no roster: each row carries the submission name as `SIS Login ID` only, so Canvas matches a student "
    "only where the submission is named after their login (else by name); pass --roster for Canvas ids"
)


def assignment_column(title: str, canvas_assignment_id: str | None) -> str:
    """Return the assignment's column name: `Title (id)` for an existing Canvas assignment, the bare title for a new one."""
    return f"{title} ({canvas_assignment_id})" if canvas_assignment_id else title


def _identity(entry: Entry) -> list[str]:
    s = entry.student
    if s is None:
        name = entry.result.submission
        return [name, "", "", name, ""]
    return [s.name or s.label(), s.lms_id, s.sis_id, s.login, s.section]


def canvas_rows(entries: list[Entry], column: str, max_points: float, points_row: bool = True) -> list[list[str]]:
    """Return the header, the optional `Points Possible` row and one row per student (late penalty applied); text cells made inert."""
    rows = [[*HEADER, csv_cell(column)]]
    if points_row:
        rows.append(["Points Possible", "", "", "", "", points(max_points)])
    rows += [[csv_cell(c) for c in _identity(e)] + [points(final_score(e.result.score, late_from_metadata(e.result.metadata)))] for e in entries]
    return rows


def write_canvas_csv(
    batch: Batch, path: Path, roster: Roster | None = None, *,
    title: str | None = None, canvas_assignment_id: str | None = None, points_row: bool = True,
) -> ExportReport:  # fmt: skip
    """Write the Canvas gradebook import CSV for one assignment's results; the title defaults to the assignment id."""
    entries, warnings = pair_with_roster(batch, roster)
    if roster is None:
        warnings.insert(0, NO_ROSTER_WARNING)
    column = assignment_column(title or batch.assignment, canvas_assignment_id)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(canvas_rows(entries, column, batch.results[0].max_score, points_row))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "\ufeff" + buffer.getvalue())
    return ExportReport(path, len(entries), [*(roster.warnings if roster else []), *warnings])
