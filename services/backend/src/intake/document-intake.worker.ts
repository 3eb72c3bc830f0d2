import {
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { describeAzureError, withMessageTraceContext } from '@wi/azure';
import { classifyFailure } from '../common/errors/classify-failure.js';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';
import type { DocumentRecord, UnsignedDocumentRecord } from '../documents/document-record.js';
import { DocumentsRepository } from '../documents/documents.repository.js';
import { RecordSigner } from '../signing/record-signer.js';
import { DocumentMetadataCalculator } from './document-metadata.calculator.js';
import { countLockRenewals, intakeMetrics, recordOutcome } from './intake-metrics.js';
import type { IntakeOutcome } from './intake-outcome.js';
import { parseDocumentMessage } from './parse-document-message.js';
import { UploadedBlobMissing, UploadedBlobReader } from './uploaded-blob.reader.js';
import type { DocumentUploadedMessage } from '@wi/contracts';

/** A message whose id is already recorded for another document: never overwritten. */
export class RecordConflict extends Error {
  override name = 'RecordConflict';
}

/** The fields a redelivery of the same message reproduces exactly (processedAt differs). */
const IDENTIFYING_FIELDS = ['fileName', 'contentType', 'size', 'sha256', 'uploadedAt'] as const;

function sameDocument(a: DocumentRecord, b: DocumentRecord): boolean {
  return IDENTIFYING_FIELDS.every((field) => a[field] === b[field]);
}

/**
 * Consumes `document.uploaded` in peek-lock: reads the blob, signs the record, upserts it, and
 * only then completes the message. Anything transient abandons it (Service Bus redelivers and
 * dead-letters after the queue's max delivery count); a message that can never succeed is
 * dead-lettered at once with the reason.
 */
@Injectable()
export class DocumentIntakeWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DocumentIntakeWorker.name);
  private receiver?: ServiceBusReceiver;
  private subscription?: { close(): Promise<void> };
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly serviceBus: ServiceBusClient,
    private readonly blobs: UploadedBlobReader,
    private readonly documents: DocumentsRepository,
    private readonly signer: RecordSigner,
    @Inject(BACKEND_CONFIG) private readonly config: BackendConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.workerEnabled) return;
    const receiver = this.serviceBus.createReceiver(this.config.documentsQueue, {
      receiveMode: 'peekLock',
      maxAutoLockRenewalDurationInMs: this.config.workerMaxLockRenewalMs,
    });
    this.receiver = receiver;
    this.subscription = receiver.subscribe(
      {
        processMessage: (message) => {
          countLockRenewals(message);
          // Continues the sender's trace (the message's traceparent), so an upload is one trace.
          return this.track(
            withMessageTraceContext(message, this.config.documentsQueue, () =>
              this.process(receiver, message),
            ),
          );
        },
        processError: async ({ error, errorSource }) => {
          if (errorSource === 'renewLock')
            intakeMetrics.lockRenewals.add(1, { outcome: 'failure' });
          this.logger.warn(
            { err: describeAzureError(error), errorSource },
            'service bus receive error; the SDK retries',
          );
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: this.config.workerMaxConcurrency },
    );
    this.logger.log(
      { queue: this.config.documentsQueue, concurrency: this.config.workerMaxConcurrency },
      'worker started',
    );
  }

  /** SIGTERM: stop taking messages, let the ones in hand finish (or time out and be redelivered). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (!this.receiver) return;
    await this.subscription?.close();
    const drained = Promise.allSettled([...this.inFlight]).then(() => true);
    const timedOut = new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), this.config.workerDrainTimeoutMs).unref(),
    );
    const finished = await Promise.race([drained, timedOut]);
    this.logger.log({ inFlight: this.inFlight.size, drained: finished }, 'worker stopped');
    await this.receiver.close();
  }

  async process(
    receiver: Pick<ServiceBusReceiver, 'completeMessage' | 'abandonMessage' | 'deadLetterMessage'>,
    message: ServiceBusReceivedMessage,
  ): Promise<IntakeOutcome> {
    const started = performance.now();
    intakeMetrics.received.add(1);
    const log = (
      outcome: IntakeOutcome,
      extra: Record<string, unknown> = {},
      reason = typeof extra.reason === 'string' ? extra.reason : undefined,
    ) => {
      recordOutcome(outcome, (performance.now() - started) / 1000, reason);
      trace.getActiveSpan()?.setAttributes({ 'intake.outcome': outcome, 'intake.reason': reason });
      this.logger.log(
        {
          documentId: message.messageId,
          deliveryCount: message.deliveryCount,
          durationMs: Math.round(performance.now() - started),
          outcome,
          ...extra,
        },
        `message ${outcome}`,
      );
    };

    const parsed = parseDocumentMessage(message);
    if (!parsed.ok) {
      await receiver.deadLetterMessage(message, {
        deadLetterReason: 'MalformedMessage',
        deadLetterErrorDescription: parsed.description,
      });
      log('dead-lettered', { reason: 'MalformedMessage', description: parsed.description });
      return 'dead-lettered';
    }
    const document = parsed.message;
    try {
      await this.retryingTransientErrors(() => this.store(document), message.messageId);
      await receiver.completeMessage(message);
      log('completed');
      return 'completed';
    } catch (error) {
      if (error instanceof RecordConflict) {
        await receiver.deadLetterMessage(message, {
          deadLetterReason: 'RecordExists',
          deadLetterErrorDescription: error.message,
        });
        log('dead-lettered', { reason: 'RecordExists' });
        return 'dead-lettered';
      }
      if (error instanceof UploadedBlobMissing) {
        await receiver.deadLetterMessage(message, {
          deadLetterReason: 'BlobNotFound',
          deadLetterErrorDescription: error.message,
        });
        log('dead-lettered', { reason: 'BlobNotFound' });
        return 'dead-lettered';
      }
      // A lost lock means Service Bus already gave the message to someone else: nothing to settle.
      if (isServiceBusError(error) && error.code === 'MessageLockLost') {
        log('abandoned', { err: 'MessageLockLost' }, 'MessageLockLost');
        return 'abandoned';
      }
      await receiver.abandonMessage(message).catch(() => undefined);
      log(
        'abandoned',
        { err: describeAzureError(error) },
        isTransient(error) ? 'Transient' : 'Refused',
      );
      return 'abandoned';
    }
  }

  /**
   * Reads the blob, signs the record and creates it. Safe to repeat: a redelivery finds its own
   * record and stops there. A record of the same id that differs (another name, type, time or
   * content) is a conflict: it stays as it is, and the message is dead-lettered.
   */
  private async store(document: DocumentUploadedMessage): Promise<void> {
    const metadata = await this.measure(document.blobName, document.contentType);
    const record: DocumentRecord = await this.signer.sign<UnsignedDocumentRecord>({
      id: document.documentId,
      fileName: document.fileName,
      contentType: document.contentType,
      ...metadata,
      uploadedAt: document.uploadedAt,
      processedAt: new Date().toISOString(),
      status: 'processed',
    });
    if ((await this.documents.create(record)) === 'created') return;
    const existing = await this.documents.get(record.id);
    if (existing && sameDocument(existing, record)) return;
    throw new RecordConflict(
      `document ${record.id} is already recorded with different content or metadata; not overwritten`,
    );
  }

  /**
   * A dependency that is briefly down (Cosmos, Storage, Key Vault unreachable or throttling) is
   * retried here, with backoff, while the SDK keeps renewing the message lock: abandoning at once
   * would spend the queue's five deliveries in seconds and dead-letter good documents during a
   * short outage. Errors that retrying cannot fix (a missing blob, a refused role) and shutdown
   * end the retries at once; after the budget the message is abandoned for redelivery.
   */
  private async retryingTransientErrors(
    work: () => Promise<void>,
    documentId: unknown,
  ): Promise<void> {
    const started = Date.now();
    for (let attempt = 1, delay = 250; ; attempt++, delay = Math.min(delay * 2, 5_000)) {
      try {
        return await work();
      } catch (error) {
        const budgetLeft = this.config.workerRetryBudgetMs - (Date.now() - started);
        if (!isTransient(error) || this.stopping || budgetLeft < delay) throw error;
        this.logger.warn(
          { documentId, attempt, retryInMs: delay, err: describeAzureError(error) },
          'transient failure; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async measure(blobName: string, contentType: string) {
    const calculator = new DocumentMetadataCalculator(contentType);
    for await (const chunk of await this.blobs.read(blobName)) calculator.update(chunk);
    return calculator.finish();
  }

  private track<T>(work: Promise<T>): Promise<void> {
    this.inFlight.add(work);
    return work
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.inFlight.delete(work));
  }
}

/**
 * Worth retrying in place: what the SDKs' typed errors call transient (throttling, timeouts, a
 * dependency out of reach). A missing blob, a conflicting record, a refused role, an expired
 * assertion and anything that is no Azure error at all are not: retrying cannot change them.
 */
function isTransient(error: unknown): boolean {
  return classifyFailure(error)?.transient ?? false;
}
