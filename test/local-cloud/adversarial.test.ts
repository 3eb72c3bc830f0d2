import { randomBytes } from 'node:crypto';
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type { LocalCloud } from '@wi/local-azure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawAmqpClient } from '../../packages/local-azure/src/testing/raw-amqp-client.js';
import { startLocalCloud } from '../support/local-stack.js';
import { serviceCredential } from '../support/seed.js';

/**
 * Every hostile input of issue 16, sent the way an attacker would (raw paths, raw headers, raw
 * AMQP frames), each refused with the plane's own error while the cloud keeps serving.
 */

let cloud: LocalCloud;
let ca: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ persist: true });
  ca = await readFile(cloud.caCertPath, 'utf8');
});
afterAll(() => cloud?.stop());

async function token(service: string, scope: string): Promise<string> {
  const credential = serviceCredential(cloud, service);
  return (await credential.getToken(scope))!.token;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTPS request with the path exactly as given: fetch() would normalise it first. */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
        servername: 'localhost',
        port: url.port,
        method,
        path,
        headers,
        ca,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const blobBase = () => new URL(cloud.blob.endpoint).origin;
const storageScope = 'https://storage.azure.com/.default';

/** The cloud still answers a good request on every plane. */
async function stillServing(): Promise<void> {
  const frontend = await token('frontend', storageScope);
  const list = await raw(
    blobBase(),
    'GET',
    '/devstoreaccount1/uploads?restype=container&comp=list',
    {
      authorization: `Bearer ${frontend}`,
      'x-ms-version': '2025-11-05',
    },
  );
  expect(list.status).toBe(200);
  const cosmos = await raw(cloud.cosmos.endpoint, 'GET', '/', {});
  expect(cosmos.status).toBe(401);
  const vault = await raw(
    cloud.keyVault.vaultUrl.replace('kv-intake.vault.', ''),
    'GET',
    '/secrets/x?api-version=7.5',
  );
  expect(vault.status).toBe(401);
}

describe('Blob: what is authorized is what is forwarded', () => {
  const corsBody =
    '<?xml version="1.0" encoding="utf-8"?><StorageServiceProperties><Cors><CorsRule><AllowedOrigins>https://evil.example</AllowedOrigins><AllowedMethods>GET</AllowedMethods><AllowedHeaders>*</AllowedHeaders><ExposedHeaders>*</ExposedHeaders><MaxAgeInSeconds>60</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>';

  it.each([
    [
      'an empty segment before the container',
      '/devstoreaccount1//uploads/x?restype=service&comp=properties',
      400,
      'InvalidUri',
    ],
    [
      'a dot segment',
      '/devstoreaccount1/uploads/../?restype=service&comp=properties',
      400,
      'InvalidUri',
    ],
    [
      'restype=service on a blob path',
      '/devstoreaccount1/uploads/x?restype=service&comp=properties',
      400,
      'InvalidQueryParameterValue',
    ],
    [
      'the account itself',
      '/devstoreaccount1/?restype=service&comp=properties',
      403,
      'AuthorizationPermissionMismatch',
    ],
  ])('refuses the frontend rewriting CORS through %s', async (_case, path, status, code) => {
    const frontend = await token('frontend', storageScope);
    const answer = await raw(
      blobBase(),
      'PUT',
      path,
      {
        authorization: `Bearer ${frontend}`,
        'x-ms-version': '2025-11-05',
        'content-type': 'application/xml',
      },
      corsBody,
    );
    expect(answer.status).toBe(status);
    expect(answer.headers['x-ms-error-code']).toBe(code);
  });

  it.each([
    ['%2e%2e', '/devstoreaccount1/nonexistent/%2e%2e/uploads?restype=container&comp=list'],
    ['..', '/devstoreaccount1/nonexistent/../uploads?restype=container&comp=list'],
    ['%2E%2E/ in a blob name', '/devstoreaccount1/uploads/%2E%2E/x'],
  ])(
    'refuses a path with %s instead of authorizing one container and serving another',
    async (_case, path) => {
      const backend = await token('backend', storageScope);
      const answer = await raw(blobBase(), 'GET', path, {
        authorization: `Bearer ${backend}`,
        'x-ms-version': '2025-11-05',
      });
      expect(answer.status).toBe(400);
      expect(answer.headers['x-ms-error-code']).toBe('InvalidUri');
    },
  );

  it.each([
    ['malformed percent-encoding', 'GET', '/devstoreaccount1/uploads/%E0%A4%A', 400, 'InvalidUri'],
    [
      'a repeated comp',
      'GET',
      '/devstoreaccount1/uploads?restype=container&comp=list&comp=acl',
      400,
      'InvalidUri',
    ],
    [
      'an invalid container name',
      'GET',
      '/devstoreaccount1/UP_LOADS?restype=container',
      400,
      'InvalidResourceName',
    ],
    [
      'a batch (sub-requests carry their own paths)',
      'PUT',
      '/devstoreaccount1/uploads?restype=container&comp=batch',
      403,
      'AuthorizationPermissionMismatch',
    ],
    ['POST', 'POST', '/devstoreaccount1/uploads/x?comp=query', 405, 'UnsupportedHttpVerb'],
  ])('answers %s with Storage’s error, not a 500', async (_case, method, path, status, code) => {
    const frontend = await token('frontend', storageScope);
    const answer = await raw(blobBase(), method, path, {
      authorization: `Bearer ${frontend}`,
      'x-ms-version': '2025-11-05',
    });
    expect(answer.status).toBe(status);
    expect(answer.headers['x-ms-error-code']).toBe(code);
    expect(answer.body).not.toMatch(/at |Error:/);
  });

  it('refuses a copy whose source is another container', async () => {
    const frontend = await token('frontend', storageScope);
    const answer = await raw(blobBase(), 'PUT', '/devstoreaccount1/uploads/copied', {
      authorization: `Bearer ${frontend}`,
      'x-ms-version': '2025-11-05',
      'x-ms-copy-source': `${blobBase()}/devstoreaccount1/other/secret`,
    });
    expect(answer.status).toBe(403);
  });

  it('keeps uploaded blobs readable by this user only', async () => {
    const stateDir = await findStateDir();
    const mode = (await stat(join(stateDir, 'blob'))).mode & 0o777;
    expect(mode & 0o077).toBe(0);
  });
});

/** The cloud's state dir is the parent of its token files. */
async function findStateDir(): Promise<string> {
  const file = cloud.env('frontend').AZURE_FEDERATED_TOKEN_FILE!;
  let dir = file;
  for (;;) {
    dir = dir.slice(0, dir.lastIndexOf('/'));
    if ((await readdir(dir)).includes('blob')) return dir;
    if (dir.length <= 1) throw new Error(`no blob directory above ${file}`);
  }
}

describe('the back ends are reachable only through their proxies', () => {
  it('listens on no TCP port but the five planes', async () => {
    const inodes = new Set<string>();
    for (const fd of await readdir('/proc/self/fd')) {
      const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match) inodes.add(match[1]!);
    }
    const listening = new Set<number>();
    for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
      const rows = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
      for (const row of rows) {
        const cols = row.trim().split(/\s+/);
        if (cols[3] === '0A' && inodes.has(cols[9]!))
          listening.add(parseInt(cols[1]!.split(':')[1]!, 16));
      }
    }
    const planes = [
      new URL(cloud.sts.authorityHost).port,
      new URL(cloud.keyVault.vaultUrl).port,
      new URL(cloud.blob.endpoint).port,
      new URL(cloud.cosmos.endpoint).port,
      cloud.serviceBusNamespace.split(':')[1] ?? '5671',
    ].map(Number);
    expect([...listening].sort()).toEqual(planes.sort());
  });
});

