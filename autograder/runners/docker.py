"""Grade a submission in its own container of a grading image (docker/), through the Docker API.

Docker or podman (`podman system service`) alike, wherever `DOCKER_HOST` points. One container
per submission: the network off, memory, CPU and process limits, every capability dropped but
the six the engine needs to run the student's code as an unused uid, no new privileges, the
course and the staged submission mounted read-only. Inside, the image's entry point grades the
submission with the same engine as `autograder grade` (at the `container` isolation level) and
writes `/out/<name>.json`, which is copied out and validated here. A container that dies, runs
out of memory or time, or writes a result that is not one, gives a named outcome.
"""

from __future__ import annotations

import functools
import io
import json
import os
import sys
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.intake.names import file_stem, printable
from autograder.results import SubmissionResult, error_result
from autograder.results.fingerprint import DATA_FOLDERS
from autograder.results.store import write_atomic

if TYPE_CHECKING:
    from docker.models.containers import Container
    from docker.types import DeviceRequest

    from autograder.course import Assignment
    from autograder.intake.staging import StagedSubmission
    from autograder.runners.calibrate import Speed
    from autograder.spec import AssignmentSpec
    from docker import DockerClient

DEFAULT_IMAGE = "autograder-cpu"
# What the engine needs to run the student's code as another uid: give it the staged files
# (CHOWN, FOWNER), read them back and clean up (DAC_OVERRIDE), switch to its uid (SETUID,
# SETGID) and kill whatever it left running (KILL). Everything else Docker grants is dropped.
CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID")
STARTUP_S = 120.0  # container start, imports and staging, on top of the per-submission limit
GRADER_MEMORY_MB = 768  # the entry point, pytest's imports and the tmpfs folders, beyond the spec's two limits
GRADER_PROCESSES = 256  # the entry point, referee, zygote and their threads, beyond the submission's own
SCRATCH = {"/tmp": "size=256m,mode=1777", "/var/tmp": "size=64m,mode=1777", "/grading": "size=512m,mode=0711"}
SIGKILL_EXIT = 137  # the entry point was killed: nothing but the memory cgroup's OOM killer does that
MAX_COPIED_BYTES = 4 * 2**20  # of what the container leaves in /out: a result is under 1 MB, a log is a tail
LOG_TAIL_LINES = 200


class ContainerError(RuntimeError):
    """The container engine or the image cannot be used; the message says what to do."""


@functools.cache
def _client(base_url: str | None) -> DockerClient:
    import docker

    try:
        client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
        client.ping()
    except Exception as exc:  # noqa: BLE001 - the SDK raises several kinds for an absent engine
        where = base_url or os.environ.get("DOCKER_HOST", "the default socket")
        raise ContainerError(
            f"no container engine answers at {where} ({type(exc).__name__}: {exc}). Start Docker, or podman's "
            "Docker API (`podman system service --time=0 unix:///run/podman.sock`) and set DOCKER_HOST to it."
        ) from None
    return client


def gpu_request(gpus: str) -> DeviceRequest:
    """Return the device request for `--gpus`: `all`, a count (`2`), or `device=0,1`, as `docker run --gpus` reads it."""
    from docker.types import DeviceRequest

    text = gpus.strip()
    if text == "all":
        return DeviceRequest(count=-1, capabilities=[["gpu"]])
    if text.startswith("device="):
        ids = [d.strip() for d in text.removeprefix("device=").split(",") if d.strip()]
        if ids:
            return DeviceRequest(device_ids=ids, capabilities=[["gpu"]])
    elif text.isdigit() and int(text) > 0:
        return DeviceRequest(count=int(text), capabilities=[["gpu"]])
    raise ContainerError(f"--gpus {gpus!r} is not a GPU request: use `all`, a count such as `1`, or `device=0,1`.")


def _speed_json(speed: Speed) -> str:
    return json.dumps(asdict(speed))


