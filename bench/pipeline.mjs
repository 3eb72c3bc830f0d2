#!/usr/bin/env node
// Pipeline throughput and latency at fixed rates: documents are uploaded (blob + message, as
// the frontend's identity) at 10, 50 and 200 per second; latency is from the send to the
// record's write in Cosmos DB. The backend's worker and a bare-SDK loop (bare-worker.mjs)
// process the same load, ROUNDS times each, alternating (backend, bare, backend, bare, …), each
// round against a fresh local cloud: one run gives medians and spreads, side by side, so a slow
// moment of a shared machine lands on both workers instead of deciding the ratio.
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import {
  TIMED_OUT,
  WORKERS,
  frontendUploads,
  percentile,
  record,
  relaunchTrustingLocalCa,
  startCloud,
  startWorker,
  withTimeout,
} from './lib.mjs';

await relaunchTrustingLocalCa();
const RATES = (process.env.RATES ?? '10,50,200').split(',').map(Number);
// Not SECONDS: bash keeps a variable of that name counting the shell's age.
const SECONDS = Number(process.env.SECONDS_PER_RATE ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
// OTEL_SDK_DISABLED=true measures the backend without tracing (the 2026-11-25 17:14 run found
// it within noise of the traced backend).
const OTEL_DISABLED = process.env.OTEL_SDK_DISABLED ?? 'false';

// The record's write is seen where it lands: the Cosmos emulator runs in this process, and a
// create or upsert answered 2xx carries the document's id as its partition key (the container
// is partitioned by id). No polling: a poll of the whole container every 10 ms cost this
// process more CPU as records accumulated, on the cores the workers need.
const written = { port: 0, onRecord: (_id) => undefined };
const emit = https.Server.prototype.emit;
https.Server.prototype.emit = function (event, req, res, ...rest) {
  if (event === 'request' && req.method === 'POST' && this.address()?.port === written.port) {
    const key = req.headers['x-ms-documentdb-partitionkey'];
    if (typeof key === 'string' && req.url.endsWith('/docs'))
      res.once('finish', () => {
        if (res.statusCode < 300) written.onRecord(JSON.parse(key)[0]);
      });
  }
  return emit.call(this, event, req, res, ...rest);
};

async function measure(kind, rate) {
  const cloud = await startCloud();
  written.port = Number(new URL(cloud.env('backend').AZURE_COSMOS_ENDPOINT).port);
  const { upload, close } = await frontendUploads(cloud);
  const total = rate * SECONDS;
  const sentAt = new Map();
  const latencies = [];
  let lastRecord = 0;
  let allWritten;
  const drained = new Promise((resolve) => (allWritten = resolve));
  written.onRecord = (id) => {
    const sent = sentAt.get(id);
    if (sent === undefined) return;
    lastRecord = performance.now();
    latencies.push(lastRecord - sent);
    sentAt.delete(id);
    if (latencies.length === total) allWritten();
  };
  // Off the clock: the sender's first token exchanges and link, and the worker's start-up
  // (its token exchanges, signing key and receive link), proven by one document processed.
  const worker = await startWorker(kind, cloud);
  const warmUp = randomUUID();
  const warmedUp = new Promise((resolve) => {
    const onRecord = written.onRecord;
    written.onRecord = (id) => (id === warmUp ? resolve() : onRecord(id));
  });
  await upload(-1, warmUp);
  if ((await withTimeout(warmedUp, 60_000)) === TIMED_OUT) throw new Error(`${kind}: no warm-up`);

  const started = performance.now();
  const sends = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const id = randomUUID();
    sentAt.set(id, performance.now());
    sends.push(upload(i, id));
  }
  await Promise.all(sends);
  // Until the last record is written, or a minute after the last send (then fewer are processed).
  await withTimeout(drained, 60_000);
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  await close();
  await cloud.stop();
  return {
    processed: latencies.length,
    total,
    // From the first send to the last record: at saturation, the rate the worker drains at.
    throughput: latencies.length / ((lastRecord - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const median = (values) => percentile(values, 50);
const spread = (values) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

const rows = [];
for (const rate of RATES) {
  const runs = { backend: [], bare: [] };
  for (let round = 0; round < ROUNDS; round++)
    for (const kind of Object.keys(WORKERS)) {
      const result = await measure(kind, rate);
      runs[kind].push(result);
      console.log(
        `  ${rate}/s round ${round + 1} ${kind.padEnd(7)} ${result.throughput.toFixed(1)}/s p50 ${result.p50.toFixed(0)} ms p99 ${result.p99.toFixed(0)} ms (${result.processed}/${result.total})`,
      );
    }
  const summary = Object.fromEntries(
    Object.entries(runs).map(([kind, results]) => {
      const throughputs = results.map((r) => r.throughput);
      const p50s = results.map((r) => r.p50);
      return [
        kind,
        {
          throughput: median(throughputs),
          throughputSpread: spread(throughputs),
          p50: median(p50s),
          p50Spread: spread(p50s),
          p99: median(results.map((r) => r.p99)),
          processed: results.reduce((sum, r) => sum + r.processed, 0),
          total: results.reduce((sum, r) => sum + r.total, 0),
        },
      ];
    }),
  );
  const { backend, bare } = summary;
  const ratio = backend.throughput / bare.throughput;
  // Each round's backend and bare runs are minutes apart at most: their ratio is the least
  // touched by a machine whose load drifts over the run.
  const paired = runs.backend.map((r, i) => r.throughput / runs.bare[i].throughput);
  const pairedText = `paired rounds ${median(paired).toFixed(2)}× (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`;
  const show = (s) =>
    `${s.throughput.toFixed(1)}/s (${s.throughputSpread}) p50 ${s.p50.toFixed(0)} ms p99 ${s.p99.toFixed(0)} ms (${s.processed}/${s.total})`;
  console.log(
    `${String(rate).padStart(4)}/s  backend ${show(backend)}  bare ${show(bare)}  → throughput ${ratio.toFixed(2)}× the bare loop's; ${pairedText}`,
  );
  const cell = (s) =>
    `${s.throughput.toFixed(1)}/s (${s.throughputSpread}) | ${s.p50.toFixed(0)} ms (${s.p50Spread}) / ${s.p99.toFixed(0)} ms | ${s.processed}/${s.total}`;
  rows.push(
    `| ${rate}/s | ${cell(backend)} | ${cell(bare)} | ${ratio.toFixed(2)}× | ${pairedText.replace('paired rounds ', '')} |`,
  );
}
record(
  'pipeline',
  'Pipeline latency and throughput: the backend worker vs a bare SDK loop',
  `${ROUNDS} rounds per worker at each rate, alternating backend and bare loop, each round ${SECONDS} s of uploads (blob + message as the frontend's identity) against a fresh local cloud, after one warm-up document. Latency: from the send to the record's write answered by the Cosmos emulator. Throughput: records from the first send to the last record. Medians, with the spread (min–max) over the rounds in brackets. Both workers run with concurrency 8; the backend with OpenTelemetry ${OTEL_DISABLED === 'true' ? 'off' : 'on'}.

| rate | backend throughput | backend p50 / p99 | backend processed | bare throughput | bare p50 / p99 | bare processed | throughput ratio (medians) | ratio per round (median, spread) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Goal: at 200 docs/s the backend's throughput ≥ 0.9× the bare loop's.`,
);
