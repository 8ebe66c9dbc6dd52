"""Build the student handout zip: stubs, notebook, public tests, a README, and the course's wheel to install from.

The handout installs in one command from its own folder (`pip install -r requirements.txt`): the
requirements file names this package with the extras the assignment needs and finds its wheel in
`wheels/`, so only third-party packages come from the package index.

An instructor's own `student_templates/<id>/README.md` is kept as written. Where it holds the line
`<!-- autograder:handout -->`, that line is replaced by the generated sections (install, check,
notebook, submit); without it nothing is added to it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import autograder
from autograder.course import Assignment
from autograder.intake.answers import WRITTEN_ANSWER_TAG
from autograder.spec import SPEC_FILENAME, AssignmentSpec, SpecError

DISTRIBUTION = "dlcourse-autograder"  # pyproject's [project] name; the import package and command are `autograder`
WHEELS = "wheels"
REQUIREMENTS = "requirements.txt"
README_NAME = "README.md"
README_MARKER = "<!-- autograder:handout -->"
EXTRAS = {"numpy": ["notebook"], "torch": ["notebook", "torch"]}  # per spec framework
SKIP = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
WHEEL_SOURCES = ("pyproject.toml", "README.md")  # besides autograder/: what the build backend reads

CONFTEST_HEADER = f'''"""Fixtures for the public tests. Run `pytest` or `autograder check` in this folder."""

import importlib.util

if importlib.util.find_spec("autograder") is None:  # checked without importing, so pytest can rewrite asserts
    raise SystemExit(
        "The public tests need the course's `autograder` package, which is not on PyPI under that name. "
        "In this folder run `pip install -r {REQUIREMENTS}` (it installs {DISTRIBUTION} from {WHEELS}/), then `pytest` again."
    )

pytest_plugins = ["autograder.referee.plugin"]
'''

CONFTEST_TORCH = f'''
if importlib.util.find_spec("torch") is None:
    raise SystemExit(
        "{{id}} is a PyTorch assignment and PyTorch is not installed here. "
        "In this folder run `pip install -r {REQUIREMENTS}`, then `pytest` again."
    )
'''

# The extra of this distribution that brings each optional module, for messages about a missing one.
MODULE_EXTRAS = {
    "torch": "torch", "torchvision": "torch", "matplotlib": "notebook", "jupyterlab": "notebook",
    "mlxtend": "grading", "sklearn": "grading", "libcst": "grading", "hypothesis": "grading", "nbformat": "grading",
    "nbclient": "grading", "otter": "otter", "canvasapi": "lms", "docker": "docker",
}  # fmt: skip

TORCH_NOTE = """
PyTorch is the largest part of it. Without an NVIDIA GPU, a CPU-only build is several times smaller:
install it first as PyTorch's "Get Started" page shows for your system, then run the command above."""

PYTEST_INI = "[pytest]\ntestpaths = tests/public\naddopts = --strict-markers --import-mode=importlib\n"


class ReleaseError(SpecError):
    """A handout that cannot be built (reported as a spec problem is: one line, exit 2)."""


