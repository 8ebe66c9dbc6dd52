"""Build the otter-grader / Gradescope autograder zip of an assignment: otter's layout, our engine doing the grading.

The zip holds what `otter generate` writes (`run_autograder` and `setup.sh` rendered from
otter's own templates, `environment.yml`, `otter_config.json`, `tests/`, `files/`), plus
`requirements.txt`. `otter_config.json` names `AutograderPlugin`, and `files/_autograder/`
carries the engine's source and the course: the spec, conftest, public and hidden tests, and
the reference solution.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import autograder
from autograder.course import Assignment
from autograder.packaging.layout import AUTOGRADER_DIR, COURSE, ENGINE, ENTRY_NOTEBOOK, MANIFEST, OTTER_CONFIG, PLUGIN
from autograder.release import DISTRIBUTION
from autograder.results.fingerprint import SKIPPED_PARTS, grading_fingerprint

TORCH_CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"  # Gradescope has no GPU: CPU wheels, a tenth the size
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same zip
EXECUTABLE = {"run_autograder", "setup.sh"}
GRADING_EXTRAS = ("torch", "grading", "otter")  # pyproject extras the zip's environment installs besides the core

RUN_OTTER = f'''"""Gradescope's and `otter grade`'s entry (run by run_autograder): otter's autograder, graded by the course engine."""

import sys

sys.path.insert(0, "{AUTOGRADER_DIR}/source/files/{ENGINE}")  # the engine this zip was built with

from autograder.packaging.otter_plugin import run_in_container  # noqa: E402

if __name__ == "__main__":
    run_in_container("{AUTOGRADER_DIR}")
