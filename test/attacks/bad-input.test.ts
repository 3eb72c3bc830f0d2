// Bad input as an attacker sends it: forged cookies, cross-site posts, cut-off bodies, hostile
// file names, forged queue messages. Each gets a 4xx (or the dead-letter queue) and costs nothing.
import { randomUUID } from 'node:crypto';
import { ServiceBusClient } from '@azure/service-bus';
import type { DocumentUploadedMessage, DocumentView } from '@wi/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendAuthorization } from '../support/backend-token.js';
import { FrontendClient } from '../support/frontend-client.js';
import { poll } from '../support/local-stack.js';
import { frontendCredential } from '../support/seed.js';
import { type AttackStack, record, startAttackStack, writeMeasurements } from './support.js';

// Each attack waits on real processes (uploads processed, timeouts run out): generous per test.
vi.setConfig({ testTimeout: 90_000 });

let stack: AttackStack;
let client: FrontendClient;
let page: { cookie: string; token: string; cookieName: string };

beforeAll(async () => {
  stack = await startAttackStack();
  client = new FrontendClient(stack.frontend.url);
  const response = await fetch(`${stack.frontend.url}/`);
  const setCookie = response.headers.getSetCookie().find((c) => /csrf=/.test(c))!;
  const token = /name="_csrf"\s+value="([^"]+)"/.exec(await response.text())![1]!;
  page = { cookie: setCookie.split(';')[0]!, token, cookieName: setCookie.split('=')[0]! };
}, 180_000);
afterAll(async () => {
  await writeMeasurements('bad-input');
  await stack?.stop();
});

const blobCount = async () => (await stack.cloud.blob.listBlobNames('uploads')).length;
const logs = () => stack.frontend.output.join('');

function form(name: string, content = 'hello', token = page.token): FormData {
  const body = new FormData();
  body.append('_csrf', token);
  body.append('file', new Blob([content], { type: 'text/plain' }), name);
  return body;
}

describe('a forged CSRF cookie costs nothing', () => {
  it('is refused (403) from memory, with Key Vault down, and logs no storage failure', async () => {
    expect(page.cookieName).toBe('__Host-csrf');
    await stack.cloud.keyVault.suspend();
    try {
      const before = await blobCount();
      const started = performance.now();
      const statuses = new Set<number>();
      for (let i = 0; i < 50; i++) {
        const response = await fetch(`${stack.frontend.url}/uploads`, {
          method: 'POST',
          body: form('a.txt', 'x', 'A'.repeat(43)),
          headers: {
            accept: 'application/json',
            cookie: `${page.cookieName}=deadbeef${String(i).padStart(4, '0')}.xxxxxxxxxxxxxxxxxxxxxxxx`,
          },
        });
        statuses.add(response.status);
        await response.arrayBuffer();
      }
      const msEach = (performance.now() - started) / 50;
      expect([...statuses]).toEqual([403]);
      expect(msEach).toBeLessThan(200);
      expect(await blobCount()).toBe(before);
      expect(logs()).not.toMatch(/upload to blob storage failed/);
      record('forged CSRF cookie (50 requests, Key Vault down)', {
        before: { status: 503, keyVaultCallsPerRequest: 1 },
        after: { status: [...statuses], msEach: Math.round(msEach), keyVaultCalls: 0 },
      });
    } finally {
      await stack.cloud.keyVault.resume();
    }
  });

  it('sets the cookie with the __Host- prefix: Secure, Path=/, no Domain', async () => {
    const response = await fetch(`${stack.frontend.url}/`);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-csrf='))!;
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; Path=\//i);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
  });
});

