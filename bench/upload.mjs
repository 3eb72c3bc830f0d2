#!/usr/bin/env node
// A 10 MiB upload through the frontend (browser form → busboy → uploadStream → Blob, then the
// Service Bus announcement) against the same file sent with `uploadStream` straight to the Blob
// emulator, with the frontend's identity and the frontend's block size and concurrency.
// Alternating rounds in one run, throughput as median and spread, and the ratio of the medians.
// Then the frontend's memory per upload in flight: its live memory (after forced GCs) at the
// peak while UPLOADS_IN_FLIGHT uploads run at once, over idle, divided by their number.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const FILE_BYTES = Number(process.env.FILE_BYTES ?? 10 * 1024 * 1024);
const IN_FLIGHT = Number(process.env.UPLOADS_IN_FLIGHT ?? 4);
// services/frontend/src/uploads/blob-upload.sink.ts: the direct upload uses the same.
const BLOCK_BYTES = 1024 * 1024;
const CONCURRENCY = 2;
// What a socket hands the server at a time; the direct upload reads its file in the same pieces.
const CHUNK_BYTES = 64 * 1024;

const { BlobServiceClient } = await import('@azure/storage-blob');
const cloud = await startCloud();
const env = cloud.env('frontend');
const frontend = await startFrontend();
const base = frontend.base;

const container = new BlobServiceClient(
  env.AZURE_STORAGE_BLOB_ENDPOINT,
  await workloadCredential(cloud, 'frontend'),
).getContainerClient('uploads');
const file = Buffer.alloc(FILE_BYTES, 'x');
const form = await multipartForm(file, base);

async function direct() {
  const started = performance.now();
  await container
    .getBlockBlobClient(`direct-${crypto.randomUUID()}`)
    .uploadStream(chunked(file), BLOCK_BYTES, CONCURRENCY, {
      blobHTTPHeaders: { blobContentType: 'text/plain' },
      conditions: { ifNoneMatch: '*' },
    });
  return performance.now() - started;
}

async function viaFrontend() {
  const started = performance.now();
  const status = await post(form, base);
  if (status !== 202)
    throw new Error(`the frontend answered ${status} to a ${FILE_BYTES} B upload`);
  return performance.now() - started;
}

// One of each first, unmeasured: the first token exchange and TLS handshakes belong to neither.
await direct();
await viaFrontend();
const times = { frontend: [], direct: [] };
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so neither always runs on a warmer (or more tired) machine.
  const order = round % 2 === 0 ? ['frontend', 'direct'] : ['direct', 'frontend'];
  for (const path of order)
    times[path].push(path === 'direct' ? await direct() : await viaFrontend());
}
const mibPerSecond = (ms) => FILE_BYTES / 2 ** 20 / (ms / 1000);
const summary = Object.fromEntries(
  Object.entries(times).map(([path, ms]) => {
    const rates = ms.map(mibPerSecond);
    return [
      path,
      { median: percentile(rates, 50), min: Math.min(...rates), max: Math.max(...rates) },
    ];
  }),
);
const ratio = summary.frontend.median / summary.direct.median;

// Memory: a fresh frontend per level (the one above holds the garbage of every round), with a
// preload that, once the frontend is ready, forces a GC every 20 ms and logs what is still live
// (bench/live-memory.cjs). Idle after one upload; then the peak while the uploads run at once.
// Peak over idle, per upload, is what an upload in flight holds.
const memory = {};
for (const inFlight of [1, IN_FLIGHT]) {
  const log = join(mkdtempSync(join(tmpdir(), 'bench-upload-')), 'live.txt');
  const fresh = await startFrontend({
    args: ['--expose-gc', '--require', `${root}bench/live-memory.cjs`],
    env: { BENCH_LIVE_MEMORY_FILE: log },
  });
  fresh.child.kill('SIGUSR2'); // the forced GCs and their samples start
  const freshForm = await multipartForm(file, fresh.base);
  // One upload first: the token exchange, TLS sessions and the sender link are not per upload.
  await post(freshForm, fresh.base);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = Date.now();
  const statuses = await Promise.all(
    Array.from({ length: inFlight }, () => post(freshForm, fresh.base)),
  );
  const ended = Date.now();
  await stopFrontend(fresh.child);
  if (statuses.some((status) => status !== 202))
    throw new Error(`concurrent uploads answered ${statuses.join(', ')}`);
  const samples = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map(Number));
  const mib = (bytes) => bytes / 2 ** 20;
  const before = samples.filter(([t]) => t < started && t > started - 900).map(([, b]) => b);
  const during = samples.filter(([t]) => t >= started && t <= ended).map(([, b]) => b);
  if (before.length === 0 || during.length === 0)
    throw new Error(
      `no live-memory samples ${before.length === 0 ? 'in the idle second' : `in the ${ended - started} ms of ${inFlight} upload(s)`} (${samples.length} in all)`,
    );
  const idle = mib(percentile(before, 50));
  const peak = mib(Math.max(...during));
  memory[inFlight] = { idle, peak, perUpload: (peak - idle) / inFlight };
}
await stopFrontend(frontend.child);
await cloud.stop();

