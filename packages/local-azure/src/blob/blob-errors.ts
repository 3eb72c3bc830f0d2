import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** Writes a Storage REST error the way Azure Storage does: XML body, x-ms-error-code header. */
export function sendStorageError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  options: { detail?: string; headers?: Record<string, string>; head?: boolean } = {},
): void {
  const requestId = randomUUID();
  const body =
    `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message>` +
    (options.detail
      ? `<AuthenticationErrorDetail>${escapeXml(options.detail)}</AuthenticationErrorDetail>`
      : '') +
    '</Error>';
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': options.head ? 0 : Buffer.byteLength(body),
    'x-ms-error-code': code,
    'x-ms-request-id': requestId,
    'x-ms-version': '2026-02-06',
    ...options.headers,
  });
  res.end(options.head ? undefined : body);
}

function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}
