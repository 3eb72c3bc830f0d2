import type { AccessToken, GetTokenOptions } from '@azure/core-auth';
import { describe, expect, it } from 'vitest';
import { SingleFlightCredential } from './single-flight-credential.js';

const HOUR = 3_600_000;

function countingCredential(now: () => number, delayMs = 10) {
  const calls: string[] = [];
  let fail = false;
  return {
    calls,
    failNext: () => (fail = true),
    credential: {
      async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
        const n = calls.push(String(scopes));
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (fail) {
          fail = false;
          throw new Error('AADSTS700024: Client assertion is not within its valid time range.');
        }
        return { token: `token-${n}`, expiresOnTimestamp: now() + HOUR };
      },
    },
  };
}

describe('SingleFlightCredential', () => {
  it('makes one exchange per audience for 200 concurrent callers', async () => {
    const inner = countingCredential(Date.now);
    const credential = new SingleFlightCredential(inner.credential);
    const scopes = ['https://vault.azure.net/.default', 'https://storage.azure.com/.default'];
    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => credential.getToken(scopes[i % 2]!)),
    );
    expect(inner.calls.sort()).toEqual(scopes.slice().sort());
    expect(new Set(tokens.map((t) => t?.token)).size).toBe(2);
  });

  it('reuses the token while valid and refreshes it five minutes before expiry', async () => {
    let now = 1_000_000;
    const inner = countingCredential(() => now, 0);
    const credential = new SingleFlightCredential(inner.credential, () => now);
    await credential.getToken('https://vault.azure.net/.default');
    now += HOUR - 6 * 60_000;
    await credential.getToken('https://vault.azure.net/.default');
    expect(inner.calls).toHaveLength(1);
    now += 2 * 60_000;
    await credential.getToken('https://vault.azure.net/.default');
    expect(inner.calls).toHaveLength(2);
  });

  it('honours refreshAfterTimestamp when the token carries one', async () => {
    let now = 0;
    const credential = new SingleFlightCredential(
      {
        getToken: async () => ({
          token: `t${now}`,
          expiresOnTimestamp: now + HOUR,
          refreshAfterTimestamp: now + 1000,
        }),
      },
      () => now,
    );
    const first = await credential.getToken('s');
    now = 1500;
    const second = await credential.getToken('s');
    expect(second?.token).not.toBe(first?.token);
  });

  it('propagates a failed exchange, reuses its error for a second, then retries', async () => {
    let now = 0;
    const inner = countingCredential(() => now, 0);
    const credential = new SingleFlightCredential(inner.credential, () => now);
    inner.failNext();
    await expect(credential.getToken('s')).rejects.toThrow(/AADSTS700024/);
    for (let i = 0; i < 50; i++) {
      await expect(credential.getToken('s')).rejects.toThrow(/AADSTS700024/);
    }
    expect(inner.calls).toHaveLength(1);
    now += 1000;
    await expect(credential.getToken('s')).resolves.toMatchObject({ token: 'token-2' });
  });

  it('waits longer after each failure in a row, up to 30 s, and starts over after a success', async () => {
    let now = 0;
    const calls: number[] = [];
    let failing = true;
    const credential = new SingleFlightCredential(
      {
        getToken: async () => {
          calls.push(now);
          if (failing) throw new Error('AADSTS70021: No matching federated identity record found');
          return { token: `t${now}`, expiresOnTimestamp: now + 60_000 };
        },
      },
      () => now,
    );
    for (; now <= 120_000; now += 100) await credential.getToken('s').catch(() => undefined);
    expect(calls.slice(0, 8)).toEqual([0, 1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000]);
    failing = false;
    await credential.getToken('s').catch(() => undefined); // still in its 30 s pause
    now = 121_000;
    await expect(credential.getToken('s')).resolves.toMatchObject({ token: 't121000' });
    failing = true;
    now += 60_000; // the token expired: the next failure pauses 1 s again, not 30
    await credential.getToken('s').catch(() => undefined);
    now += 1000;
    await credential.getToken('s').catch(() => undefined);
    expect(calls.slice(-2)).toEqual([181_000, 182_000]);
  });

  it('keeps serving a still-valid token when a refresh fails', async () => {
    let now = 0;
    const inner = countingCredential(() => now, 0);
    const credential = new SingleFlightCredential(inner.credential, () => now);
    const first = await credential.getToken('s');
    now = HOUR - 60_000;
    inner.failNext();
    await expect(credential.getToken('s')).resolves.toEqual(first);
  });
});