const line = (path) =>
  `${summary[path].median.toFixed(1)} MiB/s (${summary[path].min.toFixed(1)}–${summary[path].max.toFixed(1)})`;
console.log(`frontend ${line('frontend')}   direct uploadStream ${line('direct')}`);
console.log(`→ frontend ÷ direct ${ratio.toFixed(2)}× (goal ≥ 0.8×)`);
for (const [n, m] of Object.entries(memory))
  console.log(
    `${n} upload(s) in flight: live memory peak ${m.peak.toFixed(1)} MiB over idle ${m.idle.toFixed(1)} MiB → ${m.perUpload.toFixed(1)} MiB per upload`,
  );

record(
  'upload',
  'Upload throughput and memory',
  `${ROUNDS} alternating rounds of one ${(FILE_BYTES / 2 ** 20).toFixed(0)} MiB file, after one unmeasured upload each: POST /uploads to the frontend (\`node dist/main.js\`, multipart form, CSRF checked, Blob block upload, then the Service Bus announcement) vs \`uploadStream\` straight to the Blob emulator with the frontend's identity, ${BLOCK_BYTES / 2 ** 20} MiB blocks, ${CONCURRENCY} in parallel (the frontend's settings), read in ${CHUNK_BYTES / 1024} KiB pieces.

| path | throughput (median, min–max) |
| --- | ---: |
| frontend POST /uploads | ${line('frontend')} |
| direct uploadStream | ${line('direct')} |

Frontend ÷ direct: **${ratio.toFixed(2)}×** (goal ≥ 0.8×).

Memory per upload in flight: a fresh frontend per level, forced to collect every 20 ms (\`--expose-gc\`, bench/live-memory.cjs), its live memory (V8 heap in use + Buffers) at the peak while the uploads run over its median in the second before, divided by the uploads in flight. By design \`uploadStream\` holds at most ${CONCURRENCY + 1} blocks of ${BLOCK_BYTES / 2 ** 20} MiB per upload, plus stream buffers; MAX_CONCURRENT_UPLOADS (8) caps the uploads in flight per pod.
${Object.entries(memory)
  .map(
    ([n, m]) =>
      `- ${n} at once: peak ${m.peak.toFixed(0)} MiB → ${m.perUpload.toFixed(1)} MiB per upload`,
  )
  .join('\n')}`,
);

/** The frontend on a free port, ready; its base URL. */
async function startFrontend({ args = [], env: extra = {} } = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [...args, `${root}services/frontend/dist/main.js`], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      ...extra,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      COOKIE_SECURE: 'false',
      // Uploads need Blob Storage and Service Bus only; the backend is not on their path.
      BACKEND_URL: 'http://127.0.0.1:9',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/healthz/ready`);
  return { child, base };
}

async function stopFrontend(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The file as a browser form sends it: the CSRF field first, then the file. */
async function multipartForm(bytes, base) {
  const page = await fetch(`${base}/`);
  const cookie = page.headers
    .getSetCookie()
    .find((c) => /^(__Host-)?csrf=/.test(c))
    ?.split(';')[0];
  const token = /name="_csrf"\s+value="([^"]+)"/.exec(await page.text())?.[1];
  if (!cookie || !token) throw new Error('the upload page gave no CSRF cookie and token');
  const body = new FormData();
  body.append('_csrf', token);
  body.append('file', new Blob([bytes], { type: 'text/plain' }), 'bench.txt');
  const encoded = new Response(body);
  return {
    headers: {
      'content-type': encoded.headers.get('content-type'),
      accept: 'application/json',
      cookie,
    },
    body: Buffer.from(await encoded.arrayBuffer()),
  };
}

/** POSTs the form in socket-sized writes, honouring back-pressure; resolves with the status. */
function post({ headers, body }, base) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}/uploads`,
      { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      },
    );
    req.on('error', reject);
    Readable.from(pieces(body)).pipe(req);
  });
}

function chunked(bytes) {
  return Readable.from(pieces(bytes));
}

function* pieces(bytes) {
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES)
    yield bytes.subarray(offset, offset + CHUNK_BYTES);
}

async function waitReady(url) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never answered 200`);
}