'''

# Appended to otter's setup.sh, which installs Python under /root (mode 0700 in the usual base images):
# at the `container` level the submission runs as a separate user that must run that Python and
# read its packages, and nothing else under /root.
SETUP_SH_TAIL = """
# the course engine runs each submission as a separate, unprivileged user: let it run the
# grading environment's Python (and nothing else under /root)
chmod o+x /root /root/miniforge3 /root/miniforge3/envs
chmod -R o+rX /root/miniforge3/envs/{env}
"""

TESTS_README = f"""Otter reads every tests/*.py as one of its own test files, so none lives here.

The assignment's pytest files (public and hidden) are under files/{COURSE}/assignments/<id>/tests/;
the otter plugin named in {OTTER_CONFIG} grades each submission with the engine in files/{ENGINE}/
and reports every question as an otter test file and every test as one of its test cases.
"""


def _tree(folder: Path) -> list[Path]:
    """Return the regular files under `folder`, sorted, without caches (the files the grading fingerprint hashes)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_PARTS)
        found += [Path(dirpath, f) for f in filenames if not f.endswith((".pyc", ".pyo"))]
    return sorted(found)


def _folder(folder: Path, prefix: str) -> dict[str, bytes]:
    return {f"{prefix}/{p.relative_to(folder).as_posix()}": p.read_bytes() for p in _tree(folder)}


def _engine_files() -> dict[str, bytes]:
    """Return the `autograder` package's source (and the checkout's pyproject.toml) under files/_autograder/engine/."""
    package = Path(autograder.__file__).resolve().parent
    files = _folder(package, f"files/{ENGINE}/autograder")
    pyproject = package.parent / "pyproject.toml"
    if pyproject.is_file():
        files[f"files/{ENGINE}/pyproject.toml"] = pyproject.read_bytes()
    return files


def _course_files(assignment: Assignment) -> dict[str, bytes]:
    """Return the assignment folder (spec, conftest, tests) and the reference solution under files/_autograder/course/."""
    return {
        **_folder(assignment.folder, f"files/{COURSE}/assignments/{assignment.id}"),
        **_folder(assignment.solution, f"files/{COURSE}/solutions/{assignment.id}"),
    }


def _declared_dependencies() -> list[str]:
    """Return what grading needs: the core and the `GRADING_EXTRAS`, from the checkout's pyproject.toml, else the installed metadata."""
    import tomllib

    from packaging.requirements import Requirement

    pyproject = Path(autograder.__file__).resolve().parents[1] / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        extras = project.get("optional-dependencies", {})
        lines = [*project["dependencies"], *(line for extra in GRADING_EXTRAS for line in extras.get(extra, []))]
    else:
        wanted = [{"extra": e} for e in ("", *GRADING_EXTRAS)]
        lines = [line for line in importlib.metadata.requires(DISTRIBUTION) or []
                 if Requirement(line).marker is None or any(Requirement(line).marker.evaluate(w) for w in wanted)]  # fmt: skip
    return [line.split(";")[0].strip() for line in lines if Requirement(line).name != DISTRIBUTION]  # extras naming each other


def requirements() -> list[str]:
    """Return the engine's dependencies pinned to the versions installed here, where the zip is built and tested."""
    from packaging.requirements import Requirement

    out = [TORCH_CPU_INDEX]
    for line in dict.fromkeys(_declared_dependencies()):
        req = Requirement(line)
        try:
            version = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            out.append(str(req))
            continue
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        out.append(f"{req.name}{extras}=={version}")
    return out


def _otter_templates() -> dict[str, str]:
    """Render otter's own `run_autograder` and Python `setup.sh` (miniforge, the `otter-env` conda environment), opened to the submission's user."""
    from otter.generate import JINJA_ENV, MINIFORGE_VERSION, OTTER_ENV_NAME

    context = {"autograder_dir": AUTOGRADER_DIR, "otter_env_name": OTTER_ENV_NAME, "miniforge_version": MINIFORGE_VERSION}
    return {
        "run_autograder": JINJA_ENV.get_template("common/run_autograder").render(**context),
        "setup.sh": JINJA_ENV.get_template("python/setup.sh").render(**context) + SETUP_SH_TAIL.format(env=OTTER_ENV_NAME),
    }


def _environment(pins: list[str]) -> str:
    """Return otter's conda environment.yml for this Python version, with exactly these pip requirements."""
    from otter.generate import CondaEnvironment

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return CondaEnvironment(version, False, pins, True, None).to_str()


def otter_config(assignment: Assignment, unconfined: bool) -> dict[str, Any]:
    """Return otter_config.json: our plugin, and per-question results visible as the spec's hidden tests are."""
    spec = assignment.spec
    return {
        "lang": "python",
        "plugins": [{PLUGIN: {"assignment": assignment.id, "unconfined": unconfined}}],
        # each question holds hidden tests: its entry (score and every test's feedback) shows after
        # publishing, or never when the spec hides them; the public tests' summary shows at once
        "show_hidden": spec.hidden_visibility != "hidden",
        "force_public_test_summary": True,
        "show_all_public": spec.public_visibility == "visible",
        "show_stdout": False,
    }


def _entry_notebook() -> str:
    """Return the empty notebook otter's runner finds and runs (see layout.ENTRY_NOTEBOOK)."""
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells.append(nbformat.v4.new_markdown_cell(
        "Otter's runner grades one notebook; this empty one stands in for a submission of several modules. "
        "The autograder plugin grades the student's files with the course engine; nothing here runs their code.",
        id="autograder-entry",  # fixed, so the zip is the same from one build to the next
    ))  # fmt: skip
    return nbformat.writes(nb)


def _manifest(assignment: Assignment, unconfined: bool) -> str:
    spec = assignment.spec
    return json.dumps({
        "assignment": assignment.id, "version": spec.version, "max_points": spec.max_points,
        "engine": autograder.__version__, "grading_fingerprint": grading_fingerprint(assignment), "unconfined": unconfined,
    }, indent=2)  # fmt: skip


def otter_zip_files(assignment: Assignment, unconfined: bool = False) -> dict[str, bytes]:
    """Return the autograder zip as {path inside the zip: content}."""
    pins = requirements()
    text = {
        **_otter_templates(),
        "run_otter.py": RUN_OTTER,
        "environment.yml": _environment(pins),
        "requirements.txt": "\n".join(pins) + "\n",
        OTTER_CONFIG: json.dumps(otter_config(assignment, unconfined), indent=2),
        "tests/README.md": TESTS_README,
        f"files/{ENTRY_NOTEBOOK}": _entry_notebook(),
        f"files/{MANIFEST}": _manifest(assignment, unconfined),
    }
    return {**{k: v.encode("utf-8") for k, v in text.items()}, **_engine_files(), **_course_files(assignment)}


def build_otter_zip(assignment: Assignment, out_dir: Path, unconfined: bool = False) -> Path:
    """Write `OUT/<id>-autograder.zip` and return its path.

    With `unconfined`, the zip grades even where submissions can only be given resource limits
    (not root); without it, such a runner refuses to grade and says why.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{assignment.id}-autograder.zip"
    partial = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in sorted(otter_zip_files(assignment, unconfined).items()):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = (0o755 if name in EXECUTABLE else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    os.replace(partial, target)
    return target
