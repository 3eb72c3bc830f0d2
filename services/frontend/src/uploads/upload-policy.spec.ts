import { describe, expect, it } from 'vitest';
import { baseContentType, cleanFileName } from './upload-policy.js';

describe('upload policy', () => {
  it('compares content types without parameters or case', () => {
    expect(baseContentType('Text/Plain; charset=UTF-8')).toBe('text/plain');
  });

  it('keeps only a safe base name', () => {
    expect(cleanFileName('C:\\Users\\me\\report.pdf')).toBe('report.pdf');
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('bad\u0000name\n.txt')).toBe('badname.txt');
    expect(cleanFileName('')).toBe('unnamed');
    expect(cleanFileName('x'.repeat(300))).toHaveLength(255);
  });

  it('removes bidi overrides, isolates and zero-width characters', () => {
    expect(cleanFileName('invoice\u202Etxt.exe')).toBe('invoicetxt.exe');
    expect(cleanFileName('a\u2066b\u2069c\u200Bd\uFEFF.txt')).toBe('abcd.txt');
    expect(cleanFileName('\u0085\u009bx.txt')).toBe('x.txt');
  });

  it('keeps non-ASCII names, normalized, and never cuts a character in half', () => {
    expect(cleanFileName('re\u0301sume\u0301.txt')).toBe('résumé.txt');
    const emoji = cleanFileName('😀'.repeat(200));
    expect(emoji.length).toBeLessThanOrEqual(255);
    expect(emoji).toBe('😀'.repeat(127));
    expect(cleanFileName('\u202E')).toBe('unnamed');
  });
});
