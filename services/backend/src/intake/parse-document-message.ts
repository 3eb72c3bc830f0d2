import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { type DocumentUploadedMessage, documentUploadedMessageSchema } from '@wi/contracts';

export type ParsedMessage =
  { ok: true; message: DocumentUploadedMessage } | { ok: false; description: string };

/** Validates a received `document.uploaded` message; the description says which field is wrong. */
export function parseDocumentMessage(
  received: Pick<ServiceBusReceivedMessage, 'body' | 'messageId'>,
): ParsedMessage {
  let body: unknown = received.body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      body = JSON.parse(body.toString());
    } catch {
      return { ok: false, description: 'body is not JSON' };
    }
  }
  const result = documentUploadedMessageSchema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return {
      ok: false,
      description: `${issue.path.join('.') || 'body'}: ${issue.message}`.slice(0, 200),
    };
  }
  if (String(received.messageId) !== result.data.documentId) {
    return { ok: false, description: 'messageId does not equal documentId' };
  }
  return { ok: true, message: result.data };
}
