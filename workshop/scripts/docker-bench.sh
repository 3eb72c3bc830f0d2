#!/usr/bin/env bash
# Measures the service images side by side: size (as `docker images` counts it, and
# gzip-compressed as a registry stores it), cold start (docker run → first 200 from
# /healthz/ready, against the local cloud, which this script starts on the host), the CPU time
# node spent until ready (less sensitive than wall time to what else runs on the machine), and
# idle memory (VmRSS of the container's node process, and the container's cgroup memory, after
# IDLE_SECONDS of idling once ready), every run under the Deployment's memory limit, as a pod.
# Variants alternate run by run, so each comparison comes from one run on one machine state.
# Prints a Markdown table for bench/results/images.md.
#   pnpm build && scripts/docker-build.sh && workshop/scripts/docker-bench.sh
#   VARIANTS="before:old after:dev after-no-cache:dev:NODE_DISABLE_COMPILE_CACHE=1" workshop/scripts/docker-bench.sh
# Environment: VARIANTS (space-separated LABEL:TAG[:VAR=VALUE,...]; default one variant, the
# images tagged IMAGE_TAG), IMAGE_PREFIX / IMAGE_TAG as for docker-build.sh, RUNS (default 5 per
# variant), IDLE_SECONDS (default 20), DOCKER. Uses the local cloud's default ports (4443, 4444,
# 10000, 8081, 5671): stop `pnpm dev` first. Linux only (host networking, /proc).
set -euo pipefail
cd "$(dirname "$0")/../.."

prefix=${IMAGE_PREFIX:-doc-intake-}
tag=${IMAGE_TAG:-dev}
read -r -a variants <<<"${VARIANTS:-$tag:$tag}"
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

# Runs image TAG of SERVICE on PORT against the local cloud, with MEMORY_LIMIT and the extra
# variables EXTRA (VAR=VALUE,...); prints the container id.
start() {
  local service=$1 tag=$2 port=$3 memory=$4 extra=${5:-} extra_args=() pair
  IFS=, read -r -a pairs <<<"$extra"
  for pair in "${pairs[@]}"; do [ -n "$pair" ] && extra_args+=(-e "$pair"); done
  sed -e 's|^AZURE_FEDERATED_TOKEN_FILE=.*|AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token|' \
    -e 's|^NODE_EXTRA_CA_CERTS=.*|NODE_EXTRA_CA_CERTS=/etc/local-azure/ca.pem|' \
    -e 's|^NODE_OPTIONS=.*|NODE_OPTIONS=--require /etc/local-azure/localhost-dns.cjs|' \
    -e 's/"//g' "$state/env/$service.env" >"$state/$service.docker.env"
  "$docker" run -d --network host --read-only --tmpfs /tmp ${memory:+--memory "$memory"} \
    --env-file "$state/$service.docker.env" \
    -e PORT="$port" -e BACKEND_URL=http://localhost:3901 -e COOKIE_SECURE=false "${extra_args[@]}" \
    -v "$state/tokens/$service:/var/run/secrets/azure/tokens:ro" \
    -v "$state/ca/ca.pem:/etc/local-azure/ca.pem:ro" \
    -v "$PWD/packages/local-azure/preload/localhost-dns.cjs:/etc/local-azure/localhost-dns.cjs:ro" \
    "$prefix$service:$tag"
}

wait_ready() {
  local port=$1
  for _ in $(seq 1 1200); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/healthz/ready" && return 0
    sleep 0.05
  done
  return 1
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
range() { sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s–%s", lo, hi}'; }

echo "| service | variant | image | size | compressed (gzip) | cold start → ready, median of $runs (min–max) | CPU time to ready | idle VmRSS (anon) | idle cgroup memory |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
port=3900
for service in backend frontend; do
  port=$((port + 1))
  limit=$(pod_memory_limit "$service")
  results=$(mktemp -p "$state")
  for round in $(seq 1 "$runs"); do
    # Rotate which variant goes first, so none always starts on a warmer (or busier) machine.
    count=${#variants[@]}
    for i in $(seq 0 $((count - 1))); do
      IFS=: read -r label vtag extra <<<"${variants[$(((i + round) % count))]}"
      t0=$(now_ms)
      id=$(start "$service" "$vtag" "$port" "$limit" "$extra")
      containers+=("$id")
      wait_ready "$port" || { "$docker" logs "$id" >&2; exit 1; }
      ready=$(($(now_ms) - t0))
      pid=$("$docker" inspect --format '{{.State.Pid}}' "$id")
      # utime + stime, in clock ticks, of node until ready.
      cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", ($14 + $15) * 1000 / hz}' "/proc/$pid/stat")
      sleep "$idle"
      # VmRSS counts the mapped node binary (file pages, shared with every container of the
      # image); RssAnon is the heap and stacks the process itself owns.
      rss=$(awk '/^VmRSS/ {t = $2} /^RssAnon/ {a = $2} END {printf "%.0f %.0f", t/1024, a/1024}' "/proc/$pid/status")
      cgroup=$("$docker" stats --no-stream --format '{{.MemUsage}}' "$id" | cut -d/ -f1 | tr -d ' ')
      "$docker" rm -f "$id" >/dev/null
      echo "$label $ready $cpu $rss ${cgroup%MiB}" >>"$results"
    done
  done
  for variant in "${variants[@]}"; do
    IFS=: read -r label vtag extra <<<"$variant"
    ref="$prefix$service:$vtag"
    size=$("$docker" image inspect --format '{{.Size}}' "$ref" | awk '{printf "%.0f MB", $1/1e6}')
    compressed=$("$docker" save "$ref" | gzip -6 | wc -c | awk '{printf "%.0f MB", $1/1e6}')
    col() { awk -v l="$label" -v c="$1" '$1 == l {print $c}' "$results"; }
    echo "| $service | $label | $ref${extra:+ ($extra)} | $size | $compressed | $(col 2 | median) ms ($(col 2 | range)) | $(col 3 | median) ms | $(col 4 | median) MB ($(col 5 | median) MB) | $(col 6 | median) MiB (limit $limit) |"
  done
done
