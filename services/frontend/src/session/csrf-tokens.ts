import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_FIELD = '_csrf';

/**
 * `__Host-csrf` when the cookie is Secure: the prefix makes the browser refuse the cookie unless
 * it is Secure, has Path=/ and no Domain, so a sibling subdomain (or a plain-HTTP page) cannot
 * plant one. Over plain http:// (COOKIE_SECURE=false) the prefix is not allowed: `csrf`.
 */
export function csrfCookieName(secure: boolean): string {
  return secure ? '__Host-csrf' : 'csrf';
}

/** base64url of an HMAC-SHA256: exactly 43 characters. */
const TOKEN_SHAPE = /^[\w-]{43}$/;

export interface CsrfKey {
  version: string;
  value: Buffer;
}

/**
 * Signed double-submit (OWASP): the cookie carries a random nonce and the key version, the form
 * carries HMAC(key, nonce). A cross-site page can make the browser send the cookie but cannot
 * read it, and without the Key Vault key it cannot compute the matching form value, even if it
 * manages to plant a cookie of its own.
 */
export function issueCsrf(
  key: CsrfKey,
  existingCookie?: string,
): { cookie: string; token: string } {
  const existing = parseCookie(existingCookie);
  const nonce =
    existing && existing.version === key.version
      ? existing.nonce
      : randomBytes(18).toString('base64url');
  return { cookie: `${key.version}.${nonce}`, token: mac(key.value, nonce) };
}

/**
 * `knownKey` returns the key of a version this process already holds (so a rotation does not
 * break open forms), or undefined. It is synchronous on purpose: a cookie is client input, and a
 * forged one (bad shape, unknown version, wrong MAC) is refused without any call to Key Vault.
 */
export function verifyCsrf(
  cookie: string | undefined,
  token: string | undefined,
  knownKey: (version: string) => Buffer | undefined,
): boolean {
  const parsed = parseCookie(cookie);
  if (!parsed || !token || !TOKEN_SHAPE.test(token)) return false;
  const key = knownKey(parsed.version);
  if (!key) return false;
  const expected = Buffer.from(mac(key, parsed.nonce));
  const actual = Buffer.from(token);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function mac(key: Buffer, nonce: string): string {
  return createHmac('sha256', key).update(`csrf:${nonce}`).digest('base64url');
}

function parseCookie(cookie: string | undefined): { version: string; nonce: string } | undefined {
  const match = /^([0-9a-zA-Z]{1,64})\.([\w-]{16,64})$/.exec(cookie ?? '');
  return match ? { version: match[1]!, nonce: match[2]! } : undefined;
}
