import { describe, expect, it } from 'vitest';
import type { BackendConfig } from '../config/backend-config.js';
import { RecordSigner } from './record-signer.js';
import { SigningKeyService } from './signing-key.service.js';

class FakeVault {
  versions: Array<{ version: string; value: string }> = [{ version: 'v1', value: 'key-one' }];
  calls = 0;
  async getSecret(_name: string, options?: { version?: string }) {
    this.calls += 1;
    const found = options?.version
      ? this.versions.find((v) => v.version === options.version)
      : this.versions.at(-1);
    if (!found) throw Object.assign(new Error('SecretNotFound'), { statusCode: 404 });
    return { value: found.value, properties: { version: found.version } };
  }
}

const config = {
  signingSecretName: 'backend-signing-key',
  signingKeyRefreshSeconds: 300,
} as BackendConfig;
const base = {
  id: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
  fileName: 'a.txt',
  contentType: 'text/plain',
  size: 3,
  sha256: 'abc',
  lineCount: 1,
  wordCount: 1,
  uploadedAt: '2026-11-25T00:00:00.000Z',
  processedAt: '2026-11-25T00:00:01.000Z',
  status: 'processed' as const,
};

describe('RecordSigner', () => {
  it('signs with the current key version and verifies', async () => {
    const keys = new SigningKeyService(new FakeVault() as never, config);
    const signer = new RecordSigner(keys);
    const record = await signer.sign(base);
    expect(record.signatureKeyVersion).toBe('v1');
    await expect(signer.verify(record)).resolves.toBe(true);
  });

  it('detects a tampered record', async () => {
    const signer = new RecordSigner(new SigningKeyService(new FakeVault() as never, config));
    const record = await signer.sign(base);
    await expect(signer.verify({ ...record, size: 4 } as typeof record)).resolves.toBe(false);
    await expect(signer.verify({ ...record, signature: 'x' })).resolves.toBe(false);
  });

  it('uses a rotated key for new records and still verifies records of the old version', async () => {
    const vault = new FakeVault();
    const keys = new SigningKeyService(vault as never, config);
    const signer = new RecordSigner(keys);
    const old = await signer.sign(base);
    vault.versions.push({ version: 'v2', value: 'key-two' });
    await keys.refresh();
    const fresh = await signer.sign(base);
    expect(fresh.signatureKeyVersion).toBe('v2');
    expect(fresh.signature).not.toBe(old.signature);
    await expect(signer.verify(old)).resolves.toBe(true);
    await expect(signer.verify(fresh)).resolves.toBe(true);
  });
});
