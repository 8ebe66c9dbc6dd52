"""Make untrusted names and text safe: valid UTF-8 text, file names, CSV cells, bounded length."""

from __future__ import annotations

import hashlib
import re

MAX_STEM_BYTES = 96  # leaves room for `.json`, temp-file affixes and `logs/<name>.stderr.txt` under 255
HASH_CHARS = 8
CUT_NOTE = "[... {n} characters cut]"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE = "\x80-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"  # C1 controls, bidi overrides, zero-width
_UNSAFE_IN_STEM = re.compile(f"[\\x00-\\x1f\\x7f/\\\\:*?\"<>|{_INVISIBLE}]+")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(f"[\\x00-\\x08\\x0e-\\x1f\\x7f{_INVISIBLE}]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Return `text` as valid UTF-8: a lone surrogate becomes a visible escape (`\\xe9` for an undecodable byte)."""
    return _SURROGATE.sub(_escape_surrogate, text)


def truncate(text: str, limit: int) -> str:
    """Return `text` cut to about `limit` characters, keeping head and tail around a visible note."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(CUT_NOTE) - 12)
    head, tail = keep * 2 // 3, keep - keep * 2 // 3
    cut = len(text) - head - tail
    return f"{text[:head]}\n{CUT_NOTE.format(n=cut)}\n{text[len(text) - tail:] if tail else ''}"


def clean_text(text: str, limit: int) -> str:
    """Return `text` as valid UTF-8 (see `printable`) and at most about `limit` characters (see `truncate`)."""
    return truncate(printable(truncate(text, limit)), limit)  # cut first: a 3.5 MB message is not scanned whole


def _cap_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return data[:limit].decode("utf-8", "ignore") if len(data) > limit else text


def file_stem(name: str) -> str:
    """Return a name safe as a file name: no separators or control characters, valid UTF-8, at most ~100 bytes.

    A changed name gets a short hash of the original, so two names never collide; a safe name
    is returned unchanged (the function is idempotent).
    """
    clean = _UNSAFE_IN_STEM.sub("_", printable(name)).strip(" .")
    if clean == name and clean and len(clean.encode("utf-8")) <= MAX_STEM_BYTES:
        return clean
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    stem = _cap_bytes(clean, MAX_STEM_BYTES - HASH_CHARS - 1).rstrip(" .")
    return f"{stem}-{digest}" if stem else f"submission-{digest}"


def csv_cell(text: str) -> str:
    """Return `text` safe as a spreadsheet cell: one line, no control characters, never a live formula."""
    one_line = _CONTROL.sub("", _LINE_BREAKS.sub(" ", printable(text)))
    return f"'{one_line}" if one_line.startswith(FORMULA_STARTS) else one_line
