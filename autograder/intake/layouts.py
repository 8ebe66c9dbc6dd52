"""Read what an LMS hands out (Canvas, Moodle, Gradescope downloads, or plain folders) as one submission per student.

- canvas: flat files `login_userid_attemptid_file` (`login_LATE_...` when late; a re-uploaded file gets `-1`, `-2`
  before its extension), in a folder or the download's zip. Files are grouped per user id, renamed back to the
  handout's names; the submission time is the newest file time in the download.
- moodle: a folder per student `Full Name_12345_assignsubmission_file_` (or flat files with that prefix) holding
  the student's files or zip; `onlinetext` folders are skipped. 12345 is Moodle's participant id.
- gradescope: `submission_metadata.yml` maps `submission_<id>` folders to `:submitters:` (name, sid, email) and
  `:created_at:`.
- folders: each folder, .zip, .py or .ipynb inside the given folder is one submission (`--each`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from autograder.intake import add_note
from autograder.intake.archive import MAX_TOTAL_BYTES, SKIP_DIRS, is_junk
from autograder.intake.names import file_stem, printable
from autograder.intake.roster import Student
from autograder.spec import AssignmentSpec

LAYOUTS = ("canvas", "moodle", "gradescope", "folders")
SUBMISSION_SUFFIXES = (".zip", ".py", ".ipynb")
GRADESCOPE_METADATA = "submission_metadata.yml"
CANVAS_NAME = re.compile(r"^(?P<login>.+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<attempt>\d+)_(?P<file>.+)$")
MOODLE_NAME = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)_(?P<file>.*)$")
REUPLOAD = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.[^.]+)$")
DETECT_SHARE = 0.8  # the share of names that must fit a layout for it to be chosen without --layout
MAX_DOWNLOAD_MEMBERS = 50_000
MAX_DOWNLOAD_BYTES = 8 * 2**30
MAX_METADATA_BYTES = 50 * 2**20
SAME_TIME_S = 2.0  # every file of a download within this many seconds: the times are the zip's, not the students'
EXTENDED_TIMESTAMP = 0x5455  # zip extra field holding a file's UTC modification time


class LayoutError(ValueError):
    """A download cannot be read in the layout asked for, or its layout cannot be told; the message says what to pass."""


@dataclass
class Received:
    """One student's (or group's) submission as the LMS handed it in, ready to stage."""

    name: str  # the results file's name, `OUT/<name>.json`
    source: Path  # a folder, .zip, .py or .ipynb that staging reads
    students: list[Student] = field(default_factory=list)
    submitted_at: dt.datetime | None = None
    time_source: str = ""
    marked_late: bool = False
    layout: str = "folders"
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        when = self.submitted_at.isoformat() if self.submitted_at else "no time"
        return f"Received({self.name!r}, {self.layout}, {printable(self.source.name)!r}, {when}, students={len(self.students)})"


@dataclass(frozen=True)
class Skipped:
    """An entry of a download that was not graded, and why."""

    path: str
    why: str


@dataclass
class Download:
    """Every submission read from the paths given, what was skipped, and the layout each path was read as."""

    received: list[Received] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    layouts: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------ inside one student's files


def handout_name(name: str, spec: AssignmentSpec) -> str | None:
    """Return the handout's file name `name` stands for, letter case aside (`Layers.py` -> `layers.py`), or None."""
    wanted = {f.casefold(): f for f in (*spec.student_files, *spec.weight_files)}
    return wanted.get(name.casefold())


def _preference(folder: Path) -> int:
    """Rank a folder's name: `final`, `submit` first, `draft`, `old`, `backup`, `copy` last."""
    words = set(re.findall(r"[a-z]+", folder.name.casefold()))
    return (1 if words & {"final", "submit", "submission", "submitted"} else 0) - (1 if words & {"draft", "old", "backup", "copy", "bak", "tmp"} else 0)


