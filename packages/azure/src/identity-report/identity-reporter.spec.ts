import type { SecretClient } from '@azure/keyvault-secrets';
import { describe, expect, it } from 'vitest';
import type { ProbeDefinition } from '../health/permission-probes.js';
import { DeclaredDenials } from './declared-denials.js';
import { IdentityReporter, REPORT_CACHE_MS } from './identity-reporter.js';
import type { UngrantedNames } from './identity-report.options.js';
import { TokenRecorder } from './token-recorder.js';

const NONE: UngrantedNames = { secrets: [], containers: [], queues: [], cosmosContainers: [] };
const forbidden = () => Object.assign(new Error('Forbidden'), { statusCode: 403 });

function counting() {
  let runs = 0;
  const definitions = (): ProbeDefinition[] => [
    {
      resource: 'keyVault',
      action: 'read secret s',
      dataAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      scope: 'secrets/s',
      expected: 'denied',
      run: async () => {
        runs += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw forbidden();
      },
    },
  ];
  return { definitions, runs: () => runs };
}

function reporter(denials = new DeclaredDenials(NONE, {}), tokens = new TokenRecorder()) {
  return new IdentityReporter(tokens, denials, { service: 'svc' });
}

describe('IdentityReporter', () => {
  it('builds one report for many concurrent callers and reuses it for a while', async () => {
    const identity = reporter();
    let clock = 1_000_000;
    identity.now = () => clock;
    const probe = counting();
    const reports = await Promise.all(
      Array.from({ length: 50 }, () => identity.report(probe.definitions)),
    );
    expect(probe.runs()).toBe(1);
    expect(new Set(reports).size).toBe(1);
    expect(reports[0]).toMatchObject({ service: 'svc' });
    expect(reports[0]!.probes[0]).toMatchObject({ outcome: 'denied', ok: true });

    clock += REPORT_CACHE_MS - 1;
    await identity.report(probe.definitions);
    expect(probe.runs()).toBe(1);

    clock += 2;
    await identity.report(probe.definitions);
    expect(probe.runs()).toBe(2);
  });

  it("adds a denied read of each declared secret the service's roles do not reach", async () => {
    const asked: string[] = [];
    const secrets = {
      getSecret: async (name: string) => {
        asked.push(name);
        if (name === 'other-service-key') throw forbidden();
        return { name, value: 'v' };
      },
    } as unknown as SecretClient;
    const denials = new DeclaredDenials(
      { ...NONE, secrets: ['other-service-key'] },
      { keyVault: secrets },
    );
    const report = await reporter(denials).report(() => []);
    expect(asked).toEqual(['other-service-key']);
    expect(report.probes).toEqual([
      expect.objectContaining({
        action: 'read secret other-service-key',
        expected: 'denied',
        outcome: 'denied',
        ok: true,
      }),
    ]);
  });

  it('turns a declared denial red when the data plane lets it through', async () => {
    const secrets = { getSecret: async () => ({ value: 'leaked' }) } as unknown as SecretClient;
    const denials = new DeclaredDenials(
      { ...NONE, secrets: ['other-service-key'] },
      { keyVault: secrets },
    );
    const report = await reporter(denials).report(() => []);
    expect(report.probes[0]).toMatchObject({ outcome: 'allowed', ok: false });
  });

  it('leaves out the kinds the service has no client for', () => {
    const denials = new DeclaredDenials(
      {
        secrets: ['s'],
        containers: ['c'],
        queues: ['q'],
        cosmosContainers: [{ database: 'd', container: 'c' }],
      },
      {},
    );
    expect(denials.probes()).toEqual([]);
  });

  it('shows the token records of the recorder it is given', async () => {
    const tokens = new TokenRecorder();
    const credential = tokens.decorate({
      getToken: async () => ({ token: 'x.e30.y', expiresOnTimestamp: 0 }),
    });
    await credential.getToken('https://vault.azure.net/.default');
    const report = await reporter(undefined, tokens).report(() => []);
    expect(report.tokens).toMatchObject([
      { scope: 'https://vault.azure.net/.default', exchanges: 1 },
    ]);
  });
});
