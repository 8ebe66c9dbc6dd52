"""Shared fixtures for the framework's own tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.course import Assignment, find_assignment

REPO = Path(__file__).resolve().parents[1]
FIXTURE_COURSE = REPO / "tests" / "fixtures" / "course"


@pytest.fixture(scope="session")
def trivial() -> Assignment:
    """The two-function `a0_trivial` assignment used to exercise the engine."""
    return find_assignment("a0_trivial", FIXTURE_COURSE)


@pytest.fixture
def make_submission(tmp_path: Path):
    """Write a one-file `arith.py` submission (dedented source) and return its folder."""

    def make(source: str, name: str = "student") -> Path:
        folder = tmp_path / "subs" / name
        folder.mkdir(parents=True)
        (folder / "arith.py").write_text(textwrap.dedent(source), encoding="utf-8")
        return folder

    return make
