"""The hostile corpus (examples/hostile): every case graded once, checked against expected.yaml.

Besides each case's own expectations, grading the whole corpus must leave no trace: the course
folders and the results folder hold exactly what they held plus the expected results, no marker
file appears in /tmp, and no process of a submission's uid (200000+) is left running.

`known_hole` in expected.yaml marks a case where the engine does not yet do what the file
expects: that case is a strict xfail, so fixing the engine turns it into a failure that asks for
the mark to be removed.

Cases that git cannot hold (names that are not UTF-8 or hold a newline, CRLF files, a named pipe,
multi-megabyte files) are written at test time by `_make_archives.write_runtime_cases` and graded
in the same batch. While the batch runs, a sampler records each referee's peak memory (VmHWM),
so that `referee_peak_mb` can bound what a submission's replies make the grader allocate.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import json
import os
import re
import resource
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from autograder.course import find_assignment
from autograder.grade import GRADEBOOK, expand_sources, grade_batch, submission_name
from autograder.spec import Limits
from tests.conftest import REPO

pytestmark = [
    pytest.mark.slow,
    # Without root the engine cannot give a submission its own uid and namespaces: these attacks
    # (kill(-1), deleting files, writing results) would then hit this machine and this checkout.
    pytest.mark.skipif(os.geteuid() != 0, reason="the hostile corpus runs only under the full sandbox (as root)"),
]

CORPUS = REPO / "examples" / "hostile"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
WATCHED = ("assignments", "solutions", "examples")
MARKERS = [
    Path("/tmp/hostile_pwned_marker"),  # 21_pickle_bomb's shell command
    Path("/tmp/hostile_nb_toplevel_marker"),  # 42_notebook_toplevel_code's dropped top-level code
    Path("/tmp/hostile_zip_abs.txt"),  # 22_zip_slip's absolute member
    Path("/tmp/hostile_zip_slip.py"),  # 22_zip_slip's ../ member, should it land two levels up
    Path("/tmp/hostile_shadow_marker"),  # 66_own_conftest_and_shadow_modules's conftest.py, json.py, ...
]
STUDENT_UID_BASE = 200_000
# Global invariants the engine does not meet yet: strict xfails, with the reason.
KNOWN_GLOBAL_HOLES: dict[str, str] = {}
MAX_RESULT_BYTES = 2**20
MAX_GRADING_GROWTH_MB = 256  # what the batch adds to the CLI's own peak: staging and grading happen in bounded children
SYSV_IPC = ("msg", "shm", "sem")
# The corpus runs with smaller limits than the assignment's, so that its endless loops cost seconds
# and its memory attacks (which touch 1.5 times the limit) a gigabyte or two. The reference needs
# far less than 1 GiB; 80_alarm_at_zygote_request times its hang-up to the 20 s per-test limit.
CORPUS_LIMITS = Limits(per_test_s=20, per_submission_s=90, memory_mb=1024)


@dataclass
class Corpus:
    """What grading the corpus once produced, and what it left behind."""

    out: Path
    results: dict[str, dict[str, Any]]
    error: BaseException | None
    wall_s: float
    changed: dict[str, list[str]]
    survivors: list[str] = field(default_factory=list)
    student_files_in_tmp: list[str] = field(default_factory=list)
    markers: dict[str, str] = field(default_factory=dict)
    referee_peaks_mb: dict[str, float] = field(default_factory=dict)
    ipc_left: list[str] = field(default_factory=list)
    hostname: tuple[str, str] = ("", "")
    grading_growth_mb: float | None = None  # None: this kernel cannot reset a process's peak RSS


def _load_make_archives() -> Any:
    spec = importlib.util.spec_from_file_location("hostile_make_archives", CORPUS / "_make_archives.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _token(key: str) -> str:
    """Return the text every name of a runtime case holds (`case87`), whatever makes the name safe."""
    return "case" + key.split("_", 1)[0]


def _placeholders() -> dict[str, str]:
    """Values expected.yaml may name in messages: this grader's namespaces ({ns:pid}) and paths."""
    values = {"{repo}": str(REPO)}
    for kind in ("cgroup", "ipc", "mnt", "net", "pid", "uts"):
        values[f"{{ns:{kind}}}"] = os.readlink(f"/proc/self/ns/{kind}")
    return values


