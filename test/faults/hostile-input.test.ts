import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import { FrontendClient } from '../support/frontend-client.js';
import { type RunningStack, startStack } from '../support/local-stack.js';

const MAX_UPLOAD_BYTES = 64 * 1024;
const KNOWN_SECRETS = {
  'frontend-session-key': `fe-secret-${randomBytes(12).toString('hex')}`,
  'backend-signing-key': `be-secret-${randomBytes(12).toString('hex')}`,
};

function pick<T>(items: readonly T[]): T {
  return items[randomInt(items.length)]!;
}

const names = [
  'a.txt',
  '../../etc/passwd',
  'C:\\x\\y.pdf',
  'ü😀.png',
  '',
  'x'.repeat(400),
  'a\u0000b.txt',
  '<script>.txt',
];
const types = [
  'application/x-msdownload',
  'text/html',
  'application/octet-stream',
  'image/svg+xml',
  'TEXT/PLAIN',
  'text/plain',
];
const ids = [
  'x',
  '../documents',
  '%00',
  '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5',
  "'; DROP TABLE",
  '6F1C2A8E-3B4D-4E5F-8A9B-0C1D2E3F4A5B',
  '%2e%2e%2f',
  'a'.repeat(2000),
];

describe('hostile input and logs', () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startStack({
      frontendEnv: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES), LOG_LEVEL: 'debug' },
      backendEnv: { LOG_LEVEL: 'debug' },
      beforeServices: async (cloud) => {
        for (const [name, value] of Object.entries(KNOWN_SECRETS))
          await cloud.keyVault.setSecret(name, value);
      },
    });
  });
  afterAll(() => stack?.stop());

  async function stored() {
    return {
      blobs: (await stack.cloud.blob.listBlobNames('uploads')).length,
      queue: stack.cloud.serviceBus.stats('documents'),
    };
  }

  it('200 random bad uploads and lookups: only 4xx, never 5xx, nothing stored', async () => {
    const before = await stored();
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const client = new FrontendClient(stack.frontend.url);
    await client.openPage();
    for (let i = 0; i < 120; i++) {
      const type = pick(types);
      const allowedType = type.toLowerCase() === 'text/plain';
      const size = allowedType
        ? pick([0, MAX_UPLOAD_BYTES + 1 + randomInt(3 * MAX_UPLOAD_BYTES)])
        : randomInt(2 * MAX_UPLOAD_BYTES);
      // Every upload breaks at least one rule: no CSRF, a refused type, empty, or too large.
      const response = await client.upload(
        { name: pick(names), type, content: randomBytes(size) },
        { csrf: allowedType ? randomInt(2) === 0 : randomInt(3) > 0 },
      );
      count(response.status);
      await response.body?.cancel();
    }
    for (let i = 0; i < 40; i++) {
      const body = randomBytes(randomInt(4096));
      const contentType = pick([
        'multipart/form-data; boundary=xyz',
        'multipart/form-data',
        'application/json',
        'text/plain',
        '',
      ]);
      const response = await fetch(`${stack.frontend.url}/uploads`, {
        method: 'POST',
        body,
        headers: {
          'content-type': contentType,
          accept: pick(['application/json', 'text/html', '*/*']),
        },
      });
      count(response.status);
      await response.body?.cancel();
    }
    for (let i = 0; i < 40; i++) {
      const id = encodeURIComponent(pick(ids));
      const url = pick([
        `${stack.frontend.url}/api/documents/${id}`,
        `${stack.frontend.url}/api/uploads/${id}`,
        `${stack.backend.url}/documents/${id}`,
      ]);
      // The backend's API answers only the frontend's token; with it, hostile ids still get a 4xx.
      const headers = url.startsWith(stack.backend.url)
        ? await backendAuthorization(stack.cloud)
        : {};
      const response = await fetch(url, { headers });
      count(response.status);
      await response.body?.cancel();
    }
    console.log(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect([...statuses.keys()].every((status) => status >= 400 && status < 500)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stored()).toEqual(before);
  }, 120_000);

  it('no secret value, access token or service account token appears in any log line', async () => {
    // Exercise every path that touches a token or a secret, with debug logging on.
    const client = new FrontendClient(stack.frontend.url);
    await client.openPage();
    const upload = await client.upload({ name: 'ok.txt', type: 'text/plain', content: 'fine' });
    expect(upload.status).toBe(202);
    await fetch(`${stack.frontend.url}/identity`, { headers: { accept: 'text/html' } });
    await fetch(`${stack.frontend.url}/api/documents`);

    const logs = [...stack.frontend.output, ...stack.backend.output].join('');
    const tokenFiles = await Promise.all(
      ['frontend', 'backend'].map(async (svc) =>
        (await readFile(stack.cloud.sts.tokenFilePath(svc), 'utf8')).trim(),
      ),
    );
    expect(logs.length).toBeGreaterThan(1000);
    for (const secret of [...Object.values(KNOWN_SECRETS), ...tokenFiles])
      expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./); // any JWT
    expect(logs).not.toMatch(/csrf=[\w.-]{20,}/); // the CSRF cookie
    console.log(`scanned ${logs.split('\n').length} log lines`);
  });
});
