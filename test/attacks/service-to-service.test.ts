// Attacks on the backend's API and on the identity reports, as an attacker who reaches the
// services (a pod in the cluster, a process on the developer's machine) would try them.
import { WorkloadIdentityCredential } from '@azure/identity';
import type { IdentityReport } from '@wi/contracts'; // [showcase]
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import { frontendCredential } from '../support/seed.js';
import {
  type AttackStack,
  isDenial,
  record,
  startAttackStack,
  writeMeasurements,
} from './support.js';

// Each attack waits on real processes (uploads processed, timeouts run out): generous per test.
vi.setConfig({ testTimeout: 90_000 });

let stack: AttackStack;

beforeAll(async () => {
  stack = await startAttackStack();
}, 180_000);
afterAll(async () => {
  await writeMeasurements('service-to-service');
  await stack?.stop();
});

const jwt = (header: object, payload: object) =>
  `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

describe('the backend admits only the frontend’s workload identity', () => {
  it('refuses anonymous, forged and wrong-audience callers with 401 and a Bearer challenge', async () => {
    const url = `${stack.backend.url}/documents`;
    const storageToken = await frontendCredential(stack.cloud).getToken(
      'https://storage.azure.com/.default',
    );
    const attempts: Record<string, Record<string, string>> = {
      'no token': {},
      'not a JWT': { authorization: 'Bearer garbage' },
      'alg none': {
        authorization: `Bearer ${jwt({ alg: 'none' }, { aud: 'x', roles: ['Documents.Read'] })}`,
      },
      'the frontend’s Storage token': { authorization: `Bearer ${storageToken.token}` },
      'Basic credentials': { authorization: 'Basic YWRtaW46YWRtaW4=' },
    };
    const statuses: Record<string, number> = {};
    for (const [name, headers] of Object.entries(attempts)) {
      const response = await fetch(url, { headers });
      statuses[name] = response.status;
      expect(response.status, name).toBe(401);
      expect(response.headers.get('www-authenticate'), name).toMatch(/^Bearer realm="backend"/);
      expect(await response.text(), name).not.toMatch(/"items"/);
    }
    const paths = [`/documents/${crypto.randomUUID()}`];
    paths.push('/identity', '/identity/caller'); // [showcase]
    for (const path of paths)
      expect((await fetch(`${stack.backend.url}${path}`)).status, path).toBe(401);
    const allowed = await fetch(url, { headers: await backendAuthorization(stack.cloud) });
    expect(allowed.status).toBe(200);
    record('backend API without the frontend token', { before: 200, after: statuses });
  });

  it('the backend’s own identity gets no token for its API: Entra answers AADSTS501051', async () => {
    const env = stack.cloud.env('backend');
    const own = new WorkloadIdentityCredential({
      tenantId: env.AZURE_TENANT_ID!,
      clientId: env.AZURE_CLIENT_ID!,
      tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE!,
      authorityHost: env.AZURE_AUTHORITY_HOST!,
      disableInstanceDiscovery: true,
    });
    await expect(own.getToken(`api://${env.API_AUDIENCE}/.default`)).rejects.toThrow(
      /AADSTS501051/,
    );
  });

  it('keeps /healthz/live open and /healthz/ready open but free of secret versions', async () => {
    expect((await fetch(`${stack.backend.url}/healthz/live`)).status).toBe(200);
    for (const service of [stack.backend, stack.frontend]) {
      const response = await fetch(`${service.url}/healthz/ready`);
      const body = await response.text();
      expect(response.status).toBe(200);
      expect(body).not.toMatch(/version/i);
    }
    record('readiness shows secret versions', { before: true, after: false });
  });
});

// [showcase] begin
describe('the Identity page is not an anonymous amplifier', () => {
  it('twenty anonymous views, ten at once, build each report once', async () => {
    const before = stack.events.length;
    const exchangesBefore = stack.cloud.sts.exchanges().length;
    const view = async () => {
      const started = performance.now();
      const response = await fetch(`${stack.frontend.url}/identity`, {
        headers: { accept: 'text/html' },
      });
      await response.text();
      expect(response.status).toBe(200);
      return performance.now() - started;
    };
    const concurrent = await Promise.all(Array.from({ length: 10 }, view));
    const sequential: number[] = [];
    for (let i = 0; i < 10; i++) sequential.push(await view());
    const denials = stack.events.slice(before).filter(isDenial).length;

    // One build's worth: the backend's three deliberate denials and the frontend's two, each
    // possibly retried by its SDK. Before the cache each view caused ~10 (100 for 10 views).
    const report = (await (
      await fetch(`${stack.frontend.url}/api/identity/backend`)
    ).json()) as IdentityReport;
    const deniedProbes = report.probes.filter((probe) => probe.expected === 'denied').length + 2;
    expect(denials).toBeLessThanOrEqual(deniedProbes * 4);
    const sorted = [...sequential].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(250);
    record('20 anonymous /identity views', {
      before: { views: 10, secondsEach: 3.3, dataPlaneDenials: 100 },
      after: {
        views: 20,
        firstViewMs: Math.round(Math.max(...concurrent)),
        medianLaterViewMs: Math.round(sorted[Math.floor(sorted.length / 2)]!),
        dataPlaneDenials: denials,
        tokenExchanges: stack.cloud.sts.exchanges().length - exchangesBefore,
      },
    });
  });

  it('the backend’s report needs the app role; the frontend relays it to its own page only', async () => {
    expect((await fetch(`${stack.backend.url}/identity`)).status).toBe(401);
    const relayed = await fetch(`${stack.frontend.url}/api/identity/backend`);
    expect(relayed.status).toBe(200);
  });

  it('IDENTITY_PAGE=off (the AKS default) serves neither report', async () => {
    const { startService, waitForOk } = await import('../support/local-stack.js');
    const hidden = await startService('frontend', {
      ...stack.cloud.env('frontend'),
      BACKEND_URL: stack.backend.url,
      IDENTITY_PAGE: 'off',
    });
    try {
      await waitForOk(`${hidden.url}/healthz/live`, hidden);
      expect((await fetch(`${hidden.url}/identity`)).status).toBe(404);
      expect((await fetch(`${hidden.url}/api/identity/backend`)).status).toBe(404);
    } finally {
      await hidden.stop();
    }
  });
});
// [showcase] end
