#!/usr/bin/env bash
# Builds the container images from this checkout: doc-intake-frontend, doc-intake-backend and
# (for docker compose) doc-intake-local-cloud, all tagged $IMAGE_TAG (default: dev).
#   scripts/docker-build.sh                 # all three
#   scripts/docker-build.sh backend         # only some: frontend | backend | local-cloud
# Environment:
#   NODE_IMAGE            base image (default node:24-bookworm-slim; see scripts/build-base-image.sh)
#   IMAGE_PREFIX          image name prefix (default doc-intake-; e.g. myacr.azurecr.io/doc-intake-)
#   IMAGE_TAG             tag (default dev)
#   DOCKER_BUILD_NETWORK  network of the build's RUN steps (default host: the steps only download
#                         from the npm registry, and a daemon without NAT, such as dockerd
#                         --iptables=false, gives bridge containers no way out)
#   BUILD_CA_FILE         extra CA certificates for downloads behind a TLS-intercepting proxy
#                         (default: the system bundle, when there is one; passed as a build secret)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${IMAGE_PREFIX:-doc-intake-}
tag=${IMAGE_TAG:-dev}
docker=${DOCKER:-docker}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(backend frontend local-cloud)

args=(--network "${DOCKER_BUILD_NETWORK:-host}")
[ -n "${NODE_IMAGE:-}" ] && args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")
ca=${BUILD_CA_FILE-}
if [ -z "$ca" ]; then
  for candidate in "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    if [ -n "$candidate" ] && [ -s "$candidate" ]; then ca=$candidate; break; fi
  done
fi
[ -n "$ca" ] && args+=(--secret "id=ca,src=$ca")

for target in "${targets[@]}"; do
  case "$target" in
    frontend | backend) stage=(--build-arg "SERVICE=$target") ;;
    local-cloud) stage=(--target local-cloud) ;;
    *) echo "unknown image '$target' (frontend | backend | local-cloud)" >&2; exit 64 ;;
  esac
  started=$(date +%s)
  DOCKER_BUILDKIT=1 "$docker" build "${args[@]}" "${stage[@]}" -t "$prefix$target:$tag" .
  echo "built $prefix$target:$tag in $(($(date +%s) - started)) s"
done
