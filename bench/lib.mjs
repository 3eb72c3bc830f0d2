// Shared by the benchmarks: a local cloud whose CA this process trusts, results appended to
// bench/results/<name>.md with the date and the machine, and small statistics helpers.
import { spawnSync } from 'node:child_process';
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
