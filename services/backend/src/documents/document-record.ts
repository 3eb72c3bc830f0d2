import type { DocumentView } from '@wi/contracts';
import type { Signed } from '../signing/record-signer.js';

/** What the worker measures and records, before it is signed. */
export type UnsignedDocumentRecord = Omit<DocumentView, 'signatureValid' | 'signatureKeyVersion'>;

/** What the worker writes to Cosmos: the view's fields plus the HMAC over them. */
export type DocumentRecord = Signed<UnsignedDocumentRecord>;

/** Cosmos adds system properties (_rid, _etag, _ts, ...); the API returns only the view. */
export function toView(record: DocumentRecord, signatureValid?: boolean): DocumentView {
  const view: DocumentView = {
    id: record.id,
    fileName: record.fileName,
    contentType: record.contentType,
    size: record.size,
    sha256: record.sha256,
    uploadedAt: record.uploadedAt,
    processedAt: record.processedAt,
    status: record.status,
    signatureKeyVersion: record.signatureKeyVersion,
  };
  if (record.lineCount !== undefined) view.lineCount = record.lineCount;
  if (record.wordCount !== undefined) view.wordCount = record.wordCount;
  if (signatureValid !== undefined) view.signatureValid = signatureValid;
  return view;
}

/** Strips Cosmos system properties so the signature covers exactly what was signed. */
export function fromStored(stored: Record<string, unknown>): DocumentRecord {
  const record = Object.fromEntries(Object.entries(stored).filter(([key]) => !key.startsWith('_')));
  return record as unknown as DocumentRecord;
}
