import { z } from 'zod';

const count = z.number().int().nonnegative();

/**
 * A processed document as the backend's API returns it (GET /documents, GET /documents/:id). The
 * schema is the one source: the type below is inferred from it, and the backend's OpenAPI
 * document is generated from it (zod's JSON Schema output), so neither can drift from the other.
 */
export const documentViewSchema = z
  .object({
    id: z.uuid(),
    fileName: z.string().min(1).max(255),
    contentType: z.string().min(1).max(127),
    size: count.describe('Bytes'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe('SHA-256 of the content, hex'),
    lineCount: count.optional().describe('Present for text documents only'),
    wordCount: count.optional().describe('Present for text documents only'),
    uploadedAt: z.iso.datetime(),
    processedAt: z.iso.datetime(),
    status: z.literal('processed'),
    signatureKeyVersion: z
      .string()
      .min(1)
      .describe('The Key Vault secret version of the HMAC key that signed the record'),
    signatureValid: z
      .boolean()
      .optional()
      .describe(
        "GET /documents/:id only: whether the record's HMAC verifies with that key version",
      ),
  })
  .meta({ id: 'DocumentView', description: 'A processed document' });

export type DocumentView = z.infer<typeof documentViewSchema>;

export const documentListResponseSchema = z
  .object({ items: z.array(documentViewSchema) })
  .meta({ id: 'DocumentListResponse', description: 'The most recent documents, newest first' });

export type DocumentListResponse = z.infer<typeof documentListResponseSchema>;
