import { DefaultAzureCredential } from '@azure/identity';
import type { AccessToken } from '@azure/core-auth';
import { describe, expect, it } from 'vitest';
import { SingleFlightCredential } from '../credential/single-flight-credential.js';
import { credentialName, TokenRecorder } from './token-recorder.js';

const HOUR = 3_600_000;
const jwt = (claims: Record<string, unknown>) =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

class FakeExchange {
  calls = 0;
  fail = false;
  async getToken(): Promise<AccessToken> {
    this.calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.fail)
      throw new Error('AADSTS700024: Client assertion is not within its valid time range.');
    return {
      token: jwt({
        aud: 'https://vault.azure.net',
        appid: 'client-1',
        roles: ['x'],
        n: this.calls,
      }),
      expiresOnTimestamp: HOUR,
    };
  }
}

describe('TokenRecorder', () => {
  it('inside the token cache, counts exchanges, not cached calls', async () => {
    const recorder = new TokenRecorder();
    recorder.now = () => 0;
    const exchange = new FakeExchange();
    const credential = new SingleFlightCredential(recorder.decorate(exchange), () => 0);
    await Promise.all(
      Array.from({ length: 1000 }, () => credential.getToken('https://vault.azure.net/.default')),
    );
    expect(exchange.calls).toBe(1);
    expect(recorder.records()).toEqual([
      {
        scope: 'https://vault.azure.net/.default',
        exchanges: 1,
        credential: 'FakeExchange',
        acquiredAt: new Date(0).toISOString(),
        expiresOn: new Date(HOUR).toISOString(),
        // Only the reported claims: the roles and anything else stay out.
        claims: { aud: 'https://vault.azure.net', appid: 'client-1' },
        lastError: undefined,
      },
    ]);
  });

  it('keeps the last error beside the last good token', async () => {
    const recorder = new TokenRecorder();
    const exchange = new FakeExchange();
    const credential = recorder.decorate(exchange);
    await credential.getToken('s');
    exchange.fail = true;
    await expect(credential.getToken('s')).rejects.toThrow(/AADSTS700024/);
    const [record] = recorder.records();
    expect(record).toMatchObject({ exchanges: 2, credential: 'FakeExchange' });
    expect(record?.lastError?.message).toMatch(/AADSTS700024/);
    expect(record?.claims).toBeDefined();
  });

  it('hands out copies: a caller cannot change the records', async () => {
    const recorder = new TokenRecorder();
    await recorder.decorate(new FakeExchange()).getToken('s');
    recorder.records()[0]!.exchanges = 99;
    expect(recorder.records()[0]!.exchanges).toBe(1);
  });
});

describe('credentialName', () => {
  const chain = new DefaultAzureCredential({ disableInstanceDiscovery: true });

  it('names the one credential AZURE_TOKEN_CREDENTIALS pins DefaultAzureCredential to', () => {
    expect(credentialName(chain, { AZURE_TOKEN_CREDENTIALS: 'WorkloadIdentityCredential' })).toBe(
      'WorkloadIdentityCredential',
    );
  });

  it('says DefaultAzureCredential when the chain may pick any of several', () => {
    expect(credentialName(chain, {})).toBe('DefaultAzureCredential');
    expect(credentialName(chain, { AZURE_TOKEN_CREDENTIALS: 'prod' })).toBe(
      'DefaultAzureCredential',
    );
  });

  it('names any other credential by its class', () => {
    expect(
      credentialName(new FakeExchange(), { AZURE_TOKEN_CREDENTIALS: 'WorkloadIdentityCredential' }),
    ).toBe('FakeExchange');
  });
});
