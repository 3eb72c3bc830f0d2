#!/usr/bin/env node
// A 10 MiB upload through the frontend (browser form → busboy → uploadStream → Blob, then the
// Service Bus announcement) against the same file sent with `uploadStream` straight to the Blob
// emulator, with the frontend's identity and the frontend's block size and concurrency.
// Alternating rounds in one run, throughput as median and spread, and the ratio of the medians.
// Then the frontend's memory per upload in flight: peak VmRSS over idle while UPLOADS_IN_FLIGHT
// uploads run at once, divided by their number.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
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
const port = await freePort();
const frontend = spawn(process.execPath, [`${root}services/frontend/dist/main.js`], {
  cwd: root,
  env: {
    ...process.env,
    ...env,
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

const container = new BlobServiceClient(
  env.AZURE_STORAGE_BLOB_ENDPOINT,
  await workloadCredential(cloud, 'frontend'),
).getContainerClient('uploads');
const file = Buffer.alloc(FILE_BYTES, 'x');
const form = await multipartForm(file);

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
  const status = await post(form);
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

// Memory: idle first (after a GC-free pause), then the peak while IN_FLIGHT uploads run at once.
await new Promise((resolve) => setTimeout(resolve, 1000));
const idle = rssMiB(frontend.pid);
const memory = {};
for (const inFlight of [1, IN_FLIGHT]) {
  let peak = rssMiB(frontend.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(frontend.pid))), 10);
  const statuses = await Promise.all(Array.from({ length: inFlight }, () => post(form)));
  clearInterval(sampler);
  if (statuses.some((status) => status !== 202))
    throw new Error(`concurrent uploads answered ${statuses.join(', ')}`);
  memory[inFlight] = { peak, perUpload: (peak - idle) / inFlight };
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
frontend.kill('SIGTERM');
await new Promise((resolve) => frontend.once('exit', resolve));
await cloud.stop();

const line = (path) =>
  `${summary[path].median.toFixed(1)} MiB/s (${summary[path].min.toFixed(1)}–${summary[path].max.toFixed(1)})`;
console.log(`frontend ${line('frontend')}   direct uploadStream ${line('direct')}`);
console.log(`→ frontend ÷ direct ${ratio.toFixed(2)}× (goal ≥ 0.8×)`);
for (const [n, m] of Object.entries(memory))
  console.log(
    `${n} upload(s) in flight: peak VmRSS ${m.peak.toFixed(0)} MiB over idle ${idle.toFixed(0)} MiB → ${m.perUpload.toFixed(1)} MiB per upload`,
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

Memory per upload in flight (the frontend's peak VmRSS, sampled every 10 ms, over its idle ${idle.toFixed(0)} MiB, no memory limit):
${Object.entries(memory)
  .map(
    ([n, m]) =>
      `- ${n} at once: peak ${m.peak.toFixed(0)} MiB → ${m.perUpload.toFixed(1)} MiB per upload`,
  )
  .join('\n')}`,
);

/** The file as a browser form sends it: the CSRF field first, then the file. */
async function multipartForm(bytes) {
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
function post({ headers, body }) {
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

function rssMiB(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
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
