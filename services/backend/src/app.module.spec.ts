import { ErrorResponse } from '@azure/cosmos';
import type { INestApplication } from '@nestjs/common';
import { RestError } from '@azure/storage-blob';
import { afterEach, describe, expect, it } from 'vitest';
import type { DocumentsRepository } from './documents/documents.repository.js';
import { startBackendForTest } from './testing/backend-test-app.js';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function backend(documents: Partial<DocumentsRepository> = {}) {
  const started = await startBackendForTest(documents);
  app = started.app;
  return (path: string, token?: string) =>
    fetch(`${started.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
}

function storageAnswered(status: number, headers: Record<string, string> = {}): RestError {
  // What the pipeline hands RestError: only the headers matter here.
  const response = { status, headers: { get: (name: string) => headers[name] } };
  return new RestError('The specified resource name contains invalid characters. RequestId:42', {
    statusCode: status,
    code: 'ServerBusy',
    response: response as never,
  });
}

const id = '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';

describe('AppModule wiring: the global guard and filters', () => {
  it('refuses a request without a token with the Bearer challenge (APP_GUARD + its filter)', async () => {
    const get = await backend();
    const response = await get('/documents');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="backend"/);
  });

  it('refuses a caller without the app role (403) and serves one with it', async () => {
    const get = await backend();
    expect((await get('/documents', 'no-role')).status).toBe(403);
    const ok = await get('/documents', 'frontend');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ items: [] });
  });

  it('leaves the probes open (@Public)', async () => {
    const get = await backend();
    expect((await get('/healthz/live')).status).toBe(200);
  });

  it("answers a transient Azure failure with 503 and Azure's Retry-After, and no Azure detail", async () => {
    const get = await backend({
      list: async () => {
        throw storageAnswered(503, { 'retry-after': '2' });
      },
    });
    const response = await get('/documents', 'frontend');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({
      statusCode: 503,
      message: 'A service this request depends on is unavailable; try again shortly.',
    });
    expect(body).not.toMatch(/RequestId|ServerBusy|invalid characters/);
  });

  it('answers a refused role at Cosmos DB with 503 and no Retry-After: waiting will not fix it', async () => {
    const get = await backend({
      get: async () => {
        throw Object.assign(new ErrorResponse('principal 1234 lacks readMetadata'), { code: 403 });
      },
    });
    const response = await get(`/documents/${id}`, 'frontend');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(await response.text()).not.toMatch(/principal|readMetadata/);
  });

  it('keeps an unknown error a bare 500, with nothing of it in the answer', async () => {
    const get = await backend({
      list: async () => {
        throw Object.assign(new Error('connection string AccountKey=abc'), { statusCode: 503 });
      },
    });
    const response = await get('/documents', 'frontend');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ statusCode: 500, message: 'Internal server error' });
  });

  it('keeps a malformed JSON body a 400, not a 500', async () => {
    const started = await startBackendForTest();
    app = started.app;
    const response = await fetch(`${started.url}/documents`, {
      method: 'POST',
      headers: { authorization: 'Bearer frontend', 'content-type': 'application/json' },
      body: '{"oops',
    });
    expect(response.status).toBe(400);
  });

  it("keeps a client's bad request a 400 and an unknown document a 404", async () => {
    const get = await backend();
    expect((await get('/documents/not-a-uuid', 'frontend')).status).toBe(400);
    expect((await get(`/documents/${id}`, 'frontend')).status).toBe(404);
  });
});
