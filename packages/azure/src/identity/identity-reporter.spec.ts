import { describe, expect, it } from 'vitest';
import { IdentityReporter, REPORT_CACHE_MS } from './identity-reporter.js';
import type { ProbeDefinition } from './probes.js';

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
        throw Object.assign(new Error('Forbidden'), { statusCode: 403 });
      },
    },
  ];
  return { definitions, runs: () => runs };
}

describe('IdentityReporter', () => {
  it('builds one report for many concurrent callers and reuses it for a while', async () => {
    const reporter = new IdentityReporter({ getToken: async () => null });
    let clock = 1_000_000;
    reporter.now = () => clock;
    const probe = counting();
    const reports = await Promise.all(
      Array.from({ length: 50 }, () => reporter.report('svc', probe.definitions)),
    );
    expect(probe.runs()).toBe(1);
    expect(new Set(reports).size).toBe(1);
    expect(reports[0]!.probes[0]).toMatchObject({ outcome: 'denied', ok: true });

    clock += REPORT_CACHE_MS - 1;
    await reporter.report('svc', probe.definitions);
    expect(probe.runs()).toBe(1);

    clock += 2;
    await reporter.report('svc', probe.definitions);
    expect(probe.runs()).toBe(2);
  });
});
