"""The class report: one self-contained HTML page summarising a folder of results for the teaching staff."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.exporters.report.load import ReportError, load_results
from autograder.exporters.report.page import render
from autograder.intake.names import printable
from autograder.results.store import write_atomic

__all__ = ["Report", "ReportError", "write_report"]


@dataclass(frozen=True)
class Report:
    """A written report: where, how many results it covers, and the warnings about the folder."""

    path: Path
    submissions: int
    warnings: list[str]


def write_report(results: Path, out: Path) -> Report:
    """Read the results in `results` (a folder, or one result file) and write the report page to `out` atomically."""
    if out.is_dir():
        raise ReportError(f"--out {printable(str(out))} is a folder; give a file name such as {printable(str(out / 'report.html'))}")
    loaded = load_results(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, render(loaded))
    out.chmod(0o640)  # the teaching group reads it; others do not see grades
    return Report(out, len(loaded.results), loaded.warnings)