def _mounts(assignment: Assignment, staged: StagedSubmission) -> list[Any]:
    """Return the read-only mounts: the submission, the assignment and its reference, the host's datasets."""
    from docker.types import Mount

    from autograder.data import data_root

    pairs = [("/submission", staged.path), (f"/course/assignments/{assignment.id}", assignment.folder)]
    if assignment.solution.is_dir():
        pairs.append((f"/course/solutions/{assignment.id}", assignment.solution))
    pairs += [(f"/data/{rel}", data_root() / rel) for rel in sorted(set(DATA_FOLDERS.values())) if (data_root() / rel).is_dir()]
    return [Mount(target, str(Path(source).resolve()), type="bind", read_only=True) for target, source in pairs]


def _command(assignment: Assignment, name: str, device: str, speed: Speed, per_submission_s: float | None, pytest_args: tuple[str, ...]) -> list[str]:
    command = ["--assignment", assignment.id, "--name", name, "--device", device, "--speed", _speed_json(speed)]
    if per_submission_s:
        command += ["--per-submission-s", repr(per_submission_s)]
    return command + [f"--pytest-arg={arg}" for arg in pytest_args]


@dataclass(frozen=True)
class ContainerRunner:
    """Where and how submissions are graded in containers: the image, GPUs, CPUs and the engine's address."""

    image: str = DEFAULT_IMAGE
    gpus: str | None = None  # `all`, a count, or `device=0,1`; None: no GPU
    cpus: float = 1.0
    base_url: str | None = None  # None: DOCKER_HOST, else the default socket
    # `default`: on a local podman whose /etc/subuid lends it uids, a user namespace of its own per container
    # (podman's `auto`); None: none, the container's root is the host's; or a mode the engine takes as is
    userns: str | None = "default"
    startup_s: float = STARTUP_S  # allowed beyond the per-submission limit before the container is killed

    def client(self) -> DockerClient:
        return _client(self.base_url)

    def check(self) -> str:
        """Fail with a clear message when the engine or the image is missing; return the image's id."""
        import docker

        try:
            image = self.client().images.get(self.image)
        except docker.errors.ImageNotFound:
            raise ContainerError(
                f"the grading image {self.image!r} is not there. Build it from the course checkout: "
                f"`python docker/build_image.py cpu --tag {self.image}` (see docker/README.md)."
            ) from None
        if self.gpus is not None:
            gpu_request(self.gpus)
        return image.id

    def limits(self, spec: AssignmentSpec) -> dict[str, Any]:
        """Return the container's memory, CPU and process limits for an assignment's spec."""
        memory_mb = spec.limits.memory_mb + spec.limits.referee_memory_mb + GRADER_MEMORY_MB
        return {
            "mem_limit": f"{memory_mb}m", "memswap_limit": f"{memory_mb}m", "nano_cpus": int(self.cpus * 1e9),
            "pids_limit": spec.limits.max_processes + GRADER_PROCESSES,
        }  # fmt: skip

    def create_options(self, spec: AssignmentSpec, mounts: list[Any], command: list[str]) -> dict[str, Any]:
        """Return the keyword arguments of `containers.create` for one submission (no engine needed: tested as is)."""
        from docker.types import Ulimit

        options = {
            "image": self.image, "command": command, "mounts": mounts, "network_mode": "none",
            "cap_drop": ["ALL"], "cap_add": list(CAPABILITIES), "security_opt": ["no-new-privileges"],
            "init": True, "tmpfs": dict(SCRATCH), "working_dir": "/",
            "environment": {"AUTOGRADER_DATA": "/data", "AUTOGRADER_COURSE": "/course", "TMPDIR": "/grading"},
            "ulimits": [Ulimit(name="nofile", soft=4096, hard=4096), Ulimit(name="nproc", soft=4096, hard=4096)],
            "labels": {"autograder.assignment": spec.id}, **self.limits(spec),
        }  # fmt: skip
        if self.gpus is not None:
            options["device_requests"] = [gpu_request(self.gpus)]
        return options

    def grade(
        self, assignment: Assignment, staged: StagedSubmission, out_dir: Path, options: Any, speed: Speed, original: str, fingerprint: str
    ) -> SubmissionResult:
        """Grade a staged submission in a fresh container; return its result (never raises for the submission's doing)."""
        spec = assignment.spec
        command = _command(assignment, staged.name, options.device, speed, options.per_submission_s, options.pytest_args)
        deadline = (options.per_submission_s or spec.limits.per_submission_s) * speed.wall_factor + self.startup_s
        run = _run(self, self.create_options(spec, _mounts(assignment, staged), command), deadline)
        return _result(self, assignment, staged, out_dir, run, original, fingerprint)


