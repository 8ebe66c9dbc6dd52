"""Unpack a submitted zip safely: bounded member count and sizes, no path outside the folder, junk left out."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from autograder.intake import SubmissionError, add_note

MAX_FILE_BYTES = 50 * 2**20
MAX_TOTAL_BYTES = 200 * 2**20
MAX_FILES = 2000  # zip members, or files in a folder
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", "tests"}
SKIP_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
UTF8_NAME_FLAG = 0x800


def is_junk(parts: tuple[str, ...]) -> bool:
    """Return whether a path inside a submission is junk: caches, `__MACOSX`, AppleDouble `._x` files."""
    return any(p in SKIP_DIRS for p in parts[:-1]) or parts[-1] in SKIP_FILES or parts[-1].startswith("._")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _clear_flag(data: bytearray, at: int) -> None:
    (flags,) = struct.unpack_from("<H", data, at)
    struct.pack_into("<H", data, at, flags & ~UTF8_NAME_FLAG)


def _unflag_bad_names(data: bytearray) -> int:
    """Clear the UTF-8 flag of members whose names are not UTF-8 (central and local headers); return how many.

    zipfile then reads those names as cp437, as it does for any zip without the flag.
    """
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd < 0:
        return 0
    count, _, pos = struct.unpack_from("<HII", data, eocd + 10)
    fixed = 0
    for _ in range(count):
        if data[pos : pos + 4] != b"PK\x01\x02":
            break
        (flags,) = struct.unpack_from("<H", data, pos + 8)
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        (local,) = struct.unpack_from("<I", data, pos + 42)
        if flags & UTF8_NAME_FLAG and not _is_utf8(bytes(data[pos + 46 : pos + 46 + n])):
            _clear_flag(data, pos + 8)
            if data[local : local + 4] == b"PK\x03\x04":
                _clear_flag(data, local + 6)
            fixed += 1
        pos += 46 + n + m + k
    return fixed


def _reopen_with_cp437_names(archive: Path, notes: list[str]) -> zipfile.ZipFile:
    if archive.stat().st_size > MAX_TOTAL_BYTES:
        raise SubmissionError(f"{archive.name} is larger than {MAX_TOTAL_BYTES // 2**20} MiB; submit only your code.")
    data = bytearray(archive.read_bytes())
    try:
        fixed = _unflag_bad_names(data)
        zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    except (struct.error, zipfile.BadZipFile, UnicodeDecodeError):
        raise SubmissionError(f"{archive.name} is damaged (a file name in it cannot be read). Re-create the zip and resubmit.") from None
    add_note(notes, f"{archive.name}: {fixed} file name(s) were not valid UTF-8 and were read as cp437; rename such files if your code opens them")
    return zf


def _open_zip(archive: Path, notes: list[str]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise SubmissionError(f"{archive.name} is not a valid zip file. Re-create it with your OS's 'compress' tool.") from None
    except UnicodeDecodeError:
        return _reopen_with_cp437_names(archive, notes)


def _check_members(archive: Path, dest: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_FILES:
        raise SubmissionError(f"{archive.name} holds {len(members)} files; at most {MAX_FILES} are accepted.")
    total, root = 0, dest.resolve()
    for m in members:
        target = (dest / m.filename).resolve()
        if not target.is_relative_to(root) or m.filename.startswith(("/", "\\")):
            raise SubmissionError(f"{archive.name} contains the unsafe path {m.filename!r}; zip only your handout folder.")
        total += m.file_size
        if m.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{archive.name} unpacks to more than {MAX_TOTAL_BYTES // 2**20} MiB; submit only your code.")


def safe_extract(archive: Path, dest: Path, notes: list[str]) -> None:
    """Unpack `archive` into `dest`, refusing unsafe paths and anything over the caps."""
    with _open_zip(archive, notes) as zf:
        members = zf.infolist()
        _check_members(archive, dest, members)
        for m in members:
            if not m.is_dir() and not is_junk(Path(m.filename).parts or ("",)):
                _extract_member(archive, zf, m, dest)


def _extract_member(archive: Path, zf: zipfile.ZipFile, m: zipfile.ZipInfo, dest: Path) -> None:
    try:
        target = dest / m.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(m) as src, open(target, "wb") as out:
            _copy_bounded(src, out, m.file_size)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)  # never our own temp path
        raise SubmissionError(f"{archive.name} is damaged ({type(exc).__name__} at {m.filename!r}: {why}). Re-create the zip and resubmit.") from None


def _copy_bounded(src: Any, out: Any, declared: int) -> None:
    """Copy at most the size a zip member declares (a member may lie about it)."""
    left = declared
    while left > 0 and (chunk := src.read(min(left, 1 << 20))):
        out.write(chunk)
        left -= len(chunk)


