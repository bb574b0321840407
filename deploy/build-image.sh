#!/usr/bin/env bash
# Build the shoal Docker image without pulling anything.
#
#   deploy/build-image.sh BINARY TAG
#
# BINARY must be a statically linked shoal (CGO_ENABLED=0, as `make build`
# builds it): the image is FROM scratch, with no libc. The build context is
# staged in a temporary folder so only what the image needs is sent.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BINARY TAG" >&2
  exit 2
fi
binary=$1
tag=$2
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$binary" ]; then
  echo "build-image: $binary is not an executable (run make build)" >&2
  exit 1
fi
# A dynamically linked binary would fail in the container with a bare
# "no such file or directory"; say why here instead.
if command -v file >/dev/null 2>&1 && file -L "$binary" | grep -q 'dynamically linked'; then
  echo "build-image: $binary is dynamically linked; build it with CGO_ENABLED=0" >&2
  exit 1
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/shoal-image-XXXXXX")
trap 'rm -rf "$ctx"' EXIT

mkdir -p "$ctx/rootfs/tmp" "$ctx/rootfs/data" "$ctx/rootfs/etc/ssl/certs"
chmod 1777 "$ctx/rootfs/tmp"
for bundle in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
  if [ -f "$bundle" ]; then
    cp "$bundle" "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
    break
  fi
done
if [ ! -f "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt" ]; then
  echo "build-image: no CA bundle on this host; https inputs will fail in the image" >&2
fi
cp "$binary" "$ctx/shoal"

previous=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
# The classic builder: FROM scratch needs nothing more, and Debian's docker
# CLI may come without buildx. Its deprecation notice is shown only with a
# failure.
if ! DOCKER_BUILDKIT=0 docker build --quiet -f "$here/Dockerfile" -t "$tag" "$ctx" >"$ctx/build.log" 2>&1; then
  cat "$ctx/build.log" >&2
  exit 1
fi
# Each build has a new binary, so a new image; the one it replaced would
# stay behind untagged. Remove it unless a container still uses it.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
echo "$tag"
