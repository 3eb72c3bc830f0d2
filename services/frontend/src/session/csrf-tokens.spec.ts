import { describe, expect, it } from 'vitest';
import { csrfCookieName, issueCsrf, verifyCsrf } from './csrf-tokens.js';

const v1 = { version: 'a1', value: Buffer.from('first key') };
const v2 = { version: 'b2', value: Buffer.from('second key') };
const held = new Map([
  [v1.version, v1.value],
  [v2.version, v2.value],
]);
let lookups: string[] = [];
const keys = (version: string) => {
  lookups.push(version);
  return held.get(version);
};

describe('CSRF tokens', () => {
  it('accepts the token issued with its cookie', () => {
    const { cookie, token } = issueCsrf(v1);
    expect(verifyCsrf(cookie, token, keys)).toBe(true);
  });

  it('refuses a missing, swapped or forged token', () => {
    const a = issueCsrf(v1);
    const b = issueCsrf(v1);
    expect(verifyCsrf(a.cookie, undefined, keys)).toBe(false);
    expect(verifyCsrf(undefined, a.token, keys)).toBe(false);
    expect(verifyCsrf(a.cookie, b.token, keys)).toBe(false);
    expect(verifyCsrf('a1.attacker-chosen-nonce-123', a.token, keys)).toBe(false);
    expect(verifyCsrf('garbage', a.token, keys)).toBe(false);
  });

  it('keeps the nonce of a valid cookie, so tabs opened earlier keep working', () => {
    const first = issueCsrf(v1);
    expect(issueCsrf(v1, first.cookie)).toEqual(first);
  });

  it('verifies a form issued before a key rotation with the key it was issued with', () => {
    const before = issueCsrf(v1);
    const after = issueCsrf(v2, before.cookie);
    expect(after.cookie).not.toBe(before.cookie);
    expect(verifyCsrf(before.cookie, before.token, keys)).toBe(true);
    expect(verifyCsrf(after.cookie, after.token, keys)).toBe(true);
    expect(verifyCsrf(after.cookie, before.token, keys)).toBe(false);
  });

  it('refuses a bad shape before looking up a key, and an unknown version without fetching one', () => {
    const { token } = issueCsrf(v1);
    lookups = [];
    expect(verifyCsrf('deadbeef0000.xxxxxxxxxxxxxxxxxxxxxxxx', token, keys)).toBe(false);
    expect(lookups).toEqual(['deadbeef0000']); // answered from memory: undefined
    lookups = [];
    expect(verifyCsrf('a1.xxxxxxxxxxxxxxxxxxxxxxxx', 'short', keys)).toBe(false);
    expect(verifyCsrf('a1.x', token, keys)).toBe(false);
    expect(verifyCsrf('a1.xxxxxxxxxxxxxxxxxxxxxxxx', `${token}x`, keys)).toBe(false);
    expect(lookups).toEqual([]);
  });

  it('names the cookie __Host-csrf where it is Secure', () => {
    expect(csrfCookieName(true)).toBe('__Host-csrf');
    expect(csrfCookieName(false)).toBe('csrf');
  });
});
