import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceIdentity } from '../identities/index.js';
import { decodeJwt, generateSigningKey } from '../tokens/jwt.js';
import { ServiceAccountTokenWriter } from './service-account-tokens.js';

const identity = {
  service: 'backend',
  serviceAccount: { namespace: 'workload-identity-sample', name: 'backend' },
} as ServiceIdentity;

describe('ServiceAccountTokenWriter', () => {
  let writer: ServiceAccountTokenWriter;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    writer = new ServiceAccountTokenWriter({
      stateDir: await mkdtemp(join(tmpdir(), 'sa-tokens-')),
      issuerUrl: () => 'https://localhost/oidc/',
      signingKey: generateSigningKey(),
      lifetimeSeconds: 100,
    });
  });
  afterEach(() => {
    writer.stop();
    vi.useRealTimers();
  });

  const expiry = async () =>
    decodeJwt(await readFile(writer.tokenFilePath('backend'), 'utf8')).claims.exp as number;

  it('replaces the token at 80 % of its lifetime, not before', async () => {
    const writes = vi.spyOn(writer, 'write');
    await writer.write(identity);
    const first = await expiry();
    await vi.advanceTimersByTimeAsync(79_000);
    expect(writes).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(writes).toHaveBeenCalledTimes(2);
    await vi.waitFor(async () => expect(await expiry()).toBeGreaterThanOrEqual(first + 80));
  });

  it('rotates by the wall clock: a clock that jumps ahead (a laptop waking) rotates within a second', async () => {
    const writes = vi.spyOn(writer, 'write');
    await writer.write(identity);
    const first = await expiry();
    vi.setSystemTime(Date.now() + 90_000); // no timer has run; the wall clock moved on
    await vi.advanceTimersByTimeAsync(1_000);
    expect(writes).toHaveBeenCalledTimes(2);
    await vi.waitFor(async () => expect(await expiry()).toBeGreaterThanOrEqual(first + 90));
  });

  it('stops rotating a file a test overrode, and after stop()', async () => {
    const writes = vi.spyOn(writer, 'write');
    await writer.write(identity, { lifetimeSeconds: 100 });
    await vi.advanceTimersByTimeAsync(200_000);
    expect(writes).toHaveBeenCalledTimes(1);

    await writer.write(identity);
    writer.stop();
    await vi.advanceTimersByTimeAsync(200_000);
    expect(writes).toHaveBeenCalledTimes(2);
  });
});
