#!/usr/bin/env bash
# Build a tiny image for Docker jobs without pulling anything: a tarball
# holding the statically linked busybox of this machine (Debian's
# busybox-static: apt-get install busybox-static) and a symlink per applet,
# loaded with `docker import`.
#
#   deploy/build-busybox-image.sh TAG
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 TAG" >&2
  exit 2
fi
tag=$1
busybox=${BUSYBOX:-/usr/bin/busybox}

if [ ! -x "$busybox" ]; then
  echo "build-busybox-image: $busybox not found: apt-get install busybox-static" >&2
  exit 1
fi
if command -v file >/dev/null 2>&1 && file -L "$busybox" | grep -q 'dynamically linked'; then
  echo "build-busybox-image: $busybox is dynamically linked: install busybox-static" >&2
  exit 1
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/shoal-busybox-XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

previous=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . |
  docker import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' \
    --message "busybox from $busybox, for shoal Docker jobs" - "$tag" >/dev/null
# The image it replaced would stay behind untagged: remove it unless a
# container still uses it.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
echo "$tag"
