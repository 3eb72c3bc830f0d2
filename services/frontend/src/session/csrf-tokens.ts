import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'csrf';
export const CSRF_FIELD = '_csrf';

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

/** `keyForVersion` returns the key for the cookie's version, so a rotation does not break open forms. */
export async function verifyCsrf(
  cookie: string | undefined,
  token: string | undefined,
  keyForVersion: (version: string) => Promise<Buffer>,
): Promise<boolean> {
  const parsed = parseCookie(cookie);
  if (!parsed || !token) return false;
  const expected = Buffer.from(mac(await keyForVersion(parsed.version), parsed.nonce));
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