describe('cross-origin posts are refused before the body is read', () => {
  it.each([
    ['Origin: https://evil.example', { origin: 'https://evil.example' }, 403],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, 403],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }, 403],
    ['Origin: null', { origin: 'null' }, 403],
  ])('%s is refused, nothing stored', async (_case, headers, status) => {
    const before = await blobCount();
    const response = await fetch(`${stack.frontend.url}/uploads`, {
      method: 'POST',
      body: form('a.txt'),
      headers: { accept: 'application/json', cookie: page.cookie, ...headers },
    });
    expect(response.status).toBe(status);
    expect(await blobCount()).toBe(before);
  });

  it('a same-origin post with its token is accepted', async () => {
    const response = await fetch(`${stack.frontend.url}/uploads`, {
      method: 'POST',
      body: form('a.txt'),
      headers: {
        accept: 'application/json',
        cookie: page.cookie,
        origin: stack.frontend.url,
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(response.status).toBe(202);
    record('cross-origin POST (Origin: https://evil.example, valid token)', {
      before: 202,
      after: 403,
    });
  });
});

describe('a truncated body is the client’s error', () => {
  it('answers 400 and logs it as a refused upload, not a storage failure', async () => {
    const request = new Request(`${stack.frontend.url}/uploads`, {
      method: 'POST',
      body: form('cut.txt', 'z'.repeat(200_000)),
    });
    const bytes = new Uint8Array(await request.arrayBuffer());
    const before = await blobCount();
    const mark = stack.frontend.output.length;
    const response = await fetch(`${stack.frontend.url}/uploads`, {
      method: 'POST',
      body: bytes.subarray(0, 100_000),
      headers: {
        'content-type': request.headers.get('content-type')!,
        accept: 'application/json',
        cookie: page.cookie,
      },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/multipart|ended/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = stack.frontend.output.slice(mark).join('');
    expect(lines).toMatch(/"status":400[^\n]*upload refused|upload refused[^\n]*"status":400/);
    expect(lines).not.toMatch(/upload to blob storage failed/);
    expect(await blobCount()).toBe(before);
    record('truncated multipart body', {
      before: { status: 503, logged: 'upload to blob storage failed' },
      after: { status: 400, logged: 'upload refused (400)' },
    });
  });
});

describe('file names are decoded, cleaned and capped', () => {
  it.each([
    ['résumé.txt', 'résumé.txt'],
    ['invoice\u202Etxt.exe', 'invoicetxt.exe'],
    ['zero\u200Bwidth\u2066isolate\u2069\u0085.txt', 'zerowidthisolate.txt'],
    [`${'é'.repeat(300)}.txt`, 'é'.repeat(255)],
  ])('%j is stored and shown as %j', async (name, expected) => {
    const id = await client.uploadText(name, 'some text\n');
    const document = await client.processed(id);
    expect(document.fileName).toBe(expected);
    const page = await (await fetch(`${stack.frontend.url}/`)).text();
    expect(page).toContain(`<td>${expected}</td>`);
  });

  it('records the measurement', () => {
    record('file names', {
      before: { 'résumé.txt': 'rÃ©sumÃ©.txt', 'invoice\\u202Etxt.exe': 'kept as sent' },
      after: {
        'résumé.txt': 'résumé.txt',
        'invoice\\u202Etxt.exe': 'invoicetxt.exe',
        maxLength: 255,
      },
    });
  });
});

describe('queue messages cannot forge or overwrite records', () => {
  async function send(body: DocumentUploadedMessage) {
    const env = stack.cloud.env('frontend');
    const serviceBus = new ServiceBusClient(
      env.AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE!,
      frontendCredential(stack.cloud),
    );
    try {
      await serviceBus.createSender('documents').sendMessages({
        messageId: body.documentId,
        contentType: 'application/json',
        body,
      });
    } finally {
      await serviceBus.close();
    }
  }
  const deadLetter = (id: string) =>
    poll(
      async () => stack.cloud.serviceBus.deadLetters('documents').find((m) => m.messageId === id),
      15_000,
      100,
    );
  const backendGet = async (id: string) =>
    fetch(`${stack.backend.url}/documents/${id}`, {
      headers: await backendAuthorization(stack.cloud),
    });

  it('a new document id pointing at another document’s blob is dead-lettered with the reason', async () => {
    const victim = await client.uploadText('victim.txt', 'the victim’s content\n');
    await client.processed(victim);
    const forged = randomUUID();
    await send({
      type: 'document.uploaded',
      schemaVersion: 1,
      documentId: forged,
      blobName: victim,
      fileName: 'forged.txt',
      contentType: 'text/plain',
      size: 21,
      uploadedAt: new Date().toISOString(),
    });
    const dead = await deadLetter(forged);
    expect(dead).toMatchObject({ reason: 'MalformedMessage' });
    expect(dead.description).toMatch(/blobName: must equal documentId/);
    expect((await backendGet(forged)).status).toBe(404);
  });

  it('a message reusing an existing id is dead-lettered and the record stays as it was', async () => {
    const id = await client.uploadText('original.txt', 'original\n');
    const original = await client.processed(id);
    await send({
      type: 'document.uploaded',
      schemaVersion: 1,
      documentId: id,
      blobName: id,
      fileName: 'overwritten.txt',
      contentType: 'text/plain',
      size: original.size,
      uploadedAt: new Date().toISOString(),
    });
    const dead = await deadLetter(id);
    expect(dead).toMatchObject({ reason: 'RecordExists' });
    const after = (await (await backendGet(id)).json()) as DocumentView;
    expect(after).toMatchObject({
      fileName: 'original.txt',
      sha256: original.sha256,
      signatureValid: true,
    });
    record('forged and overwriting messages', {
      before: { otherBlob: 'record created, signature valid', existingId: 'record overwritten' },
      after: {
        otherBlob: 'dead-lettered MalformedMessage',
        existingId: 'dead-lettered RecordExists',
      },
    });
  });
});
