import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkloadIdentityCredential } from '@azure/identity';
import { afterEach, describe, expect, it } from 'vitest';
import {
  localApiAppId,
  localApiIdentifierUri,
  localClientId,
  localPrincipalId,
  parseIdentities,
  type IdentitiesFile,
} from '../identities/index.js';
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
    resources: ['https://vault.localhost', 'https://storage.azure.com'],
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
    const claims = await verifyAccessToken(
      `Bearer ${token!.token}`,
      () => server.jwks(),
      ['https://vault.localhost'],
      { issuers: [`https://sts.windows.net/${TENANT}/`], tenantId: TENANT },
    );
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

/** A token request as any client would post it, to see Entra's answer to what the SDK never sends. */
async function postToken(server: LocalSts, fields: Record<string, string>) {
  const response = await fetch(`${server.authorityHost}/${server.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function assertionFields(server: LocalSts, service: string) {
  return {
    grant_type: 'client_credentials',
    client_id: server.clientId(service),
    scope: 'https://storage.azure.com/.default',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: (await readFile(server.tokenFilePath(service), 'utf8')).trim(),
  };
}

describe('LocalSts tokens for declared service APIs', () => {
  it('issues a v2 token with the granted app roles for api://<app id>/.default', async () => {
    const server = await start();
    const token = await credentialFor(server, 'frontend').getToken(
      `${localApiIdentifierUri('backend')}/.default`,
    );
    const claims = await verifyAccessToken(
      `Bearer ${token!.token}`,
      () => server.jwks(),
      [localApiAppId('backend')],
      { issuers: [server.v2Issuer], tenantId: TENANT },
    );
    const frontend = committed.identities[0]!;
    expect(claims).toMatchObject({
      iss: `${server.authorityHost}/${TENANT}/v2.0`,
      aud: localApiAppId('backend'),
      roles: ['Documents.Read'],
      azp: localClientId(frontend),
      azpacr: '2',
      oid: localPrincipalId(frontend),
      sub: localPrincipalId(frontend),
      tid: TENANT,
      ver: '2.0',
    });
    expect(claims.appid).toBeUndefined();
    expect(claims.exp - claims.iat).toBe(3600);
  });

  it('serves that issuer and the signing key in the tenant v2.0 discovery document', async () => {
    const server = await start();
    const discovery = (await (
      await fetch(`${server.authorityHost}/${TENANT}/v2.0/.well-known/openid-configuration`)
    ).json()) as { issuer: string; jwks_uri: string };
    expect(discovery.issuer).toBe(server.v2Issuer);
    const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: { kid: string }[] };
    const token = await credentialFor(server, 'frontend').getToken(
      `${localApiAppId('backend')}/.default`,
    );
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeJwt(token!.token).header.kid);
  });

  it('refuses a caller with no grant on the API with AADSTS501051 (invalid_grant, 400)', async () => {
    const server = await start();
    const answer = await postToken(server, {
      ...(await assertionFields(server, 'backend')),
      scope: `${localApiIdentifierUri('backend')}/.default`,
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_grant', error_codes: [501051] });
  });
});

describe('LocalSts refuses what Entra refuses', () => {
  it('answers AADSTS500011 for a resource that does not exist in the tenant', async () => {
    const server = await start();
    await expect(
      credentialFor(server, 'frontend').getToken('https://evil.example/.default'),
    ).rejects.toThrow('AADSTS500011');
    const answer = await postToken(server, {
      ...(await assertionFields(server, 'frontend')),
      scope: 'https://evil.example/.default',
    });
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_resource', error_codes: [500011] },
    });
  });

  it.each([
    ['password', { grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
    [
      'authorization_code',
      { grant_type: 'authorization_code' },
      400,
      'unsupported_grant_type',
      70003,
    ],
    [
      'a client secret',
      { client_assertion: '', client_secret: 'guess' },
      401,
      'invalid_client',
      7000215,
    ],
    ['no credential', { client_assertion: '' }, 401, 'invalid_client', 7000218],
    [
      'two resources',
      { scope: 'https://storage.azure.com/.default https://vault.localhost/.default' },
      400,
      'invalid_scope',
      1002012,
    ],
  ])('refuses %s', async (_case, fields, status, error, code) => {
    const server = await start();
    const answer = await postToken(server, {
      ...(await assertionFields(server, 'frontend')),
      ...fields,
    });
    expect(answer).toMatchObject({ status, body: { error, error_codes: [code] } });
  });

  it('names a subject that differs only in letter case with AADSTS7002138', async () => {
    const server = await start(
      (f) =>
        (f.identities[1]!.federatedCredential.subject = 'system:serviceaccount:doc-intake:Backend'),
    );
    await expect(
      credentialFor(server, 'backend').getToken('https://vault.localhost/.default'),
    ).rejects.toThrow('AADSTS7002138');
  });
});
