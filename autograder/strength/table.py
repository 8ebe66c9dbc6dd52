"""Show a strength report as tables a person reads: per question, probes, survivors with their diffs."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table

from autograder.strength.report import StrengthReport


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def question_table(report: StrengthReport) -> Table:
    """Return mutants, killed, survived, equivalent and the mutation score per question."""
    table = Table(title=f"{report.assignment} {report.version}: mutation score {_pct(report.score)} (goal {report.goal:.0%})")
    for col in ("question", "mutants", "killed", "survived", "equivalent", "score"):
        table.add_column(col, justify="left" if col == "question" else "right")
    for q in report.questions:
        table.add_row(q.id, str(q.mutants), str(q.killed), str(q.survived), str(q.equivalent), _pct(q.score))
    equivalent = sum(q.equivalent for q in report.questions)
    table.add_row("[bold]all", f"[bold]{len(report.mutants)}", f"[bold]{report.killed}", f"[bold]{report.survived}",
                  f"[bold]{equivalent}", f"[bold]{_pct(report.score)}")  # fmt: skip
    return table


def probe_table(report: StrengthReport) -> Table:
    """Return what each degenerate answer earned, on the questions it touches and in total."""
    table = Table(title=f"degenerate answers (each may earn at most {report.probe_max_fraction:.0%})")
    for col in ("probe", "questions", "earned", "total", "verdict"):
        table.add_column(col)
    for p in report.probes:
        verdict = "[green]ok" if p.passed else "[red]earns too much"
        questions = "all" if len(p.questions) == len(report.questions) else ", ".join(p.questions)
        table.add_row(f"{p.kind}: {p.description}" if p.description else p.kind, questions, f"{p.score:g}/{p.max_score:g} ({p.fraction:.1%})",
                      f"{p.total:g}/{report.max_score:g}", verdict)  # fmt: skip
    return table


def survivors(report: StrengthReport, limit: int | None = None) -> list[RenderableType]:
    """Return each surviving mutant: its id, the mistake it imitates, and its diff."""
    out: list[RenderableType] = []
    alive = [m for m in report.mutants if m.status == "survived"]
    for m in alive[:limit]:
        title = f"[bold]survived[/] {m.id}" + (f"  [italic]({m.mistake})" if m.mistake else "")
        out.append(Group(title, Syntax(m.diff.rstrip(), "diff", theme="ansi_dark", background_color="default", word_wrap=True)))
    if limit is not None and len(alive) > limit:
        out.append(f"... and {len(alive) - limit} more survivors (see the JSON report)")
    return out


def render(report: StrengthReport, limit: int | None = 40) -> list[RenderableType]:
    """Return everything to print, in reading order."""
    summary = (f"{len(report.mutants)} mutants in {report.wall_seconds:g} s with {report.workers} workers "
               f"(solution graded in {report.reference_seconds:g} s; a mutant may take {report.deadline_s:g} s)")  # fmt: skip
    parts: list[RenderableType] = [question_table(report)]
    if report.probes:
        parts.append(probe_table(report))
    parts += survivors(report, limit)
    parts += [f"[yellow]stale equivalent declaration:[/] {i} matches no mutant" for i in report.stale_equivalents]
    parts.append(summary)
    return parts
