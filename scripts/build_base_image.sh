#!/usr/bin/env bash
# Build the grading images' base without pulling anything: Debian bookworm with Python 3.11
# (debootstrap from the Debian mirror), imported into podman as autograder-base:bookworm.
#
#   scripts/build_base_image.sh            # installs podman, runc and debootstrap if missing (as root)
#   BASE_IMAGE=name:tag scripts/build_base_image.sh
#
# podman is set up to run containers with runc (crun fails on some cgroup v1 hosts), without
# systemd and with open-file and process limits a sandbox allows, unless
# /etc/containers/containers.conf already exists. Where a registry is reachable, the grading
# images can start from python:3.11-slim-bookworm instead (docker/build_image.py --base).
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-autograder-base:bookworm}"
SUITE="${SUITE:-bookworm}"
PACKAGES="${PACKAGES:-python3,python3-venv,ca-certificates}"

if [ "$(id -u)" != 0 ]; then
  echo "build_base_image.sh: run as root (debootstrap and rootful podman need it)" >&2
  exit 2
fi

missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap
fi

if [ ! -e /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  # podman's default ulimits (1048576 open files and processes) exceed what some sandboxes allow
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
fi

# uids podman may lend to user namespaces (`--userns=auto`): the docker runner then gives each
# container its own, so the container's root and the submission's uid are nobody on this host
for file in /etc/subuid /etc/subgid; do
  grep -q '^containers:' "$file" 2>/dev/null || echo 'containers:2147483647:2147483648' >> "$file"
done

if podman image exists "$BASE_IMAGE"; then
  echo "$BASE_IMAGE already exists (podman rmi $BASE_IMAGE to rebuild it)"
  exit 0
fi

root="$(mktemp -d /var/tmp/autograder-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
start=$(date +%s)
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  exit 1
}
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
echo "$BASE_IMAGE built in $(( $(date +%s) - start )) s: $(podman image inspect "$BASE_IMAGE" --format '{{.Size}}') bytes"
