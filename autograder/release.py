"""Build the student handout zip: stubs, notebook, public tests and a conftest so `pytest` works."""

from __future__ import annotations

import zipfile
from pathlib import Path

from autograder.course import Assignment
from autograder.spec import SPEC_FILENAME

SKIP = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}

CONFTEST_HEADER = '''"""Fixtures for the public tests. Run `pytest` or `autograder check` in this folder."""

import importlib.util

if importlib.util.find_spec("autograder") is None:  # checked without importing, so pytest can rewrite asserts
    raise SystemExit(
        "The public tests need the course's `autograder` package: pip install autograder "
        "(or the wheel your course provides), then run `pytest` again."
    )

pytest_plugins = ["autograder.referee.plugin"]
'''

PYTEST_INI = "[pytest]\ntestpaths = tests/public\naddopts = --strict-markers --import-mode=importlib\n"

README = """# {title}

Fill in the regions marked `YOUR CODE HERE` in {files}.

- `pytest` runs the public tests (shapes and small fixed values).
- `autograder check` runs them too and prints points per question, with a hint for each failure.
- The notebook `{id}.ipynb` drives your modules: train a model and compare optimizers.

Hidden tests grade more: gradients by finite differences, optimizer steps, and accuracy
on held-out data under a time budget. Submit this folder as a .zip (or the .py files).
"""


def _handout_files(assignment: Assignment) -> dict[str, bytes]:
    """Return the handout as {path inside the zip: content}."""
    root = assignment.id
    files: dict[str, bytes] = {}
    for src in sorted(assignment.template.rglob("*")):
        if src.is_file() and not SKIP & set(src.parts):
            files[f"{root}/{src.relative_to(assignment.template).as_posix()}"] = src.read_bytes()
    public = assignment.tests / "public"
    for src in sorted(public.rglob("*.py")):
        if not SKIP & set(src.parts):
            files[f"{root}/tests/public/{src.relative_to(public).as_posix()}"] = src.read_bytes()
    files[f"{root}/{SPEC_FILENAME}"] = (assignment.folder / SPEC_FILENAME).read_bytes()
    extra = assignment.folder / "conftest.py"
    body = extra.read_text(encoding="utf-8") if extra.is_file() else ""
    files[f"{root}/conftest.py"] = (CONFTEST_HEADER + "\n\n" + body).encode()
    files[f"{root}/pytest.ini"] = PYTEST_INI.encode()
    spec = assignment.spec
    readme = README.format(title=spec.title, id=spec.id, files=", ".join(f"`{f}`" for f in spec.student_files))
    files[f"{root}/README.md"] = readme.encode()
    return files


def build_handout(assignment: Assignment, out_dir: Path) -> Path:
    """Write `OUT/<id>-handout.zip` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{assignment.id}-handout.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in _handout_files(assignment).items():
            zf.writestr(name, content)
    return target
