"""Grading in containers against grading here: image sizes, build times, start-to-result per submission.

For each assignment, the same submissions are graded twice with one worker: by the local runner
and by the docker runner (a container per submission). Per submission it prints the wall time of
each, and for containers what the engine took inside against the whole container (create, start,
grade, copy the result out, remove). A trivial assignment shows the fixed cost of a container; A1
shows it against a real suite (which trains an MLP for its 20 s CPU budget).

Needs root, podman and the base image (scripts/build_base_image.sh). It starts podman's Docker API
on a temporary socket unless DOCKER_HOST is set, and builds the CPU image from this checkout
(docker/build_image.py, tagged by content hash) unless --image names one.

Run: .venv/bin/python bench/container.py [--n 5] [--image TAG] [--cold-build]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from autograder.course import find_assignment
from autograder.grade import RunOptions, grade_batch
from autograder.runners.docker import ContainerRunner

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "course"


def _build_module():
    spec = importlib.util.spec_from_file_location("docker_build_image", REPO / "docker" / "build_image.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _size_mb(tag: str) -> float:
    out = subprocess.run(["podman", "image", "inspect", tag, "--format", "{{.Size}}"], capture_output=True, text=True, check=True)
    return int(out.stdout.strip()) / 1e6


def _start_engine(folder: Path) -> subprocess.Popen | None:
    """Start podman's Docker API on a socket in `folder` unless DOCKER_HOST is set; set DOCKER_HOST."""
    if os.environ.get("DOCKER_HOST"):
        return None
    socket = f"unix://{folder / 'podman.sock'}"
    service = subprocess.Popen(  # cwd: conmon leaves an `oom` marker in its working folder after an OOM kill
        ["podman", "system", "service", "--time=0", socket], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder
    )
    os.environ["DOCKER_HOST"] = socket
    import docker

    for _ in range(150):
        try:
            docker.from_env().ping()
            return service
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.2)
    raise SystemExit("podman's Docker API did not start")


def _copies(source: Path, n: int, folder: Path) -> list[Path]:
    subs = []
    for i in range(n):
        dest = folder / f"student{i:03d}"
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
        subs.append(dest)
    return subs


def _compare(assignment_name: str, root: Path, source: Path, n: int, image: str, folder: Path) -> None:
    """Grade `n` copies of `source` locally and in containers, one worker; print the time per submission."""
    assignment = find_assignment(assignment_name, root)
    subs = _copies(source, n, folder / assignment_name)
    grade_batch(assignment, subs[:1], folder / "warm", workers=1, force=True)  # the fork server, as a TA's batch has it
    rows = {}
    for label, options in (("local", RunOptions()), ("container", RunOptions(runner=ContainerRunner(image=image)))):
        start = time.perf_counter()
        results = grade_batch(assignment, subs, folder / f"out-{assignment_name}-{label}", workers=1, force=True, options=options)
        rows[label] = ((time.perf_counter() - start) / n, results)
        assert {r.score for r in results} == {results[0].max_score}, f"{label}: {[r.output[:200] for r in results]}"
    inside = sum(r.metadata["container"]["inside_s"] for r in rows["container"][1]) / n
    container = sum(r.metadata["container"]["wall_s"] for r in rows["container"][1]) / n
    print(f"{assignment_name}: {n} submissions, one worker, seconds per submission")
    print(f"  local runner          {rows['local'][0]:6.2f}")
    print(f"  docker runner         {rows['container'][0]:6.2f}   (container start to result {container:.2f}, engine inside {inside:.2f}, "
          f"so {container - inside:.2f} for the container itself)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5, help="Submissions per assignment.")
    parser.add_argument("--image", help="A grading image to use (default: build this checkout's, tagged by content hash).")
    parser.add_argument("--cold-build", action="store_true", help="Also time a build of the CPU image without podman's layer cache.")
    args = parser.parse_args()
    build = _build_module()
    with tempfile.TemporaryDirectory(prefix="bench-container-") as tmp:
        service = _start_engine(Path(tmp))
        try:
            if not build.wheel_files("cpu"):
                print(f"wheelhouse: {build.fill_wheelhouse('cpu'):.0f} s")
            if args.cold_build:
                seconds = build.build("cpu", "autograder-cpu-bench:cold", wheels=True, extra=("--no-cache",))
                print(f"CPU image, cold build (no layer cache, wheels on disk): {seconds:.0f} s")
            image = args.image
            if not image:
                image, seconds = build.build_cached("cpu", "autograder-cpu-bench", wheels=True)
                print(f"CPU image {image}: " + ("up to date" if seconds is None else f"built in {seconds:.0f} s (layer cache)"))
            print(f"image sizes: base {build.LOCAL_BASE} {_size_mb(build.LOCAL_BASE):.0f} MB, CPU image {_size_mb(image):.0f} MB")
            _compare("a0_trivial", FIXTURES, FIXTURES / "solutions" / "a0_trivial", args.n, image, Path(tmp))
            _compare("a1_mlp_numpy", REPO, REPO / "examples" / "submissions" / "a1_mlp_numpy" / "alice_correct", max(1, args.n // 2), image, Path(tmp))
        finally:
            if service:
                service.terminate()
                service.wait(timeout=20)


if __name__ == "__main__":
    main()