def choose_base(folder: Path, files: list[Path], spec: AssignmentSpec) -> tuple[Path, str | None]:
    """Return the folder holding the handout files (the most of them), and a note when several folders could be it.

    Among folders holding as many handout files, a name like `final` beats one like `draft`, then the newest
    files, then the shallower folder; the note names the one graded and the others.
    """
    counts: dict[Path, list[Path]] = {}
    for path in files:
        if handout_name(path.name, spec) in spec.student_files:
            counts.setdefault(path.parent, []).append(path)
    if not counts:
        return folder, None
    rank = lambda p: (len(counts[p]), _preference(p), max(f.stat().st_mtime for f in counts[p]), -len(p.parts), p.as_posix())  # noqa: E731
    ordered = sorted(counts, key=rank, reverse=True)
    best, others = ordered[0], [p for p in ordered[1:] if len(counts[p]) == len(counts[ordered[0]])]
    if not others:
        return best, None
    show = lambda p: f"`{printable(p.relative_to(folder).as_posix() or '.')}/`"  # noqa: E731
    note = (f"{len(others) + 1} folders hold the handout files ({', '.join(show(p) for p in ordered[: len(others) + 1])}); "
            f"graded {show(best)}. Submit only one copy of your files.")  # fmt: skip
    return best, note


def _newest(paths: list[Path]) -> Path:
    return max(paths, key=lambda p: (p.stat().st_mtime, p.name))


def pick_source(folder: Path, spec: AssignmentSpec, notes: list[str]) -> Path:
    """Return what to stage for one student's folder: the folder, or the zip it holds when it holds no handout file."""
    files = _files_under(folder)
    if any(handout_name(p.name, spec) for p in files) or any(p.suffix.casefold() == ".ipynb" for p in files):
        return folder
    zips = [p for p in files if p.suffix.casefold() == ".zip"]
    if not zips:
        return folder
    chosen = _newest(zips)
    if len(zips) > 1:
        add_note(notes, f"{len(zips)} zips were handed in ({', '.join(printable(z.name) for z in sorted(zips))}); graded {printable(chosen.name)}, the newest")
    return chosen


def _files_under(folder: Path) -> list[Path]:
    """Return the regular files under `folder` (no links followed), junk and caches left out, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if not is_junk((name,)) and not name.startswith(".") and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


# ------------------------------------------------------------------ the download itself: a folder or a zip


def _zip_time(info: zipfile.ZipInfo, naive_tz: dt.tzinfo) -> float:
    """Return a member's modification time: the UTC extended timestamp when present, else its DOS time read in `naive_tz`."""
    extra, at = info.extra, 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind == EXTENDED_TIMESTAMP and size >= 5 and extra[at + 4] & 1:
            return float(struct.unpack_from("<i", extra, at + 5)[0])
        at += 4 + size
    return dt.datetime(*info.date_time, tzinfo=naive_tz).timestamp()


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, naive_tz: dt.tzinfo) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    left = info.file_size
    with zf.open(info) as src, open(target, "wb") as out:
        while left > 0 and (chunk := src.read(min(left, 1 << 20))):
            out.write(chunk)
            left -= len(chunk)
    stamp = _zip_time(info, naive_tz)
    os.utime(target, (stamp, stamp))