describe('Cosmos', () => {
  it('answers a malformed percent-encoded Authorization header with 401 and keeps serving', async () => {
    const answer = await raw(cloud.cosmos.endpoint, 'GET', '/dbs/intake', {
      authorization: 'type=aad&ver=1.0&sig=%E0%A4%A',
      'x-ms-version': '2018-12-31',
    });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'Unauthorized' });
    await stillServing();
  });

  it('answers a malformed path with 400 BadRequest', async () => {
    const backend = await token('backend', 'https://cosmos.azure.com/.default');
    const answer = await raw(cloud.cosmos.endpoint, 'GET', '/dbs/%E0%A4%A', {
      authorization: encodeURIComponent(`type=aad&ver=1.0&sig=${backend}`),
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'BadRequest' });
  });
});

describe('Key Vault', () => {
  const vault = () => cloud.keyVault.vaultUrl.replace('kv-intake.vault.', '');
  const vaultScope = 'https://vault.localhost/.default';

  it('answers a malformed secret name with 400 BadParameter, not 500', async () => {
    const frontend = await token('frontend', vaultScope);
    const answer = await raw(vault(), 'GET', '/secrets/%E0%A4%A?api-version=7.5', {
      authorization: `Bearer ${frontend}`,
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'BadParameter' } });
  });

  it('answers listing secrets with the RBAC denial Azure gives a secret-scoped role', async () => {
    const frontend = await token('frontend', vaultScope);
    const answer = await raw(vault(), 'GET', '/secrets?api-version=7.5', {
      authorization: `Bearer ${frontend}`,
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { code: 'Forbidden', innererror: { code: 'ForbiddenByRbac' } },
    });
  });

  it('refuses a write without setSecret before reading its body', async () => {
    const frontend = await token('frontend', vaultScope);
    const answer = await raw(
      vault(),
      'PUT',
      '/secrets/frontend-session-key?api-version=7.5',
      {
        authorization: `Bearer ${frontend}`,
        'content-type': 'application/json',
      },
      '{not json',
    );
    expect(answer.status).toBe(403);
  });
});