def _fill(text: str) -> str:
    for key, value in _placeholders().items():
        text = text.replace(key, value)
    return text


def _staged_key(folder: Path) -> str:
    """Return a digest of a submission's layers.py and mlp.py (identifies a case's staged copy)."""
    h = hashlib.sha256()
    for name in ("layers.py", "mlp.py"):
        try:
            h.update((folder / name).read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def _vm_hwm_kb(pid: str) -> int:
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1])
    return 0


class RefereeSampler(threading.Thread):
    """Record the peak memory of every referee (a root process working in an `autograder-*/run` folder)."""

    def __init__(self, period_s: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.period_s, self.stop = period_s, threading.Event()
        self.peaks_kb: dict[str, int] = {}  # staged-submission digest -> peak VmHWM
        self._folders: dict[str, str] = {}  # pid of a referee -> digest of its submission

    def _digest_of(self, pid: str) -> str | None:
        """Return the digest of the submission a referee grades; None for any other process (asked again later:
        a referee forked from the fork server enters its folder only after it starts)."""
        if pid not in self._folders:
            try:
                cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
                if os.stat(f"/proc/{pid}").st_uid == 0 and cwd.name == "run" and cwd.parent.name.startswith("autograder-"):
                    self._folders[pid] = _staged_key(cwd.parent / "submission")
            except OSError:
                pass
        return self._folders.get(pid)

    def run(self) -> None:
        while not self.stop.wait(self.period_s):
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or (digest := self._digest_of(pid)) is None:
                    continue
                try:
                    self.peaks_kb[digest] = max(self.peaks_kb.get(digest, 0), _vm_hwm_kb(pid))
                except (OSError, ValueError):
                    pass


def _sysv_objects_of_students() -> list[str]:
    """Return the System V IPC objects (key, id) owned by a submission uid, from this host's view."""
    found = []
    for kind in SYSV_IPC:
        try:
            rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        uid_column = 4 if kind == "sem" else 7
        found += [f"{kind} key={r.split()[0]} id={r.split()[1]}" for r in rows if len(r.split()) > uid_column and int(r.split()[uid_column]) >= STUDENT_UID_BASE]
    return found


def _remove_sysv(objects: list[str]) -> None:
    import subprocess

    flags = {"msg": "-q", "shm": "-m", "sem": "-s"}
    for obj in objects:
        kind, _, ident = obj.split()
        subprocess.run(["ipcrm", flags[kind], ident.split("=")[1]], check=False, capture_output=True)


def _digest_tree(folder: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            out[rel] = os.readlink(path) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _student_processes(live_only: bool = False) -> dict[int, list[int]]:
    """Return {uid: [pid, ...]} for processes of submission uids; `live_only` leaves out zombies."""
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                uid = os.stat(f"/proc/{entry}").st_uid
                state = _stat_fields(int(entry))[0]
            except (OSError, IndexError):
                continue
            if uid >= STUDENT_UID_BASE and not (live_only and state in ("Z", "X")):
                found.setdefault(uid, []).append(int(entry))
    return found


def _stat_fields(pid: int) -> list[str]:
    """Return the fields of /proc/<pid>/stat after the command name: state, ppid, ..."""
    return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].decode().split()


def _describe(pid: int) -> str:
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
        state, ppid = _stat_fields(pid)[:2]
    except (OSError, ValueError):
        return f"pid {pid}: gone"
    return f"pid {pid} (uid {uid}, state {state}, parent {ppid}): {cmd}"


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid` at once: a child takes the uid and calls kill(-1)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def _student_files_in_tmp() -> list[str]:
    found = []
    for entry in os.scandir("/tmp"):
        try:
            if entry.stat(follow_symlinks=False).st_uid >= STUDENT_UID_BASE:
                found.append(entry.path)
        except OSError:
            continue
    return found


def _remove(path: str) -> None:
    import shutil

    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.remove(path)
        except OSError:
            pass


def _committed_keys() -> list[str]:
    return [submission_name(p) for p in expand_sources([CORPUS], each=True)]


def _case_digests(runtime: dict[str, Path]) -> dict[str, str]:
    """Return {case: digest of its layers.py and mlp.py} for the folder cases (see `_staged_key`)."""
    folders = {p.name: p for p in expand_sources([CORPUS], each=True) if p.is_dir()} | {k: p for k, p in runtime.items() if p.is_dir()}
    return {name: _staged_key(folder) for name, folder in folders.items()}


def _by_case(results: dict[str, dict[str, Any]], runtime: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Map results to expected.yaml keys: a runtime case by the `case<NN>` its name keeps."""
    out = {name: r for name, r in results.items() if name in EXPECTED}
    for key in runtime:
        hits = [r for name, r in results.items() if _token(key) in name]
        if len(hits) == 1:
            out[key] = hits[0]
    return out


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    assignment = find_assignment("a1_mlp_numpy", REPO)
    assignment.__dict__["spec"] = assignment.spec.model_copy(update={"limits": CORPUS_LIMITS})  # fill the cached_property
    out = tmp_path_factory.mktemp("hostile-results")
    runtime = _load_make_archives().write_runtime_cases(tmp_path_factory.mktemp("hostile-runtime"))
    for marker in MARKERS:
        marker.unlink(missing_ok=True)
    before = {name: _digest_tree(REPO / name) for name in WATCHED}
    hostname = socket.gethostname()
    baseline_mb = _reset_own_peak()  # earlier tests in this pytest process (torch, say) must not count as the batch's
    sampler = RefereeSampler()
    sampler.start()
    start = time.perf_counter()
    error = None
    try:
        grade_batch(assignment, expand_sources([CORPUS], each=True) + list(runtime.values()), out, workers=2, force=True)
    except Exception as exc:  # noqa: BLE001 - a case that stops the batch fails below, case by case
        error = exc
    wall_s = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    digests = _case_digests(runtime)
    peaks = {name: sampler.peaks_kb[d] / 1024 for name, d in digests.items() if d in sampler.peaks_kb}
    ipc_left = _sysv_objects_of_students()
    _remove_sysv(ipc_left)
    after = {name: _digest_tree(REPO / name) for name in WATCHED}
    changed = {
        name: sorted(k for k in set(before[name]) | set(after[name]) if before[name].get(k) != after[name].get(k))
        for name in WATCHED
    }
    time.sleep(1.0)  # give a process that escaped the kill a moment to show itself
    survivors = [_describe(pid) for pids in _student_processes(live_only=True).values() for pid in pids]
    for uid in _student_processes():
        _kill_uid(uid)
    markers = {}
    for marker in MARKERS:
        if marker.exists():
            st = marker.stat()
            markers[str(marker)] = f"owner uid {st.st_uid}: {marker.read_text(errors='replace')[:200].strip()!r}"
    left_in_tmp = _student_files_in_tmp()
    for path in left_in_tmp + list(markers):
        _remove(path)
    results = {}
    for path in out.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))  # strict: a result must be valid UTF-8
        results[data["submission"]] = data
    results = _by_case(results, runtime)
    print(f"\nhostile corpus: {len(results)} results in {wall_s:.0f} s (workers=2)")
    top = sorted(peaks.items(), key=lambda kv: -kv[1])[:8]
    print("largest referee peaks (MiB): " + ", ".join(f"{name} {mb:.0f}" for name, mb in top))
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - baseline_mb if baseline_mb is not None else None
    print(f"grading process: {baseline_mb} MiB before the batch, grew by {growth} MiB")
    return Corpus(
        out, results, error, wall_s, changed, survivors, left_in_tmp, markers, referee_peaks_mb=peaks,
        ipc_left=ipc_left, hostname=(hostname, socket.gethostname()),
        grading_growth_mb=growth,
    )  # fmt: skip


def _reset_own_peak() -> float | None:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0); return that RSS in MiB, or None where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def _case_params() -> list[Any]:
    params = []
    for name, want in EXPECTED.items():
        marks = [pytest.mark.xfail(strict=want.get("strict", True), reason=want["known_hole"])] if "known_hole" in want else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def test_expected_yaml_names_every_case_in_the_corpus(tmp_path: Path):
    runtime = _load_make_archives().write_runtime_cases(tmp_path)
    assert set(_committed_keys()) | set(runtime) == set(EXPECTED)
    assert not set(_committed_keys()) & set(runtime)
    assert len(EXPECTED) >= 75


def test_runtime_cases_are_written_the_same_way_every_time(tmp_path: Path):
    make = _load_make_archives()
    first, second = make.write_runtime_cases(tmp_path / "a"), make.write_runtime_cases(tmp_path / "b")
    for key in first:
        assert _tree_bytes(first[key]) == _tree_bytes(second[key]), key


def _tree_bytes(path: Path) -> list[tuple[str, bytes]]:
    if not path.is_dir():
        return [(path.name, path.read_bytes())]
    return sorted((os.fsencode(p.relative_to(path)).decode("latin-1"), p.read_bytes() if p.is_file() else b"<special>") for p in path.rglob("*"))


def _matching(tests: list[dict[str, Any]], pattern: str) -> list[dict[str, Any]]:
    return [t for t in tests if fnmatch.fnmatchcase(t["name"], pattern)]


@pytest.mark.parametrize("name", _case_params())
def test_case_is_graded_as_expected(corpus: Corpus, name: str):
    want = EXPECTED[name]
    result = corpus.results.get(name)
    assert result is not None, f"no result for {name}: the batch raised {corpus.error!r}"
    summary = f"{name}: {result['status']}, {result['score']}/{result['max_score']}, {result['output'][:300]!r}"
    assert result["status"] in _as_list(want["status"]), summary
    if "score" in want:
        assert result["score"] == pytest.approx(want["score"], abs=1e-6), summary
    # never more than the honest score of the case's own code (the reference, less what the attack breaks)
    assert result["score"] <= want.get("max_score", want.get("score", 100.0)) + 1e-6, summary
    if "output" in want:
        assert want["output"] in result["output"], summary
    tests = result["tests"]
    named: set[str] = set()
    for pattern, expect in (want.get("tests") or {}).items():
        hits = _matching(tests, pattern)
        assert hits, f"{name}: no test matches {pattern!r}"
        for test in hits:
            named.add(test["name"])
            assert test["outcome"] in _as_list(expect["outcome"]), f"{name}: {test['name']} is {test['outcome']}: {test['output'][:500]!r}"
            for text in map(_fill, _as_list(expect.get("message"))):
                assert text in test["output"], f"{name}: {test['name']} says {test['output'][:1500]!r}, expected {text!r} in it"
            for text in map(_fill, _as_list(expect.get("not_in_message"))):
                assert text not in test["output"], f"{name}: {test['name']} says {test['output'][:1500]!r}, expected no {text!r} in it"
    if "others" in want:
        rest = [t for t in tests if t["name"] not in named]
        wrong = [f"{t['name']}: {t['outcome']}: {t['output'][:200]!r}" for t in rest if t["outcome"] != want["others"]]
        assert not wrong, f"{name}: expected every other test to be {want['others']}, but:\n" + "\n".join(wrong)
    _check_isolation(name, result, tests)
    for text in _as_list(want.get("metadata_excludes")):
        assert text not in json.dumps(result["metadata"]), f"{name}: metadata holds {text!r}: {result['metadata']}"
    if "max_execution_s" in want:
        assert result["execution_time"] <= want["max_execution_s"], f"{name}: took {result['execution_time']} s"
    if "referee_peak_mb" in want:
        peak = corpus.referee_peaks_mb.get(name)
        assert peak is not None, f"{name}: no referee was seen for it"
        assert peak <= want["referee_peak_mb"], f"{name}: the referee peaked at {peak:.0f} MiB"


def _check_isolation(name: str, result: dict[str, Any], tests: list[dict[str, Any]]) -> None:
    """The grader records the isolation it set up: full namespaces and a submission uid, as root here."""
    isolation = result["metadata"].get("isolation")
    if isolation:  # recorded once the submission's process started; absent when it never did
        assert isolation.get("level") == "full", f"{name}: {isolation}"
        assert isolation.get("uid", 0) >= STUDENT_UID_BASE and "network" in isolation.get("namespaces", []), f"{name}: {isolation}"
    elif result["status"] != "timed out" and any(t["outcome"] == "passed" for t in tests):  # a killed run records none
        raise AssertionError(f"{name}: tests passed but the result records no isolation facts")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _known(name: str) -> None:
    if name in KNOWN_GLOBAL_HOLES:
        pytest.xfail(KNOWN_GLOBAL_HOLES[name])


def test_the_batch_runs_to_the_end_and_writes_the_gradebook(corpus: Corpus):
    _known("batch")
    assert corpus.error is None, f"grading the corpus raised {corpus.error!r}"
    assert (corpus.out / GRADEBOOK).is_file()


def test_no_file_appears_or_changes_in_the_course_folders(corpus: Corpus):
    assert corpus.changed == {name: [] for name in WATCHED}


def test_the_results_folder_holds_only_the_expected_results(corpus: Corpus):
    names = {r["submission"] for r in corpus.results.values()}
    expected = {f"{name}.json" for name in names} | {GRADEBOOK}
    expected |= {f"logs/{name}.stderr.txt" for name in names}  # the engine's own log of a grader error
    present = {p.relative_to(corpus.out).as_posix() for p in corpus.out.rglob("*") if p.is_file()}
    assert present - expected == set()
    assert len([p for p in present if p.endswith(".json")]) == len(EXPECTED)
    for name, result in corpus.results.items():
        assert "forged" not in result["output"], f"{name}: {result['output'][:300]}"


def test_every_result_file_name_is_safe(corpus: Corpus):
    """Valid UTF-8, no control characters or separators, short enough for any file system."""
    for path in corpus.out.rglob("*"):
        raw = os.fsencode(path.name)
        assert len(raw) <= 255 and raw.decode("utf-8") and not re.search(r"[\x00-\x1f\x7f]", path.name), repr(path.name)


def test_every_result_file_is_under_1_mb(corpus: Corpus):
    big = {p.name: p.stat().st_size for p in corpus.out.glob("*.json") if p.stat().st_size > MAX_RESULT_BYTES}
    assert not big, big


def test_the_gradebook_has_one_row_per_submission_and_no_live_formula(corpus: Corpus):
    import csv

    _known("gradebook")
    text = (corpus.out / GRADEBOOK).read_bytes().decode("utf-8")  # strict
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) == 1 + len(EXPECTED), f"{len(rows) - 1} rows for {len(EXPECTED)} submissions"
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(c)], "a cell is a live formula"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_no_system_v_ipc_object_of_a_submission_outlives_grading(corpus: Corpus):
    _known("ipc")
    assert not corpus.ipc_left, corpus.ipc_left


def test_the_hostname_is_unchanged(corpus: Corpus):
    assert corpus.hostname[0] == corpus.hostname[1]


def test_the_grading_process_stays_small(corpus: Corpus):
    """Staging and grading run in bounded children: a 14 MB notebook or a 2.6 MB .py costs the CLI nothing."""
    _known("grading process")
    if corpus.grading_growth_mb is None:
        pytest.skip("/proc/self/clear_refs is not writable here: the batch's own peak cannot be told from earlier tests'")
    assert corpus.grading_growth_mb <= MAX_GRADING_GROWTH_MB, f"the batch grew the grading process by {corpus.grading_growth_mb:.0f} MiB"


@pytest.mark.parametrize("marker", [str(m) for m in MARKERS])
def test_no_marker_file_appears_outside_the_sandbox(corpus: Corpus, marker: str):
    _known(marker)
    assert marker not in corpus.markers, corpus.markers[marker]


def test_no_file_of_a_submission_uid_is_left_in_tmp(corpus: Corpus):
    _known("tmp files")
    assert not corpus.student_files_in_tmp, "\n".join(corpus.student_files_in_tmp)


def test_no_process_of_a_submission_uid_survives_grading(corpus: Corpus):
    assert not corpus.survivors, "\n".join(corpus.survivors)