def extract_download(archive: Path, dest: Path, naive_tz: dt.tzinfo, skipped: list[Skipped]) -> Path:
    """Unpack an LMS download zip into `dest`, keeping each member's time; refuse unsafe paths, skip members too large."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayoutError(f"{printable(str(archive))} is not a readable zip ({exc}); download it again from the LMS.") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir() and not is_junk(Path(m.filename).parts or ("",))]
        if len(members) > MAX_DOWNLOAD_MEMBERS or sum(m.file_size for m in members) > MAX_DOWNLOAD_BYTES:
            raise LayoutError(f"{printable(str(archive))} holds more than {MAX_DOWNLOAD_MEMBERS} files or {MAX_DOWNLOAD_BYTES >> 30} GiB; unpack it yourself and pass the folder.")
        root = dest.resolve()
        for m in members:
            target = (dest / m.filename).resolve()
            if not target.is_relative_to(root) or m.filename.startswith(("/", "\\")):
                skipped.append(Skipped(f"{printable(str(archive))}:{printable(m.filename)}", "its path leaves the download's folder"))
            elif m.file_size > MAX_TOTAL_BYTES:
                skipped.append(Skipped(f"{printable(str(archive))}:{printable(m.filename)}", f"larger than {MAX_TOTAL_BYTES >> 20} MiB"))
            else:
                try:
                    _extract_member(zf, m, target, naive_tz)
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
                    skipped.append(Skipped(f"{printable(str(archive))}:{printable(m.filename)}", f"damaged in the download ({type(exc).__name__})"))
    return dest


def _listing(path: Path) -> list[tuple[str, bool]]:
    """Return the (name, is_folder) entries at the top of a folder or zip, junk left out."""
    if path.is_dir():
        return [(p.name, p.is_dir()) for p in sorted(path.iterdir()) if not is_junk((p.name,)) and p.name not in SKIP_DIRS]
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return []
    top: dict[str, bool] = {}
    for name in names:
        parts = [p for p in name.split("/") if p]
        if parts and not is_junk(tuple(parts)) and parts[0] not in SKIP_DIRS:
            top[parts[0]] = top.get(parts[0], False) or len(parts) > 1 or name.endswith("/")
    return sorted(top.items())


def _zip_inner_listing(path: Path, folder: str) -> list[tuple[str, bool]]:
    with zipfile.ZipFile(path) as zf:
        names = [n[len(folder) + 1 :] for n in zf.namelist() if n.startswith(folder + "/")]
    top: dict[str, bool] = {}
    for name in names:
        parts = [p for p in name.split("/") if p]
        if parts and not is_junk(tuple(parts)):
            top[parts[0]] = top.get(parts[0], False) or len(parts) > 1
    return sorted(top.items())


# ------------------------------------------------------------------ detection


def _guess(entries: list[tuple[str, bool]]) -> tuple[str | None, str]:
    """Return the layout the names fit (None when unsure) and, when unsure, why."""
    names = [n for n, _ in entries if not n.startswith(".")]
    if GRADESCOPE_METADATA in names:
        return "gradescope", ""
    if not names:
        return "folders", ""
    moodle = sum(1 for n in names if MOODLE_NAME.match(n))
    canvas = sum(1 for n, is_dir in entries if not is_dir and CANVAS_NAME.match(n))
    for layout, count in (("moodle", moodle), ("canvas", canvas)):
        if count >= DETECT_SHARE * len(names):
            return layout, ""
    if not moodle and not canvas:
        return "folders", ""
    return None, (f"{canvas} of {len(names)} names look like Canvas's `login_userid_attemptid_file`, {moodle} like Moodle's "
                  f"`Full Name_12345_assignsubmission_file_`, the rest like neither")  # fmt: skip


def _unwrapped(path: Path) -> tuple[list[tuple[str, bool]], str]:
    """Return a download's top entries, looking inside one wrapping folder (`assignment_123_export/`); and that folder."""
    entries = _listing(path)
    if len(entries) == 1 and entries[0][1]:
        inner = _listing(path / entries[0][0]) if path.is_dir() else _zip_inner_listing(path, entries[0][0])
        if _guess(inner)[0] in ("canvas", "moodle", "gradescope"):
            return inner, entries[0][0]
    return entries, ""


def detect_layout(path: Path) -> str:
    """Return the layout of a download (folder or zip) from its names; raise `LayoutError` asking for --layout when unsure."""
    entries, _ = _unwrapped(path)
    layout, why = _guess(entries)
    if layout is None:
        raise LayoutError(f"cannot tell how {printable(str(path))} is laid out: {why}. Pass --layout canvas, moodle, gradescope or folders.")
    return layout


# ------------------------------------------------------------------ the layouts


def _times(files: list[Path]) -> float | None:
    return max((p.stat().st_mtime for p in files), default=None)


def _stamp(received: list[Received], times: dict[str, float | None], what: str, naive_tz: dt.tzinfo) -> None:
    """Give each submission its newest file time, unless every file of the download has the same time (the zip's own)."""
    known = [t for t in times.values() if t is not None]
    if len(known) > 1 and max(known) - min(known) <= SAME_TIME_S:
        for r in received:
            r.time_source = f"none: every file in the download has the same time ({what}), the time it was packed"
        return
    for r in received:
        if (t := times.get(r.name)) is not None:
            r.submitted_at, r.time_source = dt.datetime.fromtimestamp(t, naive_tz), f"newest {what}"


def _canvas_file_name(original: str, spec: AssignmentSpec, notes: list[str]) -> str:
    """Return a Canvas file's name as the student uploaded it: `layers-1.py` -> `layers.py`, `Layers.py` -> `layers.py`."""
    name = original
    if not handout_name(name, spec) and (m := REUPLOAD.match(name)) and handout_name(m["stem"] + m["ext"], spec):
        name = m["stem"] + m["ext"]
    fixed = handout_name(name, spec) or name
    if fixed != original:
        add_note(notes, f"`{printable(original)}` was graded as `{fixed}`")
    return fixed


