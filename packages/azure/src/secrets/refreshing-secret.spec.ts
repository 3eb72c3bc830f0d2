import { afterEach, describe, expect, it, vi } from 'vitest';
import { RefreshingSecret } from './refreshing-secret.js';

/** Key Vault's getSecret for one secret name, with versions and an on/off switch for outages. */
class FakeVault {
  versions: { version: string; value: string }[] = [{ version: 'v1', value: 'first' }];
  calls: (string | undefined)[] = [];
  down = false;

  async getSecret(_name: string, options?: { version?: string }) {
    this.calls.push(options?.version);
    if (this.down) throw Object.assign(new Error('vault down'), { code: 'ECONNREFUSED' });
    const found = options?.version
      ? this.versions.find((v) => v.version === options.version)
      : this.versions.at(-1);
    if (!found) throw Object.assign(new Error('SecretNotFound'), { statusCode: 404 });
    return { value: found.value, properties: { version: found.version } };
  }
}

describe('RefreshingSecret', () => {
  afterEach(() => vi.useRealTimers());

  it('reads once and serves the cached version afterwards', async () => {
    const vault = new FakeVault();
    const secret = new RefreshingSecret(vault, { name: 'k', refreshIntervalMs: 60_000 });
    const [a, b] = await Promise.all([secret.current(), secret.current()]);
    await secret.current();
    expect(a.value.toString()).toBe('first');
    expect(b.version).toBe('v1');
    expect(vault.calls).toEqual([undefined]);
  });

  it('picks up a rotated version on the next refresh and keeps the old one for verification', async () => {
    vi.useFakeTimers();
    const vault = new FakeVault();
    const rotated: string[] = [];
    const secret = new RefreshingSecret(vault, {
      name: 'k',
      refreshIntervalMs: 1_000,
      onRotated: (v) => rotated.push(v),
    });
    secret.start();
    await vi.advanceTimersByTimeAsync(0);
    expect((await secret.current()).version).toBe('v1');
    vault.versions.push({ version: 'v2', value: 'second' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await secret.current()).value.toString()).toBe('second');
    expect(rotated).toEqual(['v2']);
    const callsBefore = vault.calls.length;
    expect((await secret.forVersion('v1')).toString()).toBe('first');
    expect(vault.calls.length).toBe(callsBefore);
    secret.stop();
  });

  it('keeps the last good version through an outage and reports it', async () => {
    vi.useFakeTimers();
    const vault = new FakeVault();
    const errors: [string, boolean][] = [];
    const secret = new RefreshingSecret(vault, {
      name: 'k',
      refreshIntervalMs: 1_000,
      onRefreshError: (error, loaded) => errors.push([error, loaded]),
    });
    secret.start();
    await vi.advanceTimersByTimeAsync(0);
    vault.down = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await secret.current()).version).toBe('v1');
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toBe(true);
    secret.stop();
  });

  it('does not cache a failed fetch of an old version', async () => {
    const vault = new FakeVault();
    const secret = new RefreshingSecret(vault, { name: 'k', refreshIntervalMs: 60_000 });
    vault.down = true;
    await expect(secret.forVersion('v0')).rejects.toThrow('vault down');
    vault.down = false;
    vault.versions.unshift({ version: 'v0', value: 'zero' });
    expect((await secret.forVersion('v0')).toString()).toBe('zero');
  });

  it('answers a version it has held from memory and never fetches one it has not', async () => {
    const vault = new FakeVault();
    const secret = new RefreshingSecret(vault, { name: 'k', refreshIntervalMs: 60_000 });
    await secret.current();
    vault.versions.push({ version: 'v2', value: 'second' });
    await secret.refresh();
    expect(secret.knownVersion('v1')?.toString()).toBe('first');
    expect(secret.knownVersion('v2')?.toString()).toBe('second');
    const before = vault.calls.length;
    for (let i = 0; i < 100; i++) expect(secret.knownVersion(`deadbeef${i}`)).toBeUndefined();
    expect(vault.calls.length).toBe(before);
  });
});
