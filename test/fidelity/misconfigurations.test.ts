import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { IdentityProbe, IdentityReport } from '@wi/contracts';
import type { LocalCloud } from '@wi/local-azure';
import { describe, it, vi } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import {
  editedIdentities,
  freePort,
  type IdentitiesJson,
  repoRoot,
  startLocalCloud,
  startService,
  waitForOk,
} from '../support/local-stack.js';

/**
 * Misconfigurations that break workload identity on AKS, each set up the way it happens there —
 * by a wrong identities file (which Bicep deploys) or a wrong pod environment (which the webhook
 * and the Deployment set) — never by a switch in service code. Each must fail with the code
 * Azure gives, and the backend's identity report must name it with a fix.
 */
interface Case {
  name: string;
  identities?: (file: IdentitiesJson, cloud: { issuerUrl: string }) => void;
  env?: (cloud: LocalCloud) => Record<string, string>;
  before?: (cloud: LocalCloud) => Promise<void> | void;
  /** Expected outcome per probe action; probes not listed must be as least privilege says. */
  expect: Record<string, { outcome: IdentityProbe['outcome']; code: RegExp }>;
  /** Every probe fails the same way (the token exchange itself failed). */
  allFail?: RegExp;
  /**
   * The backend cannot verify any caller (its tenant's issuer does not exist), so its API
   * refuses the frontend's token with this status (fail closed) and only readiness, which needs
   * no token, names the failure.
   */
  apiRefuses?: number;
}

const backend = (file: IdentitiesJson) => file.identities.find((i) => i.service === 'backend')!;
const withoutRole = (resource: string) => (file: IdentitiesJson) => {
  const identity = backend(file);
  identity.roleAssignments = identity.roleAssignments.filter((r) => r.scope.resource !== resource);
};

const cases: Case[] = [
  {
    name: 'subject mismatch (service account renamed)',
    identities: (file) => {
      backend(file).federatedCredential.subject = 'system:serviceaccount:doc-intake:backend-v2';
    },
    expect: {},
    allFail: /^AADSTS700213$/,
  },
  {
    name: 'issuer mismatch (trailing slash missing)',
    identities: (file, cloud) => {
      backend(file).federatedCredential.issuer = cloud.issuerUrl.replace(/\/$/, '');
    },
    expect: {},
    allFail: /^AADSTS700211$/,
  },
  {
    name: 'audience mismatch',
    identities: (file) => {
      backend(file).federatedCredential.audiences = ['api://AzureADTokenExchangeTypo'];
    },
    expect: {},
    allFail: /^AADSTS700212$/,
  },
  {
    name: 'expired service account token',
    before: (cloud) => cloud.sts.writeServiceAccountToken('backend', { lifetimeSeconds: -60 }),
    expect: {},
    allFail: /^AADSTS700024$/,
  },
  {
    name: 'token file missing (pod not mutated by the webhook)',
    env: () => ({
      AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
    }),
    expect: {},
    allFail: /^(TokenFileMissing|ENOENT|CredentialUnavailableError)$/,
  },
  {
    name: 'wrong client id (service account annotation)',
    env: () => ({ AZURE_CLIENT_ID: '11111111-2222-4333-8444-555555555555' }),
    expect: {},
    allFail: /^AADSTS700016$/,
  },
  {
    name: 'wrong tenant',
    env: () => ({ AZURE_TENANT_ID: '99999999-8888-4777-8666-555555555555' }),
    expect: {},
    // Entra's AADSTS90002 surfaces as MSAL's endpoints_resolution_error; Key Vault's challenge
    // names the vault's tenant, which the SDK will not switch to (no Azure code: TenantMismatch).
    allFail: /^(endpoints_resolution_error|TenantMismatch)$/,
    apiRefuses: 503,
  },
  {
    name: 'missing Key Vault role',
    identities: withoutRole('keyVault'),
    expect: { 'read secret backend-signing-key': { outcome: 'denied', code: /^Forbidden$/ } },
  },
  {
    name: 'missing Blob role',
    identities: withoutRole('storage'),
    expect: {
      'list blobs in uploads': { outcome: 'denied', code: /^AuthorizationPermissionMismatch$/ },
    },
  },
  {
    name: 'missing Service Bus role',
    identities: withoutRole('serviceBus'),
    expect: { 'receive from documents': { outcome: 'denied', code: /^UnauthorizedAccess$/ } },
  },
  {
    name: 'missing Cosmos DB data-plane role',
    identities: withoutRole('cosmos'),
    expect: { 'read intake/documents': { outcome: 'denied', code: /^Forbidden$/ } },
  },
  {
    name: "role at the wrong scope (the other service's secret)",
    identities: (file) => {
      const kv = backend(file).roleAssignments.find((r) => r.scope.resource === 'keyVault')!;
      kv.scope = { resource: 'keyVault', secret: 'frontend-session-key' };
    },
    expect: {
      'read secret backend-signing-key': { outcome: 'denied', code: /^Forbidden$/ },
      'read secret frontend-session-key': { outcome: 'allowed', code: /.*/ },
    },
  },
];