describe('the token endpoint', () => {
  const tokenPath = () => `/${cloud.sts.tenantId}/oauth2/v2.0/token`;
  async function post(form: Record<string, string> | string) {
    const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
    const answer = await raw(
      cloud.sts.authorityHost,
      'POST',
      tokenPath(),
      {
        'content-type': 'application/x-www-form-urlencoded',
      },
      body,
    );
    return {
      status: answer.status,
      body: JSON.parse(answer.body) as { error: string; error_codes: number[] },
    };
  }
  const assertion = async () => ({
    grant_type: 'client_credentials',
    client_id: cloud.env('frontend').AZURE_CLIENT_ID!,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: (
      await readFile(cloud.env('frontend').AZURE_FEDERATED_TOKEN_FILE!, 'utf8')
    ).trim(),
  });

  it.each([
    ['grant_type=password', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    [
      'a scope of a resource that does not exist',
      { scope: 'https://evil.example/.default' },
      400,
      'invalid_resource',
      500011,
    ],
    [
      'a client secret instead of an assertion',
      { client_assertion: '', client_secret: 'x' },
      401,
      'invalid_client',
      7000215,
    ],
  ])('refuses %s with Entra’s code', async (_case, fields, status, error, code) => {
    const answer = await post({ scope: storageScope, ...(await assertion()), ...fields });
    expect(answer).toMatchObject({ status, body: { error, error_codes: [code] } });
  });

  it('answers a request target that is not a path with an Entra error, not a 500', async () => {
    const answer = await raw(cloud.sts.authorityHost, 'GET', '//evil.example/x');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: 'invalid_request',
      error_codes: [9002313],
    });
  });

  it('answers a body over the limit with an Entra error, not a 500 with internal text', async () => {
    const answer = await post(`grant_type=client_credentials&pad=${'a'.repeat(2 * 1024 * 1024)}`);
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', error_codes: [9002313] },
    });
  });
});

