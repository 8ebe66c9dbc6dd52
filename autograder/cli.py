"""The `autograder` command line: one function call per command."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autograder.course import Assignment
from autograder.intake.staging import SubmissionError
from autograder.results import SubmissionResult
from autograder.spec import SpecError

if TYPE_CHECKING:
    from autograder.check import CheckReport
    from autograder.grade import BatchReport


class Device(StrEnum):
    """Where a torch assignment's tests run."""

    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Layout(StrEnum):
    """How a download of submissions is laid out."""

    canvas = "canvas"
    moodle = "moodle"
    gradescope = "gradescope"
    folders = "folders"


class Runner(StrEnum):
    """Where each submission is graded."""

    local = "local"
    docker = "docker"


app = typer.Typer(
    help="Grade deep-learning assignments: students check, TAs grade, instructors validate and release.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        import autograder

        try:
            installed = version("dlcourse-autograder")
        except PackageNotFoundError:
            installed = getattr(autograder, "__version__", "unknown")
        console.print(f"autograder {installed}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    show_version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Grade deep-learning assignments: students check, TAs grade, instructors validate and release."""


def _fail(message: str) -> typer.Exit:
    """Print a one-line error (square brackets in it are text, never markup) and return the exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _assignment(name: str) -> Assignment:
    """Find an assignment and load (so validate) its spec; exit with the spec's problem if it has one."""
    from autograder.course import find_assignment

    try:
        a = find_assignment(name)
        a.spec  # noqa: B018 - load (and so validate) the spec first
    except SpecError as exc:
        raise _fail(str(exc)) from None
    return a


def _question_table(result: SubmissionResult) -> Table:
    table = Table(title=f"{result.assignment}: {result.submission}")
    for col in ("question", "title", "points"):
        table.add_column(col)
    for q in result.questions:
        table.add_row(q.id, q.title, f"{q.score:g} / {q.max_score:g}")
    table.add_row("", "[bold]total", f"[bold]{result.score:g} / {result.max_score:g}")
    return table


def _print_feedback(result: SubmissionResult) -> None:
    console.print(_question_table(result))
    for t in result.tests:
        if t.outcome != "passed":
            console.print(f"[bold]{t.name}[/] [yellow]{t.outcome}[/]", highlight=False)
            console.print(f"  {t.output.strip()}".replace("\n", "\n  "), highlight=False, markup=False)
    console.print(result.output, highlight=False)


@app.command("list")
def list_cmd() -> None:
    """List the assignments in this course with their framework and points."""
    from autograder.course import find_assignment, list_assignments

    table = Table("id", "title", "framework", "questions", "points", "version")
    for aid in list_assignments():
        try:
            s = find_assignment(aid).spec
            table.add_row(s.id, s.title, s.framework, str(len(s.questions)), f"{s.max_points:g}", s.version)
        except SpecError as exc:
            table.add_row(aid, f"[red]invalid spec: {exc}", "", "", "", "")
    console.print(table)


@app.command()
def validate(
    assignment: str = typer.Argument(..., help="Assignment id, e.g. a1_mlp_numpy (a unique prefix like a1 works)."),
    strength: bool = typer.Option(False, "--strength", help="Also run the mutation analysis; fail below the spec's `strength.goal`."),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", "-j", help="Mutants graded in parallel (with --strength)."),
    report: Path | None = typer.Option(None, "--report", help="Write the strength report as JSON here (with --strength)."),
    unconfined: bool = typer.Option(
        False, "--unconfined", help="With --strength, grade mutants even where they can only be given resource limits (not root)."
    ),
) -> None:
    """Check an assignment: spec valid, stubs match the solution, solution 100 %, stubs 0 % as not attempted."""
    from autograder.validate import validate as run_validate

    a = _assignment(assignment)
    with console.status(f"validating {a.id} (grading the solution and the stubs)"):
        validation = run_validate(a)
    for who, res in (("solution", validation.solution), ("stubs", validation.template)):
        if res:
            console.print(f"{who}: {res.score:g}/{res.max_score:g} ({res.status}) in {res.execution_time:.1f} s")
    for w in validation.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    for p in validation.problems:
        err.print(f"[red]problem:[/] {p}", highlight=False)
    if not validation.ok:
        raise typer.Exit(code=1)
    if strength:
        _strength(a, workers, None, True, report, 40, unconfined)
    console.print(f"[green]{a.id} is valid.")


def _check_table(report: CheckReport) -> Table:
    """Points per question from the public tests; a question with none says it is graded by hidden tests only."""
    from autograder.check import HIDDEN_ONLY

    result = report.result
    table = Table(title=f"{escape(result.assignment)}: {escape(result.submission)} (public tests)")
    for col in ("question", "title", "points"):
        table.add_column(col)
    hidden = set(report.hidden_only)
    for q in result.questions:
        points = f"[dim]{HIDDEN_ONLY} ({q.max_score:g})[/]" if q.id in hidden else f"{q.score:g} / {q.max_score:g}"
        table.add_row(escape(q.id), escape(q.title), points)
    public_max = sum(q.max_score for q in result.questions if q.id not in hidden)
    table.add_row("", "[bold]total of the publicly tested questions", f"[bold]{result.score:g} / {public_max:g}")
    return table


def _print_submission(report: CheckReport) -> None:
    """Say what the grader will see in the submission: its files, notes, missing files, written answers."""
    say = lambda text: console.print(text, highlight=False, markup=False, soft_wrap=True)  # noqa: E731
    say(f"{report.submission.name if report.submission else 'Your submission'}, read as the grader reads it:")
    say(f"  files: {', '.join(report.staged_files) or 'none'}")
    for note in report.notes:
        say(f"  note: {note}")
    if report.missing:
        say(f"  missing: {', '.join(report.missing)}. Their tests fail unless other files define the same names; add them and check again.")
    empty = [k for k, v in report.written_answers.items() if not v]
    if report.written_answers:
        say(f"  written answers: {len(report.written_answers)} in the notebook" + (f", still empty: {', '.join(empty)}" if empty else ""))
    else:
        say("  written answers: none (no notebook with `written-answer` cells in it); add the notebook if your course asks for them")


@app.command()
def check(
    assignment: str | None = typer.Argument(None, help="Assignment id; omit inside a handout folder."),
    folder: Path = typer.Option(Path("."), "--folder", "-f", help="Your handout folder with your modules."),
    submission: Path | None = typer.Option(
        None, "--submission", "-s",
        help="The zip (or folder, .py or .ipynb) you are about to submit: read it as the grader does and run the public tests on that copy.",
    ),
) -> None:
    """Run the public tests on your code: points per question, a hint per failure; exit 1 while a public test fails."""
    from autograder.check import HIDDEN_ONLY
    from autograder.check import check as run_check

    try:
        report = run_check(assignment, folder, submission)
    except (SpecError, SubmissionError) as exc:
        raise _fail(str(exc)) from None
    console.print(_check_table(report))
    for t in report.failed:
        console.print(f"[bold]{escape(t.name)}[/] [yellow]{escape(t.outcome)}[/]", highlight=False)
        console.print(f"  {t.output.strip()}".replace("\n", "\n  "), highlight=False, markup=False)
    console.print(report.result.output, highlight=False, markup=False)
    if submission is not None:
        _print_submission(report)
    if report.hidden_only:
        console.print(f"No public test for {', '.join(report.hidden_only)}: {HIDDEN_ONLY}, after you submit.", highlight=False, markup=False)
    console.print("Hidden tests grade more than these public ones: passing them is a first step.", highlight=False)
    raise typer.Exit(code=report.exit_code)


@app.command()
def grade(
    assignment: str = typer.Argument(..., help="Assignment id, e.g. a1_mlp_numpy."),
    submissions: list[Path] = typer.Argument(..., help="Submissions: folders, .zip, .py or .ipynb files (or one folder of them with --each)."),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Folder for <name>.json results and grades.csv."),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", "-j", min=1, help="Submissions graded in parallel, one thread each (default: one per core)."),
    each: bool = typer.Option(False, "--each", help="Treat each entry inside the given folder(s) as one submission."),
    layout: Layout | None = typer.Option(
        None, "--layout",
        help=(
            "How SUBMISSIONS are laid out: canvas, moodle or gradescope (the LMS's download, a folder or its zip: one submission "
            "per student) or folders (each entry one submission, as --each). Absent: told from the names; when unclear, you are asked."
        ),
    ),
    roster: Path | None = typer.Option(
        None, "--roster",
        help="Class roster CSV (LMS id, SIS id, login, email, name; Canvas, Moodle and Gradescope exports work as they are): "
        "grades.csv gets one row per student, those with no submission marked missing.",
    ),
    force: bool = typer.Option(False, "--force", help="Regrade submissions that already have a result for this version."),
    unconfined: bool = typer.Option(
        False, "--unconfined", help="Grade even where submissions can only be given resource limits (not root): no separate user, no namespaces."
    ),
    device: Device = typer.Option(
        Device.auto, "--device",
        help="Where a torch assignment's tests run: auto (a GPU when the spec allows one and this machine has one), cpu, or cuda (fail without one).",
    ),
    runner: Runner = typer.Option(
        Runner.local, "--runner", help="local: on this machine; docker: one container per submission (Docker, or podman's Docker API at DOCKER_HOST)."
    ),
    image: str | None = typer.Option(None, "--image", help="With --runner docker: the grading image (default autograder-cpu; see docker/README.md)."),
    gpus: str | None = typer.Option(None, "--gpus", help="With --runner docker: give each container GPUs, as `docker run --gpus` (all, a count, device=0,1)."),
) -> None:
    """Grade submissions with the hidden and public tests; write OUT/<name>.json and OUT/grades.csv."""
    from autograder.grade import RunOptions, grade_download
    from autograder.intake.layouts import LayoutError
    from autograder.intake.names import printable
    from autograder.intake.roster import RosterError

    if runner == Runner.local:
        _check_isolation(unconfined)  # a container confines its submission itself
    a = _assignment(assignment)
    container = _container_runner(a, device.value, image, gpus) if runner == Runner.docker else _local_runner(a, device.value, image, gpus)
    missing = [str(s) for s in submissions if not s.exists()]
    if missing:
        raise _fail(f"no such submission: {', '.join(printable(m) for m in missing)}")
    if out.exists() and not out.is_dir():
        raise _fail(f"--out {printable(str(out))} is a file; give the folder the results go into (it is created if missing).")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"grading {a.id}", total=None)
            report = grade_download(
                a, submissions, out, layout=layout.value if layout else None, each=each, roster_path=roster, workers=workers, force=force,
                on_total=lambda n: progress.update(task, total=n), on_done=lambda r: progress.advance(task),
                options=RunOptions(device=device.value, runner=container),
            )  # fmt: skip
    except (LayoutError, RosterError) as exc:
        raise _fail(str(exc)) from None
    _print_batch(a, report, out)
    if report.interrupted:
        err.print(
            f"interrupted: {len(report.results)} submission(s) graded and listed in {escape(str(out / 'grades.csv'))}; "
            "the rest have no result. Run the same command again to grade them (finished ones are reused).",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        raise typer.Exit(code=130)


def _print_batch(a: Assignment, report: BatchReport, out: Path) -> None:
    """Print a batch's table (final score, lateness, why), then what was skipped, reused, missing or unmatched."""
    from rich.text import Text

    from autograder.exporters.gradebook import why
    from autograder.results.lateness import final_score, late_from_metadata

    table = Table("submission", "score", "late", "status", "why")
    for r in report.results:
        late = late_from_metadata(r.metadata)
        shown = f"{final_score(r.score, late):g}/{r.max_score:g}" + (f" (raw {r.score:g})" if late and late.penalty else "")
        table.add_row(Text(r.submission), shown, f"{late.days} d" if late and late.days else "", r.status, Text(why(a.spec, r)))
    console.print(table)
    for path, how in report.layouts.items():
        console.print(Text(f"read {path} as a {how} download"))
    for s in report.skipped:
        err.print(Text(f"skipped {s.path}: {s.why}", style="yellow"))
    fresh = len(report.results) - report.reused
    console.print(f"{fresh} graded, {report.reused} reused (unchanged since the last run; --force regrades them)")
    if report.missing:
        names = ", ".join(s.label() for s in report.missing)
        err.print(Text(f"{len(report.missing)} roster students have no submission (marked missing in grades.csv): {names}", style="yellow"))
    for name, reason in report.unmatched:
        err.print(Text(f"{name} matches no roster student ({reason}); it is not in grades.csv", style="yellow"))
    for warning in report.warnings:
        err.print(Text(f"roster: {warning}", style="yellow"))
    console.print(Text(f"results in {out}/, gradebook {out / 'grades.csv'}"))


@app.command()
def strength(
    assignment: str = typer.Argument(..., help="Assignment id, e.g. a1_mlp_numpy."),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", "-j", help="Mutants graded in parallel."),
    only: str | None = typer.Option(None, "--only", help="Grade only mutants whose id matches this glob, e.g. 'optim.py::adam*' (no probes)."),
    report: Path | None = typer.Option(None, "--report", "-o", help="Write the whole report (every mutant, its diff and outcome) as JSON here."),
    show: int = typer.Option(40, "--show", help="Surviving mutants to print with their diffs."),
    unconfined: bool = typer.Option(
        False, "--unconfined", help="Grade mutants even where they can only be given resource limits (not root)."
    ),
) -> None:
    """Grade mutants of the solution and degenerate answers; report the mutation score per question and every survivor."""
    _strength(_assignment(assignment), workers, only, only is None, report, show, unconfined)


def _strength(a: Assignment, workers: int, only: str | None, probes: bool, report_path: Path | None, show: int, unconfined: bool) -> None:
    """Run the strength check with a progress bar, print its tables, write its JSON; exit 1 below the goals."""
    from autograder.strength.run import StrengthError, run_strength
    from autograder.strength.table import render

    _check_isolation(unconfined)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"mutants of {a.id}", total=None)
            report = run_strength(a, workers=workers, only=only, probes=probes, on_done=lambda _: progress.advance(task),
                                  on_total=lambda n: progress.update(task, total=n))  # fmt: skip
    except StrengthError as exc:
        raise _fail(str(exc)) from None
    for part in render(report, show):
        console.print(part)
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
        console.print(f"report: {report_path}")
    for problem in report.problems:
        err.print(f"[red]problem:[/] {problem}", highlight=False)
    if report.problems and only is None:
        raise typer.Exit(code=1)


