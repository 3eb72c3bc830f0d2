import { basename } from 'node:path';

/** `text/plain; charset=utf-8` → `text/plain`. */
export function baseContentType(declared: string): string {
  return declared.split(';')[0]!.trim().toLowerCase();
}

/**
 * The name as shown in the list and carried in the message: no path, no control characters,
 * at most 255 characters. The blob itself is stored under the document id, never under this.
 */
export function safeFileName(declared: string | undefined): string {
  const name = basename((declared ?? '').replaceAll('\\', '/'))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
    .slice(0, 255);
  return name || 'unnamed';
}