def _read_canvas(folder: Path, spec: AssignmentSpec, work: Path, naive_tz: dt.tzinfo, out: Download) -> None:
    groups: dict[str, list[tuple[re.Match[str], Path]]] = {}
    for path in sorted(p for p in folder.iterdir() if not is_junk((p.name,))):
        m = CANVAS_NAME.match(path.name) if path.is_file() and not path.is_symlink() else None
        if m is None:
            why = "a folder; a Canvas download holds only files (was a zip unpacked here?)" if path.is_dir() else "not named like a Canvas download file (`login_userid_attemptid_file`)"
            out.skipped.append(Skipped(printable(str(path)), why))
            continue
        groups.setdefault(m["user"], []).append((m, path))
    received, times = [], {}
    for user, files in groups.items():
        login, notes = files[0][0]["login"], []
        source = _regroup_canvas(files, work / "canvas" / f"{file_stem(login)}_{user}", spec, notes)
        r = Received(name=file_stem(login), source=source, students=[Student(lms_id=user, login=login)], layout="canvas",
                     marked_late=any(m["late"] for m, _ in files), notes=notes)  # fmt: skip
        times[r.name] = _times([p for _, p in files])
        received.append(r)
    _stamp(received, times, "file time in the Canvas download", naive_tz)
    out.received += received


def _regroup_canvas(files: list[tuple[re.Match[str], Path]], dest: Path, spec: AssignmentSpec, notes: list[str]) -> Path:
    """Copy one student's Canvas files into `dest` under their own names; of two that map to one name, keep the last upload."""
    dest.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for m, path in sorted(files, key=lambda mp: (_upload_number(mp[0]["file"]), mp[1].stat().st_mtime)):
        name = _canvas_file_name(m["file"], spec, notes)
        if name in taken:
            add_note(notes, f"`{name}` was uploaded more than once; the last upload, `{printable(m['file'])}`, was graded")
        taken.add(name)
        shutil.copy2(path, dest / file_stem(name))
    return pick_source(dest, spec, notes)


def _upload_number(name: str) -> int:
    m = REUPLOAD.match(name)
    return int(m["n"]) if m else 0


def _read_moodle(folder: Path, spec: AssignmentSpec, work: Path, naive_tz: dt.tzinfo, out: Download) -> None:
    groups: dict[str, tuple[str, list[Path], list[tuple[str, Path]]]] = {}  # id -> (name, folders, flat files)
    for path in sorted(p for p in folder.iterdir() if not is_junk((p.name,))):
        m = MOODLE_NAME.match(path.name)
        if path.is_symlink():
            out.skipped.append(Skipped(printable(str(path)), "a link; copy the submission itself here"))
        elif m is None:
            out.skipped.append(Skipped(printable(str(path)), "not named like a Moodle download entry (`Full Name_12345_assignsubmission_file_`)"))
        elif m["plugin"] != "file":
            out.skipped.append(Skipped(printable(str(path)), f"Moodle `{m['plugin']}` entry (not submitted files)"))
        else:
            name, folders, flat = groups.setdefault(m["id"], (m["name"], [], []))
            if path.is_dir():
                folders.append(path)
            else:
                flat.append((m["file"], path))
    received, times = [], {}
    for participant, (name, folders, flat) in groups.items():
        notes: list[str] = []
        source = _moodle_source(folders, flat, work / "moodle" / file_stem(f"{name}_{participant}"), spec, notes)
        r = Received(name=file_stem(f"{name}_{participant}"), source=source, students=[Student(name=name, lms_id=participant)],
                     layout="moodle", notes=notes)  # fmt: skip
        times[r.name] = _times([*(f for d in folders for f in _files_under(d)), *(p for _, p in flat)])
        received.append(r)
    _stamp(received, times, "file time in the Moodle download", naive_tz)
    out.received += received


def _moodle_source(folders: list[Path], flat: list[tuple[str, Path]], dest: Path, spec: AssignmentSpec, notes: list[str]) -> Path:
    if len(folders) == 1 and not flat:
        return pick_source(folders[0], spec, notes)
    dest.mkdir(parents=True, exist_ok=True)
    for d in folders:
        shutil.copytree(d, dest, dirs_exist_ok=True, symlinks=True)
    for name, path in flat:
        shutil.copy2(path, dest / (handout_name(name, spec) or file_stem(name)))
    return pick_source(dest, spec, notes)


