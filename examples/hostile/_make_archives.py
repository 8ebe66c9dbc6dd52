"""Write the hostile corpus's generated entries: the .zip cases, the notebooks, the .py case and weights.pkl.

Every archive holds the reference solution plus the attack, and stays tiny on disk (the zip bombs
use bzip2, which packs hundreds of MiB of zeros into a few KiB). Zips with hostile names or sizes
are written by hand (`_raw_zip`), because `zipfile` refuses to write them.

`write_runtime_cases(folder)` writes the cases that cannot be committed: names git cannot hold
portably (not UTF-8, 250 characters, a newline), CRLF files (git may rewrite line endings), a
named pipe, and multi-megabyte files. tests/test_hostile.py calls it at test time; each name
holds `case<NN>`, which survives whatever the engine does to make the name safe.

The name starts with `_` so that `autograder grade ... examples/hostile --each` does not grade it.
Run from anywhere: `python examples/hostile/_make_archives.py`.
"""

from __future__ import annotations

import bz2
import json
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REFERENCE = REPO / "solutions" / "a1_mlp_numpy"
BOB = REPO / "examples" / "submissions" / "a1_mlp_numpy" / "bob_notebook.ipynb"
MiB = 2**20

STORED, BZIP2 = 0, 12


def _reference_members(prefix: str = "") -> list[tuple[str, int, int, bytes, int]]:
    members = []
    for path in sorted(REFERENCE.glob("*.py")):
        data = path.read_bytes()
        members.append((prefix + path.name, STORED, zlib.crc32(data), data, len(data)))
    return members


UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8
SYMLINK_MODE = 0o120777


def _raw_zip(path: Path, members: list[tuple[str | bytes, int, int, bytes, int]], flags: int = 0, mode: int = 0o100644) -> None:
    """Write a zip whose headers say exactly what we tell them: (name, method, crc, stored bytes, declared size).

    A name given as bytes is written as is (it may not be UTF-8); `flags` and `mode` apply to
    those members only.
    """
    body, central = bytearray(), bytearray()
    for name, method, crc, data, size in members:
        raw = name if isinstance(name, bytes) else name.encode()
        member_flags, member_mode, made_by = (flags, mode, 0x0314) if isinstance(name, bytes) else (0, 0o100644, 20)
        version = 46 if method == BZIP2 else 20
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, version, member_flags, method, 0, 0x21, crc, len(data), size, len(raw), 0)
        body += raw + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, made_by, version, member_flags, method, 0, 0x21, crc, len(data), size,
            len(raw), 0, 0, 0, 0, member_mode << 16, offset,
        )  # fmt: skip
        central += raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))


