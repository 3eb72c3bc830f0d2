import { createSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessTokenError, verifyAccessToken } from './access-token.js';
import { generateSigningKey, signJwt, toJwk, type SigningKey } from './jwt.js';

const TENANT = '4f3a8c2e-1b7d-4e9a-9c55-0d1e2f3a4b5c';
const ISSUER = `https://sts.windows.net/${TENANT}/`;
const key = generateSigningKey();
const now = Math.floor(Date.now() / 1000);
const good = {
  aud: 'https://storage.azure.com',
  iss: ISSUER,
  tid: TENANT,
  iat: now,
  nbf: now,
  exp: now + 600,
};

function verify(token: string) {
  return verifyAccessToken(`Bearer ${token}`, () => [toJwk(key)], ['https://storage.azure.com'], {
    issuers: [ISSUER],
    tenantId: TENANT,
  });
}

async function problem(token: string | Promise<string>): Promise<string> {
  try {
    await verify(await token);
    return 'accepted';
  } catch (error) {
    return (error as AccessTokenError).problem;
  }
}

/** A token with a header of our choosing, signed properly: only the header is hostile. */
function withHeader(
  header: Record<string, unknown>,
  claims: object,
  signingKey: SigningKey = key,
): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: signingKey.kid, ...header })}.${b64(claims)}`;
  const signature = createSign('sha256')
    .update(input)
    .sign(signingKey.privateKey)
    .toString('base64url');
  return `${input}.${signature}`;
}

describe('verifyAccessToken', () => {
  it('accepts a token of the tenant issuer for this audience', async () => {
    expect(await problem(signJwt(good, key))).toBe('accepted');
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example/' }, 'wrong-issuer'],
    [
      "the tenant's v1 issuer with a different tenant in tid",
      { tid: '00000000-0000-4000-8000-000000000000' },
      'wrong-tenant',
    ],
    ['no issuer', { iss: undefined }, 'wrong-issuer'],
    ['a non-numeric nbf', { nbf: 'soon' }, 'malformed'],
    ['an nbf an hour ahead', { nbf: now + 3600 }, 'not-yet-valid'],
  ])('refuses %s', async (_case, claims, expected) => {
    expect(await problem(signJwt({ ...good, ...(claims as Record<string, unknown>) }, key))).toBe(
      expected,
    );
  });

  it('refuses a critical header extension it does not understand (RFC 7515 §4.1.11)', async () => {
    expect(await problem(withHeader({}, good))).toBe('accepted');
    expect(await problem(withHeader({ crit: ['exp'], exp: 1 }, good))).toBe('bad-signature');
  });

  it('refuses alg none', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(await problem(`${b64({ alg: 'none' })}.${b64(good)}.`)).toBe('bad-signature');
  });
});