def _local_runner(a: Assignment, device: str, image: str | None, gpus: str | None) -> str:
    """Return the local runner's name, after checking the device and that no container option was given."""
    if image or gpus:
        raise _fail("--image and --gpus need --runner docker.")
    _check_device(a, device)
    return "local"


def _container_runner(a: Assignment, device: str, image: str | None, gpus: str | None) -> object:
    """Return the docker runner for --image and --gpus, after checking the engine, the image and the device."""
    from autograder.runners.docker import DEFAULT_IMAGE, ContainerError, ContainerRunner

    if device == "cuda" and gpus is None:
        raise _fail("--device cuda in a container needs GPUs: add --gpus all (and a CUDA image, --image autograder-cuda).")
    if device == "cuda" and (a.spec.framework != "torch" or "gpu" not in a.spec.devices):
        raise _fail(f"{a.id} does not allow a GPU (its spec's `devices` is {a.spec.devices}); grade with --device auto or cpu.")
    container = ContainerRunner(image=image or DEFAULT_IMAGE, gpus=gpus)
    try:
        container.check()
    except ContainerError as exc:
        raise _fail(str(exc)) from None
    err.print(f"grading in containers of {container.image}" + (f" with GPUs ({gpus})" if gpus else ""), highlight=False)
    return container


