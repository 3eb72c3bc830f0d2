import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RestError } from '@azure/storage-blob';
import { POD_AZURE_ENV } from '@wi/azure/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendClient, BackendUnavailableError } from './documents/backend-client.js';
import { SessionKeyService } from './session/session-key.service.js';
import { BlobUploadSink } from './uploads/blob-upload.sink.js';

/** The variables the webhook and the Deployment give a pod; nothing here is contacted. */
const env = {
  ...POD_AZURE_ENV,
  BACKEND_URL: 'http://backend.invalid',
  BACKEND_API_SCOPE: 'api://0b8e2a4c-6d1f-5e3a-9b7c-2d4e6f8a0b1c/.default',
  LOG_LEVEL: 'silent',
};

const id = '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The real AppModule with the backend, the uploads container and Key Vault replaced. */
async function frontend(backend: Partial<BackendClient>, uploads: Partial<BlobUploadSink> = {}) {
  // Stubbed, not assigned: the worker runs other files after this one (vitest.config.mts).
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  // After the variables: the logger module reads LOG_LEVEL when app.module.ts loads.
  const { AppModule } = await import('./app.module.js');
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(BackendClient)
    .useValue(backend)
    .overrideProvider(BlobUploadSink)
    .useValue({ exists: async () => false, ...uploads })
    .overrideProvider(SessionKeyService)
    .useValue({ current: async () => ({ version: 'v1', value: Buffer.from('k') }) })
    .compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return (path: string, init?: RequestInit) => fetch(`${url}${path}`, init);
}

const unreachable = () =>
  new BackendUnavailableError('backend /documents: no answer in 5000 ms', {
    cause: new DOMException('timeout', 'TimeoutError'),
  });

describe('AppModule wiring: the global filter and guard', () => {
  it('answers the backend out of reach with 503 and Retry-After, for every route that calls it', async () => {
    const get = await frontend({
      list: async () => Promise.reject(unreachable()),
      get: async () => Promise.reject(unreachable()),
    });
    for (const path of ['/api/documents', `/api/documents/${id}`, `/api/uploads/${id}`]) {
      const response = await get(path);
      expect(response.status, path).toBe(503);
      expect(response.headers.get('retry-after'), path).toBe('5');
      const body = await response.text();
      expect(JSON.parse(body)).toEqual({
        statusCode: 503,
        message: 'The document service is unavailable; try again shortly.',
      });
      expect(body).not.toMatch(/5000 ms|backend\//);
    }
  });

  it('answers a refusal of the backend (its 403: a role missing) with 503 and no Retry-After', async () => {
    const refused = new BackendUnavailableError('backend answered 403: MissingAppRole', {
      statusCode: 403,
    });
    const get = await frontend({ list: async () => Promise.reject(refused) });
    const response = await get('/api/documents');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(await response.text()).not.toMatch(/MissingAppRole/);
  });

  it('answers Blob Storage out of reach on the status route with 503', async () => {
    const get = await frontend(
      { get: async () => undefined },
      {
        exists: async () =>
          Promise.reject(
            new RestError('getaddrinfo ENOTFOUND st.blob.invalid', { code: 'REQUEST_SEND_ERROR' }),
          ),
      },
    );
    const response = await get(`/api/uploads/${id}`);
    expect(response.status).toBe(503);
    expect(await response.text()).not.toMatch(/ENOTFOUND|st\.blob/);
  });

  it("keeps a client's bad request a 400, an unknown upload a 404, an unknown error a bare 500", async () => {
    const get = await frontend({
      get: async () => undefined,
      list: async () => Promise.reject(new Error('AccountKey=secret')),
    });
    expect((await get('/api/documents/not-a-uuid')).status).toBe(400);
    expect((await get(`/api/uploads/${id}`)).status).toBe(404);
    const failed = await get('/api/documents');
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ statusCode: 500, message: 'Internal server error' });
  });

  it('keeps a malformed JSON body a 400, not a 500', async () => {
    const post = await frontend({});
    const response = await post('/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"oops',
    });
    expect(response.status).toBe(400);
  });

  it('refuses a cross-site POST before reading it (the global SameOriginGuard)', async () => {
    const post = await frontend({});
    const response = await post('/uploads', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(response.status).toBe(403);
  });
});
