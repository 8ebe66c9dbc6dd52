"""Read a class roster (CSV from any LMS) and match the students an LMS download names to its rows."""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from autograder.intake.names import printable

MAX_ROSTER_BYTES = 20 * 2**20
# Normalised header (letters and digits, lower case) -> field. Canvas gradebook export, Moodle grading
# worksheet and participants export, Gradescope roster, and plain hand-made headers.
HEADERS = {
    "name": ("name", "student", "fullname", "studentname", "sortablename", "displayname"),
    "lms_id": ("id", "lmsid", "canvasid", "canvasuserid", "userid", "identifier", "participant", "participantid", "moodleid"),
    "sis_id": ("sisuserid", "sisid", "sid", "studentid", "studentnumber", "idnumber", "matriculationnumber"),
    "login": ("sisloginid", "login", "loginid", "username", "user", "netid", "uniqname"),
    "email": ("email", "emailaddress", "mail", "sisemail"),
    "section": ("section", "sections", "group", "groups"),
    "role": ("role", "roles", "enrollmenttype"),
}
FIRST_NAMES = ("firstname", "givenname", "first")
LAST_NAMES = ("lastname", "surname", "familyname", "last")
NOT_STUDENTS = {"points possible", "student, test", "test student"}  # rows a Canvas gradebook export adds


class RosterError(ValueError):
    """A roster cannot be read; the message names the file, what is wrong and the headers understood."""


@dataclass(frozen=True)
class Student:
    """Who a submission belongs to, as far as an LMS or a roster says (any field may be empty)."""

    name: str = ""
    lms_id: str = ""  # Canvas user id, Moodle participant id
    sis_id: str = ""  # the institution's student number (Gradescope's SID)
    login: str = ""
    email: str = ""
    section: str = ""

    def as_metadata(self) -> dict[str, str]:
        """Return the non-empty fields, for a result's `metadata.students`."""
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_metadata(cls, record: Any) -> Student:
        """Return the student a result's `metadata.students` entry describes (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in record.items() if k in known}) if isinstance(record, dict) else cls()

    def label(self) -> str:
        """Return the most readable way to name this student."""
        return self.name or self.login or self.email or self.sis_id or self.lms_id or "?"


def students_in(metadata: dict[str, Any]) -> list[Student]:
    """Return the students a result's metadata names (`metadata.students`, written by `grade` from the LMS download)."""
    records = metadata.get("students")
    return [Student.from_metadata(r) for r in records] if isinstance(records, list) else []


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _digits(text: str) -> str:
    """Return an LMS id without its decoration: Moodle's `Participant 12345` -> `12345`."""
    found = re.fullmatch(r"\D*?(\d+)", text.strip())
    return found.group(1) if found else _norm(text)


@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """Return a name reduced to its letters with the words sorted: `Doe, Jane`, `Jane Doe` and `doejane` may meet."""
    words = re.findall(r"[^\W\d_]+", name.casefold())
    return "".join(sorted(words)) if len(words) > 1 else "".join(words)


@functools.lru_cache(maxsize=65536)
def _keys(s: Student) -> dict[str, str]:
    email = _norm(s.email)
    return {"lms_id": _digits(s.lms_id) if s.lms_id else "", "sis_id": _norm(s.sis_id), "login": _norm(s.login),
            "email": email, "email_local": email.split("@")[0] if "@" in email else ""}  # fmt: skip


TOKEN_SPLIT = re.compile(r"[_\-\s.]+")
# (our field, the roster's field) pairs, tried tier by tier: the same kind of id, then an id written in another column.
TIER_FIELDS = ("lms_id", "sis_id", "login", "email", "email_local")
TIERS = (
    (("lms_id", "lms_id"), ("sis_id", "sis_id"), ("email", "email"), ("login", "login")),
    (("login", "sis_id"), ("login", "email_local"), ("login", "lms_id"), ("email_local", "login"), ("sis_id", "login")),
)


@dataclass
class Roster:
    """The students of a class, in the roster's order, and what was odd in the file."""

    students: list[Student] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    entry: str = "roster entry"  # what one student is called in messages
    source: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # field -> the roster's own column name
    _cache: tuple[tuple[int, int], dict[str, dict[str, list[Student]]]] | None = field(default=None, repr=False, compare=False)

    def find_student(self, who: Student) -> Student | None:
        """Return the row for identities an LMS gave: the same id, then an id in another column, then a unique name."""
        mine, index = _keys(who), self._index()
        for tier in TIERS:
            hits = {id(s): s for ours, theirs in tier if mine[ours] for s in index[theirs].get(mine[ours], [])}
            if len(hits) == 1:
                return next(iter(hits.values()))
            if hits:
                return None  # two rows share the id: refuse to guess
        for key in dict.fromkeys(k for k in (name_key(who.name), name_key(who.login)) if k):
            named = {id(s): s for f in ("name", "squashed") for s in index[f].get(key, [])}
            if len(named) == 1:
                return next(iter(named.values()))
        return None

    def _index(self) -> dict[str, dict[str, list[Student]]]:
        """Return, per field (and name), each normalised value's students; rebuilt when `students` changes."""
        if self._cache and self._cache[0] == (id(self.students), len(self.students)):
            return self._cache[1]
        index: dict[str, dict[str, list[Student]]] = {}
        for s in self.students:
            values = {**_keys(s), "name": name_key(s.name), "squashed": re.sub(r"\W", "", _norm(s.name))}
            for f, v in values.items():
                if v:
                    index.setdefault(f, {}).setdefault(v, []).append(s)
        for f in (*TIER_FIELDS, "name", "squashed"):
            index.setdefault(f, {})
        self._cache = ((id(self.students), len(self.students)), index)
        return index

    def find(self, *keys: str) -> tuple[Student | None, str]:
        """Return the one student plain names point to (a submission's name): a whole id or name first, then a part of it."""
        keys, index = tuple(k for k in dict.fromkeys(keys) if k), self._index()
        norm = lambda f, v: _digits(v) if f == "lms_id" else name_key(v) if f == "name" else _norm(v)  # noqa: E731
        lookups = ((("lms_id", "sis_id", "login", "email", "email_local", "name"), lambda k: [k]),
                   (("login", "lms_id", "sis_id"), lambda k: [t for t in TOKEN_SPLIT.split(k) if t]))  # fmt: skip
        for names, parts in lookups:
            for key in keys:
                for part in parts(key):
                    for name in names:
                        hits = list(dict.fromkeys(index[name].get(norm(name, part), [])))
                        if len(hits) == 1:
                            return hits[0], ""
                        if len(hits) > 1:
                            return None, f"`{key}` matches {len(hits)} of them ({', '.join(s.label() for s in hits)}), each a {self.entry}"
        return None, f"no {self.entry} matches `{keys[0] if keys else ''}`"

    def match(self, identities: list[Student], *names: str) -> tuple[Student | None, str]:
        """Return the student a submission belongs to: by the identities its LMS gave, else by its names."""
        for who in identities:
            if found := self.find_student(who):
                return found, ""
        return self.find(*names, *(w.login for w in identities), *(w.name for w in identities))

    def __len__(self) -> int:
        return len(self.students)

    def __repr__(self) -> str:
        return f"Roster({len(self.students)} students from {self.source!r}, {len(self.warnings)} warnings)"


