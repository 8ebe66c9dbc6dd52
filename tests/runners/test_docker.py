"""The docker runner: grading in real containers of the CPU image, through podman's Docker API.

The request a container is created with (network off, capabilities, limits, the GPU request) and
the Dockerfiles are checked without an engine. The rest runs as root where podman and the
debootstrap base image are (scripts/build_base_image.sh makes both): a session fixture starts
`podman system service` on a temporary socket and builds the CPU grading image from this checkout
(tagged by the content hash of its build context, so an unchanged checkout reuses it; the first
build takes about three minutes), then real submissions are graded in real containers: samples
of A1, the hostile corpus's worst cases, and containers that die, hang or write garbage.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from autograder.cli import app
from autograder.course import Assignment, find_assignment
from autograder.grade import RunOptions, grade_batch
from autograder.runners.docker import CAPABILITIES, ContainerError, ContainerRunner, create_request, gpu_request, user_namespace
from tests.conftest import REPO

docker = pytest.importorskip("docker", reason="the Docker SDK for Python is not installed (pip install -e '.[docker]')")

DOCKER_DIR = REPO / "docker"
SAMPLES = REPO / "examples" / "submissions" / "a1_mlp_numpy"
HOSTILE = REPO / "examples" / "hostile"
STUDENT_UID_BASE = 200_000
# The hostile corpus's worst cases, graded with the corpus's smaller limits (tests/test_hostile.py)
HOSTILE_LIMITS = {"per_test_s": 20, "per_submission_s": 90, "memory_mb": 1024}
# What each case's report must say in a container (network off, the `container` level): it found,
# reached or wrote nothing. expected.yaml's other messages name the `full` level's namespaces.
HOSTILE_CASES = {
    "02_infinite_loop_in_relu": None,
    "03_memory_bomb": None,
    "04_fork_bomb": None,
    "09_read_hidden_tests": "HOSTILE REPORT found=[]",
    "11_read_heldout_labels": "HOSTILE REPORT found=[]",
    "12_fake_results": "HOSTILE REPORT wrote=[]",
    "16_network_socket": "HOSTILE REPORT connected=[]",
}


def _load_build_module() -> Any:
    spec = importlib.util.spec_from_file_location("docker_build_image", DOCKER_DIR / "build_image.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _load_build_module()


# ---------------------------------------------------------------- without an engine


def test_gpus_all_asks_for_every_gpu_with_the_gpu_capability():
    request = gpu_request("all")
    assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]] and not request["DeviceIDs"] and not request["Driver"]


def test_gpus_as_a_count_or_device_ids():
    assert gpu_request("2")["Count"] == 2
    by_id = gpu_request("device=0, 3")
    assert by_id["DeviceIDs"] == ["0", "3"] and by_id["Capabilities"] == [["gpu"]]


@pytest.mark.parametrize("bad", ["", "none", "0", "-1", "device=", "gpu"])
def test_a_gpus_value_that_requests_nothing_is_refused_with_the_valid_forms(bad: str):
    with pytest.raises(ContainerError, match="all.*device=0,1"):
        gpu_request(bad)


def _request(runner: ContainerRunner, tmp_path: Path) -> dict[str, Any]:
    from docker.types import Mount

    spec = find_assignment("a1_mlp_numpy", REPO).spec
    mounts = [Mount("/submission", str(tmp_path), type="bind", read_only=True)]
    return create_request(runner.create_options(spec, mounts, ["--assignment", spec.id]), "1.41", runner.userns)


def test_the_container_request_cuts_the_network_drops_capabilities_and_sets_limits(tmp_path: Path):
    spec = find_assignment("a1_mlp_numpy", REPO).spec
    host = _request(ContainerRunner(image="img", cpus=1.5, userns=None), tmp_path)["host_config"]
    assert host["NetworkMode"] == "none"
    assert host["CapDrop"] == ["ALL"] and set(host["CapAdd"]) == set(CAPABILITIES) <= {"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID"}
    assert host["SecurityOpt"] == ["no-new-privileges"] and host["Init"] is True
    memory = (spec.limits.memory_mb + spec.limits.referee_memory_mb) * 2**20
    assert memory < host["Memory"] == host["MemorySwap"] <= memory + 1024 * 2**20  # no swap
    assert host["NanoCpus"] == 1_500_000_000
    assert spec.limits.max_processes < host["PidsLimit"] <= spec.limits.max_processes + 512
    assert host["Mounts"][0]["ReadOnly"] is True
    assert all(folder in host["Tmpfs"] for folder in ("/tmp", "/var/tmp"))
    assert "DeviceRequests" not in host and "UsernsMode" not in host


def test_gpus_all_becomes_the_engine_s_device_request(tmp_path: Path):
    host = _request(ContainerRunner(image="img", gpus="all", userns=None), tmp_path)["host_config"]
    # what `docker run --gpus all` sends (its DeviceIDs is null; an empty list reads the same: all GPUs, no ids)
    assert host["DeviceRequests"] == [{"Driver": "", "Count": -1, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}]


def test_a_user_namespace_is_asked_for_on_the_request(tmp_path: Path):
    assert _request(ContainerRunner(image="img", userns="auto"), tmp_path)["host_config"]["UsernsMode"] == "auto"


def test_by_default_a_user_namespace_only_where_uids_are_lent_to_containers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from autograder.runners import docker as runner_module

    monkeypatch.setattr(runner_module, "SUBUID", tmp_path / "subuid")
    assert user_namespace(ContainerRunner()) is None  # no /etc/subuid: the engine is never asked
    (tmp_path / "subuid").write_text("someone:100000:65536\n", encoding="utf-8")
    assert user_namespace(ContainerRunner()) is None
    assert user_namespace(ContainerRunner(userns=None)) is None and user_namespace(ContainerRunner(userns="auto")) == "auto"


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """Return (instruction, arguments) of a Dockerfile, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


