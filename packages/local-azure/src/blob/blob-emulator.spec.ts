import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, RestError } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalCa } from '../tls/local-ca.js';
import { TEST_TENANT as TENANT, testCredential } from '../testing/test-credential.js';
import { generateSigningKey, toJwk } from '../tokens/jwt.js';
import { BlobEmulator, STORAGE_RESOURCE } from './blob-emulator.js';

const key = generateSigningKey();
let blob: BlobEmulator;

function credential(claims: Record<string, unknown> = {}, signingKey = key) {
  return testCredential(signingKey, {
    audience: STORAGE_RESOURCE,
    claims: { appid: 'reader', ...claims },
  });
}

beforeAll(async () => {
  const ca = await ensureLocalCa(process.env.LOCAL_AZURE_STATE_DIR!);
  blob = new BlobEmulator({
    port: 0,
    tls: await ca.issueServerCertificate(['localhost', '127.0.0.1']),
    caCertPem: ca.caCertPem,
    authorityHost: 'https://localhost:1',
    tenantId: TENANT,
    jwks: () => [toJwk(key)],
    // A reader may only read; anyone else may do anything, in container "uploads" only.
    authorize: (claims, action, scope) =>
      scope.container !== undefined && scope.container !== 'uploads'
        ? { allowed: false, message: 'wrong scope' }
        : claims.appid === 'reader' && !action.endsWith('/read')
          ? { allowed: false, message: 'reader' }
          : { allowed: true },
  });
  await blob.start();
  await blob.ensureContainer('uploads');
});
afterAll(async () => blob?.stop());

describe('BlobEmulator with the real BlobServiceClient', () => {
  it('streams an upload in, reads it back, and deletes it', async () => {
    const client = new BlobServiceClient(blob.endpoint, credential({ appid: 'writer' }));
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const blockBlob = client.getContainerClient('uploads').getBlockBlobClient('doc-1');
    await blockBlob.uploadStream(
      Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]),
      1024 * 1024,
      2,
      {
        blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
      },
    );
    expect(await blob.listBlobNames('uploads')).toContain('doc-1');
    const read = await blockBlob.downloadToBuffer();
    expect(read.equals(data)).toBe(true);
    await blockBlob.delete();
    expect(await blob.listBlobNames('uploads')).not.toContain('doc-1');
  });

  it('lets a reader read container properties but not write (403 AuthorizationPermissionMismatch)', async () => {
    const container = new BlobServiceClient(blob.endpoint, credential()).getContainerClient(
      'uploads',
    );
    await expect(container.getProperties()).resolves.toBeTruthy();
    const error = await container
      .getBlockBlobClient('x')
      .upload('x', 1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestError);
    expect(error).toMatchObject({ statusCode: 403, code: 'AuthorizationPermissionMismatch' });
  });

  it('denies another container', async () => {
    const error = await new BlobServiceClient(blob.endpoint, credential({ appid: 'writer' }))
      .getContainerClient('other')
      .getProperties()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 403 });
  });

  it.each([
    ['another audience', credential({ aud: 'https://vault.azure.net' })],
    ['an expired token', credential({ exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['an unknown signing key', credential({}, generateSigningKey())],
  ])('answers 401 InvalidAuthenticationInfo for %s', async (_case, cred) => {
    const error = await new BlobServiceClient(blob.endpoint, cred)
      .getContainerClient('uploads')
      .getBlockBlobClient('x')
      .download()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 401, code: 'InvalidAuthenticationInfo' });
  });
});
