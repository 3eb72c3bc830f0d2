#!/usr/bin/env node
// Pipeline throughput and latency at fixed rates: documents are uploaded (blob + message, as
// the frontend's identity) at 10, 50 and 200 per second; latency is from the send to the
// record appearing in Cosmos DB. The backend's worker and a bare-SDK loop (bare-worker.mjs)
// process the same load, one after the other, against the same emulators.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
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
const RATES = (process.env.RATES ?? '10,50,200').split(',').map(Number);
// Not SECONDS: bash keeps a variable of that name counting the shell's age.
const SECONDS = Number(process.env.SECONDS_PER_RATE ?? 10);

const { ServiceBusClient } = await import('@azure/service-bus');
const { BlobServiceClient } = await import('@azure/storage-blob');

// The backend as shipped, the backend with OpenTelemetry off (what tracing every message costs),
// and a bare SDK loop (what the rest of the backend costs).
const WORKERS = {
  backend: { script: 'services/backend/dist/main.js', env: { OTEL_SDK_DISABLED: 'false' } },
  'backend, no telemetry': {
    script: 'services/backend/dist/main.js',
    env: { OTEL_SDK_DISABLED: 'true' },
  },
  bare: { script: 'bench/bare-worker.mjs', env: {} },
};

async function runWorker(kind, cloud) {
  const child = spawn(process.execPath, [`${root}${WORKERS[kind].script}`], {
    cwd: root,
    env: {
      ...process.env,
      ...cloud.env('backend'),
      ...WORKERS[kind].env,
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return child;
}

async function measure(kind, rate) {
  const cloud = await startCloud();
  const env = cloud.env('frontend');
  const credential = await workloadCredential(cloud, 'frontend');
  const container = new BlobServiceClient(
    env.AZURE_STORAGE_BLOB_ENDPOINT,
    credential,
  ).getContainerClient('uploads');
  const serviceBus = new ServiceBusClient(
    env.AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE,
    credential,
  );
  const sender = serviceBus.createSender('documents');
  await container.getBlockBlobClient('warm-up').upload('x', 1); // first token exchanges, off the clock
  await sender.createMessageBatch();
  const worker = await runWorker(kind, cloud);

  const sentAt = new Map();
  const latencies = [];
  const total = rate * SECONDS;
  const started = performance.now();
  const watcher = setInterval(async () => {
    for (const item of await cloud.cosmos.items('intake', 'documents')) {
      const sent = sentAt.get(item.id);
      if (sent !== undefined) {
        latencies.push(performance.now() - sent);
        sentAt.delete(item.id);
      }
    }
  }, 10);
  const sends = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sends.push(
      (async () => {
        const id = randomUUID();
        const text = `document ${i}\nsecond line`;
        sentAt.set(id, performance.now());
        await container
          .getBlockBlobClient(id)
          .upload(text, text.length, { blobHTTPHeaders: { blobContentType: 'text/plain' } });
        await sender.sendMessages({
          messageId: id,
          contentType: 'application/json',
          body: {
            type: 'document.uploaded',
            schemaVersion: 1,
            documentId: id,
            blobName: id,
            fileName: `d${i}.txt`,
            contentType: 'text/plain',
            size: text.length,
            uploadedAt: new Date().toISOString(),
          },
        });
      })(),
    );
  }
  await Promise.all(sends);
  const deadline = performance.now() + 60_000;
  while (latencies.length < total && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(watcher);
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  await sender.close();
  await serviceBus.close();
  await cloud.stop();
  return {
    processed: latencies.length,
    total,
    throughput: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const rows = [];
for (const rate of RATES) {
  const backend = await measure('backend', rate);
  const untraced = await measure('backend, no telemetry', rate);
  const bare = await measure('bare', rate);
  const ratio = backend.p50 / bare.p50;
  const untracedRatio = untraced.p50 / bare.p50;
  const show = (r) =>
    `p50 ${r.p50.toFixed(0)} ms p99 ${r.p99.toFixed(0)} ms (${r.processed}/${r.total})`;
  console.log(
    `${String(rate).padStart(4)}/s  backend ${show(backend)}  no telemetry ${show(untraced)}  bare ${show(bare)}  → ${ratio.toFixed(2)}× (${untracedRatio.toFixed(2)}× without telemetry)`,
  );
  const cell = (r) =>
    `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)} ms, ${r.throughput.toFixed(0)}/s (${r.processed}/${r.total})`;
  rows.push(
    `| ${rate}/s | ${cell(backend)} | ${cell(untraced)} | ${cell(bare)} | ${ratio.toFixed(2)}× | ${untracedRatio.toFixed(2)}× |`,
  );
}
record(
  'pipeline',
  'Pipeline latency and throughput: the backend worker vs a bare SDK loop',
  `Latency from the upload (blob + message sent as the frontend's identity) to the record in Cosmos DB, at fixed rates for ${SECONDS} s each, against the local cloud; the record is detected by polling the emulator every 10 ms, which adds up to ~10 ms. All three workers run with concurrency 8, one after the other, each against a fresh local cloud.

| rate | backend p50 / p99, throughput | backend without telemetry | bare SDK loop | p50 ratio | p50 ratio without telemetry |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Goals: overhead vs bare SDK ≤ 1.15×, p99 ≤ 250 ms at 50 docs/s.`,
);
