"""Build a grading image (cpu or cuda) from this checkout with podman or docker.

    python docker/build_image.py cpu                      # tag autograder-cpu
    python docker/build_image.py cuda --tag autograder-cuda --base python:3.11-slim-bookworm
    python docker/build_image.py cpu --wheels             # no network in the build: a local wheelhouse

The build context is small: the Dockerfile, docker/'s entry point and requirements, the engine's
source (pyproject.toml, README.md, autograder/) and, with --wheels, the wheels `pip download`
put in docker/wheels/<kind>/ on this machine (same Python minor version and platform as the
image). Its content hash names the build (`--tag-by-hash`), so an unchanged checkout is never
rebuilt.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
WHEELS = DOCKER / "wheels"
SHARED = ("docker/entrypoint.py", "docker/common.sh", "docker/requirements.txt", "pyproject.toml", "README.md")
# What each image installs besides docker/requirements.txt, as its Dockerfile's TORCH argument says
TORCH = {"cpu": "torch==2.13.0", "cuda": "torch==2.14.1"}
LOCAL_BASE = "autograder-base:bookworm"  # scripts/build_base_image.sh: nothing to pull
REGISTRY_BASE = "python:3.11-slim-bookworm"


def context_files(kind: str) -> dict[str, Path]:
    """Return the build context's files (name in the context -> file here), wheels left out."""
    files = {f"docker/Dockerfile.{kind}": DOCKER / f"Dockerfile.{kind}"}
    files.update({name: REPO / name for name in SHARED})
    for path in sorted((REPO / "autograder").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files[path.relative_to(REPO).as_posix()] = path
    return files


def wheel_files(kind: str) -> list[Path]:
    """Return the wheels downloaded for the `kind` image (docker/wheels/<kind>/)."""
    return sorted((WHEELS / kind).glob("*.whl"))


def content_hash(kind: str, base: str, wheels: bool) -> str:
    """Return a sha256 over the context's files, the base image's name and the wheelhouse's file names."""
    h = hashlib.sha256(f"{kind}\0{base}\0".encode())
    for name, path in context_files(kind).items():
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    for wheel in wheel_files(kind) if wheels else []:
        h.update(wheel.name.encode() + b"\0")
    return h.hexdigest()


def fill_wheelhouse(kind: str) -> float:
    """Download the image's wheels into docker/wheels/<kind> with this machine's pip; return the seconds it took."""
    start = time.perf_counter()
    (WHEELS / kind).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(WHEELS / kind),
           TORCH[kind], "-r", str(DOCKER / "requirements.txt")]  # fmt: skip
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def builder() -> str:
    """Return the build command: $AUTOGRADER_BUILDER, else podman, else docker."""
    chosen = os.environ.get("AUTOGRADER_BUILDER") or shutil.which("podman") or shutil.which("docker")
    if not chosen:
        raise SystemExit("build_image.py: neither podman nor docker is installed")
    return chosen


def _lay_out(kind: str, folder: Path, wheels: bool) -> None:
    """Copy the context into `folder` (wheels hard-linked where the file system allows)."""
    for name, path in context_files(kind).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, folder / name)
    (folder / "docker" / "wheels").mkdir(parents=True, exist_ok=True)
    for wheel in wheel_files(kind) if wheels else []:
        try:
            os.link(wheel, folder / "docker" / "wheels" / wheel.name)
        except OSError:
            shutil.copy2(wheel, folder / "docker" / "wheels" / wheel.name)


def default_base() -> str:
    """Return the local debootstrap base where it exists, else the registry's Python image."""
    return LOCAL_BASE if image_exists(LOCAL_BASE) else REGISTRY_BASE


def build(kind: str, tag: str, base: str | None = None, wheels: bool = False, quiet: bool = True, extra: tuple[str, ...] = ()) -> float:
    """Build the `kind` image as `tag`; return the seconds it took. With `wheels`, pip reads only docker/wheels."""
    base = base or default_base()
    args = ["--build-arg", f"BASE={base}", "--build-arg", f"TORCH={TORCH[kind]}", *extra]
    if wheels:
        args += ["--build-arg", "PIP_NO_INDEX=1"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autograder-image-") as tmp:
        _lay_out(kind, Path(tmp), wheels)
        cmd = [builder(), "build", "-f", f"docker/Dockerfile.{kind}", "-t", tag, *args, "."]
        done = subprocess.run(cmd, cwd=tmp, capture_output=quiet, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout or "")[-3000:] + (done.stderr or "")[-3000:] if quiet else ""
        raise RuntimeError(f"building {tag} failed (exit code {done.returncode}):\n{tail}")
    return time.perf_counter() - start


def image_exists(tag: str) -> bool:
    done = subprocess.run([builder(), "image", "inspect", tag], capture_output=True, check=False)
    return done.returncode == 0


def build_cached(kind: str, name: str, base: str | None = None, wheels: bool = False) -> tuple[str, float | None]:
    """Return the tag `name:<content hash>` of an up-to-date image, building it when absent (and the seconds it took)."""
    base = base or default_base()
    tag = f"{name}:{content_hash(kind, base, wheels)[:16]}"
    if image_exists(tag):
        return tag, None
    return tag, build(kind, tag, base, wheels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("cpu", "cuda"))
    parser.add_argument("--tag", help="Image name (default autograder-<kind>).")
    parser.add_argument("--base", help=f"Base image (default {LOCAL_BASE} where scripts/build_base_image.sh made it, else {REGISTRY_BASE}).")
    parser.add_argument("--wheels", action="store_true", help="Fill docker/wheels with pip download and install only from it.")
    parser.add_argument("--tag-by-hash", action="store_true", help="Tag NAME:<content hash>; skip the build when it exists.")
    args = parser.parse_args()
    name = args.tag or f"autograder-{args.kind}"
    if args.wheels:
        print(f"wheelhouse: {fill_wheelhouse(args.kind):.0f} s ({len(wheel_files(args.kind))} wheels in {WHEELS / args.kind})")
    if args.tag_by_hash:
        tag, seconds = build_cached(args.kind, name, args.base, args.wheels)
    else:
        tag, seconds = name, build(args.kind, name, args.base, args.wheels, quiet=False)
    print(f"{tag}: " + ("up to date" if seconds is None else f"built in {seconds:.0f} s"))


if __name__ == "__main__":
    main()