@dataclass
class ContainerRun:
    """What one container left: its /out files, exit status, whether it was killed for time or memory, its log."""

    files: dict[str, bytes]
    exit_code: int | None
    timed_out: bool
    oom_killed: bool
    log: str
    wall_s: float
    limit_s: float
    image_id: str = ""

    def __repr__(self) -> str:
        return f"ContainerRun(files={sorted(self.files)}, exit_code={self.exit_code}, timed_out={self.timed_out}, oom_killed={self.oom_killed}, wall_s={self.wall_s:.2f})"


def _copy_out(container: Container) -> dict[str, bytes]:
    """Return the regular files under the container's /out (relative names), at most `MAX_COPIED_BYTES` in all."""
    stream, _ = container.get_archive("/out")
    data, size = bytearray(), 0
    for chunk in stream:
        size += len(chunk)
        if size > MAX_COPIED_BYTES + 2**20:  # tar headers and padding besides the files
            break
        data += chunk
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
            for member in tar:
                if member.isfile() and member.name.startswith("out/") and member.size <= MAX_COPIED_BYTES:
                    files[member.name.removeprefix("out/")] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError):
        pass  # a cut archive: whatever was read stands
    return files


def _wait(container: Container, deadline: float) -> tuple[int | None, bool]:
    """Wait for the container; kill it past `deadline` seconds. Return its exit code and whether it was killed for time."""
    import requests

    import docker

    try:
        return int(container.wait(timeout=deadline).get("StatusCode", -1)), False
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        try:
            container.kill()
        except docker.errors.APIError:
            pass  # it ended on its own meanwhile
        container.wait(timeout=60)
        return None, True


SUBUID = Path("/etc/subuid")
USERNS_AUTO = "auto:size=300000"  # room for the submission's uid (200000 + a pid below 100000)


@functools.cache
def _is_local_podman(base_url: str | None) -> bool:
    client = _client(base_url)
    names = [c.get("Name", "") for c in client.version().get("Components", [])]
    url = base_url or os.environ.get("DOCKER_HOST", "unix://")
    return any("Podman" in n for n in names) and url.startswith("unix://")


def user_namespace(runner: ContainerRunner) -> str | None:
    """Return the user namespace mode the runner's containers get (see `ContainerRunner.userns`)."""
    if runner.userns != "default":
        return runner.userns
    try:
        lends = any(line.startswith("containers:") for line in SUBUID.read_text(encoding="utf-8").splitlines())
    except OSError:
        return None
    return USERNS_AUTO if lends and _is_local_podman(runner.base_url) else None


def _remove(container: Container, tries: int = 10) -> None:
    """Remove a container; a removal that keeps failing is reported, never raised (the result stands)."""
    import docker

    for attempt in range(tries):
        try:
            container.remove(force=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:  # podman: "userdata/shm: device or resource busy" until its clean-up ran
            if attempt == tries - 1:
                sys.stderr.write(f"autograder: container {container.short_id} could not be removed: {exc}\n")
            time.sleep(0.5)


def create_request(options: dict[str, Any], api_version: str, userns: str | None = None) -> dict[str, Any]:
    """Return the arguments of the engine's create call (`host_config` as the JSON it receives) for `create_options`.

    docker-py checks the options against the API version here; it accepts no user namespace mode
    but `host`, so `userns` (podman's `auto`) is set on the request itself.
    """
    from docker.models.containers import _create_container_args

    request = _create_container_args({**options, "version": api_version})
    if userns:
        request["host_config"]["UsernsMode"] = userns
    return request


def _run(runner: ContainerRunner, create: dict[str, Any], deadline: float) -> ContainerRun:
    """Create, start and wait for one container, copy its /out, remove it."""
    client = runner.client()
    start = time.perf_counter()
    request = create_request(create, client.api.api_version, user_namespace(runner))
    container = client.containers.get(client.api.create_container(**request)["Id"])
    try:
        container.start()
        exit_code, timed_out = _wait(container, deadline)
        wall = time.perf_counter() - start
        container.reload()
        log = container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES).decode("utf-8", errors="replace")
        oom = bool(container.attrs.get("State", {}).get("OOMKilled"))
        return ContainerRun(_copy_out(container), exit_code, timed_out, oom, log, wall, deadline, container.attrs.get("Image", ""))
    finally:
        _remove(container)


