import { SecretClient } from '@azure/keyvault-secrets';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureLocalCa } from '../tls/local-ca.js';
import { TEST_TENANT as TENANT, testCredential } from '../testing/test-credential.js';
import { generateSigningKey, toJwk } from '../tokens/jwt.js';
import { KeyVaultEmulator, LOCAL_VAULT_RESOURCE } from './key-vault-emulator.js';

const key = generateSigningKey();
let vault: KeyVaultEmulator | undefined;
afterEach(async () => vault?.stop());

function credential(claims: Record<string, unknown> = {}, signingKey = key) {
  return testCredential(signingKey, { audience: LOCAL_VAULT_RESOURCE, claims });
}

/** Each spec says what RBAC decides: the emulator has no default. */
async function start(
  authorize: ConstructorParameters<typeof KeyVaultEmulator>[0]['authorize'] = () => ({
    allowed: true,
  }),
) {
  const ca = await ensureLocalCa(process.env.LOCAL_AZURE_STATE_DIR!);
  vault = new KeyVaultEmulator({
    port: 0,
    tls: await ca.issueServerCertificate(['localhost', '*.vault.localhost']),
    vaultName: 'kv-test',
    authorityHost: 'https://localhost:1',
    tenantId: TENANT,
    jwks: () => [toJwk(key)],
    authorize,
  });
  await vault.start();
  return vault;
}

describe('KeyVaultEmulator with the real SecretClient', () => {
  it('serves the latest and earlier versions of a secret after the challenge', async () => {
    const server = await start();
    const first = await server.setSecret('backend-signing-key', 'one');
    await server.setSecret('backend-signing-key', 'two');
    const client = new SecretClient(server.vaultUrl, credential());
    expect((await client.getSecret('backend-signing-key')).value).toBe('two');
    expect((await client.getSecret('backend-signing-key', { version: first.version })).value).toBe(
      'one',
    );
  });

  it('keeps an existing secret on ensureSecret', async () => {
    const server = await start();
    await server.ensureSecret('k', () => 'first');
    await server.ensureSecret('k', () => 'second');
    expect((await new SecretClient(server.vaultUrl, credential()).getSecret('k')).value).toBe(
      'first',
    );
  });

  it.each([
    ['a token for another audience', credential({ aud: 'https://storage.azure.com' }), /AKV10022/],
    ['an expired token', credential({ exp: Math.floor(Date.now() / 1000) - 3600 }), /TokenExpired/],
    ['a token signed by an unknown key', credential({}, generateSigningKey()), /AKV10046/],
  ])('answers 401 Unauthorized for %s', async (_case, cred, message) => {
    const server = await start();
    await server.setSecret('s', 'v');
    const error = await new SecretClient(server.vaultUrl, cred)
      .getSecret('s')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 401, code: 'Unauthorized' });
    expect((error as Error).message).toMatch(message);
  });

  it('answers 403 Forbidden (ForbiddenByRbac) when the role assignment does not cover the secret', async () => {
    const server = await start((_claims, _action, secret) =>
      secret === 'frontend-session-key'
        ? { allowed: true }
        : { allowed: false, message: 'no role' },
    );
    await server.setSecret('backend-signing-key', 'v');
    const error = await new SecretClient(server.vaultUrl, credential())
      .getSecret('backend-signing-key')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 403, code: 'Forbidden' });
    expect((error as Error).message).toContain(
      "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
    );
  });

  it('answers 404 SecretNotFound for an unknown secret', async () => {
    const server = await start();
    const error = await new SecretClient(server.vaultUrl, credential())
      .getSecret('nope')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 404, code: 'SecretNotFound' });
  });
});
