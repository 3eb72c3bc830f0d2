# Images for the two services (and, for docker compose only, the local cloud), from one
# parameterized Dockerfile. Needs BuildKit (the default from Docker 23; DOCKER_BUILDKIT=1 before).
#
#   docker build --build-arg SERVICE=backend  -t doc-intake-backend  .
#   docker build --build-arg SERVICE=frontend -t doc-intake-frontend .
#   docker build --target local-cloud         -t doc-intake-local-cloud .
#
# Build arguments:
#   NODE_IMAGE    the Node 24 image the build runs on and the runtime's node binary comes from
#                 (default: the official node:24-bookworm-slim; offline, a stand-in: see
#                 docs/containers.md)
#   SERVICE       a service of infra/identities.json: frontend | backend (the runtime stage, the default target)
#   PNPM_VERSION  pnpm for the build stage (keep in step with package.json's packageManager)
#   NPM_REGISTRY  where pnpm and the dependencies come from
# Optional build secret `ca` (--secret id=ca,src=FILE): extra CA certificates to trust while
# downloading, for a TLS-intercepting proxy; it never reaches a layer. scripts/docker-build.sh
# passes the machine's CA bundle.
#
# The runtime stage is FROM scratch: the node binary and the C libraries it links, copied from
# NODE_IMAGE, plus the `pnpm deploy --prod` tree of one service. No shell, no package manager,
# no compiler, no dev dependency. It runs as uid/gid 1000 (the `node` user of the official
# images, and the uid k8s/base runs the pods as), with a read-only root filesystem: the services
# write only to /tmp (mount a tmpfs/emptyDir there).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS node

# ---- pnpm, fetched and verified by Node itself (NODE_IMAGE need not ship npm or Corepack) ----
FROM node AS pnpm
ARG PNPM_VERSION=10.34.9
ARG NPM_REGISTRY=https://registry.npmjs.org/
COPY docker/fetch-pnpm.mjs /tmp/fetch-pnpm.mjs
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    node /tmp/fetch-pnpm.mjs "$PNPM_VERSION" "$NPM_REGISTRY" /opt/pnpm

# ---- only the manifests: the install below reruns only when one of them changes ----
FROM node AS manifests
WORKDIR /repo
COPY . .
RUN find . -type f ! -name package.json ! -name pnpm-lock.yaml ! -name pnpm-workspace.yaml \
      ! -name .npmrc -delete \
 && find . -mindepth 1 -type d -empty -delete

# ---- install (pnpm store in a BuildKit cache mount), then compile everything with SWC ----
FROM node AS build
ARG NPM_REGISTRY=https://registry.npmjs.org/
COPY --from=pnpm /opt/pnpm /opt/pnpm
ENV PATH=/opt/pnpm/bin:$PATH \
    CI=true \
    npm_config_registry=$NPM_REGISTRY \
    npm_config_store_dir=/pnpm/store \
    npm_config_cache_dir=/pnpm/cache \
    npm_config_update_notifier=false
WORKDIR /repo
COPY --from=manifests /repo/ ./
RUN --mount=type=cache,id=wi-pnpm-store,target=/pnpm/store,sharing=locked \
    --mount=type=cache,id=wi-pnpm-cache,target=/pnpm/cache,sharing=locked \
    --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    pnpm install --frozen-lockfile --prefer-offline --reporter=append-only
COPY . .
RUN pnpm -r run build \
 && node packages/identities/dist/cli.js services > /repo/services.txt

# ---- the pruned production tree of one service ----
# --legacy: pnpm 10's default deploy needs inject-workspace-packages in the lockfile, which would
# change how the workspace links for `pnpm dev`. The legacy deploy resolves the workspace
# packages' dependencies again, preferring the lockfile's versions (it reads registry metadata,
# cached in a mount); the versions it installs are the lockfile's.
FROM build AS deploy
ARG SERVICE
# The services are the declaration's (infra/identities.json), listed by its CLI in the build.
RUN grep -qxF "$SERVICE" /repo/services.txt \
 || { echo "Build with --build-arg SERVICE=<one of: $(tr '\n' ' ' < /repo/services.txt)> (got '$SERVICE')." >&2; exit 1; }
# The Identity report reads the declaration from its working directory: /app/infra/identities.json.
RUN --mount=type=cache,id=wi-pnpm-store,target=/pnpm/store,sharing=locked \
    --mount=type=cache,id=wi-pnpm-cache,target=/pnpm/cache,sharing=locked \
    --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    pnpm --filter "@wi/$SERVICE" deploy --prod --legacy --prefer-offline --reporter=append-only /out \
 && sh docker/prune-deploy.sh /out \
 && node docker/prune-unreachable.mjs /out \
 && mkdir /out/infra && cp infra/identities.json /out/infra/identities.json
