#!/usr/bin/env bash
# Builds docker/Dockerfile the way the tests need it on a machine that reaches package indexes but no image
# registry: the base image is made locally (debootstrap of Debian bookworm, then `docker import`), builds
# and runs use the host's network, and pip inside the build gets this machine's CA bundle as a BuildKit
# secret (never part of a layer). A user's build needs none of this: `docker build -f docker/Dockerfile .`
#   scripts/docker-test-image.sh [TAG]     (default audiomuse-ray:test; prints seconds and size at the end)
# Environment: AUDIOMUSE_DOCKER_BASE (a base image to use instead of the debootstrap one).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-audiomuse-ray:test}
base=${AUDIOMUSE_DOCKER_BASE:-audiomuse-ray-base:bookworm-debootstrap}

# A docker client that builds with BuildKit (secrets, cache mounts): buildx where installed, else the
# client's own BuildKit support (Debian's docker.io 20.10 has it; newer clients without buildx do not).
pick_builder() {
  if docker buildx version >/dev/null 2>&1; then echo "docker buildx build --load"; return; fi
  local probe; probe=$(mktemp -d)
  printf 'FROM scratch\nCOPY probe /probe\n' > "$probe/Dockerfile"; : > "$probe/probe"
  for cli in docker /usr/bin/docker; do
    if command -v "$cli" >/dev/null && DOCKER_BUILDKIT=1 "$cli" build -q "$probe" >/dev/null 2>&1; then
      rm -rf "$probe"; echo "$cli build"; return
    fi
  done
  rm -rf "$probe"; echo "docker-test-image: no docker client here builds with BuildKit" >&2; exit 1
}

if ! docker image inspect "$base" >/dev/null 2>&1; then
  [ "$base" = audiomuse-ray-base:bookworm-debootstrap ] || { echo "docker-test-image: no image $base" >&2; exit 1; }
  command -v debootstrap >/dev/null || { echo "docker-test-image: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  rootfs=$(mktemp -d /var/tmp/audiomuse-rootfs.XXXXXX)
  echo "docker-test-image: debootstrap of Debian bookworm into $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
  rm -rf "$rootfs"
fi

secret=()
cert=$(pip config get global.cert 2>/dev/null || true)
cert=${cert:-${PIP_CERT:-}}
[ -n "$cert" ] && [ -f "$cert" ] && secret=(--secret "id=pip-cert,src=$cert")

builder=$(pick_builder)
previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
start=$(date +%s)
DOCKER_BUILDKIT=1 $builder --network host --progress plain -f docker/Dockerfile \
  --build-arg "BASE_IMAGE=$base" "${secret[@]}" -t "$tag" .
seconds=$(( $(date +%s) - start ))
# the image this tag named before is 2 GB of nothing once rebuilt; a container still using it keeps it
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")
echo "docker-test-image: built $tag on $base in ${seconds} s, $(( size / 1000000 )) MB"