def _check_device(a: Assignment, device: str) -> None:
    """Refuse `--device cuda` before grading anything where it cannot be honoured (the referee's own rule)."""
    if device != "cuda":
        return
    import pytest

    from autograder.referee.plugin import choose_device

    try:
        choose_device(a.spec.model_dump(mode="json"), device)
    except pytest.UsageError as exc:
        raise _fail(str(exc).removeprefix("autograder: ")) from None


def _check_isolation(unconfined: bool) -> None:
    """Say which isolation level submissions get here; refuse `none` unless told `--unconfined`."""
    from autograder.isolation.confine import NONE
    from autograder.runners.local import isolation_level

    level, why = isolation_level()
    if level == NONE and not unconfined:
        raise _fail(
            f"submissions cannot be confined here ({why}): a submission could read the hidden tests, the "
            "reference and other students' work. Grade as root (or in the grading container), or pass "
            "--unconfined to grade with resource limits only."
        )
    if level != "full":
        err.print(f"[yellow]isolation level `{level}`: {why}[/yellow]", highlight=False)


@app.command()
def release(
    assignment: str = typer.Argument(..., help="Assignment id."),
    out: Path = typer.Option(Path("dist"), "--out", "-o", help="Folder for the handout zip."),
) -> None:
    """Build the student handout zip (stubs, notebook, public tests; never hidden tests or solutions)."""
    from autograder.course import find_assignment
    from autograder.release import build_handout

    try:
        path = build_handout(find_assignment(assignment), out)
    except SpecError as exc:
        raise _fail(str(exc)) from None
    console.print(f"handout: {path}")