class _MetadataLoader(yaml.SafeLoader):
    """YAML's safe loader that reads Ruby's tags (`!ruby/object:BigDecimal`) as plain values instead of refusing the file."""


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_MetadataLoader.add_multi_constructor("!", _plain)


def _when(value: Any, naive_tz: dt.tzinfo) -> dt.datetime | None:
    """Return Gradescope's `:created_at:` as an aware datetime (a naive one is read in `naive_tz`), or None."""
    if isinstance(value, str):
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace(" UTC", "+00:00")
        try:
            value = dt.datetime.fromisoformat(re.sub(r"\s+([+-]\d\d:?\d\d)$", r"\1", text))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if value.utcoffset() is not None else value.replace(tzinfo=naive_tz)
    return None


def _submitter(record: Any) -> Student:
    record = record if isinstance(record, dict) else {}
    get = lambda k: str(record.get(k) or record.get(k.lstrip(":")) or "")  # noqa: E731
    return Student(name=get(":name"), sis_id=get(":sid"), email=get(":email"))


def _gradescope_metadata(folder: Path) -> dict[str, Any]:
    path = folder / GRADESCOPE_METADATA
    if path.stat().st_size > MAX_METADATA_BYTES:
        raise LayoutError(f"{printable(str(path))} is larger than {MAX_METADATA_BYTES >> 20} MiB; is it Gradescope's?")
    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=_MetadataLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise LayoutError(f"{printable(str(path))} is not valid YAML ({exc}); export the submissions from Gradescope again.") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{printable(str(path))} does not map submission folders to submitters; export the submissions from Gradescope again.")
    return data


def _gradescope_name(key: str, students: list[Student]) -> str:
    first = students[0] if students else Student()
    return file_stem(first.sis_id or first.email.split("@")[0] or key)


def _read_gradescope(folder: Path, spec: AssignmentSpec, work: Path, naive_tz: dt.tzinfo, out: Download) -> None:
    metadata = _gradescope_metadata(folder)
    for key, record in metadata.items():
        record = record if isinstance(record, dict) else {}
        sub = folder / str(key)
        if Path(str(key)).name != str(key) or str(key) in (".", "..") or not sub.is_dir() or sub.is_symlink():
            out.skipped.append(Skipped(printable(str(sub)), f"listed in {GRADESCOPE_METADATA} but not in the export"))
            continue
        students = [_submitter(s) for s in record.get(":submitters") or [] if isinstance(s, dict)]
        r = Received(name=_gradescope_name(str(key), students), source=sub, students=students, layout="gradescope")
        r.submitted_at = _when(record.get(":created_at"), naive_tz)
        r.time_source = "Gradescope :created_at:" if r.submitted_at else f"none: no :created_at: for {key} in {GRADESCOPE_METADATA}"
        r.source = pick_source(sub, spec, r.notes)
        out.received.append(r)
    listed = {str(k) for k in metadata}
    for path in sorted(folder.iterdir()):
        if path.name not in listed and path.name != GRADESCOPE_METADATA and not is_junk((path.name,)):
            out.skipped.append(Skipped(printable(str(path)), f"not listed in {GRADESCOPE_METADATA}"))


def skip_reason(entry: Path) -> str | None:
    """Return why an entry of a folder of submissions is not a submission, or None when it is one."""
    name = entry.name
    if is_junk((name,)) or name in SKIP_DIRS:
        return "system or cache file"
    if name.startswith("."):
        return "hidden (its name starts with `.`); rename it to grade it"
    if name.startswith("_"):
        return "its name starts with `_`, kept for notes and scratch; rename it to grade it"
    if entry.is_symlink():
        return "a link; copy the submission itself here"
    if entry.is_dir() or entry.suffix.casefold() in SUBMISSION_SUFFIXES:
        return None
    return f"not a submission ({entry.suffix or 'no extension'}): submit a folder, .zip, .py or .ipynb"


