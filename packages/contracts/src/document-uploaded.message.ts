import { z } from 'zod';

/**
 * The `document.uploaded` message the frontend sends to the `documents` queue and the backend's
 * worker consumes. Versioned so that a consumer can dead-letter a version it does not know
 * instead of guessing; the Service Bus messageId is the document id, which makes duplicate
 * sends detectable and the worker's upsert idempotent.
 */
export const DOCUMENT_UPLOADED = 'document.uploaded';
export const DOCUMENT_UPLOADED_SCHEMA_VERSION = 1;

export const documentUploadedMessageSchema = z
  .object({
    type: z.literal(DOCUMENT_UPLOADED),
    schemaVersion: z.literal(DOCUMENT_UPLOADED_SCHEMA_VERSION),
    documentId: z.uuid(),
    /** Blob name in the uploads container: always equal to documentId (refined below). */
    blobName: z.uuid(),
    fileName: z.string().min(1).max(255),
    contentType: z.string().min(1).max(127),
    size: z.number().int().positive(),
    uploadedAt: z.iso.datetime(),
  })
  // A message names its document, and the document is the blob of the same name: a sender
  // cannot point a new record at someone else's blob.
  .refine((message) => message.blobName.toLowerCase() === message.documentId.toLowerCase(), {
    path: ['blobName'],
    message: 'must equal documentId',
  });

export type DocumentUploadedMessage = z.infer<typeof documentUploadedMessageSchema>;
