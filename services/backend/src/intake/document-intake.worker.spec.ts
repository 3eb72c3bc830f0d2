import { ErrorResponse } from '@azure/cosmos';
import { RestError } from '@azure/storage-blob';
import { AuthenticationError } from '@azure/identity';
import { ServiceBusError, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import type { BackendConfig } from '../config/backend-config.js';
import type { DocumentRecord } from '../documents/document-record.js';
import type { DocumentsRepository } from '../documents/documents.repository.js';
import { RecordSigner } from '../signing/record-signer.js';
import type { SigningKeyService } from '../signing/signing-key.service.js';
import { DocumentIntakeWorker } from './document-intake.worker.js';
import { UploadedBlobMissing, type UploadedBlobReader } from './uploaded-blob.reader.js';

const id = '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const config = {
  workerRetryBudgetMs: 0,
  uploadsContainer: 'uploads',
  documentsQueue: 'documents',
  workerEnabled: true,
} as BackendConfig;

function message(body: unknown, messageId: string = id): ServiceBusReceivedMessage {
  return { body, messageId, deliveryCount: 1 } as ServiceBusReceivedMessage;
}

const valid = {
  type: 'document.uploaded',
  schemaVersion: 1,
  documentId: id,
  blobName: id,
  fileName: 'notes.txt',
  contentType: 'text/plain',
  size: 11,
  uploadedAt: '2026-11-25T10:00:00.000Z',
};

/** Cosmos DB's answer as its SDK throws it: an ErrorResponse whose code is the HTTP status. */
function cosmosError(status: number, message = `HTTP ${status}`): ErrorResponse {
  return Object.assign(new ErrorResponse(message), { code: status });
}

/** Blob, Cosmos and the receiver as the worker sees them, recording what it did to each. */
function harness(
  options: {
    blob?: string | Error;
    upsert?: Error;
    upsertFailures?: number;
    upsertFailure?: Error;
    complete?: Error;
    retryBudgetMs?: number;
    existing?: DocumentRecord[];
  } = {},
) {
  let failuresLeft = options.upsertFailures ?? 0;
  const settled: { action: string; reason?: string }[] = [];
  const upserted: DocumentRecord[] = [];
  const blobs = {
    read: async (name: string) => {
      expect(name).toBe(id);
      if (options.blob instanceof Error) throw options.blob;
      return [Buffer.from(options.blob ?? 'hello\nworld')];
    },
  } as unknown as UploadedBlobReader;
  const stored = new Map<string, DocumentRecord>(
    (options.existing ?? []).map((record) => [record.id, record]),
  );
  const documents = {
    create: async (record: DocumentRecord) => {
      if (options.upsert) throw options.upsert;
      if (failuresLeft-- > 0) throw options.upsertFailure ?? cosmosError(503);
      if (stored.has(record.id)) return 'exists';
      stored.set(record.id, record);
      upserted.push(record);
      return 'created';
    },
    get: async (documentId: string) => stored.get(documentId),
  } as unknown as DocumentsRepository;
  const keys = {
    current: async () => ({ version: 'v1', value: Buffer.from('key') }),
    forVersion: async () => Buffer.from('key'),
  } as unknown as SigningKeyService;
  const receiver = {
    completeMessage: async () => {
      if (options.complete) throw options.complete;
      settled.push({ action: 'complete' });
    },
    abandonMessage: async () => void settled.push({ action: 'abandon' }),
    deadLetterMessage: async (_m: unknown, o?: { deadLetterReason?: string }) =>
      void settled.push({ action: 'deadLetter', reason: o?.deadLetterReason }),
  };
  const signer = new RecordSigner(keys);
  const worker = new DocumentIntakeWorker({} as never, blobs, documents, signer, {
    ...config,
    workerRetryBudgetMs: options.retryBudgetMs ?? 0,
  });
  return { worker, receiver, settled, upserted, signer, stored };
}

