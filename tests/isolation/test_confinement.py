"""What a confined submission process can and cannot reach, at the `full` level (root)."""

from __future__ import annotations

import os
import shutil
import textwrap

import pytest

from autograder.course import find_assignment
from autograder.grade import grade_one
from tests.conftest import FIXTURE_COURSE

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the full isolation level needs root")


def _tests(result):
    return {t.name.split("::")[-1]: t for t in result.tests}


def _grade(assignment, make_submission, tmp_path, source, name="student"):
    return grade_one(assignment, make_submission(textwrap.dedent(source), name), tmp_path / "out", name, force=True)


def test_shared_memory_counts_against_the_memory_limit(trivial, make_submission, tmp_path):
    source = """
        import mmap
        def add(a, b):
            return a + b
        def mul(a, b):
            m = mmap.mmap(-1, 1536 * 2**20, flags=mmap.MAP_SHARED)  # not counted by rlimits
            for i in range(0, len(m), 4096):
                m[i] = 1
            return a * b
    """
    tests = _tests(_grade(trivial, make_submission, tmp_path, source))
    assert tests["test_mul"].outcome == "crashed"
    assert tests["test_mul"].output.startswith("Out of memory") and "1024 MiB" in tests["test_mul"].output
    assert tests["test_add_small"].outcome == "passed"


def test_system_v_ipc_objects_do_not_outlive_a_submission(trivial, make_submission, tmp_path):
    writer = """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        def add(a, b):
            shmid = libc.shmget(0x5EC2E7, 4096, 0o1666)  # IPC_CREAT | 0666
            if shmid < 0:
                raise OSError(ctypes.get_errno(), "shmget")
            return a + b
        def mul(a, b):
            return a * b
    """
    reader = """
        def add(a, b):
            with open("/proc/sysvipc/shm") as f:
                rows = f.read().splitlines()[1:]
            if rows:
                raise RuntimeError(f"found {len(rows)} shared memory segments left by others")
            return a + b
        def mul(a, b):
            return a * b
    """
    assert _tests(_grade(trivial, make_submission, tmp_path, writer, "writer"))["test_add_small"].outcome == "passed"
    tests = _tests(_grade(trivial, make_submission, tmp_path, reader, "reader"))
    assert tests["test_add_small"].outcome == "passed", tests["test_add_small"].output


def test_the_submission_inherits_nothing_the_assignment_conftest_computed(make_submission, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    (course / "assignments" / "a0_trivial" / "conftest.py").write_text(
        "import os\nos.environ['GRADER_SECRET'] = 'labels'\nHELD_OUT = [7, 2, 1]\n", encoding="utf-8"
    )
    source = """
        import gc, os, sys
        def add(a, b):
            found = [n for n in sys.modules if "conftest" in n]
            found += ["env"] if "GRADER_SECRET" in os.environ else []
            found += ["HELD_OUT"] if any(isinstance(o, dict) and "HELD_OUT" in o for o in gc.get_objects()) else []
            if found:
                raise RuntimeError(f"inherited {found}")
            return a + b
        def mul(a, b):
            return a * b
    """
    result = _grade(find_assignment("a0_trivial", course), make_submission, tmp_path, source)
    tests = _tests(result)
    assert tests["test_add_small"].outcome == "passed", tests["test_add_small"].output
    assert tests["test_add_matches_reference"].outcome == "passed", tests["test_add_matches_reference"].output


def test_isolation_is_recorded_by_the_grader_not_by_the_submission(trivial, make_submission, tmp_path):
    source = """
        import autograder.isolation.confine as confine
        confine.facts = lambda c: {"level": "full", "uid": 0, "forged": True}
        def add(a, b):
            return a + b
        def mul(a, b):
            return a * b
    """
    result = _grade(trivial, make_submission, tmp_path, source)
    isolation = result.metadata["isolation"]
    assert isolation["level"] == "full" and isolation["uid"] != 0 and "forged" not in isolation