describe('Service Bus: refused links carry nothing', () => {
  const port = () => Number(cloud.serviceBusNamespace.split(':')[1] ?? 5671);
  const audience = () => `sb://${cloud.serviceBusNamespace}/documents`;
  const sbScope = 'https://servicebus.azure.net/.default';

  async function withClient<T>(run: (client: RawAmqpClient) => Promise<T>): Promise<T> {
    const client = await RawAmqpClient.connect(port(), ca);
    try {
      return await run(client);
    } finally {
      client.close();
    }
  }

  const message = { message_id: 'hostile', body: JSON.stringify({ documentId: 'x' }) };

  it('does not enqueue a transfer on a sender attached without a token', async () => {
    const before = cloud.serviceBus.stats('documents');
    const outcome = await withClient((client) => client.sendRegardless('documents', message));
    expect(outcome.detachCondition).toBe('amqp:unauthorized-access');
    expect(outcome.disposition).not.toBe('accepted');
    expect(cloud.serviceBus.stats('documents')).toEqual(before);
  });

  it("does not enqueue a transfer on a sender attached with the backend's token (no Send)", async () => {
    const before = cloud.serviceBus.stats('documents');
    const outcome = await withClient(async (client) => {
      expect(await client.putToken(audience(), await token('backend', sbScope))).toBe(202);
      return client.sendRegardless('documents', message);
    });
    expect(outcome.detachCondition).toBe('amqp:unauthorized-access');
    expect(outcome.disposition).not.toBe('accepted');
    expect(cloud.serviceBus.stats('documents')).toEqual(before);
  });

  it('refuses a send to the dead-letter sub-queue', async () => {
    const before = cloud.serviceBus.stats('documents');
    const outcome = await withClient(async (client) => {
      await client.putToken(audience(), await token('frontend', sbScope));
      return client.sendRegardless('documents/$deadletterqueue', message);
    });
    expect(outcome.detachCondition).toBe('amqp:not-allowed');
    expect(cloud.serviceBus.stats('documents')).toEqual(before);
  });

  it('rejects a 5 MiB message with message-size-exceeded (Standard allows 256 KB)', async () => {
    const before = cloud.serviceBus.stats('documents');
    const outcome = await withClient(async (client) => {
      await client.putToken(audience(), await token('frontend', sbScope));
      return client.sendRegardless(
        'documents',
        { message_id: 'big', body: 'x'.repeat(5 * 1024 * 1024) },
        4000,
      );
    });
    expect(outcome.disposition).toBe('rejected');
    expect(cloud.serviceBus.stats('documents')).toEqual(before);
  });

  it('answers a SAS token on $cbs with 401 (local auth is disabled)', async () => {
    const status = await withClient((client) =>
      client.putToken(
        audience(),
        'SharedAccessSignature sr=x&sig=y&se=9999999999&skn=RootManageSharedAccessKey',
      ),
    );
    expect(status).toBe(401);
  });

  it('answers a malformed or lost update-disposition with its error, and settles nothing', async () => {
    const before = cloud.serviceBus.stats('documents');
    const answers = await withClient(async (client) => {
      await client.putToken(audience(), await token('backend', sbScope));
      const lockTokens = RawAmqpClient.lockTokens(randomBytes(16));
      const send = (body: unknown) =>
        client.managementRequest('documents', 'com.microsoft:update-disposition', body);
      return [
        await send({ 'disposition-status': 'erased', 'lock-tokens': lockTokens }),
        await send({ 'disposition-status': 'completed' }),
        await send('not a map'),
        await send({ 'disposition-status': 'completed', 'lock-tokens': lockTokens }),
        await send({ 'disposition-status': 'defered', 'lock-tokens': lockTokens }),
      ];
    });
    expect(answers.map((a) => [a.status, a.condition])).toEqual([
      [400, 'amqp:invalid-field'],
      [400, 'amqp:invalid-field'],
      [400, 'amqp:invalid-field'],
      [410, 'com.microsoft:message-lock-lost'],
      [501, 'com.microsoft:not-implemented'],
    ]);
    expect(cloud.serviceBus.stats('documents')).toEqual(before);
  });

  it("refuses update-disposition to the frontend's token (no Listen)", async () => {
    const answer = await withClient(async (client) => {
      await client.putToken(audience(), await token('frontend', sbScope));
      return client.managementRequest('documents', 'com.microsoft:update-disposition', {
        'disposition-status': 'completed',
        'lock-tokens': RawAmqpClient.lockTokens(randomBytes(16)),
      });
    });
    expect([answer.status, answer.condition]).toEqual([401, 'amqp:unauthorized-access']);
  });

  it('keeps serving after all of it', async () => {
    await stillServing();
  });
});
