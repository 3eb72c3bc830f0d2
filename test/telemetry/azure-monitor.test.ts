import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ensureLocalCa, type LocalCloud } from '@wi/local-azure';
import { afterAll, expect, it } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import {
  type RunningService,
  poll,
  startLocalCloud,
  startService,
  waitForOk,
} from '../support/local-stack.js';

interface Ingestion {
  path: string;
  authorization?: string;
  items: { name?: string; data?: { baseType?: string; baseData?: { target?: string } } }[];
}

let cloud: LocalCloud | undefined;
let backend: RunningService | undefined;
let close: (() => Promise<void>) | undefined;
afterAll(async () => {
  await backend?.stop();
  await cloud?.stop();
  await close?.();
});

/**
 * With the Application Insights connection setting, the service exports to its ingestion
 * endpoint (here a stand-in on loopback, with a certificate of the local CA) and authenticates
 * with an Entra token of its own identity, from the same credential as its Azure clients: an
 * Application Insights resource with local auth disabled accepts nothing else.
 */
it('exports to Azure Monitor with an Entra token of the service identity', async () => {
  const ca = await ensureLocalCa(process.env.LOCAL_AZURE_STATE_DIR!);
  const certificate = await ca.issueServerCertificate(['localhost', '127.0.0.1']);
  const received: Ingestion[] = [];
  const server = createServer(certificate, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const text = body.toString('utf8').trim();
      const items = text.startsWith('[')
        ? JSON.parse(text)
        : text
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line));
      received.push({
        path: request.url ?? '',
        authorization: request.headers.authorization,
        items,
      });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  const port = (server.address() as AddressInfo).port;

  cloud = await startLocalCloud();
  backend = await startService('backend', {
    ...cloud.env('backend'),
    APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-0000000000a1;IngestionEndpoint=https://localhost:${port}/`,
    // Statsbeat (the exporter's own usage telemetry) goes to a public endpoint: not from a test.
    APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
  });
  await waitForOk(`${backend.url}/healthz/ready`, backend);
  await fetch(`${backend.url}/documents`, { headers: await backendAuthorization(cloud) });

  const requests = await poll(
    async () => {
      const kinds = new Set(received.flatMap((r) => r.items.map((item) => item.data?.baseType)));
      return kinds.has('RequestData') && kinds.has('MetricData') ? received : undefined;
    },
    20_000,
    100,
  );
  for (const request of requests) {
    expect(request.path).toMatch(/^\/v2(\.1)?\/track/);
    expect(request.authorization).toMatch(/^Bearer /);
    const claims = JSON.parse(
      Buffer.from(request.authorization!.split('.')[1]!, 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    // The backend's identity, for the Azure Monitor audience: what Entra ID would issue.
    expect(String(claims.aud)).toMatch(/^https:\/\/monitor\.azure\.com\/?$/);
    expect(claims.appid ?? claims.azp).toBe(cloud.env('backend').AZURE_CLIENT_ID);
  }
  // The exporter's own requests are not traced (no telemetry about sending telemetry).
  const targets = received.flatMap((r) => r.items.map((item) => item.data?.baseData?.target ?? ''));
  expect(targets.filter((target) => target.includes(String(port)))).toEqual([]);
  // One credential for everything: the identity report lists the Monitor audience beside the others.
  const report = (await (
    await fetch(`${backend.url}/identity`, { headers: await backendAuthorization(cloud) })
  ).json()) as {
    tokens?: { scope: string; exchanges: number }[];
  };
  const monitor = report.tokens?.find((token) => token.scope.includes('monitor.azure.com'));
  expect(monitor?.exchanges).toBe(1);
}, 60_000);
