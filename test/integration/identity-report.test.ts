import type { IdentityReport } from '@wi/contracts';
import { loadIdentities, ungrantedNames } from '@wi/identities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import { type RunningStack, identitiesFile, startStack } from '../support/local-stack.js';

async function report(url: string, headers: Record<string, string> = {}): Promise<IdentityReport> {
  const response = await fetch(url, { headers: { accept: 'application/json', ...headers } });
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
      // The backend's report goes only to a caller with its app role: the frontend's identity.
      const identity =
        service === 'backend'
          ? await report(`${stack.backend.url}/identity`, await backendAuthorization(stack.cloud))
          : await report(`${stack.frontend.url}/identity`);
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
        // The backend asks for a token for its own API to show it is refused: no app role.
        if (token.scope.startsWith('api://') && service === 'backend') {
          expect(token.lastError?.message).toMatch(/AADSTS501051/);
          continue;
        }
        expect(token.credential).toBe('WorkloadIdentityCredential');
        // v1 tokens (the data planes) name the client in appid, v2 tokens (the backend API) in azp.
        expect(token.claims?.appid ?? token.claims?.azp).toBe(identity.workloadIdentity.clientId);
      }
      // Claims only: no token, assertion or secret value anywhere in the report.
      expect(JSON.stringify(identity)).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
    },
  );

  it.each(['backend', 'frontend'] as const)(
    '%s: probes every declared secret its roles do not reach, and is refused (no name in code)',
    async (service) => {
      const identity =
        service === 'backend'
          ? await report(`${stack.backend.url}/identity`, await backendAuthorization(stack.cloud))
          : await report(`${stack.frontend.url}/identity`);
      const { secrets } = ungrantedNames(await loadIdentities(identitiesFile), service);
      expect(secrets.length).toBeGreaterThan(0);
      const secretProbes = identity.probes.filter(
        (probe) => probe.resource === 'keyVault' && probe.expected === 'denied',
      );
      expect(secretProbes.map((probe) => probe.scope).sort()).toEqual(
        secrets.map((name) => `secrets/${name}`).sort(),
      );
      expect(secretProbes.every((probe) => probe.outcome === 'denied')).toBe(true);
    },
  );

  it('the frontend serves the backend report to the Identity page', async () => {
    const identity = await report(`${stack.frontend.url}/api/identity/backend`);
    expect(identity.service).toBe('backend');
  });

  it('shows the service-to-service hop: allowed for the frontend, refused for the backend’s own identity', async () => {
    const frontend = await report(`${stack.frontend.url}/identity`);
    expect(frontend.probes.find((probe) => probe.resource === 'api')).toMatchObject({
      expected: 'allowed',
      outcome: 'allowed',
      dataAction: 'app role Documents.Read',
    });
    const backend = await report(`${stack.frontend.url}/api/identity/backend`);
    const own = backend.probes.find((probe) => probe.resource === 'api');
    expect(own).toMatchObject({ expected: 'denied', outcome: 'denied', ok: true });
    expect(own?.error?.code).toMatch(/AADSTS501051|MissingAppRole/);
  });

  it('gives the backend report to no one without the app role', async () => {
    const anonymous = await fetch(`${stack.backend.url}/identity`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });
});
