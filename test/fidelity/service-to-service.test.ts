import type { IdentityProbe, IdentityReport } from '@wi/contracts';
import { localApiIdentifierUri } from '@wi/identities';
import { describe, type ExpectStatic, it } from 'vitest';
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

async function frontendReport(stack: RunningStack, expect: ExpectStatic): Promise<IdentityReport> {
  const response = await fetch(`${stack.frontend.url}/identity`, {
    headers: { accept: 'application/json' },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as IdentityReport;
}

const apiProbe = (report: IdentityReport): IdentityProbe =>
  report.probes.find((probe) => probe.resource === 'api')!;

// Each case starts its own stack (a declaration of its own), inside the test: hence 120 s. The
// two stacks share nothing (free ports, a cloud each), so they start and run side by side, and
// each service gets 60 s to be ready since four start at once on two cores.
const READY_TIMEOUT_MS = 60_000;
describe.concurrent('service to service: the frontend without the backend API app role', () => {
  /** Runs `check` against a stack of its own, stopped whatever the check's outcome. */
  async function withStack(
    options: Parameters<typeof startStack>[0],
    check: (stack: RunningStack) => Promise<void>,
  ): Promise<void> {
    const stack = await startStack(options);
    try {
      await check(stack);
    } finally {
      await stack.stop();
    }
  }

  it('granted Documents.Write instead of Documents.Read: the backend answers 403, the page shows the fix', async ({
    expect,
  }) => {
    await withStack(
      {
        readyTimeoutMs: READY_TIMEOUT_MS,
        identities: (file) => {
          identity(file, 'backend').api!.appRoles.push({
            value: 'Documents.Write',
            id: '5b0c7f0e-2f0b-4c57-9a53-3d9f1f4e0a11',
            description: 'Write documents (a role the frontend does not need)',
          });
          identity(file, 'frontend').calls = [{ service: 'backend', appRole: 'Documents.Write' }];
        },
      },
      async (stack) => {
        // Entra issues the token (a role is assigned), carrying the wrong role.
        const direct = await fetch(`${stack.backend.url}/documents`, {
          headers: await backendAuthorization(stack.cloud),
        });
        expect(direct.status).toBe(403);
        expect(direct.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
        expect(await direct.text()).toMatch(/MissingAppRole.*Documents\.Read/);

        // The browser's view: the list is unavailable, never served anyway.
        expect((await fetch(`${stack.frontend.url}/api/documents`)).status).toBe(503);

        const probe = apiProbe(await frontendReport(stack, expect));
        expect(probe).toMatchObject({ expected: 'allowed', outcome: 'denied', ok: false });
        expect(probe.error?.code).toBe('MissingAppRole');
        expect(probe.error?.fix).toMatch(/identities\.json/);
        expect(probe.error?.fix).toMatch(/Documents\.Read/);
      },
    );
  }, 120_000);

  it('granted no role: Entra refuses the token with AADSTS501051, the page shows the fix', async ({
    expect,
  }) => {
    await withStack(
      {
        readyTimeoutMs: READY_TIMEOUT_MS,
        identities: (file) => {
          identity(file, 'frontend').calls = [];
        },
        // The scope a deployment would still configure: the declaration just no longer grants it.
        frontendEnv: { BACKEND_API_SCOPE: `${localApiIdentifierUri('backend')}/.default` },
      },
      async (stack) => {
        const probe = apiProbe(await frontendReport(stack, expect));
        expect(probe).toMatchObject({ expected: 'allowed', outcome: 'denied', ok: false });
        expect(probe.error?.code).toBe('AADSTS501051');
        expect(probe.error?.fix).toMatch(/calls.*identities\.json|identities\.json.*calls/);
        expect((await fetch(`${stack.frontend.url}/api/documents`)).status).toBe(503);
      },
    );
  }, 120_000);
});
