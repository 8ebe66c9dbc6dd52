"""Write a CSV that Moodle's assignment takes through "Upload grading worksheet" (offline grading).

Moodle's importer needs three columns, by their English names: `Identifier` (`Participant N`,
where N is the assignment's own participant number, the one in Moodle's download folder names
`Full Name_N_assignsubmission_file_` and in its downloaded worksheet, not the user id),
`Grade` and `Last modified (grade)` (a row is skipped when the grade in Moodle changed after
that time, unless the upload form's "ignore modified" box is ticked). `Feedback comments` is
read when that feedback type is enabled on the assignment; it is HTML there, so it is escaped.
The other columns are for the person checking the file. UTF-8 with a BOM (Moodle strips it).
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

from autograder.intake.names import csv_cell
from autograder.lms.batch import Batch, Entry, ExportReport, pair_with_roster
from autograder.lms.feedback import feedback_summary, points
from autograder.lms.roster import Roster
from autograder.results.lateness import final_score, late_from_metadata
from autograder.results.store import write_atomic

HEADER = ("Identifier", "Full name", "Email address", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments")
DOWNLOAD_NAME = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)(?:_|$)")  # `Full Name_12345_assignsubmission_file_`
PARTICIPANT_HEADER = re.compile(r"^\s*(identifier|participant)", re.IGNORECASE)
NOT_PARTICIPANT_WARNING = (
    "the roster's `{column}` column is written as Moodle's participant number (`Participant N`); Moodle matches only the "
    "numbers of its own grading worksheet, not user ids: use the worksheet Moodle downloads as the roster if unsure"
)
NO_ROSTER_WARNING = (
    "no roster: participant numbers are read from Moodle's download names (`Full Name_12345_...`); "
    "pass --roster (Moodle's downloaded grading worksheet works as one) for anything else"
)


def _participant(entry: Entry) -> tuple[str, str, str] | None:
    """Return (participant number, full name, email) for a result, or None when nothing gives the number."""
    s = entry.student
    if s is not None and s.lms_id:
        return s.lms_id, s.name, s.email
    for name in (entry.result.original_name, entry.result.submission):
        m = DOWNLOAD_NAME.match(name)
        if m:
            return m["participant"], s.name if s else m["name"], s.email if s else ""
    return None


def moodle_rows(entries: list[Entry], warnings: list[str]) -> list[list[str]]:
    """Return the header and one row per result that has a participant number (late penalty applied); warn about the others."""
    rows = [list(HEADER)]
    for e in entries:
        who = _participant(e)
        if who is None:
            warnings.append(f"`{e.result.submission}`: no Moodle participant number (no roster `Identifier`/LMS id, and not named "
                            "like Moodle's download `Full Name_12345_...`); not exported")  # fmt: skip
            continue
        number, name, email = who
        feedback = html.escape(" ".join(feedback_summary(e.result).split()), quote=False)
        grade = final_score(e.result.score, late_from_metadata(e.result.metadata))
        rows.append([f"Participant {csv_cell(number)}", csv_cell(name), csv_cell(email), points(grade),
                     points(e.result.max_score), e.result.graded_at, csv_cell(feedback)])  # fmt: skip
    return rows


def write_moodle_csv(batch: Batch, path: Path, roster: Roster | None = None) -> ExportReport:
    """Write Moodle's grading worksheet for one assignment's results."""
    entries, warnings = pair_with_roster(batch, roster)
    if roster is None:
        warnings.insert(0, NO_ROSTER_WARNING)
    elif "lms_id" in roster.headers and PARTICIPANT_HEADER.match(roster.headers["lms_id"]) is None:
        warnings.insert(0, NOT_PARTICIPANT_WARNING.format(column=roster.headers["lms_id"]))
    rows = moodle_rows(entries, warnings)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "\ufeff" + buffer.getvalue())
    return ExportReport(path, len(rows) - 1, [*(roster.warnings if roster else []), *warnings])
