import { describe, expect, it } from 'vitest';
import { issueCsrf, verifyCsrf } from './csrf-tokens.js';

const v1 = { version: 'a1', value: Buffer.from('first key') };
const v2 = { version: 'b2', value: Buffer.from('second key') };
const keys = async (version: string) => (version === v1.version ? v1.value : v2.value);

describe('CSRF tokens', () => {
  it('accepts the token issued with its cookie', async () => {
    const { cookie, token } = issueCsrf(v1);
    await expect(verifyCsrf(cookie, token, keys)).resolves.toBe(true);
  });

  it('refuses a missing, swapped or forged token', async () => {
    const a = issueCsrf(v1);
    const b = issueCsrf(v1);
    await expect(verifyCsrf(a.cookie, undefined, keys)).resolves.toBe(false);
    await expect(verifyCsrf(undefined, a.token, keys)).resolves.toBe(false);
    await expect(verifyCsrf(a.cookie, b.token, keys)).resolves.toBe(false);
    await expect(verifyCsrf('a1.attacker-chosen-nonce-123', a.token, keys)).resolves.toBe(false);
    await expect(verifyCsrf('garbage', a.token, keys)).resolves.toBe(false);
  });

  it('keeps the nonce of a valid cookie, so tabs opened earlier keep working', () => {
    const first = issueCsrf(v1);
    expect(issueCsrf(v1, first.cookie)).toEqual(first);
  });

  it('verifies a form issued before a key rotation with the key it was issued with', async () => {
    const before = issueCsrf(v1);
    const after = issueCsrf(v2, before.cookie);
    expect(after.cookie).not.toBe(before.cookie);
    await expect(verifyCsrf(before.cookie, before.token, keys)).resolves.toBe(true);
    await expect(verifyCsrf(after.cookie, after.token, keys)).resolves.toBe(true);
    await expect(verifyCsrf(after.cookie, before.token, keys)).resolves.toBe(false);
  });
});