def _package_root() -> Path:
    """Return the source checkout this package runs from (pyproject.toml beside `autograder/`)."""
    root = Path(autograder.__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise ReleaseError(
            f"no pyproject.toml beside {root / 'autograder'}: the handout bundles the course's wheel, built from the "
            "source checkout. Run `autograder release` in the course repository's environment (pip install -e .)."
        )
    return root


def _source_files(root: Path) -> list[Path]:
    """Return the files a wheel is built from, relative to `root`, sorted."""
    files = [Path(name) for name in WHEEL_SOURCES]
    for path in sorted((root / "autograder").rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not SKIP & set(rel.parts) and path.suffix != ".pyc":
            files.append(rel)
    return files


def _source_digest(root: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    for rel in files:
        h.update(rel.as_posix().encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return h.hexdigest()[:20]


def _wheel_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "autograder" / "wheels"


def _pip_wheel(src: Path, dest: Path) -> None:
    """Build `src` into a wheel in `dest` with `pip wheel --no-deps`, without a build environment when setuptools is here."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dest), str(src)]
    try:
        import setuptools

        if int(setuptools.__version__.split(".")[0]) >= 77:
            cmd.insert(4, "--no-build-isolation")  # offline: the build backend is already installed
    except ImportError:
        pass
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise ReleaseError(f"building the {DISTRIBUTION} wheel failed (pip wheel exit {run.returncode}): {run.stderr.strip()[-1500:]}")


def engine_wheel(cache: Path | None = None) -> Path:
    """Return the wheel of this package, built from a clean copy of its sources once per source state."""
    root = _package_root()
    files = _source_files(root)
    folder = (cache or _wheel_cache()) / _source_digest(root, files)
    built = sorted(folder.glob("*.whl"))
    if built:
        return built[0]
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="autograder-wheel-", dir=folder.parent) as tmp:
        src = Path(tmp) / "src"
        for rel in files:
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, src / rel)
        _pip_wheel(src, Path(tmp) / "wheel")
        try:
            os.replace(Path(tmp) / "wheel", folder)
        except OSError:  # another build finished first: use its wheel
            pass
    _prune(folder.parent, keep=folder)
    return sorted(folder.glob("*.whl"))[0]


def _prune(cache: Path, keep: Path, most: int = 5) -> None:
    """Remove all but the `most` newest wheel folders of the cache (never `keep`)."""
    folders = sorted((p for p in cache.iterdir() if p.is_dir() and p != keep and not p.name.startswith("autograder-wheel-")),
                     key=lambda p: p.stat().st_mtime, reverse=True)  # fmt: skip
    for old in folders[most - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def requirements_text(spec: AssignmentSpec) -> str:
    """Return the handout's requirements file: this package, with the extras the assignment needs, from `wheels/`."""
    extras = ",".join(EXTRAS[spec.framework])
    return (
        f"# Everything {spec.id} needs. In this folder, in a fresh virtual environment:\n"
        f"#     pip install -r {REQUIREMENTS}\n"
        f"# The course's package ({DISTRIBUTION}) comes from {WHEELS}/ beside this file; the rest from the package index.\n"
        f"--find-links {WHEELS}\n"
        f"{DISTRIBUTION}[{extras}]=={autograder.__version__}\n"
    )


def _public_questions(assignment: Assignment) -> dict[str, bool]:
    """Return {question id: whether a public test file falls in it} (a test file name matched against its patterns)."""
    public = assignment.tests / "public"
    ids = [f"public/{p.relative_to(public).as_posix()}::test" for p in sorted(public.rglob("test_*.py"))]
    return {q.id: any(q.matches(i) for i in ids) for q in assignment.spec.questions}


def _notebook_name(assignment: Assignment) -> str | None:
    notebooks = sorted(p.name for p in assignment.template.glob("*.ipynb"))
    return f"{assignment.id}.ipynb" if f"{assignment.id}.ipynb" in notebooks else (notebooks[0] if notebooks else None)


def _install_section(spec: AssignmentSpec) -> str:
    torch = "torch" in EXTRAS[spec.framework]
    what = "NumPy, pytest, PyTorch, Jupyter," if torch else "NumPy, pytest, Jupyter,"
    return f"""## Install (once)

You need Python 3.11 or newer. One environment serves the whole course; create it beside this folder:

```bash
python -m venv ../dlcourse-env
source ../dlcourse-env/bin/activate      # Windows: ..\\dlcourse-env\\Scripts\\activate
pip install -r {REQUIREMENTS}
```

The last command installs the course's `autograder` package from `{WHEELS}/` in this folder (it is not
on PyPI: `pip install autograder` would install an unrelated project) and, from the package index,
{what} matplotlib and the data packages the notebook reads.{TORCH_NOTE if torch else ""}
"""


def _questions_table(assignment: Assignment) -> str:
    public = _public_questions(assignment)
    rows = ["| question | points | public tests |", "|---|---|---|"]
    for q in assignment.spec.questions:
        rows.append(f"| `{q.id}`: {q.title} | {q.points:g} | {'yes' if public[q.id] else 'none: graded by hidden tests only'} |")
    return "\n".join(rows)


def _check_section(assignment: Assignment) -> str:
    return f"""## Check your work

```bash
pytest                 # the public tests: shapes and a few small fixed values
autograder check       # the same tests, points per question and a hint per failure
```

`autograder check` exits with status 1 while a public test fails.

{_questions_table(assignment)}

The hidden tests, run when you submit, check more than these public ones; a question without
public tests is graded by them only. Passing the public tests is a first step.
"""


def _notebook_section(notebook: str | None) -> str:
    if notebook is None:
        return ""
    return f"""## The notebook

```bash
jupyter lab {notebook}
```

It drives your modules. It runs from top to bottom even before you have written anything: a cell
that reaches a function you have not written yet stops there and says which one to write next.
Write your answers to its questions in the cells under **Your answer** (markdown cells tagged
`{WRITTEN_ANSWER_TAG}`): they are collected from the notebook you submit and read by the course staff.
"""


def _submit_section(spec: AssignmentSpec, notebook: str | None) -> str:
    files = [*spec.student_files, *spec.weight_files, *([notebook] if notebook else [])]
    zip_name = f"{spec.id}-submission.zip"
    return f"""## Submit

Put your files{' and the notebook' if notebook else ''} in one zip, check it, and upload it where your course says:

```bash
python -m zipfile -c {zip_name} {' '.join(files)}
autograder check --submission {zip_name}
```

`autograder check --submission` reads the zip as the grader does: it names the files it found,
anything missing or renamed, and runs the public tests on that copy. Keep the file names of the
handout; only {', '.join(f'`{f}`' for f in files)} are read.
"""


def handout_sections(assignment: Assignment) -> str:
    """Return the generated README's sections after its title: install, check, notebook, submit."""
    spec, notebook = assignment.spec, _notebook_name(assignment)
    parts = [_install_section(spec), _check_section(assignment), _notebook_section(notebook), _submit_section(spec, notebook)]
    return "\n".join(p for p in parts if p)


def readme_text(assignment: Assignment) -> str:
    """Return the handout README: the instructor's own (generated sections at its marker, if any), else a generated one."""
    own = assignment.template / README_NAME
    if own.is_file():
        text = own.read_text(encoding="utf-8")
        return text.replace(README_MARKER, handout_sections(assignment).rstrip()) if README_MARKER in text else text
    spec = assignment.spec
    files = ", ".join(f"`{f}`" for f in spec.student_files)
    intro = (f"# {spec.title}\n\nAssignment `{spec.id}`, version {spec.version}, {spec.max_points:g} points. Fill in the regions "
             f"marked `YOUR CODE HERE` in {files}; each stub raises `NotImplementedError` until you do, and the grader reports "
             "such a function as *not attempted*.\n")
    return intro + "\n" + handout_sections(assignment)


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """Return a one-line message naming the extra to install for a missing optional module, or None if no extra brings it."""
    module = (exc.name or "").split(".")[0]
    extra = MODULE_EXTRAS.get(module)
    if extra is None:
        return None
    return (f"this command needs `{module}`, which is not installed here: install the `{extra}` extra, "
            f"pip install '{DISTRIBUTION}[{extra}]' (in the course's checkout: pip install -e '.[{extra}]').")  # fmt: skip


def _tree(folder: Path, prefix: str) -> dict[str, bytes]:
    return {
        f"{prefix}/{src.relative_to(folder).as_posix()}": src.read_bytes()
        for src in sorted(folder.rglob("*"))
        if src.is_file() and not SKIP & set(src.relative_to(folder).parts)
    }


def student_spec_text(spec: AssignmentSpec) -> str:
    """Return the spec as the handout holds it: its values only, never the course file's comments (notes on hidden tests)."""
    import yaml

    values = spec.model_dump(mode="json", exclude={"strength"})
    return "# The assignment's spec, as the public tests read it.\n" + yaml.safe_dump(values, sort_keys=False, allow_unicode=True)


def _handout_files(assignment: Assignment, wheel: Path) -> dict[str, bytes]:
    """Return the handout as {path inside the zip: content}."""
    root, spec = assignment.id, assignment.spec
    files = _tree(assignment.template, root)
    files |= {k: v for k, v in _tree(assignment.tests / "public", f"{root}/tests/public").items() if k.endswith(".py")}
    files[f"{root}/{SPEC_FILENAME}"] = student_spec_text(spec).encode()
    extra = assignment.folder / "conftest.py"
    body = extra.read_text(encoding="utf-8") if extra.is_file() else ""
    header = CONFTEST_HEADER + (CONFTEST_TORCH.format(id=spec.id) if spec.framework == "torch" else "")
    files[f"{root}/conftest.py"] = (header + "\n\n" + body).encode()
    files[f"{root}/pytest.ini"] = PYTEST_INI.encode()
    files[f"{root}/{README_NAME}"] = readme_text(assignment).encode()
    files[f"{root}/{REQUIREMENTS}"] = requirements_text(spec).encode()
    files[f"{root}/{WHEELS}/{wheel.name}"] = wheel.read_bytes()
    return files


def build_handout(assignment: Assignment, out_dir: Path, wheel: Path | None = None) -> Path:
    """Write `OUT/<id>-handout.zip` (with this package's wheel, built unless given) and return its path."""
    files = _handout_files(assignment, wheel or engine_wheel())
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{assignment.id}-handout.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return target