def _bzip2_zeros(n_bytes: int) -> bytes:
    comp = bz2.BZ2Compressor(9)
    chunk = b"\0" * MiB
    out = [comp.compress(chunk) for _ in range(n_bytes // MiB)]
    return b"".join(out) + comp.flush()


def zip_slip(path: Path) -> None:
    """Members that climb out of the extraction folder, relative and absolute."""
    evil = b"print('escaped the extraction folder')\n"
    _raw_zip(path, _reference_members("a1/") + [
        ("../../hostile_zip_slip.py", STORED, zlib.crc32(evil), evil, len(evil)),
        ("/tmp/hostile_zip_abs.txt", STORED, zlib.crc32(evil), evil, len(evil)),
    ])  # fmt: skip


def zip_bomb(path: Path) -> None:
    """An honest zip bomb: one member really unpacks to 210 MiB of zeros (about 10 KiB packed)."""
    size = 210 * MiB
    _raw_zip(path, _reference_members() + [("data/zeros.bin", BZIP2, zlib.crc32(b"\0" * size), _bzip2_zeros(size), size)])


def zip_declared_huge(path: Path) -> None:
    """A member that is 4 bytes on disk but declares 3 GB."""
    data = b"tiny"
    _raw_zip(path, _reference_members() + [("data/huge.bin", STORED, zlib.crc32(data), data, 3_000_000_000)])


def zip_understated_size(path: Path) -> None:
    """A member that declares 1 KiB (with the CRC of the first KiB) but packs 300 MiB of zeros."""
    declared = 1024
    _raw_zip(path, _reference_members() + [
        ("data/zeros.bin", BZIP2, zlib.crc32(b"\0" * declared), _bzip2_zeros(300 * MiB), declared),
    ])  # fmt: skip


def zip_bad_crc(path: Path) -> None:
    """A readable zip whose extra member fails its CRC check when extracted."""
    data = b"these notes are not what the CRC says\n" * 10
    _raw_zip(path, _reference_members() + [("notes.txt", STORED, zlib.crc32(data) ^ 0xFFFF, data, len(data))])


def zip_file_dir_clash(path: Path) -> None:
    """`extra/a.txt` makes `extra` a folder; a later member `extra` is a file of the same name."""
    when = (2026, 1, 1, 0, 0, 0)  # fixed, so regenerating gives the same bytes
    with zipfile.ZipFile(path, "w") as zf:
        for name, _, _, data, _ in _reference_members():
            zf.writestr(zipfile.ZipInfo(name, when), data)
        zf.writestr(zipfile.ZipInfo("extra/a.txt", when), "a file in a folder\n")
        zf.writestr(zipfile.ZipInfo("extra", when), "a file where the folder is\n")


def deep_expression(path: Path) -> None:
    """A loose .py (not a handout name, so its definitions are extracted) with one very long sum."""
    terms = " + ".join(["1"] * 5000)
    path.write_text(f'"""HOSTILE: a 5,000-term expression nests the syntax tree 5,000 deep."""\n\nTOTAL = {terms}\n')


def corrupt_notebook(path: Path) -> None:
    """A notebook cut off in the middle of its JSON."""
    path.write_text('{\n "cells": [\n  {\n   "cell_type": "code",\n   "source": ["def relu_forward(x):\\n", "    return ')


def notebook_toplevel_code(path: Path) -> None:
    """Bob's correct notebook plus top-level code that must not run: an endless loop, a shell command, a file write."""
    nb = json.loads(BOB.read_text())
    hostile = [
        "# HOSTILE: none of this may run when the notebook is graded\nwhile True:\n    pass",
        "import os\nos.system('touch /tmp/hostile_nb_toplevel_marker')",
        "MARKER = open('/tmp/hostile_nb_toplevel_marker', 'w')",
        "exec(\"raise SystemExit('top-level code ran')\")",
    ]
    for source in hostile:
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": f"hostile{len(nb['cells'])}",
                            "metadata": {}, "outputs": [], "source": source})  # fmt: skip
    path.write_text(json.dumps(nb, indent=1) + "\n")


class _ShellOnUnpickle:
    """Unpickling this runs a shell command: it records who ran it in /tmp/hostile_pwned_marker."""

    def __reduce__(self):
        import os

        return (os.system, ("id > /tmp/hostile_pwned_marker",))


def pickle_bomb(path: Path) -> None:
    path.write_bytes(pickle.dumps({"W1": _ShellOnUnpickle()}, protocol=2))


def zip_non_utf8_names(path: Path) -> None:
    """The reference plus two notes whose names are Latin-1 bytes, one of them flagged as UTF-8 (a lie)."""
    notes = b"notes from an old archiver\n"
    _raw_zip(path, _reference_members() + [
        (b"notes-\xe9t\xe9.txt", STORED, zlib.crc32(notes), notes, len(notes)),
        (b"r\xe9sum\xe9-\xff.txt", STORED, zlib.crc32(notes), notes, len(notes)),
    ], flags=UTF8_FLAG)  # fmt: skip


def zip_symlink_member(path: Path) -> None:
    """The reference, except that layers.py is a symbolic link to the solution's layers.py."""
    target = b"../../../../../solutions/a1_mlp_numpy/layers.py"
    members = [m for m in _reference_members() if m[0] != "layers.py"]
    _raw_zip(path, [*members, (b"layers.py", STORED, zlib.crc32(target), target, len(target))], mode=SYMLINK_MODE)


def _bob() -> dict:
    return json.loads(BOB.read_text())


def _code_cell(source: str, cell_id: str, outputs: list | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {}, "outputs": outputs or [], "source": source}


