"""Read a class roster (CSV) and find the student behind a submission name.

The roster's columns are recognised by name, liberally: `LMS id` (also `ID`, `Canvas user id`,
Moodle's `Identifier`), `SIS id` (`SIS User ID`, `Student ID`), `login` (`SIS Login ID`,
`username`), `email` (`Email address`), `name` (`Student`, `Full name`) and `section`. So
Canvas's gradebook export and Moodle's grading worksheet work as rosters as they are.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

ALIASES = {
    "lms_id": {"lmsid", "lmsuserid", "id", "userid", "canvasid", "canvasuserid", "moodleid", "identifier", "participant", "participantid"},
    "sis_id": {"sisid", "sisuserid", "studentid", "studentnumber", "idnumber", "sis"},
    "login": {"login", "loginid", "sisloginid", "username", "netid", "uid"},
    "email": {"email", "emailaddress", "mail"},
    "name": {"name", "fullname", "student", "studentname", "displayname"},
    "section": {"section", "sections"},
}
IDENTITY = ("lms_id", "sis_id", "login", "email")
PARTICIPANT = re.compile(r"^participant\s*", re.IGNORECASE)  # Moodle's worksheet: `Participant 12345`
TOKEN_SPLIT = re.compile(r"[_\-\s.]+")


class RosterError(Exception):
    """The roster file cannot be used (unreadable, or no column that identifies a student)."""


@dataclass(frozen=True)
class Student:
    """One roster row; every field is text, empty when the roster does not have it."""

    lms_id: str = ""
    sis_id: str = ""
    login: str = ""
    email: str = ""
    name: str = ""
    section: str = ""

    def label(self) -> str:
        """Return a short name for messages: the name, else the first identity field."""
        return self.name or next((getattr(self, f) for f in IDENTITY if getattr(self, f)), "?")


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _columns(header: list[str]) -> dict[str, int]:
    """Map each roster field to the first column whose header is one of its aliases."""
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        for name, aliases in ALIASES.items():
            if _key(h) in aliases and name not in found:
                found[name] = i
    return found


def _student(row: list[str], columns: dict[str, int]) -> Student:
    values = {name: row[i].strip() if i < len(row) else "" for name, i in columns.items()}
    if "lms_id" in values:
        values["lms_id"] = PARTICIPANT.sub("", values["lms_id"])
    return Student(**values)


@dataclass
class Roster:
    """The students of a course, and what was odd in the file."""

    students: list[Student] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entry: str = "roster entry"  # what one student is called in messages
    headers: dict[str, str] = field(default_factory=dict)  # field -> the roster's own column name

    def _by(self, name: str, value: str) -> list[Student]:
        value = value.casefold()
        if name == "email_local":
            return [s for s in self.students if s.email and s.email.casefold().split("@")[0] == value]
        return [s for s in self.students if getattr(s, name) and getattr(s, name).casefold() == value]

    def _exact(self, key: str) -> list[Student]:
        """Return the students one of whose identity fields, or name, is `key` (case-insensitive)."""
        for name in (*IDENTITY, "email_local", "name"):
            hits = self._by(name, key)
            if hits:
                return hits
        return []

    def _tokens(self, key: str) -> list[Student]:
        """Return the students named by the first part of `key` that is a login, LMS id or SIS id (LMS file names)."""
        for token in TOKEN_SPLIT.split(key):
            for name in ("login", "lms_id", "sis_id"):
                hits = self._by(name, token) if token else []
                if hits:
                    return hits
        return []

    def find(self, *keys: str) -> tuple[Student | None, str]:
        """Return the one student the keys name (exact match first, then parts of LMS file names), or None and why."""
        keys = tuple(k for k in dict.fromkeys(keys) if k)
        for lookup in (self._exact, self._tokens):
            for key in keys:
                hits = list(dict.fromkeys(lookup(key)))
                if len(hits) == 1:
                    return hits[0], ""
                if len(hits) > 1:
                    return None, f"`{key}` matches {len(hits)} of them ({', '.join(s.label() for s in hits)}), each a {self.entry}"
        return None, f"no {self.entry} matches `{keys[0] if keys else ''}`"


def _rows(text: str) -> list[list[str]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]


def read_roster(path: Path) -> Roster:
    """Read a roster CSV (UTF-8, with or without BOM; comma, semicolon or tab); skip Canvas's `Points Possible` row."""
    try:
        rows = _rows(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}") from None
    if not rows:
        raise RosterError(f"the roster {path} is empty; it needs a header row and one row per student.")
    columns = _columns(rows[0])
    if not any(name in columns for name in IDENTITY):
        accepted = ", ".join(sorted(a for name in IDENTITY for a in ALIASES[name]))
        raise RosterError(f"the roster {path} has no column that identifies a student (its header: {', '.join(rows[0])}); name one of: {accepted}.")
    roster = Roster(headers={name: rows[0][i] for name, i in columns.items()})
    for n, row in enumerate(rows[1:], start=2):
        student = _student(row, columns)
        if student.name.startswith("Points Possible") or not any(getattr(student, f) for f in IDENTITY):
            continue
        clash = next((f.name for f in fields(Student) if f.name in IDENTITY and getattr(student, f.name)
                      and roster._by(f.name, getattr(student, f.name))), None)  # fmt: skip
        if clash:
            roster.warnings.append(f"roster line {n}: {clash} `{getattr(student, clash)}` is already on an earlier line; line {n} ignored")
            continue
        roster.students.append(student)
    return roster
