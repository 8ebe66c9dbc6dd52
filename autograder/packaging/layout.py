"""Where things sit inside the otter-grader autograder zip, and in otter's grading folder.

Otter unpacks the zip into `<autograder>/source/` and copies everything under `files/` into
`<autograder>/submission/`, next to the student's files; it reads every `tests/*.py` as one of
its own test files, so the assignment's pytest files live under `files/`, never in `tests/`.
"""

from __future__ import annotations

from pathlib import PurePosixPath

BUNDLE = "_autograder"  # files/_autograder/: the engine and the course, read from source/files/
ENGINE = PurePosixPath(BUNDLE, "engine")  # the `autograder` package (and its pyproject.toml)
COURSE = PurePosixPath(BUNDLE, "course")  # assignments/<id>/ (spec, conftest, public and hidden tests), solutions/<id>/
MANIFEST = PurePosixPath(BUNDLE, "build.json")  # what was packed: assignment, version, engine, fingerprint
# Otter's Python runner grades exactly one notebook (or one script) found at the top of the
# submission folder. A submission of several modules has none, so the zip brings this empty one;
# the plugin then grades the student's files with the engine, and never runs them in otter's kernel.
ENTRY_NOTEBOOK = "_autograder_entry.ipynb"
PLUGIN = "autograder.packaging.otter_plugin.AutograderPlugin"
OTTER_CONFIG = "otter_config.json"
AUTOGRADER_DIR = "/autograder"  # where Gradescope and `otter grade` unpack the zip
