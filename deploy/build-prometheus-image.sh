#!/usr/bin/env bash
# Build a Prometheus image from the host's Debian prometheus package, without
# pulling anything: the binary, the shared libraries ldd names and the
# package's web assets go into a bare root file system, which docker import
# turns into an image.
#
#   deploy/build-prometheus-image.sh TAG
#
# Needs the prometheus package (apt-get install prometheus). The demo mounts
# deploy/prometheus at /etc/prometheus.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 TAG" >&2
  exit 2
fi
tag=$1
src=$(command -v prometheus 2>/dev/null || true)
if [ -z "$src" ]; then
  echo "build-prometheus-image: no prometheus binary here (apt-get install prometheus)" >&2
  exit 1
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/shoal-prometheus-XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/usr/bin" "$root/etc/prometheus" "$root/prometheus" "$root/tmp"
chmod 1777 "$root/tmp"
cp -L "$src" "$root/usr/bin/prometheus"
# Debian builds it with cgo: copy the libraries (and loader) it links.
for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
  cp -L --parents "$lib" "$root"
done
# Names resolve through /etc/hosts and DNS, as Docker sets them up.
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
if [ -d /usr/share/prometheus ]; then
  mkdir -p "$root/usr/share"
  cp -rL /usr/share/prometheus "$root/usr/share/"
fi

previous=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
tar -C "$root" -c . | docker import \
  --change 'ENTRYPOINT ["/usr/bin/prometheus"]' \
  --change 'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]' \
  --change 'EXPOSE 9090' \
  - "$tag" >/dev/null
# A rebuild leaves the image it replaced untagged; remove it unless in use.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
echo "$tag"
