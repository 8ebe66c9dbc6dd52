"""Read a results folder for the class report: every readable result, and a warning for each file that is not one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from autograder.intake.names import printable
from autograder.results import SubmissionResult
from autograder.results.store import read_result_or_reason


class ReportError(Exception):
    """The report cannot be built (no such folder, no result in it); the message says what to do."""


@dataclass
class Loaded:
    """The results a report is built from, and what was wrong with the folder."""

    folder: Path
    results: list[SubmissionResult]
    warnings: list[str] = field(default_factory=list)


def _result_files(folder: Path) -> list[Path]:
    if not folder.exists():
        raise ReportError(f"no such results folder: {printable(str(folder))}")
    if folder.is_file():
        return [folder]
    files = sorted(p for p in folder.glob("*.json") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ReportError(
            f"no result files (*.json) in {printable(str(folder))}: grade first with "
            f"`autograder grade ASSIGNMENT SUBMISSIONS --out {printable(str(folder))}`"
        )
    return files


def _keep_latest(found: list[tuple[Path, SubmissionResult]], warnings: list[str]) -> list[SubmissionResult]:
    """Keep one result per submission name (the latest graded), warning about the others."""
    by_name: dict[str, tuple[Path, SubmissionResult]] = {}
    for path, result in sorted(found, key=lambda pr: pr[1].graded_at):
        if result.submission in by_name:
            older = by_name[result.submission][0].name
            warnings.append(f"{printable(older)} and {printable(path.name)} both hold submission `{result.submission}`; the report uses {printable(path.name)} (graded later).")
        by_name[result.submission] = (path, result)
    return sorted((r for _, r in by_name.values()), key=lambda r: r.submission.casefold())


def version_warning(results: list[SubmissionResult]) -> str | None:
    """Return a warning when the results come from more than one assignment or assignment version."""
    groups = Counter(f"{r.assignment} version {r.assignment_version}" for r in results)
    if len(groups) < 2:
        return None
    listed = ", ".join(f"{name} ({n})" for name, n in groups.most_common())
    return (
        f"results from {len(groups)} assignment versions are mixed: {listed}. Question and test statistics "
        "combine them; grade each version into its own folder, or regrade everything with --force."
    )


def load_results(folder: Path) -> Loaded:
    """Read every result in `folder` (or one result file); skip, with a warning, files that are not results."""
    warnings: list[str] = []
    found: list[tuple[Path, SubmissionResult]] = []
    for path in _result_files(folder):
        got = read_result_or_reason(path)
        if isinstance(got, str):
            warnings.append(f"skipped {printable(path.name)}: {got}")
        else:
            found.append((path, got))
    if not found:
        raise ReportError(f"no readable result in {printable(str(folder))}: " + "; ".join(warnings))
    results = _keep_latest(found, warnings)
    mixed = version_warning(results)
    return Loaded(folder, results, warnings + ([mixed] if mixed else []))
