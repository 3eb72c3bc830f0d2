/** A processed document as the backend's API returns it (GET /documents, GET /documents/:id). */
export interface DocumentView {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Present for text documents only. */
  lineCount?: number;
  wordCount?: number;
  uploadedAt: string;
  processedAt: string;
  status: 'processed';
  /** The Key Vault secret version of the HMAC key that signed the record. */
  signatureKeyVersion: string;
  /** GET /documents/:id only: whether the record's HMAC verifies with that key version. */
  signatureValid?: boolean;
}

export interface DocumentListResponse {
  items: DocumentView[];
}