def notebook_future_import(path: Path) -> None:
    """Bob's correct notebook with `from __future__ import annotations` in its second code cell (legal in Jupyter)."""
    nb = _bob()
    nb["cells"].insert(3, _code_cell("from __future__ import annotations\n\n\ndef shape_of(x: np.ndarray) -> tuple[int, ...]:\n    return x.shape", "future"))
    path.write_text(json.dumps(nb, indent=1) + "\n")


def _bob_code() -> str:
    """Bob's notebook as one .py file: its code cells without the IPython magics."""
    cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in _bob()["cells"] if c["cell_type"] == "code"]
    lines = [ln for cell in cells for ln in cell.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines) + "\n"


def _big_py(path: Path) -> None:
    """Bob's code plus 160,000 one-line constants: 2.6 MB, and as many top-level definitions."""
    table = "".join(f"K{i:06d} = {i}\n" for i in range(160_000))
    path.write_text(_bob_code() + "\n# a table pasted from a spreadsheet\n" + table)


def _big_notebook(path: Path) -> None:
    """Bob's notebook whose last cell keeps 10 MiB of PNG-like output (14 MB of JSON): plots left in."""
    import base64
    import random

    nb = _bob()
    blob = base64.b64encode(random.Random(0).randbytes(10 * MiB)).decode()
    output = {"data": {"image/png": blob, "text/plain": ["<Figure size 640x480 with 1 Axes>"]}, "metadata": {}, "output_type": "display_data"}
    nb["cells"][-1]["outputs"] = [output]
    path.write_text(json.dumps(nb, indent=1) + "\n")


def _reference_copy(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for source in sorted(REFERENCE.glob("*.py")):
        (folder / source.name).write_bytes(source.read_bytes())
    return folder


def _crlf(folder: Path) -> None:
    for source in folder.glob("*.py"):
        source.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))


def write_runtime_cases(folder: Path) -> dict[str, Path]:
    """Write the cases that cannot be committed under `folder`; return {expected.yaml key: submission path}."""
    import os

    root = os.fsencode(folder)
    out = {
        "70_crlf_line_endings": _reference_copy(folder / "70_crlf_case70"),
        "87_name_not_utf8": _reference_copy(Path(os.fsdecode(root + b"/87_case87_\xff\xfe_name"))),
        "88_name_250_characters": _reference_copy(folder / ("88_case88_" + "x" * 241)),
        "89_name_formula": _reference_copy(folder / "=HYPERLINK(0)+SUM(1;2)_case89"),
        "90_name_newline": _reference_copy(folder / "90_case90\n=1+1,100,100,graded"),
        "91_extra_file_not_utf8": _reference_copy(folder / "91_case91"),
        "92_big_py_2_6mb": folder / "92_case92_big.py",
        "93_big_notebook_14mb": folder / "93_case93_big.ipynb",
        "94_named_pipe_in_folder": _reference_copy(folder / "94_case94"),
    }
    _crlf(out["70_crlf_line_endings"])
    (out["91_extra_file_not_utf8"] / os.fsdecode(b"notes-\xe9t\xe9.txt")).write_text("notes saved on an old system\n")
    _big_py(out["92_big_py_2_6mb"])
    _big_notebook(out["93_big_notebook_14mb"])
    os.mkfifo(out["94_named_pipe_in_folder"] / "progress.fifo")
    return out


OUTPUTS = {
    "22_zip_slip.zip": zip_slip,
    "23_zip_bomb.zip": zip_bomb,
    "24_zip_declared_huge.zip": zip_declared_huge,
    "25_zip_understated_size.zip": zip_understated_size,
    "26_zip_bad_crc.zip": zip_bad_crc,
    "27_zip_file_dir_clash.zip": zip_file_dir_clash,
    "28_deep_expression.py": deep_expression,
    "29_corrupt_notebook.ipynb": corrupt_notebook,
    "42_notebook_toplevel_code.ipynb": notebook_toplevel_code,
    "21_pickle_bomb/weights.pkl": pickle_bomb,
    "71_notebook_future_import.ipynb": notebook_future_import,
    "83_zip_non_utf8_names.zip": zip_non_utf8_names,
    "84_zip_symlink_member.zip": zip_symlink_member,
}


def main() -> None:
    for name, write in OUTPUTS.items():
        target = HERE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write(target)
        print(f"{target.relative_to(REPO)}: {target.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
