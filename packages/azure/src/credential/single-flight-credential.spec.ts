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

  it('propagates a failed exchange and retries on the next call', async () => {
    const inner = countingCredential(Date.now, 0);
    const credential = new SingleFlightCredential(inner.credential);
    inner.failNext();
    await expect(credential.getToken('s')).rejects.toThrow(/AADSTS700024/);
    await expect(credential.getToken('s')).resolves.toMatchObject({ token: 'token-2' });
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
