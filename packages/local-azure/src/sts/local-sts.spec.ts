import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkloadIdentityCredential } from '@azure/identity';
import { afterEach, describe, expect, it } from 'vitest';
import { parseIdentities, type IdentitiesFile } from '../identities/index.js';
import { ensureLocalCa } from '../tls/local-ca.js';
import { decodeJwt } from '../tokens/jwt.js';
import { verifyAccessToken } from '../tokens/access-token.js';
import { LocalSts } from './local-sts.js';

const TENANT = '4f3a8c2e-1b7d-4e9a-9c55-0d1e2f3a4b5c';
const committed = JSON.parse(
  await readFile(new URL('../../../../infra/identities.json', import.meta.url), 'utf8'),
) as IdentitiesFile;

let sts: LocalSts | undefined;
afterEach(async () => sts?.stop());

async function start(edit: (file: IdentitiesFile) => void = () => undefined) {
  const identities = structuredClone(committed);
  edit(identities);
  const ca = await ensureLocalCa(process.env.LOCAL_AZURE_STATE_DIR!);
  sts = new LocalSts({
    port: 0,
    tls: await ca.issueServerCertificate(['localhost']),
    tenantId: TENANT,
    identities: parseIdentities(identities),
    stateDir: await mkdtemp(join(tmpdir(), 'sts-')),
  });
  await sts.start();
  return sts;
}

function credentialFor(
  server: LocalSts,
  service: string,
  overrides: { clientId?: string; tenantId?: string } = {},
) {
  return new WorkloadIdentityCredential({
    tenantId: overrides.tenantId ?? server.tenantId,
    clientId: overrides.clientId ?? server.clientId(service),
    tokenFilePath: server.tokenFilePath(service),
    authorityHost: server.authorityHost,
    disableInstanceDiscovery: true,
  });
}

describe('LocalSts with the real WorkloadIdentityCredential', () => {
  it('exchanges the service account token for an access token of the requested audience', async () => {
    const server = await start();
    const token = await credentialFor(server, 'backend').getToken(
      'https://vault.localhost/.default',
    );
    const claims = verifyAccessToken(`Bearer ${token!.token}`, () => server.jwks(), [
      'https://vault.localhost',
    ]);
    expect(claims).toMatchObject({
      iss: `https://sts.windows.net/${TENANT}/`,
      tid: TENANT,
      appid: server.clientId('backend'),
      xms_mirid: 'id-backend',
    });
    expect(server.exchanges().at(-1)).toMatchObject({
      outcome: 'success',
      assertionSubject: 'system:serviceaccount:doc-intake:backend',
      assertionAudience: 'api://AzureADTokenExchange',
      assertionIssuer: server.issuerUrl,
    });
  });

  it('writes a projected-style token file whose issuer ends with a slash, like AKS', async () => {
    const server = await start();
    const { claims } = decodeJwt(await readFile(server.tokenFilePath('frontend'), 'utf8'));
    expect(claims.iss).toMatch(/^https:\/\/localhost:\d+\/oidc\/$/);
    expect(claims.sub).toBe('system:serviceaccount:doc-intake:frontend');
    expect(claims.aud).toEqual(['api://AzureADTokenExchange']);
  });

  it.each([
    [
      'a subject that does not match the service account',
      (f: IdentitiesFile) =>
        (f.identities[1]!.federatedCredential.subject = 'system:serviceaccount:doc-intake:worker'),
      'AADSTS700213',
    ],
    [
      'an issuer without its trailing slash',
      (f: IdentitiesFile) => (f.identities[1]!.federatedCredential.issuer = 'ISSUER_WITHOUT_SLASH'),
      'AADSTS700211',
    ],
    [
      'an audience the credential does not list',
      (f: IdentitiesFile) =>
        (f.identities[1]!.federatedCredential.audiences = ['api://SomethingElse']),
      'AADSTS700212',
    ],
  ])('rejects %s with %s', async (_case, edit, code) => {
    let server = await start(edit);
    if (code === 'AADSTS700211') {
      const issuer = server.issuerUrl.slice(0, -1);
      await server.stop();
      server = await start((f) => (f.identities[1]!.federatedCredential.issuer = issuer));
    }
    await expect(
      credentialFor(server, 'backend').getToken('https://vault.localhost/.default'),
    ).rejects.toThrow(code);
    expect(server.exchanges().at(-1)?.error).toBe(code);
  });

  it('rejects an expired service account token with AADSTS700024', async () => {
    const server = await start();
    await server.writeServiceAccountToken('frontend', { lifetimeSeconds: -60 });
    await expect(
      credentialFor(server, 'frontend').getToken('https://storage.azure.com/.default'),
    ).rejects.toThrow('AADSTS700024');
    // The kubelet's next rotation fixes it for a credential that reads the file again.
    await server.writeServiceAccountToken('frontend');
    await expect(
      credentialFor(server, 'frontend').getToken('https://storage.azure.com/.default'),
    ).resolves.toBeTruthy();
  });

  it('rejects an unknown client id with AADSTS700016 and an unknown tenant with AADSTS90002', async () => {
    const server = await start();
    await expect(
      credentialFor(server, 'frontend', {
        clientId: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      }).getToken('https://storage.azure.com/.default'),
    ).rejects.toThrow('AADSTS700016');
    await expect(
      credentialFor(server, 'frontend', {
        tenantId: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      }).getToken('https://storage.azure.com/.default'),
      // MSAL fetches the tenant's discovery document first; Entra answers AADSTS90002 there too,
      // which MSAL reports as an endpoint resolution error.
    ).rejects.toThrow(/endpoints_resolution_error/);
  });
});