# Node's compile cache (V8 code cache of every module the service loads at start-up), made here
# by starting the service once as it will run: from /app (the cache is keyed by file path) and as
# uid 1000 (Node keeps one cache folder per uid), with no Azure configuration, so it loads its
# modules and stops at the configuration check. The image sets NODE_COMPILE_CACHE to it; the
# read-only root filesystem only means no new entries. Off by default: measured side by side
# (bench/results/images.md), it saved no CPU time to ready within the noise and cost ~7 MB of
# image and ~17 MB of idle VmRSS (~20 MiB cgroup) per pod. --build-arg COMPILE_CACHE=true.
ARG COMPILE_CACHE=false
RUN if [ "$COMPILE_CACHE" = true ]; then \
      mv /out /app && mkdir /app/.node-compile-cache && chown 1000:1000 /app/.node-compile-cache \
   && (cd /app && env -i NODE_ENV=production NODE_COMPILE_CACHE=/app/.node-compile-cache \
         setpriv --reuid=1000 --regid=1000 --clear-groups "$(command -v node)" dist/main.js \
         >/dev/null 2>&1 || true) \
   && test -n "$(ls -A /app/.node-compile-cache/*-1000)" \
   && chown -R 0:0 /app/.node-compile-cache && chmod -R a+rX /app/.node-compile-cache \
   && mv /app /out; \
    fi

# ---- the local cloud, for docker compose: a development tool, never deployed ----
FROM build AS deploy-local-cloud
RUN --mount=type=cache,id=wi-pnpm-store,target=/pnpm/store,sharing=locked \
    --mount=type=cache,id=wi-pnpm-cache,target=/pnpm/cache,sharing=locked \
    --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    pnpm --filter @wi/local-azure deploy --prod --legacy --prefer-offline --reporter=append-only /out \
 && sh docker/prune-deploy.sh /out \
 && cp docker/local-cloud.mjs /out/local-cloud.mjs \
 && cp infra/identities.json /out/identities.json

# ---- a root filesystem with nothing but node, the libraries it links, and a user ----
FROM node AS rootfs
COPY docker/strip-elf.mjs /tmp/strip-elf.mjs
RUN set -eu; \
    node=$(command -v node); \
    mkdir -p /rootfs/usr/local/bin /rootfs/etc /rootfs/tmp /rootfs/app; \
    chmod 1777 /rootfs/tmp; \
    cp "$node" /rootfs/usr/local/bin/node; \
    node /tmp/strip-elf.mjs /rootfs/usr/local/bin/node; \
    for lib in $(ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do \
      mkdir -p "/rootfs$(dirname "$lib")"; cp -L "$lib" "/rootfs$lib"; \
    done; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/tmp:/sbin/nologin\n' > /rootfs/etc/passwd; \
    printf 'root:x:0:\nnode:x:1000:\n' > /rootfs/etc/group; \
    printf 'hosts: files dns\n' > /rootfs/etc/nsswitch.conf; \
    /rootfs/usr/local/bin/node --version >/dev/null

# The local cloud's state and public folders, owned by the runtime user: Docker copies ownership
# into a new named volume mounted there, so the volume starts out writable by uid 1000.
FROM rootfs AS rootfs-local-cloud
COPY --from=build /repo/services.txt /tmp/services.txt
RUN for service in $(cat /tmp/services.txt); do mkdir -p "/rootfs/var/lib/local-azure/tokens/$service"; done \
 && mkdir -p /rootfs/run/local-azure \
 && chown -R 1000:1000 /rootfs/var/lib/local-azure /rootfs/run/local-azure

FROM scratch AS local-cloud
COPY --from=rootfs-local-cloud /rootfs/ /
COPY --from=deploy-local-cloud /out /app
WORKDIR /app
ENV NODE_ENV=production
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/node", "local-cloud.mjs"]

# ---- the service image (default target) ----
FROM scratch AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="doc-intake-${SERVICE}" \
      org.opencontainers.image.description="Microsoft Entra Workload ID on AKS with NestJS: ${SERVICE}"
COPY --from=rootfs /rootfs/ /
# Owned by root, so the service (uid 1000) cannot change its own code even where the root
# filesystem is writable.
COPY --from=deploy /out /app
WORKDIR /app
# NODE_COMPILE_CACHE: made at build time (see the deploy stage); where the build made none,
# Node finds the folder missing and compiles as without it.
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/app/.node-compile-cache
USER 1000:1000
# Node is PID 1 and handles SIGTERM itself: runService enables Nest's shutdown hooks, which stop
# the HTTP server, drain the Service Bus worker and close the clients before exiting. The service
# spawns no child processes, so there are no zombies to reap (no tini needed).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/node", "dist/main.js"]