def _field_of(header: str) -> str | None:
    key = re.sub(r"[^a-z0-9]", "", header.casefold())
    return next((field for field, names in HEADERS.items() if key in names), None)


def _columns(header: list[str], path: Path) -> dict[str, int]:
    """Map each field to its column; first and last name columns make `name` when there is no full-name column."""
    columns: dict[str, int] = {}
    for i, h in enumerate(header):
        field = _field_of(h)
        if field and field not in columns:
            columns[field] = i
    plain = [re.sub(r"[^a-z0-9]", "", h.casefold()) for h in header]
    first = next((i for i, h in enumerate(plain) if h in FIRST_NAMES), None)
    last = next((i for i, h in enumerate(plain) if h in LAST_NAMES), None)
    if "name" not in columns and first is not None:
        columns["first"], columns["last"] = first, last if last is not None else first
    if not set(columns) & {"lms_id", "sis_id", "login", "email", "name", "first"}:
        accepted = ", ".join(n for f in ("lms_id", "sis_id", "login", "email", "name") for n in HEADERS[f][:4])
        raise RosterError(
            f"{path}: no column that identifies a student (found {', '.join(repr(h) for h in header) or 'no header'}); "
            f"name one of: {accepted}, or first name and last name."
        )
    return columns


def _is_student(row: list[str], columns: dict[str, int]) -> bool:
    """Return whether a row is a student's: a roster with a role column (Gradescope's) also lists TAs and instructors."""
    role = row[columns["role"]].strip().casefold() if "role" in columns and columns["role"] < len(row) else ""
    return not role or "student" in role or "learner" in role


def _student(row: list[str], columns: dict[str, int]) -> Student:
    cell = lambda f: printable(row[columns[f]]).strip() if f in columns and columns[f] < len(row) else ""  # noqa: E731
    name = cell("name") or " ".join(p for p in (cell("first"), cell("last") if columns.get("last") != columns.get("first") else "") if p)
    lms_id = cell("lms_id")
    return Student(name=name, lms_id=_digits(lms_id) if lms_id else "", sis_id=cell("sis_id"), login=cell("login"),
                   email=cell("email"), section=cell("section"))  # fmt: skip


def _rows(path: Path) -> list[list[str]]:
    if path.stat().st_size > MAX_ROSTER_BYTES:
        raise RosterError(f"{path}: larger than {MAX_ROSTER_BYTES // 2**20} MiB; is it a roster?")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]


def _without_duplicates(students: list[Student], warnings: list[str]) -> list[Student]:
    """Keep the first row for each LMS id, SIS id, email and login; warn about each later row dropped."""
    kept: list[Student] = []
    seen: dict[tuple[str, str], str] = {}
    for s in students:
        keys = [(f, _norm(getattr(s, f))) for f in ("lms_id", "sis_id", "email", "login") if getattr(s, f)]
        clash = next((k for k in keys if k in seen), None)
        if clash:
            warnings.append(f"{s.label()}: {clash[0]} `{getattr(s, clash[0])}` is also on the row of {seen[clash]}; this row was ignored")
            continue
        seen.update((k, s.label()) for k in keys)
        kept.append(s)
    return kept


def read_roster(path: str | Path) -> Roster:
    """Read a roster CSV (comma, semicolon or tab; any LMS's headers) into a `Roster`, refusing duplicates."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"{path}: no such roster file.")
    rows = _rows(path)
    if not rows:
        raise RosterError(f"{path}: the roster is empty.")
    columns = _columns(rows[0], path)
    students = [_student(r, columns) for r in rows[1:] if _is_student(r, columns)]
    students = [s for s in students if _norm(s.name) not in NOT_STUDENTS and s != Student()]
    if not students:
        raise RosterError(f"{path}: the roster has a header but no students.")
    roster = Roster(source=str(path), headers={f: rows[0][i] for f, i in columns.items() if f in HEADERS})
    roster.students = _without_duplicates(students, roster.warnings)
    return roster
