#!/usr/bin/env node
// Round trips per document, counted where they arrive: at the local cloud. Every HTTPS request
// to a data plane or the token endpoint (by the caller's identity, read from its bearer token)
// and every AMQP frame a worker sends to Service Bus (transfers to $cbs/$management, outcomes,
// credit) is counted while a worker drains a queue of DOCUMENTS documents, after a warm-up
// document (tokens, secrets and links are start-up costs, not per-document ones). The backend
// and the bare SDK loop (bare-worker.mjs) drain the same load, each against a fresh local cloud.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import {
  WORKERS,
  frontendUploads,
  record,
  relaunchTrustingLocalCa,
  startCloud,
  startWorker,
} from './lib.mjs';

await relaunchTrustingLocalCa();
const DOCUMENTS = Number(process.env.DOCUMENTS ?? 200);

/** The identity a bearer token names (appid/azp), or 'anonymous'. Not verified: counting only. */
function callerOf(req) {
  const header = decodeURIComponent(req.headers.authorization ?? '');
  // Bearer for Blob and Key Vault, type=aad&ver=1.0&sig=<token> for Cosmos DB.
  const token = /^Bearer (\S+)/i.exec(header)?.[1] ?? /[?&]?sig=([^&]+)/.exec(header)?.[1];
  if (!token) return 'anonymous';
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    return claims.appid ?? claims.azp ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A request's kind without its ids: /uploads/<uuid> → /uploads/*, dbs/intake/docs/<id> → …/*. */
function shapeOf(path) {
  return path
    .split('?')[0]
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '*')
    .replace(/\/(docs|secrets)\/[^/]+/g, '/$1/*');
}

let counts = new Map();
const count = (key) => counts.set(key, (counts.get(key) ?? 0) + 1);

// Every HTTPS server of the local cloud runs in this process: count its requests as they arrive.
const emit = https.Server.prototype.emit;
https.Server.prototype.emit = function (event, req, ...rest) {
  if (event === 'request') {
    // Only the planes' front doors: Azurite behind the Blob proxy is an internal hop.
    const plane = planes.get(this.address()?.port);
    if (plane)
      count(
        `${callers.get(callerOf(req)) ?? callerOf(req)} ${plane} ${req.method} ${shapeOf(req.url)}`,
      );
  }
  return emit.call(this, event, req, ...rest);
};
let planes = new Map();
let callers = new Map();

function countAmqp(cloud) {
  // The emulator's rhea container (private in TypeScript, reachable here): frames clients send.
  const container = cloud.serviceBus.container;
  const link = (context) => context.receiver?.target?.address ?? context.sender?.source?.address;
  container.on('message', (context) => count(`amqp transfer → ${link(context)}`));
  for (const outcome of ['accepted', 'rejected', 'released', 'modified'])
    container.on(outcome, (context) => count(`amqp disposition ${outcome} ← ${link(context)}`));
  container.on('sendable', (context) => count(`amqp flow (credit) ← ${link(context)}`));
}

async function measure(kind) {
  const cloud = await startCloud();
  planes = new Map([
    [new URL(cloud.env('backend').AZURE_STORAGE_BLOB_ENDPOINT).port * 1, 'blob'],
    [new URL(cloud.env('backend').AZURE_COSMOS_ENDPOINT).port * 1, 'cosmos'],
    [new URL(cloud.env('backend').AZURE_KEYVAULT_URL).port * 1, 'keyVault'],
    [new URL(cloud.env('backend').AZURE_AUTHORITY_HOST).port * 1, 'entra'],
  ]);
  callers = new Map(
    ['backend', 'frontend'].map((service) => [cloud.env(service).AZURE_CLIENT_ID, service]),
  );
  countAmqp(cloud);
  const { upload, close } = await frontendUploads(cloud);
  const processed = async (n) => {
    const deadline = performance.now() + 120_000;
    while ((await cloud.cosmos.items('intake', 'documents')).length < n) {
      if (performance.now() > deadline) throw new Error(`${kind}: fewer than ${n} records`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const worker = await startWorker(kind, cloud);
  await upload(0); // warm-up: token exchanges, the signing key, links
  await processed(1);
  // The queue is filled while the worker waits on an empty one, then drained: only the worker's
  // calls (and the sender's, counted apart) fall in the window.
  counts = new Map();
  const cpuBefore = cpuMs(worker.pid);
  const filling = performance.now();
  await Promise.all(Array.from({ length: DOCUMENTS }, (_, i) => upload(i + 1)));
  await processed(DOCUMENTS + 1);
  const seconds = (performance.now() - filling) / 1000;
  const cpuPerDocument = (cpuMs(worker.pid) - cpuBefore) / DOCUMENTS;
  console.log(
    `${kind}: ${DOCUMENTS} documents in ${seconds.toFixed(1)} s, ${cpuPerDocument.toFixed(2)} ms of the worker's CPU per document`,
  );
  await new Promise((resolve) => setTimeout(resolve, 500)); // the last completions arrive
  const perDocument = [...counts]
    .filter(([key]) => !key.startsWith('frontend') && !key.includes('→ documents'))
    .map(([key, n]) => [key, n / DOCUMENTS])
    .sort(([a], [b]) => a.localeCompare(b));
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  await close();
  await cloud.stop();
  return { perDocument, cpuPerDocument };
}

/** A process's CPU time (user + system) so far, from /proc (Linux; clock ticks of 10 ms). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const results = {};
const cpu = {};
for (const kind of Object.keys(WORKERS)) {
  ({ perDocument: results[kind], cpuPerDocument: cpu[kind] } = await measure(kind));
  const total = results[kind].reduce((sum, [, n]) => sum + n, 0);
  console.log(`\n${kind}: ${total.toFixed(2)} round trips per document`);
  for (const [key, n] of results[kind]) console.log(`  ${n.toFixed(2)}  ${key}`);
}
const keys = [
  ...new Set(Object.values(results).flatMap((rows) => rows.map(([key]) => key))),
].sort();
const of = (kind, key) => (results[kind].find(([k]) => k === key)?.[1] ?? 0).toFixed(2);
const totals = Object.fromEntries(
  Object.entries(results).map(([kind, rows]) => [kind, rows.reduce((s, [, n]) => s + n, 0)]),
);
const telemetry = (process.env.OTEL_SDK_DISABLED ?? 'false') === 'true' ? 'off' : 'on';
console.log(
  `\n→ backend ${totals.backend.toFixed(2)} vs bare ${totals.bare.toFixed(2)} round trips per document; CPU ${cpu.backend.toFixed(2)} vs ${cpu.bare.toFixed(2)} ms per document (${(cpu.backend / cpu.bare).toFixed(2)}×)`,
);
record(
  'round-trips',
  'Round trips per document: the backend worker vs a bare SDK loop',
  `Counted at the local cloud while each worker drains ${DOCUMENTS} queued documents after one warm-up document (the backend's OpenTelemetry ${telemetry}). HTTP: requests by the worker's identity; AMQP: frames the worker sends (transfers to $cbs/$management, dispositions, credit). CPU: the worker process's user + system time over the same window, from /proc.

| request | backend | bare SDK loop |
| --- | ---: | ---: |
${keys.map((key) => `| ${key.replace(/^backend /, '')} | ${of('backend', key)} | ${of('bare', key)} |`).join('\n')}
| **round trips** | **${totals.backend.toFixed(2)}** | **${totals.bare.toFixed(2)}** |
| worker CPU per document | ${cpu.backend.toFixed(2)} ms | ${cpu.bare.toFixed(2)} ms |`,
);
