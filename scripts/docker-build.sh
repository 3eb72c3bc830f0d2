#!/usr/bin/env bash
# Builds the container images from this checkout: doc-intake-<service> for every service of
# infra/identities.json and (for docker compose) doc-intake-local-cloud, all tagged $IMAGE_TAG
# (default: dev). Needs the identities CLI built (pnpm build).
#   scripts/docker-build.sh                 # all of them
#   scripts/docker-build.sh backend         # only some: a service of the declaration | local-cloud
# Environment:
#   NODE_IMAGE            base image (default node:24-bookworm-slim; offline: docs/containers.md)
#   IMAGE_PREFIX          image name prefix (default doc-intake-; e.g. myacr.azurecr.io/doc-intake-)
#   IMAGE_TAG             tag (default dev)
#   DOCKER_BUILD_NETWORK  network of the build's RUN steps (default host: the steps only download
#                         from the npm registry, and a daemon without NAT, such as dockerd
#                         --iptables=false, gives bridge containers no way out)
#   COMPILE_CACHE         true | false (default): bake Node's compile cache into the service images
#   BUILD_CA_FILE         extra CA certificates for downloads behind a TLS-intercepting proxy
#                         (default: the system bundle, when there is one; passed as a build secret)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${IMAGE_PREFIX:-doc-intake-}
tag=${IMAGE_TAG:-dev}
docker=${DOCKER:-docker}
# The services are the declaration's (infra/identities.json), asked of its CLI, never listed here.
mapfile -t services < <(node packages/identities/dist/cli.js services)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${services[@]}" local-cloud)

args=(--network "${DOCKER_BUILD_NETWORK:-host}")
[ -n "${NODE_IMAGE:-}" ] && args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")
[ -n "${COMPILE_CACHE:-}" ] && args+=(--build-arg "COMPILE_CACHE=$COMPILE_CACHE")
ca=${BUILD_CA_FILE-}
if [ -z "$ca" ]; then
  for candidate in "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    if [ -n "$candidate" ] && [ -s "$candidate" ]; then ca=$candidate; break; fi
  done
fi
[ -n "$ca" ] && args+=(--secret "id=ca,src=$ca")

for target in "${targets[@]}"; do
  if [ "$target" = local-cloud ]; then
    stage=(--target local-cloud)
  elif printf '%s\n' "${services[@]}" | grep -qxF -- "$target"; then
    stage=(--build-arg "SERVICE=$target")
  else
    echo "unknown image '$target' (${services[*]} local-cloud)" >&2
    exit 64
  fi
  started=$(date +%s)
  DOCKER_BUILDKIT=1 "$docker" build "${args[@]}" "${stage[@]}" -t "$prefix$target:$tag" .
  echo "built $prefix$target:$tag in $(($(date +%s) - started)) s"
done