def scan_folder(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """Return the submissions in a folder of submissions (`--each`), and each entry skipped with why."""
    found, skipped = [], []
    for entry in sorted(folder.iterdir()):
        why = skip_reason(entry)
        if why is None:
            found.append(entry)
        else:
            skipped.append(Skipped(printable(str(entry)), why))
    return found, skipped


def _as_lower_suffix(entry: Path, work: Path, notes: list[str]) -> Path:
    """Return `entry`, or a copy whose extension is in lower case (`ALICE.ZIP` -> `ALICE.zip`), which staging reads."""
    if entry.is_dir() or entry.suffix == entry.suffix.casefold():
        return entry
    copy = work / "renamed" / file_stem(entry.name) / (entry.stem + entry.suffix.casefold())
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(entry, copy)
    add_note(notes, f"`{printable(entry.name)}` was read as a `{entry.suffix.casefold()}` file")
    return copy


def single(entry: Path, spec: AssignmentSpec, work: Path) -> Received:
    """Return one plain submission (a folder, .zip, .py or .ipynb) as a `Received`, named after the entry."""
    stem = entry.name[: -len(entry.suffix)] if entry.is_file() and entry.suffix else entry.name
    r = Received(name=file_stem(stem), source=entry, students=[Student(login=stem)], layout="folders")
    r.source = pick_source(entry, spec, r.notes) if entry.is_dir() else _as_lower_suffix(entry, work, r.notes)
    r.time_source = "none: plain folders carry no submission time"
    return r


def _read_folders(folder: Path, spec: AssignmentSpec, work: Path, naive_tz: dt.tzinfo, out: Download) -> None:
    found, skipped = scan_folder(folder)
    out.skipped += skipped
    out.received += [single(entry, spec, work) for entry in found]


READERS = {"canvas": _read_canvas, "moodle": _read_moodle, "gradescope": _read_gradescope, "folders": _read_folders}


def _open(path: Path, layout: str, work: Path, naive_tz: dt.tzinfo, out: Download) -> Path:
    """Return the folder to read a download from: the folder itself, or its zip unpacked; one wrapping folder opened."""
    folder = path
    if path.is_file():
        folder = extract_download(path, work / "download" / file_stem(path.name), naive_tz, out.skipped)
    if layout != "folders":
        entries = [p for p in folder.iterdir() if not is_junk((p.name,)) and p.name not in SKIP_DIRS]
        if len(entries) == 1 and entries[0].is_dir() and not READER_MATCH[layout](entries[0].name):
            folder = entries[0]
    return folder


READER_MATCH = {
    "canvas": lambda n: bool(CANVAS_NAME.match(n)), "moodle": lambda n: bool(MOODLE_NAME.match(n)),
    "gradescope": lambda n: n == GRADESCOPE_METADATA, "folders": lambda n: True,
}  # fmt: skip


def _layout_of(path: Path, layout: str | None, each: bool) -> str | None:
    """Return how to read one path: as `layout`, detected, or None for one plain submission."""
    if layout:
        return None if layout == "folders" and path.is_file() else layout
    if path.is_file() and path.suffix.casefold() != ".zip":
        return None
    if not each:
        entries, _ = _unwrapped(path)
        found = _guess(entries)[0]
        return found if found in ("canvas", "moodle", "gradescope") else None
    if path.is_file():
        found = _guess(_unwrapped(path)[0])[0]
        return found if found in ("canvas", "moodle", "gradescope") else None
    return detect_layout(path)


def read_download(paths: list[Path], spec: AssignmentSpec, work: Path, layout: str | None = None, each: bool = False) -> Download:
    """Read every path as `layout` (detected from names when None) into submissions, one per student.

    Without a layout or `each`, a path is one submission unless its names are plainly an LMS download's.
    `work` receives unpacked zips and regrouped files; the caller removes it after grading.
    """
    if layout is not None and layout not in LAYOUTS:
        raise LayoutError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}.")
    naive_tz = spec.due.tzinfo if spec.due is not None else dt.UTC
    out = Download()
    for path in paths:
        how = _layout_of(path, layout, each)
        if how is None:
            out.received.append(single(path, spec, work))
            continue
        out.layouts[printable(str(path))] = how
        first = len(out.skipped)
        READERS[how](_open(path, how, work, naive_tz, out), spec, work, naive_tz, out)
        if path.is_file():  # name what was skipped inside the zip as `download.zip:member`, not by our unpacked copy
            inside = printable(str(work / "download" / file_stem(path.name)))
            out.skipped[first:] = [Skipped(s.path.replace(inside + "/", f"{printable(str(path))}:", 1), s.why) for s in out.skipped[first:]]
    return out