@app.command()
def build(
    assignment: str = typer.Argument(..., help="Assignment id, e.g. a1_mlp_numpy."),
    out: Path = typer.Option(Path("dist"), "--out", "-o", help="Folder for <id>-autograder.zip."),
    unconfined: bool = typer.Option(
        False, "--unconfined", help="Let the zip grade where submissions can only be given resource limits (not root); without it, such a runner refuses to grade."
    ),
) -> None:
    """Build the otter-grader / Gradescope autograder zip: inside `otter run`, `otter grade` or Gradescope, the engine grades each submission."""
    from autograder.packaging.otter_zip import build_otter_zip

    path = build_otter_zip(_assignment(assignment), out, unconfined=unconfined)
    console.print(f"autograder zip: {path}  (otter run -a {path} SUBMISSION.zip, or upload it to Gradescope)", highlight=False)


@app.command()
def calibrate(
    assignment: str = typer.Argument(..., help="Assignment id, e.g. a1_mlp_numpy (a unique prefix like a1 works)."),
    machine: str = typer.Option("", "--machine", help="Name this machine in the entry (default: CPU model, CPUs, versions)."),
) -> None:
    """Time the calibration workload here and print the `calibration` entry to record where you set the budgets."""
    from autograder.runners.calibrate import calibration_report

    console.print(calibration_report(_assignment(assignment).spec, machine), highlight=False, markup=False, soft_wrap=True)


