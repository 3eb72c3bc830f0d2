import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrontendConfig } from '../config/frontend-config.js';
import { BackendClient, BackendUnavailableError } from './backend-client.js';

const known = '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const scope = 'api://0b8e2a4c-6d1f-5e3a-9b7c-2d4e6f8a0b1c/.default';
const scopesAsked: string[] = [];
const credential = {
  getToken: async (requested: string | string[]) => {
    scopesAsked.push(String(requested));
    return { token: 'header.payload.signature', expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

describe('BackendClient', () => {
  let server: Server;
  let seen: IncomingMessage[];
  let client: (timeoutMs?: number) => BackendClient;

  beforeAll(async () => {
    seen = [];
    server = createServer((request, response) => {
      seen.push(request);
      if (request.url === '/documents')
        return void response.end(JSON.stringify({ items: [{ id: known }] }));
      if (request.url === `/documents/${known}`)
        return void response.end(JSON.stringify({ id: known }));
      if (request.url === '/documents/slow')
        return void setTimeout(() => response.end('{}'), 1_000);
      if (request.url === '/documents/broken')
        return void response.writeHead(503).end('{"message":"store down"}');
      response.writeHead(404).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = (timeoutMs = 2_000) =>
      new BackendClient(
        { backendUrl: url, backendTimeoutMs: timeoutMs, backendApiScope: scope } as FrontendConfig,
        credential,
      );
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('lists and gets documents with a token for the backend API, passing the request id along', async () => {
    expect((await client().list('req-1')).items).toEqual([{ id: known }]);
    expect(await client().get(known)).toEqual({ id: known });
    expect(seen[0]!.headers['x-request-id']).toBe('req-1');
    expect(seen[0]!.headers.authorization).toBe('Bearer header.payload.signature');
    expect(new Set(scopesAsked)).toEqual(new Set([scope]));
  });

  it('calls nothing when there is no token: the refusal names Entra’s code', async () => {
    const before = seen.length;
    const refused = new BackendClient(
      {
        backendUrl: 'http://127.0.0.1:9',
        backendTimeoutMs: 1_000,
        backendApiScope: scope,
      } as FrontendConfig,
      {
        getToken: async () => {
          throw new Error(
            'AADSTS501051: Application is not assigned to a role for the application',
          );
        },
      },
    );
    await expect(refused.list()).rejects.toThrow(/AADSTS501051/);
    expect(seen.length).toBe(before);
  });

  it('answers undefined for a document the backend does not have', async () => {
    expect(await client().get('7f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b')).toBeUndefined();
  });

  it('turns an error answer, a timeout and a refused connection into BackendUnavailableError', async () => {
    await expect(client().get('broken')).rejects.toThrow(/backend answered 503: .*store down/);
    await expect(client(100).get('slow')).rejects.toThrow(/no answer in 100 ms/);
    const closed = new BackendClient(
      {
        backendUrl: 'http://127.0.0.1:9',
        backendTimeoutMs: 1_000,
        backendApiScope: scope,
      } as FrontendConfig,
      credential,
    );
    await expect(closed.list()).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
