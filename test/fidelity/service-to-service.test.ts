import type { IdentityProbe, IdentityReport } from '@wi/contracts';
import { localApiIdentifierUri } from '@wi/identities';
import { afterEach, describe, expect, it } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import { type IdentitiesJson, type RunningStack, startStack } from '../support/local-stack.js';

/**
 * The service-to-service hop misconfigured the way it happens in Entra: the frontend's identity is
 * assigned another app role of the backend's API, or none. The backend refuses (403), or Entra
 * does (AADSTS501051); the Identity page says which, and what to change.
 */
interface DeclaredIdentity {
  service: string;
  api?: { appRoles: { value: string; id: string; description: string }[] };
  calls?: { service: string; appRole: string }[];
}

/** The declaration's api/calls fields, which IdentitiesJson (the loose test shape) leaves out. */
const identity = (file: IdentitiesJson, service: string): DeclaredIdentity =>
  (file.identities as DeclaredIdentity[]).find((i) => i.service === service)!;

async function frontendReport(stack: RunningStack): Promise<IdentityReport> {
  const response = await fetch(`${stack.frontend.url}/identity`, {
    headers: { accept: 'application/json' },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as IdentityReport;
}

const apiProbe = (report: IdentityReport): IdentityProbe =>
  report.probes.find((probe) => probe.resource === 'api')!;

// Each case starts its own stack (a declaration of its own), inside the test: hence 120 s.
describe('service to service: the frontend without the backend API app role', () => {
  let stack: RunningStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('granted Documents.Write instead of Documents.Read: the backend answers 403, the page shows the fix', async () => {
    stack = await startStack({
      identities: (file) => {
        identity(file, 'backend').api!.appRoles.push({
          value: 'Documents.Write',
          id: '5b0c7f0e-2f0b-4c57-9a53-3d9f1f4e0a11',
          description: 'Write documents (a role the frontend does not need)',
        });
        identity(file, 'frontend').calls = [{ service: 'backend', appRole: 'Documents.Write' }];
      },
    });
    // Entra issues the token (a role is assigned), carrying the wrong role.
    const direct = await fetch(`${stack.backend.url}/documents`, {
      headers: await backendAuthorization(stack.cloud),
    });
    expect(direct.status).toBe(403);
    expect(direct.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(await direct.text()).toMatch(/MissingAppRole.*Documents\.Read/);

    // The browser's view: the list is unavailable, never served anyway.
    expect((await fetch(`${stack.frontend.url}/api/documents`)).status).toBe(503);

    const probe = apiProbe(await frontendReport(stack));
    expect(probe).toMatchObject({ expected: 'allowed', outcome: 'denied', ok: false });
    expect(probe.error?.code).toBe('MissingAppRole');
    expect(probe.error?.fix).toMatch(/identities\.json/);
    expect(probe.error?.fix).toMatch(/Documents\.Read/);
  }, 120_000);

  it('granted no role: Entra refuses the token with AADSTS501051, the page shows the fix', async () => {
    stack = await startStack({
      identities: (file) => {
        identity(file, 'frontend').calls = [];
      },
      // The scope a deployment would still configure: the declaration just no longer grants it.
      frontendEnv: { BACKEND_API_SCOPE: `${localApiIdentifierUri('backend')}/.default` },
    });
    const probe = apiProbe(await frontendReport(stack));
    expect(probe).toMatchObject({ expected: 'allowed', outcome: 'denied', ok: false });
    expect(probe.error?.code).toBe('AADSTS501051');
    expect(probe.error?.fix).toMatch(/calls.*identities\.json|identities\.json.*calls/);
    expect((await fetch(`${stack.frontend.url}/api/documents`)).status).toBe(503);
  }, 120_000);
});
