import {
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import { BlobServiceClient, RestError } from '@azure/storage-blob';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { describeAzureError } from '@wi/azure';
import { BACKEND_CONFIG, type BackendConfig } from '../config/backend-config.js';
import { DocumentsRepository } from '../documents/documents.repository.js';
import { RecordSigner } from '../signing/record-signer.js';
import { DocumentMetadataCalculator } from './document-metadata.calculator.js';
import { parseDocumentMessage } from './parse-document-message.js';

export type IntakeOutcome = 'completed' | 'dead-lettered' | 'abandoned';

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

  constructor(
    private readonly serviceBus: ServiceBusClient,
    private readonly blobs: BlobServiceClient,
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
        processMessage: (message) => this.track(this.process(receiver, message)),
        processError: async ({ error, errorSource }) => {
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
    const log = (outcome: IntakeOutcome, extra: Record<string, unknown> = {}) =>
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
      const metadata = await this.measure(document.blobName, document.contentType);
      const record = await this.signer.sign({
        id: document.documentId,
        fileName: document.fileName,
        contentType: document.contentType,
        ...metadata,
        uploadedAt: document.uploadedAt,
        processedAt: new Date().toISOString(),
        status: 'processed',
      });
      await this.documents.upsert(record);
      await receiver.completeMessage(message);
      log('completed');
      return 'completed';
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404 && error.code === 'BlobNotFound') {
        await receiver.deadLetterMessage(message, {
          deadLetterReason: 'BlobNotFound',
          deadLetterErrorDescription: `uploads/${document.blobName} does not exist`,
        });
        log('dead-lettered', { reason: 'BlobNotFound' });
        return 'dead-lettered';
      }
      // A lost lock means Service Bus already gave the message to someone else: nothing to settle.
      if (isServiceBusError(error) && error.code === 'MessageLockLost') {
        log('abandoned', { err: 'MessageLockLost' });
        return 'abandoned';
      }
      await receiver.abandonMessage(message).catch(() => undefined);
      log('abandoned', { err: describeAzureError(error) });
      return 'abandoned';
    }
  }

  private async measure(blobName: string, contentType: string) {
    const blob = this.blobs
      .getContainerClient(this.config.uploadsContainer)
      .getBlobClient(blobName);
    const download = await blob.download();
    const calculator = new DocumentMetadataCalculator(contentType);
    for await (const chunk of download.readableStreamBody as AsyncIterable<Buffer>)
      calculator.update(chunk);
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
