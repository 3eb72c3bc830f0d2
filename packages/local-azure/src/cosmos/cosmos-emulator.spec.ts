import { CosmosClient, MetadataLookUpType } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalCa } from '../tls/local-ca.js';
import { TEST_TENANT, testCredential } from '../testing/test-credential.js';
import { generateSigningKey, toJwk } from '../tokens/jwt.js';
import { CosmosEmulator } from './cosmos-emulator.js';

const key = generateSigningKey();
let cosmos: CosmosEmulator;
const clients: CosmosClient[] = [];

function client(claims: Record<string, unknown> = {}, signingKey = key): CosmosClient {
  const created = new CosmosClient({
    endpoint: cosmos.endpoint,
    aadCredentials: testCredential(signingKey, { claims }),
    connectionPolicy: { enableEndpointDiscovery: true },
  });
  clients.push(created);
  return created;
}

beforeAll(async () => {
  const ca = await ensureLocalCa(process.env.LOCAL_AZURE_STATE_DIR!);
  cosmos = new CosmosEmulator({
    port: 0,
    tls: await ca.issueServerCertificate(['localhost', '127.0.0.1']),
    jwks: () => [toJwk(key)],
    tenantId: TEST_TENANT,
    authorize: (claims, action) =>
      claims.appid === 'reader' &&
      !/readMetadata|items\/read|executeQuery|readChangeFeed/.test(action)
        ? { allowed: false, message: 'reader' }
        : { allowed: true },
  });
  await cosmos.start();
  await cosmos.ensureDatabase('intake');
  await cosmos.ensureContainer('intake', 'documents', '/id');
});
afterAll(async () => {
  clients.forEach((c) => c.dispose());
  await cosmos?.stop();
});

describe('CosmosEmulator with the real CosmosClient (AAD only)', () => {
  it('names the account, so the SDK caches its locations instead of reading the account per request', async () => {
    // @azure/cosmos ignores the locations of an account whose id is 'localhost' (Microsoft's
    // emulator); an empty location cache made it read the account before every request.
    const container = client().database('intake').container('documents');
    await container.items.upsert({ id: 'warm-up' });
    const accountReads: number[] = [];
    for (const id of ['c1', 'c2', 'c3']) {
      const { diagnostics } = await container.items.create({ id });
      accountReads.push(
        diagnostics.clientSideRequestStatistics.metadataDiagnostics.metadataLookups.filter(
          (lookup) => lookup.metaDataType === MetadataLookUpType.DatabaseAccountLookUp,
        ).length,
      );
    }
    expect(accountReads).toEqual([0, 0, 0]);
    await Promise.all(['warm-up', 'c1', 'c2', 'c3'].map((id) => container.item(id, id).delete()));
  });

  it('reads the container, upserts idempotently by id, reads and queries', async () => {
    const container = client().database('intake').container('documents');
    await container.read();
    await container.items.upsert({ id: 'a', uploadedAt: '2026-01-01T00:00:00Z' });
    await container.items.upsert({ id: 'a', uploadedAt: '2026-01-02T00:00:00Z' });
    await container.items.upsert({ id: 'b', uploadedAt: '2026-01-03T00:00:00Z' });
    const { resource } = await container.item('a', 'a').read();
    expect(resource?.uploadedAt).toBe('2026-01-02T00:00:00Z');
    const { resources } = await container.items
      .query({
        query: 'SELECT * FROM c WHERE c.uploadedAt > @after ORDER BY c.uploadedAt DESC',
        parameters: [{ name: '@after', value: '2026-01-01' }],
      })
      .fetchAll();
    expect(resources.map((r) => r.id)).toEqual(['b', 'a']);
    expect((await cosmos.items('intake', 'documents')).length).toBe(2);
  });

  it('answers 404 for an unknown item', async () => {
    const error = await client()
      .database('intake')
      .container('documents')
      .item('missing', 'missing')
      .read();
    expect(error.statusCode).toBe(404);
  });

  it('refuses a write the role does not allow with 403 Forbidden / 5301', async () => {
    const error = await client({ appid: 'reader' })
      .database('intake')
      .container('documents')
      .items.upsert({ id: 'c' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 403, substatus: 5301 });
    expect((error as Error).message).toContain('items/upsert');
  });

  it.each([
    ['another audience', { aud: 'https://vault.azure.net' }],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 3600 }],
  ])('refuses %s with 401', async (_case, claims) => {
    const error = await client(claims)
      .database('intake')
      .container('documents')
      .read()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 401 });
  });

  it('rejects account keys: local authorization is disabled', async () => {
    const response = await fetch(`${cosmos.endpoint}dbs`, {
      headers: {
        authorization: encodeURIComponent('type=master&ver=1.0&sig=abc'),
        'x-ms-date': new Date().toUTCString(),
      },
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('Local Authorization is disabled');
  });
});
