import { describe, expect, it } from 'vitest';
import { baseContentType, safeFileName } from './upload-policy.js';

describe('upload policy', () => {
  it('compares content types without parameters or case', () => {
    expect(baseContentType('Text/Plain; charset=UTF-8')).toBe('text/plain');
  });

  it('keeps only a safe base name', () => {
    expect(safeFileName('C:\\Users\\me\\report.pdf')).toBe('report.pdf');
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('bad\u0000name\n.txt')).toBe('badname.txt');
    expect(safeFileName('')).toBe('unnamed');
    expect(safeFileName('x'.repeat(300))).toHaveLength(255);
  });
});
