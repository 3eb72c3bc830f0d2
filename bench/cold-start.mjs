#!/usr/bin/env node
// Per service: cold start to ready (process spawn → /healthz/ready answers 200, which includes
// the first token exchange and a probe of every resource), start to live, idle RSS once ready,
// and RSS after load. Several runs each, median reported, against the local cloud.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import {
  freePort,
  percentile,
  record,
  relaunchTrustingLocalCa,
  root,
  startCloud,
  workloadCredential,
} from './lib.mjs';

await relaunchTrustingLocalCa();
const RUNS = Number(process.env.RUNS ?? 5);
// The load after the idle reading, and how long a ready service idles before it.
const REQUESTS = Number(process.env.REQUESTS ?? 500);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 1);
// The services run with the same defaults as this process: V8 derives them from the memory.
// The young generation grows while allocated objects survive, so keep enough of them for a moment
// to see how large it gets.
const heapLimitMiB = (getHeapStatistics().heap_size_limit / 2 ** 20).toFixed(0);
let kept = [];
for (let i = 0; i < 2e6; i++) kept.push({ i });
kept = undefined;
const youngMiB = (
  getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size /
  2 ** 20
).toFixed(0);
const cloud = await startCloud();

function rssMiB(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

async function until(url, started) {
  for (;;) {
    try {
      if ((await fetch(url)).ok) return performance.now() - started;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function start(name, env) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [`services/${name}/dist/main.js`], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const liveMs = await until(`${url}/healthz/live`, started);
  const readyMs = await until(`${url}/healthz/ready`, started);
  return { child, url, liveMs, readyMs };
}

async function stop(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

// Side by side in each run: the services as shipped, and with OpenTelemetry switched off, which
// is what the SDK, its instrumentations and the span processors cost at start-up and at idle.
const VARIANTS = {
  shipped: { OTEL_SDK_DISABLED: 'false' },
  'without telemetry': { OTEL_SDK_DISABLED: 'true' },
};

async function measureOnce(name, variantEnv) {
  const env =
    name === 'frontend'
      ? { ...cloud.env('frontend'), BACKEND_URL: backendUrl, ...variantEnv }
      : { ...cloud.env('backend'), ...variantEnv };
  const service = await start(name, env);
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const idle = rssMiB(service.child.pid);
  // Load: REQUESTS requests of the service's busiest read path, 20 at a time. The backend's API
  // admits only the frontend's identity, so its requests carry the frontend's token for it.
  const path = name === 'frontend' ? '/' : '/documents';
  const headers =
    name === 'frontend' ? {} : { authorization: `Bearer ${await frontendApiToken()}` };
  for (let sent = 0; sent < REQUESTS; sent += 20) {
    const statuses = await Promise.all(
      Array.from({ length: Math.min(20, REQUESTS - sent) }, () =>
        fetch(`${service.url}${path}`, { headers }).then(
          async (r) => (await r.arrayBuffer(), r.status),
        ),
      ),
    );
    const failed = statuses.find((status) => status !== 200);
    if (failed) throw new Error(`${name} GET ${path} answered ${failed} under load`);
  }
  const loaded = rssMiB(service.child.pid);
  return { service, run: { liveMs: service.liveMs, readyMs: service.readyMs, idle, loaded } };
}

/** The token the frontend sends the backend: its own identity, the backend API's scope. */
async function frontendApiToken() {
  const credential = await workloadCredential(cloud, 'frontend');
  return (await credential.getToken(cloud.env('frontend').BACKEND_API_SCOPE)).token;
}

const results = {};
let backendUrl;
let backendChild;
for (const name of ['backend', 'frontend']) {
  const runs = Object.fromEntries(Object.keys(VARIANTS).map((variant) => [variant, []]));
  for (let i = 0; i < RUNS; i++) {
    // Alternate which variant goes first, so neither always starts on a warmer machine.
    const order = Object.keys(VARIANTS);
    if (i % 2 === 1) order.reverse();
    for (const variant of order) {
      const { service, run } = await measureOnce(name, VARIANTS[variant]);
      runs[variant].push(run);
      if (name === 'backend' && variant === 'shipped' && i === RUNS - 1) {
        backendUrl = service.url; // keep the last backend for the frontend's page renders
        backendChild = service.child;
      } else await stop(service.child);
    }
  }
  for (const variant of Object.keys(VARIANTS)) {
    const median = (key) =>
      percentile(
        runs[variant].map((r) => r[key]),
        50,
      );
    results[`${name} ${variant}`] = {
      live: median('liveMs'),
      ready: median('readyMs'),
      idle: median('idle'),
      loaded: median('loaded'),
    };
  }
  const shipped = results[`${name} shipped`];
  const bare = results[`${name} without telemetry`];
  console.log(
    `${name.padEnd(9)} live ${shipped.live.toFixed(0)} ms, ready ${shipped.ready.toFixed(0)} ms, idle RSS ${shipped.idle.toFixed(0)} MiB, after ${REQUESTS} requests ${shipped.loaded.toFixed(0)} MiB`,
  );
  console.log(
    `${' '.repeat(9)} without telemetry: ready ${bare.ready.toFixed(0)} ms, idle RSS ${bare.idle.toFixed(0)} MiB → telemetry costs ${(shipped.ready / bare.ready).toFixed(2)}× ready time, ${(shipped.idle / bare.idle).toFixed(2)}× idle RSS`,
  );
}
await stop(backendChild);
await cloud.stop();

const row = (name) =>
  `| ${name} | ${results[name].live.toFixed(0)} ms | ${results[name].ready.toFixed(0)} ms | ${results[name].idle.toFixed(0)} MiB | ${results[name].loaded.toFixed(0)} MiB |`;
const ratio = (name) => {
  const shipped = results[`${name} shipped`];
  const bare = results[`${name} without telemetry`];
  return `- ${name}: ${(shipped.ready / bare.ready).toFixed(2)}× ready time (+${(shipped.ready - bare.ready).toFixed(0)} ms), ${(shipped.idle / bare.idle).toFixed(2)}× idle RSS (+${(shipped.idle - bare.idle).toFixed(0)} MiB)`;
};
const verdict = (name) => {
  const r = results[`${name} shipped`];
  const notes = [];
  notes.push(
    r.ready <= 1500
      ? `ready ${r.ready.toFixed(0)} ms ≤ 1.5 s`
      : `ready missed 1.5 s by ${(r.ready - 1500).toFixed(0)} ms`,
  );
  notes.push(
    r.idle <= 120
      ? `idle RSS ≤ 120 MB`
      : `idle RSS over 120 MB by ${(r.idle - 120).toFixed(0)} MiB`,
  );
  return `- ${name}: ${notes.join('; ')}`;
};
record(
  'cold-start',
  'Service cold start and memory',
  `Median of ${RUNS} runs per service and variant, from \`node dist/main.js\` to the endpoint answering 200. Ready includes the first token exchange per audience and a probe of every resource. RSS from /proc after ${IDLE_SECONDS} s idle, and after ${REQUESTS} requests (backend \`GET /documents\`, frontend \`GET /\`).

| service | live | ready | idle RSS | RSS after load |
| --- | ---: | ---: | ---: | ---: |
${row('backend shipped')}
${row('backend without telemetry')}
${row('frontend shipped')}
${row('frontend without telemetry')}

What OpenTelemetry costs (shipped ÷ \`OTEL_SDK_DISABLED=true\`, measured side by side, alternating):
${ratio('backend')}
${ratio('frontend')}

Goals (cold start ≤ 1.5 s, idle RSS ≤ 120 MB):
${verdict('backend')}
${verdict('frontend')}

No memory limit here: V8 sizes its heap from this machine's ${(totalmem() / 2 ** 30).toFixed(0)} GiB (heap limit ${heapLimitMiB} MiB, young generation up to ${youngMiB} MiB), so these processes hold more than they would in a pod, where Node sizes the heap from the Deployment's memory limit. \`scripts/docker-bench.sh\` measures the images under those limits (bench/results/images.md).`,
);