def _failure(spec: AssignmentSpec, run: ContainerRun) -> tuple[str, str]:
    """Return the status and message of a container that left no usable result."""
    if run.timed_out:
        return "timed out", f"Timed out: grading your submission took longer than {run.limit_s:.0f} s, so it was stopped. Look for an endless loop."
    if run.oom_killed or run.exit_code == SIGKILL_EXIT:  # podman's API does not report OOMKilled; only the kernel kills the entry point
        return "crashed", f"Out of memory: grading your submission exceeded the container's memory ({spec.limits.memory_mb} MiB for your code). Avoid building huge arrays."
    return "crashed", f"Crashed: the grading container exited with code {run.exit_code} before it wrote a result. The log is with your instructor."


def _read_result(run: ContainerRun, spec: AssignmentSpec, name: str) -> SubmissionResult | None:
    """Return the container's result for `name`, validated; None when it wrote none or one that is not its own."""
    raw = run.files.get(f"{file_stem(name)}.json")
    if raw is None:
        return None
    try:
        result = SubmissionResult.model_validate_json(raw)
    except ValueError:
        return None
    if result.assignment != spec.id or result.submission != file_stem(name) or abs(result.max_score - spec.max_points) > 1e-9:
        return None
    if not 0 <= result.score <= result.max_score + 1e-9:
        return None
    return result


def _log(out_dir: Path, name: str, run: ContainerRun) -> None:
    """Keep the container's log and the engine's own log, for the TA: OUT/logs/<name>.stderr.txt."""
    inner = run.files.get(f"logs/{file_stem(name)}.stderr.txt", b"").decode("utf-8", errors="replace")
    text = f"--- container ({run!r}) ---\n{run.log}\n--- engine log in the container ---\n{inner}"
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    write_atomic(out_dir / "logs" / f"{file_stem(name)}.stderr.txt", printable(text))


def _result(
    runner: ContainerRunner, assignment: Assignment, staged: StagedSubmission, out_dir: Path, run: ContainerRun, original: str, fingerprint: str
) -> SubmissionResult:
    """Turn what a container left into the submission's result, named as the host staged it."""
    spec = assignment.spec
    result = _read_result(run, spec, staged.name)
    facts = {
        "image": runner.image, "image_id": run.image_id, "gpus": runner.gpus, "cpus": runner.cpus, "wall_s": round(run.wall_s, 3),
        "exit_code": run.exit_code, "user_namespace": user_namespace(runner), **runner.limits(spec),
    }  # fmt: skip
    if result is None:
        _log(out_dir, staged.name, run)
        if run.files.get(f"{file_stem(staged.name)}.json") is not None:
            status, message = "grader error", "Internal grading error (the grading container wrote an unreadable result); this is not your fault."
        else:
            status, message = _failure(spec, run)
        result = error_result(spec, staged.name, message, status=status, original_name=original, fingerprint=fingerprint, execution_time=staged.seconds + run.wall_s)
        return result.model_copy(update={"submission_sha256": staged.sha256, "metadata": {"container": facts, "notes": staged.notes}})
    if result.status in ("grader error", "crashed"):
        _log(out_dir, staged.name, run)
    metadata = {**result.metadata, "container": {**facts, "inside_s": result.execution_time, "same_fingerprint": result.grading_fingerprint == fingerprint}}
    metadata["notes"] = [*staged.notes, *metadata.get("notes", [])]
    metadata["staging_s"] = round(staged.seconds, 3)
    update = {"original_name": original, "submission_sha256": staged.sha256, "execution_time": round(staged.seconds + run.wall_s, 3), "metadata": metadata}
    return SubmissionResult.model_validate({**result.model_dump(), **update})
