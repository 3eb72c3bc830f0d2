import { createHash, type Hash } from 'node:crypto';
import { TextDecoder } from 'node:util';

export interface DocumentMetadata {
  size: number;
  sha256: string;
  lineCount?: number;
  wordCount?: number;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|x-ndjson|yaml|x-yaml|csv)\b)/i;

export function isTextContentType(contentType: string): boolean {
  return TEXT_TYPES.test(contentType);
}

/**
 * Computes size, SHA-256 and (for text) line and word counts one chunk at a time, so a document
 * is never held in memory whole. Chunk boundaries may split a word, a CRLF or a UTF-8 sequence.
 */
export class DocumentMetadataCalculator {
  private readonly hash: Hash = createHash('sha256');
  private readonly decoder?: TextDecoder;
  private size = 0;
  private newlines = 0;
  private words = 0;
  private inWord = false;
  private lastChar = '';

  constructor(contentType: string) {
    if (isTextContentType(contentType)) this.decoder = new TextDecoder('utf-8');
  }

  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    if (this.decoder) this.count(this.decoder.decode(chunk, { stream: true }));
  }

  finish(): DocumentMetadata {
    const metadata: DocumentMetadata = { size: this.size, sha256: this.hash.digest('hex') };
    if (this.decoder) {
      this.count(this.decoder.decode());
      // A last line without a trailing newline is still a line.
      metadata.lineCount = this.newlines + (this.lastChar !== '' && this.lastChar !== '\n' ? 1 : 0);
      metadata.wordCount = this.words;
    }
    return metadata;
  }

  private count(text: string): void {
    for (const char of text) {
      if (char === '\n') this.newlines += 1;
      const space = /\s/u.test(char);
      if (!space && !this.inWord) this.words += 1;
      this.inWord = !space;
      this.lastChar = char;
    }
  }
}
