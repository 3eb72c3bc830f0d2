// Shared by the benchmarks: a local cloud whose CA this process trusts, results appended to
// bench/results/<name>.md with the date and the machine, and small statistics helpers.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const stateDir = `${root}.local-azure`;
const preload = `${root}packages/local-azure/preload/localhost-dns.cjs`;

/**
 * Node reads NODE_EXTRA_CA_CERTS only at start-up: create the local CA, then run this script
 * again in a child that trusts it (and resolves *.localhost). Returns only in the child.
 */
export async function relaunchTrustingLocalCa() {
  if (process.env.BENCH_CHILD === '1') return;
  const { ensureLocalCa } = await import('@wi/local-azure');
  const ca = await ensureLocalCa(stateDir);
  const result = spawnSync(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: {
      ...process.env,
      BENCH_CHILD: '1',
      NODE_EXTRA_CA_CERTS: ca.caCertPath,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(),
    },
  });
  process.exit(result.status ?? 1);
}

export async function startCloud(options = {}) {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { LocalCloud } = await import('@wi/local-azure');
  return LocalCloud.start({
    stateDir: await mkdtemp(`${tmpdir()}/bench-cloud-`),
    caDir: stateDir,
    identitiesFile: `${root}infra/identities.json`,
    ports: { sts: 0, keyVault: 0, blob: 0, cosmos: 0, serviceBus: 0 },
    ...options,
  });
}

export function machine() {
  return `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Appends one dated section to bench/results/<name>.md (creating it with a title). */
export function record(name, title, body) {
  if (process.env.BENCH_RECORD === 'off') {
    console.log(`\nnot recorded (BENCH_RECORD=off): a smoke run's numbers are not results`);
    return;
  }
  const file = `${root}bench/results/${name}.md`;
  if (!existsSync(file))
    writeFileSync(
      file,
      `# ${title}\n\nEach run appends a section; numbers are from one run, side by side.\n`,
    );
  appendFileSync(
    file,
    `\n## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${machine()}\n\n${body.trim()}\n`,
  );
  console.log(`\nrecorded in bench/results/${name}.md`);
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const TIMED_OUT = Symbol('timed out');

/**
 * `promise`'s value, or TIMED_OUT after `ms`. The timer is cleared either way: a pending one
 * would keep the benchmark's process alive for its whole length after the last result.
 */
export async function withTimeout(promise, ms) {
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(resolve, ms, TIMED_OUT)));
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A service's own workload identity credential, from the variables the local cloud hands that
 * service (loaded late: only after relaunchTrustingLocalCa does this process trust the local CA).
 */
export async function workloadCredential(cloud, service) {
  const { WorkloadIdentityCredential } = await import('@azure/identity');
  const env = cloud.env(service);
  return new WorkloadIdentityCredential({
    tenantId: env.AZURE_TENANT_ID,
    clientId: env.AZURE_CLIENT_ID,
    tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE,
    authorityHost: env.AZURE_AUTHORITY_HOST,
    disableInstanceDiscovery: true,
  });
}

/** The two workers the pipeline benchmarks compare: the backend, and a bare SDK loop. */
export const WORKERS = {
  backend: 'services/backend/dist/main.js',
  bare: 'bench/bare-worker.mjs',
};

/**
 * Starts a worker (a key of WORKERS) with the backend's identity and variables. OTEL_SDK_DISABLED
 * reaches it as set here; WORKER_NODE_OPTIONS (e.g. --cpu-prof) beside the local cloud's own.
 */
export async function startWorker(kind, cloud) {
  return spawn(process.execPath, [`${root}${WORKERS[kind]}`], {
    cwd: root,
    env: {
      ...process.env,
      ...cloud.env('backend'),
      OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED ?? 'false',
      NODE_OPTIONS:
        `${cloud.env('backend').NODE_OPTIONS ?? ''} ${process.env.WORKER_NODE_OPTIONS ?? ''}`.trim(),
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * Uploads documents as the frontend does, with its identity: the blob, then its
 * document.uploaded message. `upload(i, id)` sends document i; `close()` ends the sender.
 */
export async function frontendUploads(cloud) {
  const { ServiceBusClient } = await import('@azure/service-bus');
  const { BlobServiceClient } = await import('@azure/storage-blob');
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
  return {
    async upload(i, id = randomUUID()) {
      const text = `document ${i}\nsecond line`;
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
    },
    async close() {
      await sender.close();
      await serviceBus.close();
    },
  };
}
