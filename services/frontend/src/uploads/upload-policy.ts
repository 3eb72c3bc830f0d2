import { basename } from 'node:path';

/** `text/plain; charset=utf-8` → `text/plain`. */
export function baseContentType(declared: string): string {
  return declared.split(';')[0]!.trim().toLowerCase();
}

/** At most this many UTF-16 code units (the message contract's limit), cut between characters. */
export const MAX_FILE_NAME_LENGTH = 255;

/**
 * C0 and C1 controls, and the invisible formatting characters that change how a name reads:
 * bidirectional embeddings, overrides and isolates ("invoice\u202Etxt.exe" shows as
 * "invoiceexe.txt"), marks, zero-width characters and the BOM.
 */
const INVISIBLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/gu;

/**
 * The name as stored, shown in the list and carried in the message: no path, NFC, no control or
 * bidi characters, at most 255 characters (never half a surrogate pair). The blob itself is
 * stored under the document id, never under this.
 */
export function cleanFileName(declared: string | undefined): string {
  const cleaned = basename((declared ?? '').replaceAll('\\', '/'))
    .normalize('NFC')
    .replace(INVISIBLE, '')
    .trim();
  let name = '';
  for (const char of cleaned) {
    if (name.length + char.length > MAX_FILE_NAME_LENGTH) break;
    name += char;
  }
  name = name.trim();
  return name === '' || name === '.' || name === '..' ? 'unnamed' : name;
}