describe('DocumentIntakeWorker.process', () => {
  it('measures the blob, upserts a signed record, then completes the message', async () => {
    const h = harness();
    await expect(h.worker.process(h.receiver, message(valid))).resolves.toBe('completed');
    expect(h.settled).toEqual([{ action: 'complete' }]);
    expect(h.upserted[0]).toMatchObject({
      id,
      size: 11,
      lineCount: 2,
      wordCount: 2,
      signatureKeyVersion: 'v1',
    });
    await expect(h.signer.verify(h.upserted[0]!)).resolves.toBe(true);
  });

  it.each([
    ['an unknown schema version', { ...valid, schemaVersion: 2 }, id],
    ['a body that is not JSON', '{oops', id],
    ['a messageId other than the document id', valid, 'something-else'],
    ["another document's blob", { ...valid, blobName: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }, id],
  ])(
    'dead-letters %s as MalformedMessage without touching storage',
    async (_case, body, messageId) => {
      const h = harness({ blob: new Error('must not be read') });
      await expect(h.worker.process(h.receiver, message(body, messageId))).resolves.toBe(
        'dead-lettered',
      );
      expect(h.settled).toEqual([{ action: 'deadLetter', reason: 'MalformedMessage' }]);
      expect(h.upserted).toEqual([]);
    },
  );

  it('dead-letters a message whose blob does not exist: retrying cannot help', async () => {
    const h = harness({ blob: new UploadedBlobMissing(`uploads/${id} does not exist`) });
    await expect(h.worker.process(h.receiver, message(valid))).resolves.toBe('dead-lettered');
    expect(h.settled).toEqual([{ action: 'deadLetter', reason: 'BlobNotFound' }]);
  });

  it('abandons on a transient failure so Service Bus redelivers, and never completes first', async () => {
    const blobDown = harness({
      blob: new RestError('busy', { statusCode: 503, code: 'ServerBusy' }),
    });
    await expect(blobDown.worker.process(blobDown.receiver, message(valid))).resolves.toBe(
      'abandoned',
    );
    expect(blobDown.settled).toEqual([{ action: 'abandon' }]);

    const cosmosDown = harness({ upsert: cosmosError(429, 'throttled') });
    await expect(cosmosDown.worker.process(cosmosDown.receiver, message(valid))).resolves.toBe(
      'abandoned',
    );
    expect(cosmosDown.settled).toEqual([{ action: 'abandon' }]);
  });

  it('retries a transient failure in place, so a short outage does not spend deliveries', async () => {
    const h = harness({ upsertFailures: 2, retryBudgetMs: 10_000 });
    await expect(h.worker.process(h.receiver, message(valid))).resolves.toBe('completed');
    expect(h.settled).toEqual([{ action: 'complete' }]);
    expect(h.upserted).toHaveLength(1);
  });

  it('does not retry a refused role: the message is abandoned at once and the failure is visible', async () => {
    const h = harness({
      upsert: cosmosError(403, 'Forbidden'),
      retryBudgetMs: 10_000,
    });
    const started = Date.now();
    await expect(h.worker.process(h.receiver, message(valid))).resolves.toBe('abandoned');
    expect(Date.now() - started).toBeLessThan(200);
  });

  it.each([
    ['Cosmos DB throttling (ErrorResponse 429)', cosmosError(429)],
    [
      'a request that never reached the service (RestError without a status)',
      new RestError('connect ECONNREFUSED', { code: 'REQUEST_SEND_ERROR' }),
    ],
    [
      'a busy Service Bus namespace (ServiceBusError ServiceBusy)',
      new ServiceBusError('busy', 'ServiceBusy'),
    ],
    [
      'an overloaded token endpoint (AuthenticationError 503)',
      new AuthenticationError(503, {
        error: 'temporarily_unavailable',
        error_description: 'try later',
      }),
    ],
    [
      'a 503 whose message happens to name an AADSTS code',
      new RestError('AADSTS50058 was mentioned', { statusCode: 503 }),
    ],
  ])('retries %s in place: classified on the typed error', async (_case, failure) => {
    const h = harness({ upsertFailures: 1, upsertFailure: failure, retryBudgetMs: 10_000 });
    await expect(h.worker.process(h.receiver, message(valid))).resolves.toBe('completed');
    expect(h.upserted).toHaveLength(1);
  });

  it.each([
    [
      "Entra's refusal (AuthenticationError 400, AADSTS700213)",
      new AuthenticationError(400, {
        error: 'invalid_client',
        error_description: 'AADSTS700213: No matching federated identity record found',
      }),
    ],
    [
      'a refused role on Blob Storage (RestError 403)',
      new RestError('This request is not authorized', {
        statusCode: 403,
        code: 'AuthorizationPermissionMismatch',
      }),
    ],
    [
      'an unknown error whose message looks transient',
      Object.assign(new Error('Service Unavailable, try again'), { code: 503 }),
    ],
  ])('does not retry %s: abandoned at once', async (_case, failure) => {
    const h = harness({ upsertFailures: 1, upsertFailure: failure, retryBudgetMs: 10_000 });
    const started = Date.now();
    await expect(h.worker.process(h.receiver, message(valid))).resolves.toBe('abandoned');
    expect(h.settled).toEqual([{ action: 'abandon' }]);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('leaves a message whose lock was lost alone: it is already someone else’s', async () => {
    const lockLost = Object.assign(new Error('lock lost'), {
      name: 'ServiceBusError',
      code: 'MessageLockLost',
      retryable: false,
    });
    const h = harness({ complete: lockLost });
    await expect(h.worker.process(h.receiver, message(valid))).resolves.toBe('abandoned');
    expect(h.settled).toEqual([]);
    expect(h.upserted).toHaveLength(1);
  });

  it('completes a redelivery of a stored document without writing again', async () => {
    const first = harness();
    await first.worker.process(first.receiver, message(valid));
    const again = harness({ existing: [...first.stored.values()] });
    await expect(again.worker.process(again.receiver, message(valid))).resolves.toBe('completed');
    expect(again.upserted).toEqual([]);
  });

  it('never overwrites a stored record with a different document: dead-letters RecordExists', async () => {
    const first = harness();
    await first.worker.process(first.receiver, message(valid));
    const original = [...first.stored.values()][0]!;
    const forged = harness({ existing: [original], retryBudgetMs: 10_000 });
    const started = Date.now();
    await expect(
      forged.worker.process(forged.receiver, message({ ...valid, fileName: 'forged.txt' })),
    ).resolves.toBe('dead-lettered');
    expect(forged.settled).toEqual([{ action: 'deadLetter', reason: 'RecordExists' }]);
    expect(Date.now() - started).toBeLessThan(200); // not retried: retrying cannot resolve it
    expect(forged.stored.get(id)).toBe(original);
  });
});