KNOWN = {"ARG", "FROM", "ENV", "RUN", "COPY", "WORKDIR", "ENTRYPOINT", "CMD", "LABEL", "USER"}


def test_both_dockerfiles_parse_and_share_the_entry_point_and_the_engine_s_files():
    cpu, cuda = _instructions(DOCKER_DIR / "Dockerfile.cpu"), _instructions(DOCKER_DIR / "Dockerfile.cuda")
    for steps in (cpu, cuda):
        assert {name for name, _ in steps} <= KNOWN
        assert steps[0][0] == "ARG" and steps[1] == ("FROM", "${BASE}")
        for name, args in steps:
            if name == "COPY":
                assert all((REPO / src).exists() for src in args.split()[:-1]), args
    assert [s for s in cpu if s[0] == "ENTRYPOINT"] == [s for s in cuda if s[0] == "ENTRYPOINT"] != []
    shared = [s for s in cpu if s[0] in ("COPY", "WORKDIR", "ENTRYPOINT") or "common.sh" in s[1]]
    assert shared == [s for s in cuda if s[0] in ("COPY", "WORKDIR", "ENTRYPOINT") or "common.sh" in s[1]]
    entry = json.loads(dict(cpu)["ENTRYPOINT"])
    assert entry[-1] == "/opt/autograder/entrypoint.py"


def test_the_cuda_image_installs_a_cuda_build_of_torch_and_exposes_the_gpus():
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for name, a in _instructions(DOCKER_DIR / "Dockerfile.cuda") if name == "ARG" and "=" in a}
    assert args["TORCH"].startswith("torch==") and "cpu" not in args["TORCH_INDEX"]  # PyPI's Linux torch is the CUDA build
    env = " ".join(a for name, a in _instructions(DOCKER_DIR / "Dockerfile.cuda") if name == "ENV")
    assert "NVIDIA_VISIBLE_DEVICES=all" in env and "compute" in env
    cpu_args = {a.split("=", 1)[0]: a.split("=", 1)[1] for name, a in _instructions(DOCKER_DIR / "Dockerfile.cpu") if name == "ARG" and "=" in a}
    assert cpu_args["TORCH_INDEX"].endswith("/cpu")
    assert BUILD.TORCH == {"cpu": cpu_args["TORCH"], "cuda": args["TORCH"]}