@app.command()
def data(
    download: str | None = typer.Option(None, "--download", help="Fetch a full dataset (mnist, cifar10) with torchvision, when online."),
) -> None:
    """Show each dataset, where it is looked for (AUTOGRADER_DATA) and whether it is there."""
    from autograder import data as datasets

    if download:
        try:
            datasets.download(download)
        except Exception as exc:  # noqa: BLE001 - any download failure is reported the same way
            raise _fail(str(exc)) from None
    console.print(f"data folder: {datasets.data_root()}  (set AUTOGRADER_DATA to change it)")
    table = Table("dataset", "looked for in", "present", "graded with", "otherwise")
    for row in datasets.dataset_status():
        present = "[green]yes" if row["present"] else "[yellow]no"
        table.add_row(row["name"], row["location"], present, str(row["source"] or "-"), row["fallback"])
    console.print(table)


@app.command()
def report(
    results: Path = typer.Argument(..., help="Folder of <name>.json results written by `autograder grade` (or one result file)."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write: one self-contained page, charts included."),
) -> None:
    """Write the class report: score histogram, questions, tests, common failures, slow tests, problems, lateness, written answers."""
    from rich.markup import escape

    from autograder.exporters.report import ReportError, write_report

    try:
        written = write_report(results, out)
    except ReportError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    for warning in written.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    console.print(f"report: {escape(str(written.path))} ({written.submissions} submissions)", highlight=False)


class ExportFormat(StrEnum):
    """What `autograder export` writes."""

    canvas_csv = "canvas-csv"
    moodle_csv = "moodle-csv"
    gradescope = "gradescope"


EXPORT_DEFAULTS = {"canvas-csv": "canvas-grades.csv", "moodle-csv": "moodle-grades.csv", "gradescope": "gradescope"}


def _say(kind: str, lines: list[str]) -> None:
    """Print warnings (or any lines) to stderr with their brackets intact."""
    from rich.markup import escape

    for line in lines:
        err.print(f"[yellow]{kind}:[/] {escape(line)}", highlight=False, soft_wrap=True)


def _read_for_lms(results: Path, roster_path: Path | None) -> tuple[object, object]:
    """Read the results folder and the roster, exiting with one line when either cannot be used."""
    from autograder.lms.batch import BatchError, read_batch
    from autograder.lms.roster import RosterError, read_roster

    try:
        batch = read_batch(results)
        roster = read_roster(roster_path) if roster_path else None
    except (BatchError, RosterError) as exc:
        raise _fail(str(exc)) from None
    _say("warning", batch.warnings)
    return batch, roster


@app.command()
def export(
    results: Path = typer.Argument(..., help="Folder of <name>.json results written by `autograder grade`."),
    to: ExportFormat = typer.Option(..., "--to", help="canvas-csv: Canvas gradebook import; moodle-csv: Moodle grading worksheet; gradescope: <name>/results.json."),
    out: Path | None = typer.Option(None, "--out", "-o", help="The CSV file, or the folder for gradescope (default: RESULTS/canvas-grades.csv, RESULTS/moodle-grades.csv, RESULTS/gradescope/)."),
    roster: Path | None = typer.Option(None, "--roster", help="Roster CSV: LMS id, SIS id, login, email, name (Canvas's gradebook export and Moodle's worksheet work as they are)."),
    canvas_assignment_id: str | None = typer.Option(None, "--canvas-assignment-id", help="canvas-csv: the Canvas assignment's id; without it Canvas matches the column by title or creates a new assignment."),
    title: str | None = typer.Option(None, "--title", help="canvas-csv: the assignment's title in the column name (default: the assignment id)."),
) -> None:
    """Write the grades in a format the LMS imports as it is: Canvas CSV, Moodle CSV, or Gradescope results.json files."""
    from rich.markup import escape

    from autograder.exporters.canvas import write_canvas_csv
    from autograder.exporters.gradescope import write_gradescope_folders
    from autograder.exporters.moodle import write_moodle_csv

    batch, people = _read_for_lms(results, roster)
    target = out or results / EXPORT_DEFAULTS[to.value]
    if target.is_dir() and to != ExportFormat.gradescope:
        target = target / EXPORT_DEFAULTS[to.value]
    try:
        if to == ExportFormat.canvas_csv:
            written = write_canvas_csv(batch, target, people, title=title, canvas_assignment_id=canvas_assignment_id)
        elif to == ExportFormat.moodle_csv:
            written = write_moodle_csv(batch, target, people)
        else:
            written = write_gradescope_folders(batch, target)
    except OSError as exc:
        raise _fail(f"cannot write {target}: {exc.strerror or exc}; choose another --out.") from None
    _say("warning", written.warnings)
    unit = "submissions" if to == ExportFormat.gradescope else "students"
    console.print(f"{to.value}: {written.rows} {unit} in {escape(str(written.path))}", highlight=False)


upload_app = typer.Typer(help="Send grades and feedback to an LMS.", no_args_is_help=True)
app.add_typer(upload_app, name="upload")


def _canvas_token(token_env: str) -> str:
    token = os.environ.get(token_env, "").strip()
    if not token:
        raise _fail(f"no Canvas token: the environment variable {token_env} is not set. Create an access token in Canvas "
                    "(Account > Settings > New access token) and export it, or name another variable with --token-env. Nothing was sent.")  # fmt: skip
    return token


def _print_upload(summary: object, course: str, assignment: str, dry_run: bool) -> None:
    """Print the requests of a dry run, or the outcome of each grade, then the summary line."""
    if dry_run:
        for p in summary.planned:
            console.print(p.request(course, assignment), highlight=False, markup=False, soft_wrap=True)
    _say("skipped", [f"{name}: {why}" for name, why in summary.skipped])
    _say("failed", [f"{name}: {why}" for name, why in summary.failed])
    _say("warning", summary.warnings)
    if dry_run:
        console.print(f"dry run: {len(summary.planned)} grades would be sent, {len(summary.skipped)} skipped; nothing was sent.", highlight=False)
    else:
        console.print(f"sent {len(summary.sent)}, skipped {len(summary.skipped)}, failed {len(summary.failed)}", highlight=False)


@upload_app.command("canvas")
def upload_canvas(
    results: Path = typer.Argument(..., help="Folder of <name>.json results written by `autograder grade`."),
    url: str = typer.Option(..., "--url", help="The Canvas address, e.g. https://canvas.example.edu (no /api/v1)."),
    course: str = typer.Option(..., "--course", help="The course id: the number after /courses/ in its address."),
    assignment: str = typer.Option(..., "--assignment", help="The assignment id: the number after /assignments/ in its address."),
    roster: Path | None = typer.Option(None, "--roster", help="Roster CSV with Canvas user ids (`ID`/`LMS id`) or logins; without it, students are found by login, SIS id or email."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the token, ids and students (read-only requests) and print every grade request; send nothing."),
    token_env: str = typer.Option("CANVAS_TOKEN", "--token-env", help="The environment variable holding the Canvas access token."),
) -> None:
    """Post each student's grade and a short feedback comment to a Canvas assignment, with retries and a summary."""
    from rich.markup import escape

    token = _canvas_token(token_env)
    try:
        from autograder.lms.canvas import CanvasUploadError, connect, upload_grades
    except ImportError:
        raise _fail("the Canvas upload needs canvasapi: install the `lms` extra (pip install 'canvasapi>=3.0').") from None
    from autograder.lms.batch import pair_with_roster

    batch, people = _read_for_lms(results, roster)
    entries, warnings = pair_with_roster(batch, people)
    _say("warning", warnings)
    if url.startswith("http://") and not url.startswith(("http://127.", "http://localhost")):
        _say("warning", [f"{url} is not https: the token travels unencrypted"])
    try:
        summary = upload_grades(connect(url, token), url, course, assignment, entries, dry_run=dry_run, token_env=token_env,
                                on_step=lambda name, state, why: console.print(f"{state}: {escape(name)}", highlight=False))  # fmt: skip
    except CanvasUploadError as exc:
        raise _fail(str(exc)) from None
    _print_upload(summary, course, assignment, dry_run)
    if summary.failed:
        raise typer.Exit(code=1)


def main() -> None:
    """Entry point of the `autograder` console script; a missing optional package names the extra that brings it."""
    try:
        app()
    except ModuleNotFoundError as exc:
        from autograder.release import missing_extra

        message = missing_extra(exc)
        if message is None:
            raise
        raise SystemExit(_fail(message).exit_code) from None


if __name__ == "__main__":
    main()
