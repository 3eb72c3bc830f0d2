import { createHash, randomBytes } from 'node:crypto';
import { ServiceBusClient } from '@azure/service-bus';
import type { DocumentView } from '@wi/contracts';
import type { LocalCloud } from '@wi/local-azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import { FrontendClient } from '../support/frontend-client.js';
import { frontendCredential } from '../support/seed.js';
import {
  poll,
  type RunningService,
  type RunningStack,
  startStack,
} from '../support/local-stack.js';

const MAX_UPLOAD_BYTES = 256 * 1024;

describe('upload → message → record, through the real workload identity exchange', () => {
  let stack: RunningStack;
  let cloud: LocalCloud;
  let backend: RunningService;
  let frontend: RunningService;
  let client: FrontendClient;

  beforeAll(async () => {
    stack = await startStack({ frontendEnv: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) } });
    ({ cloud, backend, frontend } = stack);
    client = new FrontendClient(frontend.url);
    await client.openPage();
  });

  afterAll(() => stack?.stop());

  async function processed(id: string): Promise<DocumentView> {
    return poll(async () => {
      const response = await fetch(`${backend.url}/documents/${id}`, {
        headers: await backendAuthorization(cloud),
      });
      return response.status === 200 ? ((await response.json()) as DocumentView) : undefined;
    });
  }

  async function storedState() {
    return {
      blobs: (await cloud.blob.listBlobNames('uploads')).length,
      queue: cloud.serviceBus.stats('documents'),
      records: (await cloud.cosmos.items('intake', 'documents')).length,
    };
  }

  it('processes an uploaded text file with size, SHA-256 and line and word counts', async () => {
    const text = 'Workload identity\nwithout keys\r\nthree lines here';
    const started = performance.now();
    const response = await client.upload({ name: 'notes.txt', type: 'text/plain', content: text });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const record = await processed(id);
    const latencyMs = performance.now() - started;
    console.log(`upload → processed latency: ${latencyMs.toFixed(0)} ms`);

    expect(record).toMatchObject({
      id,
      fileName: 'notes.txt',
      contentType: 'text/plain',
      size: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
      lineCount: 3,
      wordCount: 7,
      status: 'processed',
      signatureValid: true,
    });
    const listed = (await (await fetch(`${frontend.url}/api/documents`)).json()) as {
      items: DocumentView[];
    };
    expect(listed.items.map((item) => item.id)).toContain(id);
  });

  it('processes a binary upload without text counts, and a browser form post is redirected', async () => {
    const png = randomBytes(40_000);
    const response = await client.upload(
      { name: 'scan.png', type: 'image/png', content: png },
      { accept: 'text/html' },
    );
    expect(response.status).toBe(303);
    const id = new URL(response.headers.get('location')!, frontend.url).searchParams.get(
      'uploaded',
    )!;
    const record = await processed(id);
    expect(record.sha256).toBe(createHash('sha256').update(png).digest('hex'));
    expect(record.size).toBe(png.length);
    expect(record.lineCount).toBeUndefined();
  });

  it('got every token through the federated exchange of the service account token', () => {
    const exchanges = cloud.sts.exchanges().filter((e) => e.outcome === 'success');
    const subjects = new Set(exchanges.map((e) => e.assertionSubject));
    expect(subjects).toEqual(
      new Set([
        'system:serviceaccount:doc-intake:frontend',
        'system:serviceaccount:doc-intake:backend',
      ]),
    );
    expect(exchanges.every((e) => e.assertionAudience === 'api://AzureADTokenExchange')).toBe(true);
  });

  describe('bad input gets a clear 4xx and leaves nothing behind', () => {
    it.each([
      ['no CSRF token', { name: 'a.txt', type: 'text/plain', content: 'x' }, { csrf: false }, 403],
      [
        'a disallowed content type',
        { name: 'a.exe', type: 'application/x-msdownload', content: 'MZ' },
        {},
        415,
      ],
      ['an empty file', { name: 'empty.txt', type: 'text/plain', content: '' }, {}, 400],
      [
        'a file over the limit',
        { name: 'big.txt', type: 'text/plain', content: 'x'.repeat(MAX_UPLOAD_BYTES + 1) },
        {},
        413,
      ],
      [
        'a file far over the limit',
        { name: 'huge.txt', type: 'text/plain', content: 'x'.repeat(MAX_UPLOAD_BYTES * 4) },
        {},
        413,
      ],
    ] as const)('%s', async (_case, file, options, status) => {
      const before = await storedState();
      const response = await client.upload(file, options);
      expect(response.status).toBe(status);
      // Give a wrongly sent message or record the time it would need to appear.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await storedState()).toEqual(before);
    });

    it.each([
      ['backend', 'not-a-uuid', 400],
      ['backend', '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b', 404],
      ['frontend', 'not-a-uuid', 400],
      ['frontend', '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b', 404],
    ] as const)('%s GET documents/%s → %i', async (service, id, status) => {
      const url =
        service === 'backend'
          ? `${backend.url}/documents/${id}`
          : `${frontend.url}/api/documents/${id}`;
      const headers = service === 'backend' ? await backendAuthorization(cloud) : {};
      expect((await fetch(url, { headers })).status).toBe(status);
    });
  });

  it('dead-letters a malformed message with a reason instead of retrying it forever', async () => {
    // Sent as the frontend's identity (the only one allowed to send), through its own token file.
    const env = cloud.env('frontend');
    const credential = frontendCredential(cloud);
    const serviceBus = new ServiceBusClient(
      env.AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE!,
      credential,
    );
    const sender = serviceBus.createSender('documents');
    try {
      await sender.sendMessages({
        messageId: 'poison-1',
        body: { type: 'document.uploaded', schemaVersion: 99 },
      });
    } finally {
      await sender.close();
      await serviceBus.close();
    }
    const dead = await poll(async () =>
      cloud.serviceBus.deadLetters('documents').find((message) => message.messageId === 'poison-1'),
    );
    expect(dead.reason).toBe('MalformedMessage');
    expect(dead.description).toBeTruthy();
    expect(dead.deliveryCount).toBeLessThanOrEqual(1);
  });
});
