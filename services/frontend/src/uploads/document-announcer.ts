import { ServiceBusClient, type ServiceBusSender } from '@azure/service-bus';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import {
  DOCUMENT_UPLOADED,
  DOCUMENT_UPLOADED_SCHEMA_VERSION,
  type DocumentUploadedMessage,
} from '@wi/contracts';
import { FRONTEND_CONFIG, type FrontendConfig } from '../config/frontend-config.js';
import type { ReceivedUpload } from './receive-upload.js';

/** Sends `document.uploaded` through one sender link for the life of the process. */
@Injectable()
export class DocumentAnnouncer implements OnApplicationShutdown {
  private readonly sender: ServiceBusSender;

  constructor(serviceBus: ServiceBusClient, @Inject(FRONTEND_CONFIG) config: FrontendConfig) {
    this.sender = serviceBus.createSender(config.documentsQueue);
  }

  async announce(upload: ReceivedUpload, correlationId?: string): Promise<DocumentUploadedMessage> {
    const body: DocumentUploadedMessage = {
      type: DOCUMENT_UPLOADED,
      schemaVersion: DOCUMENT_UPLOADED_SCHEMA_VERSION,
      documentId: upload.id,
      blobName: upload.id,
      fileName: upload.fileName,
      contentType: upload.contentType,
      size: upload.size,
      uploadedAt: new Date().toISOString(),
    };
    await this.sender.sendMessages({
      // The document id: a retried send is a duplicate Service Bus can detect, and the
      // worker's upsert makes a second delivery harmless.
      messageId: upload.id,
      contentType: 'application/json',
      subject: DOCUMENT_UPLOADED,
      correlationId,
      body,
    });
    return body;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
