#!/usr/bin/env node
// Token requests when 1000 Key Vault reads start at once, cold: this repo's pattern (one
// DefaultAzureCredential behind SingleFlightCredential, one SecretClient, per process) against
// "a new credential and client per operation", the pattern of the best-known AKS sample.
// Counts the exchanges the local STS saw, and the wall time of each side, in one run.
import { relaunchTrustingLocalCa, record, startCloud } from './lib.mjs';

await relaunchTrustingLocalCa();
const OPERATIONS = Number(process.env.OPERATIONS ?? 1000);

const { DefaultAzureCredential } = await import('@azure/identity');
const { SecretClient } = await import('@azure/keyvault-secrets');
const { createCredential } = await import('@wi/azure');

const cloud = await startCloud();
Object.assign(process.env, cloud.env('backend'));
const vault = process.env.AZURE_KEYVAULT_URL;

async function run(label, operation) {
  const before = cloud.sts.exchanges().length;
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: OPERATIONS }, operation));
  const ms = performance.now() - started;
  const failed = results.filter((r) => r.status === 'rejected').length;
  const exchanges = cloud.sts.exchanges().length - before;
  console.log(
    `${label.padEnd(38)} ${String(exchanges).padStart(5)} token requests  ${ms.toFixed(0).padStart(6)} ms  ${failed} failed`,
  );
  return { exchanges, ms, failed };
}

console.log(`${OPERATIONS} concurrent getSecret calls, cold, against the local cloud\n`);
// Warm the emulator and the JIT with a credential of its own, so neither side pays for it.
const warm = new SecretClient(vault, createCredential());
await Promise.all(Array.from({ length: 50 }, () => warm.getSecret('backend-signing-key')));
const credential = createCredential();
const client = new SecretClient(vault, credential);
const shared = await run('shared credential + client (this repo)', () =>
  client.getSecret('backend-signing-key'),
);
const perOperation = await run('new credential + client per operation', () =>
  new SecretClient(vault, new DefaultAzureCredential({ disableInstanceDiscovery: true })).getSecret(
    'backend-signing-key',
  ),
);
await cloud.stop();

const ratio = perOperation.exchanges / Math.max(1, shared.exchanges);
const speed = perOperation.ms / shared.ms;
console.log(
  `\n→ ${ratio.toFixed(0)}× fewer token requests, ${speed.toFixed(1)}× faster with the shared credential`,
);
record(
  'token-requests',
  'Token requests: shared credential vs a credential per operation',
  `${OPERATIONS} concurrent cold \`getSecret\` calls (one audience).

| pattern | token requests | wall time | failed |
| --- | ---: | ---: | ---: |
| one DefaultAzureCredential (single-flight) + one SecretClient per process | ${shared.exchanges} | ${shared.ms.toFixed(0)} ms | ${shared.failed} |
| new DefaultAzureCredential + SecretClient per operation | ${perOperation.exchanges} | ${perOperation.ms.toFixed(0)} ms | ${perOperation.failed} |

Ratio: ${ratio.toFixed(0)}× fewer token requests, ${speed.toFixed(1)}× less wall time. Goal: 1 token request per identity and audience per token lifetime — ${shared.exchanges === 1 ? 'met' : `missed (${shared.exchanges})`}.`,
);
