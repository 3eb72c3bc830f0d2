#!/usr/bin/env bash
# Measures the service images: size (as `docker images` counts it, and gzip-compressed as a
# registry stores it), cold start (docker run → first 200 from /healthz/ready, against the local
# cloud, which this script starts on the host), and idle RSS (VmRSS of the container's node
# process, and the container's cgroup memory, after IDLE_SECONDS of idling once ready).
# Prints a Markdown table for bench/results/images.md.
#   pnpm build && scripts/docker-build.sh && scripts/docker-bench.sh
# Environment: IMAGE_PREFIX / IMAGE_TAG as for docker-build.sh, RUNS (default 5),
# IDLE_SECONDS (default 20), DOCKER. Uses the local cloud's default ports (4443, 4444, 10000,
# 8081, 5671): stop `pnpm dev` first. Linux only (host networking, /proc).
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${IMAGE_PREFIX:-doc-intake-}
tag=${IMAGE_TAG:-dev}
runs=${RUNS:-5}
idle=${IDLE_SECONDS:-20}
docker=${DOCKER:-docker}
state=$(mktemp -d)
containers=()

cleanup() {
  for id in "${containers[@]}"; do "$docker" rm -f "$id" >/dev/null 2>&1 || true; done
  [ -n "${cloud_pid:-}" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null
  rm -rf "$state"
}
trap cleanup EXIT

node packages/local-azure/dist/cli.js start --state-dir "$state" >"$state/cloud.log" 2>&1 &
cloud_pid=$!
for _ in $(seq 1 100); do grep -q 'local cloud ready' "$state/cloud.log" && break; sleep 0.1; done
grep -q 'local cloud ready' "$state/cloud.log" || { cat "$state/cloud.log" >&2; exit 1; }
chmod 0644 "$state"/tokens/*/azure-identity-token

now_ms() { date +%s%3N; }

# The Deployment's memory limit (k8s/base/SERVICE/deployment.yaml, e.g. 512Mi → 512m): Node
# sizes V8's heap from the cgroup's limit, so idle memory in a pod differs from an unlimited run.
pod_memory_limit() {
  awk '/limits:/ {f = 1} f && /memory:/ {print $2; exit}' "k8s/base/$1/deployment.yaml" | sed 's/Mi$/m/; s/Gi$/g/'
}

# Runs SERVICE on PORT against the local cloud, with MEMORY_LIMIT if given; prints the container id.
start() {
  local service=$1 port=$2 memory=${3:-}
  sed -e 's|^AZURE_FEDERATED_TOKEN_FILE=.*|AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token|' \
    -e 's|^NODE_EXTRA_CA_CERTS=.*|NODE_EXTRA_CA_CERTS=/etc/local-azure/ca.pem|' \
    -e 's|^NODE_OPTIONS=.*|NODE_OPTIONS=--require /etc/local-azure/localhost-dns.cjs|' \
    -e 's/"//g' "$state/env/$service.env" >"$state/$service.docker.env"
  "$docker" run -d --network host --read-only --tmpfs /tmp ${memory:+--memory "$memory"} \
    --env-file "$state/$service.docker.env" \
    -e PORT="$port" -e BACKEND_URL=http://localhost:3901 -e COOKIE_SECURE=false \
    -v "$state/tokens/$service:/var/run/secrets/azure/tokens:ro" \
    -v "$state/ca/ca.pem:/etc/local-azure/ca.pem:ro" \
    -v "$PWD/packages/local-azure/preload/localhost-dns.cjs:/etc/local-azure/localhost-dns.cjs:ro" \
    "$prefix$service:$tag"
}

wait_ready() {
  local port=$1
  for _ in $(seq 1 600); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/healthz/ready" && return 0
    sleep 0.05
  done
  return 1
}

echo "| image | size | compressed (gzip) | cold start → ready (median of $runs, min–max) | idle RSS, no memory limit (VmRSS of node) | idle cgroup memory | idle RSS with the pod's limit | idle cgroup memory with the pod's limit |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"

# Idles SERVICE on PORT (with MEMORY_LIMIT if given) and prints "VmRSS (anon) | cgroup memory".
idle_memory() {
  local service=$1 port=$2 memory=${3:-} id pid rss cgroup
  id=$(start "$service" "$port" "$memory")
  containers+=("$id")
  wait_ready "$port" || { "$docker" logs "$id" >&2; exit 1; }
  sleep "$idle"
  pid=$("$docker" inspect --format '{{.State.Pid}}' "$id")
  # VmRSS counts the mapped node binary (file pages, shared with every container of the image);
  # RssAnon is the heap and stacks the process itself owns.
  rss=$(awk '/^VmRSS/ {t = $2} /^RssAnon/ {a = $2} END {printf "%.0f MB (anon %.0f MB)", t/1024, a/1024}' "/proc/$pid/status")
  cgroup=$("$docker" stats --no-stream --format '{{.MemUsage}}' "$id" | cut -d/ -f1)
  "$docker" rm -f "$id" >/dev/null
  echo "$rss | $cgroup"
}

port=3900
for service in backend frontend; do
  port=$((port + 1))
  ref="$prefix$service:$tag"
  size=$("$docker" image inspect --format '{{.Size}}' "$ref" | awk '{printf "%.0f MB", $1/1e6}')
  compressed=$("$docker" save "$ref" | gzip -6 | wc -c | awk '{printf "%.0f MB", $1/1e6}')
  limit=$(pod_memory_limit "$service")
  times=()
  for _ in $(seq 1 "$runs"); do
    t0=$(now_ms)
    id=$(start "$service" "$port" "$limit")
    containers+=("$id")
    wait_ready "$port" || { "$docker" logs "$id" >&2; exit 1; }
    times+=($(($(now_ms) - t0)))
    "$docker" rm -f "$id" >/dev/null
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(echo "$sorted" | awk -v n="$runs" 'NR == int((n + 1) / 2)')
  range="$(echo "$sorted" | head -1)–$(echo "$sorted" | tail -1)"
  unlimited=$(idle_memory "$service" "$port")
  limited=$(idle_memory "$service" "$port" "$limit")
  echo "| $ref | $size | $compressed | ${median} ms ($range) | $unlimited | $limited (limit $limit) |"
done
