import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DocumentMetadataCalculator } from './document-metadata.calculator.js';

function measure(contentType: string, ...chunks: Array<string | Uint8Array>) {
  const calculator = new DocumentMetadataCalculator(contentType);
  for (const chunk of chunks)
    calculator.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return calculator.finish();
}

describe('DocumentMetadataCalculator', () => {
  it.each([
    ['empty text', [''], 0, 0],
    ['one line without newline', ['hello world'], 1, 2],
    ['trailing newline', ['a b\nc\n'], 2, 3],
    ['CRLF line endings', ['one two\r\nthree\r\n'], 2, 3],
    ['empty lines', ['a\n\n\nb'], 4, 2],
    ['tabs and runs of spaces', ['  a\t\tb   c  '], 1, 3],
    ['a word split across chunks', ['hel', 'lo wor', 'ld\n'], 1, 2],
    ['CRLF split across chunks', ['a\r', '\nb'], 2, 2],
  ])('%s', (_case, chunks, lines, words) => {
    const text = chunks.join('');
    expect(measure('text/plain', ...chunks)).toEqual({
      size: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
      lineCount: lines,
      wordCount: words,
    });
  });

  it('handles a multi-byte UTF-8 character split between chunks', () => {
    const bytes = Buffer.from('größe ünd\u00a0mehr'); // NBSP is whitespace too
    const split = bytes.indexOf(0xc3) + 1; // inside the two-byte 'ö'
    expect(measure('text/markdown', bytes.subarray(0, split), bytes.subarray(split))).toMatchObject(
      {
        size: bytes.length,
        lineCount: 1,
        wordCount: 3,
      },
    );
  });

  it('counts nothing but size and hash for binary types', () => {
    const result = measure('image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0a]));
    expect(result.lineCount).toBeUndefined();
    expect(result.wordCount).toBeUndefined();
    expect(result.size).toBe(5);
  });

  it('counts JSON as text', () => {
    expect(measure('application/json', '{"a": 1}\n')).toMatchObject({ lineCount: 1, wordCount: 2 });
  });
});
