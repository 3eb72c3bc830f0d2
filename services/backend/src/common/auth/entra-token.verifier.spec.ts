import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  discoverSigningKeys,
  EntraTokenVerifier,
  InvalidAccessToken,
  TokenVerificationUnavailable,
} from './entra-token.verifier.js';

const tenantId = '4f3a8c2e-1b7d-4e9a-9c55-0d1e2f3a4b5c';
const audience = '0b8e2a4c-6d1f-5e3a-9b7c-2d4e6f8a0b1c';
const authorityHost = 'https://login.example';
const issuer = `${authorityHost}/${tenantId}/v2.0`;
const frontend = '93e988a8-e77b-51a0-9de9-27e4a08e3863';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let signingKey: PrivateKey;
let otherKey: PrivateKey;
let jwks: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = other.privateKey;
  jwks = createLocalJWKSet({
    keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }],
  });
});

async function token(
  claims: JWTPayload = {},
  options: { key?: PrivateKey; kid?: string; expiresIn?: string | number } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: issuer,
    aud: audience,
    tid: tenantId,
    azp: frontend,
    oid: '11111111-2222-4333-8444-555555555555',
    sub: '11111111-2222-4333-8444-555555555555',
    roles: ['Documents.Read'],
    ver: '2.0',
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1', typ: 'JWT' })
    .sign(options.key ?? signingKey);
}

function verifier(signingKeys = async () => jwks) {
  return new EntraTokenVerifier({
    authorityHost: `${authorityHost}/`,
    tenantId,
    audience,
    signingKeys,
  });
}

describe('EntraTokenVerifier', () => {
  it('accepts a v2 token of this tenant for this API and returns the caller and its roles', async () => {
    await expect(verifier().verify(await token())).resolves.toEqual({
      clientId: frontend,
      objectId: '11111111-2222-4333-8444-555555555555',
      roles: ['Documents.Read'],
    });
  });

  it.each([
    ['another audience', { aud: '00000003-0000-0000-c000-000000000000' }],
    ['another issuer', { iss: `https://evil.example/${tenantId}/v2.0` }],
    ['the v1 issuer', { iss: `https://sts.windows.net/${tenantId}/` }],
    ['another tenant', { tid: '00000000-0000-4000-8000-000000000000' }],
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 120 }],
    ['a token not yet valid', { nbf: Math.floor(Date.now() / 1000) + 600 }],
    ['a v1 token', { ver: '1.0' }],
    ['no azp', { azp: undefined }],
  ])('refuses %s', async (_case, claims) => {
    await expect(verifier().verify(await token(claims))).rejects.toBeInstanceOf(InvalidAccessToken);
  });

  it('refuses a token signed with another key, or naming a key the authority does not have', async () => {
    await expect(verifier().verify(await token({}, { key: otherKey }))).rejects.toBeInstanceOf(
      InvalidAccessToken,
    );
    await expect(verifier().verify(await token({}, { kid: 'k2' }))).rejects.toBeInstanceOf(
      InvalidAccessToken,
    );
  });

  it('refuses malformed and unsigned tokens before looking up any key', async () => {
    let lookups = 0;
    const v = verifier(async () => {
      lookups += 1;
      return jwks;
    });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    const hs256 = `${Buffer.from('{"alg":"HS256","kid":"k1"}').toString('base64url')}.e30.c2ln`;
    for (const bad of ['', 'garbage', 'a.b', unsigned, hs256, 'x'.repeat(20_000)])
      await expect(v.verify(bad)).rejects.toBeInstanceOf(InvalidAccessToken);
    expect(lookups).toBe(0);
  });

  it('fails closed when discovery fails, and does not retry it on every request', async () => {
    let attempts = 0;
    const v = verifier(async () => {
      attempts += 1;
      throw new Error('unreachable');
    });
    const valid = await token();
    for (let i = 0; i < 20; i++)
      await expect(v.verify(valid)).rejects.toBeInstanceOf(TokenVerificationUnavailable);
    expect(attempts).toBe(1);
  });
});

describe('discoverSigningKeys', () => {
  let server: Server;
  let base: string;
  let jwksRequests = 0;
  let advertisedIssuer = '';

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
    server = createServer((request, response) => {
      if (request.url?.endsWith('/.well-known/openid-configuration'))
        return void response.end(
          JSON.stringify({ issuer: advertisedIssuer, jwks_uri: `${base}/keys` }),
        );
      if (request.url === '/keys') {
        jwksRequests += 1;
        return void response.end(JSON.stringify({ keys: [publicJwk] }));
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the JWKS the discovery document names, once, and keeps it for unknown key ids', async () => {
    const local = `${base}/${tenantId}/v2.0`;
    advertisedIssuer = local;
    const v = new EntraTokenVerifier({
      authorityHost: base,
      tenantId,
      audience,
      signingKeys: discoverSigningKeys,
    });
    const now = Math.floor(Date.now() / 1000);
    const sign = (kid: string) =>
      new SignJWT({
        iss: local,
        aud: audience,
        tid: tenantId,
        azp: frontend,
        ver: '2.0',
        nbf: now,
        exp: now + 600,
      })
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(signingKey);
    await expect(v.verify(await sign('k1'))).resolves.toMatchObject({ clientId: frontend });
    await v.verify(await sign('k1'));
    for (let i = 0; i < 10; i++)
      await expect(v.verify(await sign(`random-${i}`))).rejects.toBeInstanceOf(InvalidAccessToken);
    expect(jwksRequests).toBe(1);
  });

  it('refuses a discovery document that names another issuer', async () => {
    advertisedIssuer = 'https://evil.example/v2.0';
    await expect(discoverSigningKeys(`${base}/${tenantId}/v2.0`)).rejects.toThrow(/names issuer/);
  });
});
