import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCredential } from '@wi/azure';
import type { LocalCloud } from '@wi/local-azure';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  identitiesFile,
  repoRoot,
  type RunningService,
  startLocalCloud,
  startService,
  waitForOk,
} from '../support/local-stack.js';
import { frontendCredential } from '../support/seed.js';

describe('the workload identity exchange', () => {
  let cloud: LocalCloud;
  const events: Record<string, unknown>[] = [];

  beforeAll(async () => {
    cloud = await startLocalCloud({ log: (event) => events.push(event) });
  });
  afterAll(async () => cloud?.stop());

  it('has the identities of the default deployment: one of an optional feature is skipped, saying why', () => {
    expect(cloud.identities.identities.map((identity) => identity.service)).toEqual([
      'frontend',
      'backend',
    ]);
    // [keda] begin
    expect(events).toContainEqual({
      event: 'identity-skipped',
      identity: 'id-keda',
      reason: "feature 'keda' has no local counterpart",
    });
    // No token file, no client id: as in Azure without ENABLE_KEDA_AUTOSCALING.
    expect(() => cloud.env('keda')).toThrow(/No identity for service 'keda'/);
    // [keda] end
  });

  it('makes one token request per audience for 200 concurrent callers of the shared credential', async () => {
    // DefaultAzureCredential reads the webhook's variables from process.env, as in a pod.
    // Stubbed, not assigned, so that no later file in this worker inherits them.
    for (const [name, value] of Object.entries(cloud.env('backend'))) vi.stubEnv(name, value);
    const credential = createCredential();
    const audiences = [
      'https://vault.localhost/.default',
      `${cloud.cosmos.endpoint.replace(/\/$/, '')}/.default`,
    ];
    const before = cloud.sts.exchanges().length;
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => credential.getToken(audiences[i % audiences.length]!)),
    );
    expect(tokens.every((token) => token && token.token.length > 0)).toBe(true);
    const made = cloud.sts.exchanges().slice(before);
    console.log(`200 concurrent getToken calls → ${made.length} token requests`);
    expect(made.map((e) => e.scope).sort()).toEqual(audiences.slice().sort());
  });

  it('presents the token file as it is now: an expired projected token fails with AADSTS700024', async () => {
    const env = cloud.env('frontend');
    // A new credential for each call: it reads the token file afresh instead of its cached copy.
    const credential = () => frontendCredential(cloud);
    const tokenBefore = await readFile(env.AZURE_FEDERATED_TOKEN_FILE!, 'utf8');
    await cloud.sts.writeServiceAccountToken('frontend', { lifetimeSeconds: -3600 });
    expect(await readFile(env.AZURE_FEDERATED_TOKEN_FILE!, 'utf8')).not.toBe(tokenBefore);
    await expect(credential().getToken('https://servicebus.azure.net/.default')).rejects.toThrow(
      /AADSTS700024/,
    );
    await cloud.sts.writeServiceAccountToken('frontend');
    await expect(
      credential().getToken('https://servicebus.azure.net/.default'),
    ).resolves.toBeTruthy();
  });
});

describe('a misconfigured federated credential', () => {
  let cloud: LocalCloud;
  let backend: RunningService | undefined;

  beforeAll(async () => {
    const identities = JSON.parse(await readFile(identitiesFile, 'utf8'));
    const entry = identities.identities.find((i: { service: string }) => i.service === 'backend');
    entry.federatedCredential.subject = 'system:serviceaccount:doc-intake:backend-typo';
    const dir = await mkdtemp(join(tmpdir(), 'identities-'));
    const file = join(dir, 'identities.json');
    await writeFile(file, JSON.stringify(identities));
    cloud = await startLocalCloud({ identitiesFile: file });
  });
  afterEach(async () => backend?.stop());
  afterAll(async () => cloud?.stop());

  it('makes the backend report not ready with AADSTS700213', async () => {
    backend = await startService('backend', cloud.env('backend'));
    await waitForOk(`${backend.url}/healthz/live`, backend);
    const response = await fetch(`${backend.url}/healthz/ready`);
    const body = await response.text();
    expect(response.status).toBe(503);
    expect(body).toContain('AADSTS700213');
    expect(cloud.sts.exchanges().some((e) => e.error === 'AADSTS700213')).toBe(true);
  });
});

describe('start-up configuration', () => {
  it.each(['backend', 'frontend'])(
    '%s exits non-zero with one line naming a missing variable',
    (service) => {
      const result = spawnSync(
        process.execPath,
        [join(repoRoot, `services/${service}/dist/main.js`)],
        {
          env: {
            PATH: process.env.PATH ?? '',
            AZURE_CLIENT_ID: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
            AZURE_TENANT_ID: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5c',
            AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
            AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
            BACKEND_URL: 'http://localhost:3001',
          },
          encoding: 'utf8',
          timeout: 20_000,
        },
      );
      expect(result.status).not.toBe(0);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${service}: Missing environment variable AZURE_`));
    },
  );
});
