import csv
import os

from autograder.exporters.gradebook import write_gradebook
from autograder.results import error_result

NAMES = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "bob\nsmith,forged,5,5,100.0,graded", os.fsdecode(b"caf\xe9"), "alice"]


def test_every_name_is_one_inert_row(trivial, tmp_path):
    results = [error_result(trivial.spec, name, "x", original_name=name) for name in NAMES]
    path = write_gradebook(trivial.spec, results, tmp_path / "grades.csv")
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert len(rows) == 1 + len(NAMES) and all(len(r) == len(rows[0]) for r in rows)
    cells = [r[0] for r in rows[1:]]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert not [c for c in cells if "\n" in c or "\r" in c]
    assert "\n".join(path.read_text(encoding="utf-8").splitlines()).count("forged") == 1
    assert not list(tmp_path.glob(".*.tmp"))