async function backendReport(
  testCase: Case,
): Promise<IdentityReport | { status: number; readiness: string }> {
  const stsPort = await freePort();
  const issuerUrl = `https://localhost:${stsPort}/oidc/`;
  const identitiesFile = testCase.identities
    ? await editedIdentities((file) => testCase.identities!(file, { issuerUrl }))
    : undefined;
  const cloud = await startLocalCloud({
    ports: { sts: stsPort, keyVault: 0, blob: 0, cosmos: 0, serviceBus: 0 },
    ...(identitiesFile ? { identitiesFile } : {}),
  });
  try {
    await testCase.before?.(cloud);
    const service = await startService('backend', {
      ...cloud.env('backend'),
      WORKER_ENABLED: 'false',
      ...testCase.env?.(cloud),
    });
    try {
      // Four backends start at once on two cores: each gets twice waitForOk's default to listen.
      await waitForOk(`${service.url}/healthz/live`, service, 60_000);
      // The backend's report answers only a caller with its app role: the frontend's identity.
      const response = await fetch(`${service.url}/identity`, {
        headers: await backendAuthorization(cloud),
      });
      if (testCase.apiRefuses) {
        const readiness = await (await fetch(`${service.url}/healthz/ready`)).text();
        return { status: response.status, readiness };
      }
      return (await response.json()) as IdentityReport;
    } finally {
      await service.stop();
    }
  } finally {
    await cloud.stop();
  }
}

/** Runs the built backend with `env` to its exit (never blocking the cases running beside it). */
function runBackend(
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'services/backend/dist/main.js')], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

// Each case is its own local cloud and backend on free ports, and mostly waits (on the SDKs'
// retries, the token exchange): four at a time share two cores. A case then takes longer than
// alone, so each gets 90 s rather than the default 30 s.
vi.setConfig({ maxConcurrency: 4 });
const CASE_TIMEOUT_MS = 90_000;

describe('misconfigurations fail locally with the code Azure gives', () => {
  // test.for, not test.each: it hands each case the context, whose expect a concurrent test needs.
  it.concurrent.for(cases.map((c) => [c.name, c] as const))(
    '%s',
    { timeout: CASE_TIMEOUT_MS },
    async ([, testCase], { expect }) => {
      const result = await backendReport(testCase);
      if ('readiness' in result) {
        expect(result.status).toBe(testCase.apiRefuses);
        expect(result.readiness).toMatch(
          new RegExp(testCase.allFail!.source.replace(/^\^|\$$/g, '')),
        );
        return;
      }
      const report = result;
      const summary = report.probes
        .map((p) => `${p.action}: ${p.outcome} ${p.error?.code ?? ''} ${p.error?.message ?? ''}`)
        .join('\n');
      console.log(`${testCase.name}\n${summary}`);
      for (const probe of report.probes) {
        const expected = testCase.expect[probe.action];
        if (testCase.allFail) {
          expect(probe.outcome, summary).toBe('error');
          expect(probe.error?.code, summary).toMatch(testCase.allFail);
        } else if (expected) {
          expect(probe.outcome, summary).toBe(expected.outcome);
          if (expected.outcome !== 'allowed')
            expect(probe.error?.code, summary).toMatch(expected.code);
          expect(probe.ok, summary).toBe(false);
        } else {
          expect(probe.ok, summary).toBe(true);
        }
        // Every failure comes with a cause and a fix that names what to change.
        if (!probe.ok && probe.error) {
          expect(probe.error.fix).toMatch(/identities\.json|az |label|annotat|AZURE_/i);
        }
      }
    },
  );

  it.concurrent(
    'pod label missing: no webhook variables, so the service exits naming AZURE_CLIENT_ID and the label',
    async ({ expect }) => {
      // 60 s, not 20 s: it starts beside three backends (a hang still fails, with status null).
      const result = await runBackend({ PATH: process.env.PATH ?? '' }, 60_000);
      expect(result.status).toBe(78);
      expect(result.stderr.trim()).toMatch(
        /^backend: Missing environment variable AZURE_CLIENT_ID .*azure\.workload\.identity\/use/,
      );
    },
    CASE_TIMEOUT_MS,
  );
});
