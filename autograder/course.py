"""Locate an assignment's spec, tests, solution and handout template in a course folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograder.spec import SPEC_FILENAME, AssignmentSpec, SpecError, load_spec


def course_root() -> Path:
    """Return the course folder: `AUTOGRADER_COURSE`, else the checkout this package lives in."""
    env = os.environ.get("AUTOGRADER_COURSE")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Assignment:
    """Where one assignment's parts live on disk."""

    root: Path
    id: str

    @property
    def folder(self) -> Path:
        return self.root / "assignments" / self.id

    @property
    def tests(self) -> Path:
        return self.folder / "tests"

    @property
    def solution(self) -> Path:
        return self.root / "solutions" / self.id

    @property
    def template(self) -> Path:
        return self.root / "student_templates" / self.id

    @property
    def examples(self) -> Path:
        return self.root / "examples" / "submissions" / self.id

    @cached_property
    def spec(self) -> AssignmentSpec:
        spec = load_spec(self.folder / SPEC_FILENAME)
        if spec.id != self.id:
            raise SpecError(f"{self.folder / SPEC_FILENAME}: field `id` is {spec.id!r} but the folder is {self.id!r}.")
        return spec


def list_assignments(root: Path | None = None) -> list[str]:
    """Return the ids of all assignments in the course folder, in order."""
    base = (root or course_root()) / "assignments"
    return sorted(p.name for p in base.glob("*") if (p / SPEC_FILENAME).is_file()) if base.is_dir() else []


def find_assignment(name: str, root: Path | None = None) -> Assignment:
    """Return the assignment by id (or by a unique prefix such as `a1`)."""
    root = (root or course_root()).resolve()
    ids = list_assignments(root)
    matches = [i for i in ids if i == name] or [i for i in ids if i.startswith(name)]
    if len(matches) != 1:
        choices = ", ".join(ids) or f"none (no {SPEC_FILENAME} under {root / 'assignments'})"
        what = "is ambiguous" if matches else "does not exist"
        raise SpecError(f"assignment {name!r} {what}; available: {choices}.")
    return Assignment(root, matches[0])