def test_the_build_context_holds_the_engine_and_never_the_course_s_answers():
    names = set(BUILD.context_files("cpu"))
    assert {"docker/Dockerfile.cpu", "docker/entrypoint.py", "pyproject.toml", "autograder/grade.py"} <= names
    assert not [n for n in names if n.startswith(("solutions/", "assignments/", "examples/", ".venv/")) or "__pycache__" in n]


def test_grade_refuses_container_options_without_the_docker_runner(tmp_path: Path):
    result = CliRunner().invoke(app, ["grade", "a1_mlp_numpy", str(SAMPLES / "alice_correct"), "--image", "x", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--runner docker" in result.output


def test_grade_says_how_to_start_an_engine_when_none_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from autograder.runners import docker as runner_module

    runner_module._client.cache_clear()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/absent.sock")
    args = ["grade", "a1_mlp_numpy", str(SAMPLES / "alice_correct"), "--runner", "docker", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    runner_module._client.cache_clear()
    assert result.exit_code == 2, result.output
    assert "no container engine answers" in result.output and "podman system service" in result.output
    assert not (tmp_path / "out").exists()


def test_grade_wants_gpus_for_cuda_in_a_container(tmp_path: Path):
    args = ["grade", "a1_mlp_numpy", str(SAMPLES / "alice_correct"), "--runner", "docker", "--device", "cuda", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--gpus all" in result.output


# ---------------------------------------------------------------- in real containers


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "rootful podman needs root"
    if not shutil.which("podman"):
        return "podman is not installed (scripts/build_base_image.sh installs it)"
    if not BUILD.image_exists(BUILD.LOCAL_BASE):
        return f"no base image {BUILD.LOCAL_BASE} (scripts/build_base_image.sh builds it with debootstrap)"
    return None


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory):
    """Start podman's Docker API on a temporary socket; yield its address."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    socket = tmp_path_factory.mktemp("podman") / "podman.sock"
    base_url = f"unix://{socket}"
    log = open(socket.parent / "service.log", "wb")  # noqa: SIM115 - open while the service runs
    # cwd: conmon leaves an `oom` marker in its working folder when a container is killed for memory
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", base_url], stdout=log, stderr=subprocess.STDOUT, cwd=socket.parent
    )
    try:
        _wait_for(base_url, service)
        yield base_url
    finally:
        service.terminate()
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
        log.close()


def _wait_for(base_url: str, service: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if service.poll() is not None:
            pytest.skip(f"podman system service exited with code {service.returncode}")
        try:
            docker.DockerClient(base_url=base_url).ping()
            return
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.2)
    pytest.skip("podman's Docker API did not answer within 30 s")


BUILT_FROM: dict[str, str] = {}  # image tag -> the engine's identity when its context was taken


@pytest.fixture(scope="session")
def image(engine: str) -> str:
    """Return the CPU grading image of this checkout, building it (from a local wheelhouse) when absent."""
    from autograder.results.fingerprint import engine_identity

    if not BUILD.wheel_files("cpu"):
        try:
            BUILD.fill_wheelhouse("cpu")
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"the image's wheels could not be downloaded: {exc}")
    start = time.perf_counter()
    identity = engine_identity()
    tag, seconds = BUILD.build_cached("cpu", "autograder-cpu-test", wheels=True)
    BUILT_FROM[tag] = identity
    print(f"\ngrading image {tag}: " + ("reused" if seconds is None else f"built in {seconds:.0f} s") + f" ({time.perf_counter() - start:.1f} s)")
    return tag


@pytest.fixture(scope="session")
def runner(engine: str, image: str) -> ContainerRunner:
    return ContainerRunner(image=image, base_url=engine)


def _expected_samples() -> dict[str, Any]:
    return yaml.safe_load((SAMPLES / "expected.yaml").read_text(encoding="utf-8"))


def _failing(result: Any) -> list[str]:
    return sorted(t.name for t in result.tests if t.outcome != "passed")


@pytest.mark.slow
def test_a1_samples_score_in_containers_as_autograder_grade_scores_them(runner: ContainerRunner, tmp_path: Path):
    """The correct sample and a buggy one: the same scores and failing tests as on the host (expected.yaml)."""
    from autograder.results.fingerprint import engine_identity

    a1 = find_assignment("a1_mlp_numpy", REPO)
    names = ["alice_correct", "carol_db_no_sum"]
    rootful = ContainerRunner(image=runner.image, base_url=runner.base_url, userns=None)  # the container's root is the host's
    results = grade_batch(a1, [SAMPLES / n for n in names], tmp_path, workers=2, force=True, options=RunOptions(runner=rootful))
    expected = _expected_samples()
    for result in results:
        want = expected[result.submission]
        assert (result.status, result.score, _failing(result)) == (want["status"], want["score"], sorted(want["failing"])), result.output
        isolation, container = result.metadata["isolation"], result.metadata["container"]
        print(f"\n{result.submission}: {result.score:g} in {container['wall_s']:.1f} s, isolation {isolation['level']} uid {isolation['uid']}")
        assert isolation["level"] == "container" and isolation["uid"] >= STUDENT_UID_BASE
        assert container["exit_code"] == 0
        if engine_identity() == BUILT_FROM[runner.image]:  # unless the engine's files changed since the image was built
            assert container["same_fingerprint"], "the image's engine or data differ from this checkout's"
    gradebook = (tmp_path / "grades.csv").read_text(encoding="utf-8")
    assert "alice_correct" in gradebook and "carol_db_no_sum" in gradebook


@pytest.mark.slow
def test_grade_command_grades_in_a_container(runner: ContainerRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`autograder grade --runner docker --image`: the untouched stub is not attempted, in a container."""
    monkeypatch.setenv("DOCKER_HOST", runner.base_url)
    args = ["grade", "a1", str(SAMPLES / "mia_untouched_stub"), "--runner", "docker", "--image", runner.image, "--out", str(tmp_path), "-j", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    graded = json.loads((tmp_path / "mia_untouched_stub.json").read_text(encoding="utf-8"))
    assert graded["score"] == _expected_samples()["mia_untouched_stub"]["score"] == 0
    assert graded["metadata"]["container"]["image"] == runner.image
    assert {t["outcome"] for t in graded["tests"]} == {"not attempted"}


def _course_with_limits(tmp_path: Path, limits: dict[str, Any]) -> Assignment:
    """Return A1 in a copy of the course whose spec has `limits`: the container reads the spec from disk."""
    root = tmp_path / "course"
    for part in ("assignments", "solutions"):
        shutil.copytree(REPO / part / "a1_mlp_numpy", root / part / "a1_mlp_numpy", ignore=shutil.ignore_patterns("__pycache__"))
    spec_file = root / "assignments" / "a1_mlp_numpy" / "assignment.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    spec["limits"] = {**spec.get("limits", {}), **limits}
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return find_assignment("a1_mlp_numpy", root)


@pytest.fixture(scope="module")
def hostile(runner: ContainerRunner, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Grade the hostile corpus's worst cases in containers, two at a time, with the corpus's limits."""
    tmp = tmp_path_factory.mktemp("hostile-in-containers")
    a1 = _course_with_limits(tmp, HOSTILE_LIMITS)
    start = time.perf_counter()
    results = grade_batch(a1, [HOSTILE / case for case in HOSTILE_CASES], tmp / "out", workers=2, force=True, options=RunOptions(runner=runner))
    print(f"\nhostile cases in containers: {len(results)} in {time.perf_counter() - start:.0f} s")
    for r in results:
        isolation = r.metadata.get("isolation", {})
        lost = [f"{t.name.split('::')[-1]}: {t.outcome}" for t in r.tests if t.outcome != "passed"]
        userns = r.metadata.get("container", {}).get("user_namespace")
        print(f"  {r.submission}: {r.status} {r.score:g}, level {isolation.get('level')}, uid {isolation.get('uid')}, user namespace {userns}, {lost}")
    return {r.submission: r for r in results}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(HOSTILE_CASES))
def test_a_hostile_case_gains_nothing_in_a_container(hostile: dict[str, Any], case: str):
    want = yaml.safe_load((HOSTILE / "expected.yaml").read_text(encoding="utf-8"))[case]
    result = hostile[case]
    summary = f"{case}: {result.status} {result.score}: {result.output[:300]!r}"
    assert result.status == want["status"] and result.score == pytest.approx(want["score"]), summary
    assert result.metadata["isolation"]["level"] == "container" and result.metadata["isolation"]["uid"] >= STUDENT_UID_BASE
    attacked = {pattern: spec for pattern, spec in (want.get("tests") or {}).items()}
    for test in result.tests:
        pattern = next((p for p in attacked if re.fullmatch(re.escape(p).replace(r"\*", ".*"), test.name)), None)
        if pattern is None:
            assert test.outcome == want["others"], f"{case}: {test.name} is {test.outcome}: {test.output[:300]!r}"
            continue
        assert test.outcome == attacked[pattern]["outcome"], f"{case}: {test.name} is {test.outcome}: {test.output[:300]!r}"
        if HOSTILE_CASES[case]:
            assert HOSTILE_CASES[case] in test.output, f"{case}: {test.output[:1500]!r}"


def _misbehaving_image(base: str, engine: str) -> str:
    """Return an image whose entry point misbehaves by submission name (dies, hangs, runs out of memory, writes garbage)."""
    script = (
        'case "$4" in '
        "dies) exit 3;; "
        "hangs) sleep 600;; "
        "garbage) printf '{\"not\": \"a result\"' > /out/garbage.json;; "
        "impostor) /opt/autograder/bin/python /opt/autograder/entrypoint.py \"$@\" && sed -i 's/\"score\": 0.0/\"score\": 100.0/' /out/impostor.json "
        "&& sed -i 's/\"submission\": \"impostor\"/\"submission\": \"someone_else\"/' /out/impostor.json;; "
        "memory) python3 -c 'x = bytes(range(256)) * (32 << 20)';; "
        '*) exec /opt/autograder/bin/python /opt/autograder/entrypoint.py "$@";; esac'
    )
    tag = f"autograder-misbehaving:{base.split(':')[-1]}"
    if not BUILD.image_exists(tag):
        dockerfile = f"FROM {base}\nENTRYPOINT {json.dumps(['/bin/sh', '-c', script, 'sh'])}\n"
        subprocess.run(["podman", "build", "-t", tag, "-f", "-", "."], input=dockerfile.encode(), cwd=DOCKER_DIR, check=True, capture_output=True)
    return tag


@pytest.mark.slow
def test_containers_that_die_hang_run_out_of_memory_or_write_garbage_get_named_outcomes(runner: ContainerRunner, tmp_path: Path):
    a1 = _course_with_limits(tmp_path, {"per_submission_s": 5, "memory_mb": 256, "referee_memory_mb": 256})
    bad = ContainerRunner(image=_misbehaving_image(runner.image, runner.base_url), base_url=runner.base_url, startup_s=10)
    sources = []
    for name in ("dies", "hangs", "garbage", "impostor", "memory", "mia_untouched_stub"):
        shutil.copytree(SAMPLES / "mia_untouched_stub", tmp_path / "subs" / name)
        sources.append(tmp_path / "subs" / name)
    start = time.perf_counter()
    results = {r.submission: r for r in grade_batch(a1, sources, tmp_path / "out", workers=2, force=True, options=RunOptions(runner=bad))}
    assert time.perf_counter() - start < 120
    assert (results["dies"].status, results["dies"].score) == ("crashed", 0) and "exited with code 3" in results["dies"].output
    assert results["hangs"].status == "timed out" and "took longer than" in results["hangs"].output
    assert results["garbage"].status == "grader error" and "not your fault" in results["garbage"].output
    assert results["impostor"].status == "grader error" and results["impostor"].score == 0
    assert results["memory"].status == "crashed" and results["memory"].output.startswith("Out of memory"), results["memory"].output
    assert results["mia_untouched_stub"].status == "graded"  # the batch went on
    for name in ("dies", "hangs", "garbage", "impostor", "memory"):
        assert (tmp_path / "out" / "logs" / f"{name}.stderr.txt").is_file(), name
    assert "--- container" in (tmp_path / "out" / "logs" / "dies.stderr.txt").read_text(encoding="utf-8")
