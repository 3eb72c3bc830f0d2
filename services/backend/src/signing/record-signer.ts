import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SigningKeyService } from './signing-key.service.js';

/** What signing adds to a record: the Key Vault secret version of the key, and the HMAC. */
export interface SignatureFields {
  signatureKeyVersion: string;
  signature: string;
}

export type Signed<T extends object> = T & SignatureFields;

/**
 * HMAC-SHA256 over a canonical JSON of the record (sorted keys), with the key version stored
 * beside it. Knows nothing of what a record holds, so signing depends on no feature that uses it.
 */
@Injectable()
export class RecordSigner {
  constructor(private readonly keys: SigningKeyService) {}

  async sign<T extends object>(record: T): Promise<Signed<T>> {
    const { version, value: key } = await this.keys.current();
    const unsigned = { ...record, signatureKeyVersion: version };
    return { ...unsigned, signature: hmac(key, unsigned) };
  }

  async verify(record: SignatureFields): Promise<boolean> {
    const { signature, ...unsigned } = record;
    const key = await this.keys.forVersion(record.signatureKeyVersion);
    const expected = Buffer.from(hmac(key, unsigned));
    const actual = Buffer.from(signature ?? '');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

function hmac(key: Buffer, record: object): string {
  return createHmac('sha256', key).update(canonicalJson(record)).digest('base64url');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
