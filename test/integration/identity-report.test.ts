import type { IdentityReport } from '@wi/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStack, startStack } from '../support/local-stack.js';

async function report(url: string): Promise<IdentityReport> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  expect(response.status).toBe(200);
  return (await response.json()) as IdentityReport;
}

describe('GET /identity: who each service is and what it may reach', () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.stop());

  it.each(['backend', 'frontend'] as const)(
    '%s: every probe matches least privilege',
    async (service) => {
      const url =
        service === 'backend' ? `${stack.backend.url}/identity` : `${stack.frontend.url}/identity`;
      const identity = await report(url);
      const failed = identity.probes.filter((probe) => !probe.ok);
      expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
      // At least one permission the service must not have, refused by the data plane itself.
      const denied = identity.probes.filter((probe) => probe.expected === 'denied');
      expect(denied.length).toBeGreaterThan(0);
      expect(denied.every((probe) => probe.outcome === 'denied')).toBe(true);

      expect(identity.workloadIdentity.serviceAccountToken?.sub).toBe(
        `system:serviceaccount:doc-intake:${service}`,
      );
      expect(identity.tokens.length).toBeGreaterThan(0);
      for (const token of identity.tokens) {
        expect(token.credential).toBe('WorkloadIdentityCredential');
        expect(token.claims?.appid).toBe(identity.workloadIdentity.clientId);
      }
      // Claims only: no token, assertion or secret value anywhere in the report.
      expect(JSON.stringify(identity)).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
    },
  );

  it('the frontend serves the backend report to the Identity page', async () => {
    const identity = await report(`${stack.frontend.url}/api/identity/backend`);
    expect(identity.service).toBe('backend');
  });
});
