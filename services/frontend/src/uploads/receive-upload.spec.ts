import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { receiveUpload, rejectFromHeaders, type UploadSink } from './receive-upload.js';

/** Keeps what a real container would make visible: only uploads whose stream ended cleanly. */
class MemorySink implements UploadSink {
  readonly committed = new Map<string, { bytes: Buffer; contentType: string }>();
  readonly started: string[] = [];
  failWith?: Error;

  async store(id: string, body: Readable, contentType: string, signal: AbortSignal): Promise<void> {
    this.started.push(id);
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      signal.throwIfAborted();
      chunks.push(chunk as Buffer);
    }
    if (this.failWith) throw this.failWith;
    this.committed.set(id, { bytes: Buffer.concat(chunks), contentType });
  }

  async discard(id: string): Promise<void> {
    this.committed.delete(id);
  }
}

async function multipart(parts: [string, string | Blob, string?][]) {
  const form = new FormData();
  for (const [name, value, fileName] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, fileName);
  }
  const response = new Response(form);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: IncomingHttpHeaders = {
    'content-type': response.headers.get('content-type')!,
    'content-length': String(body.length),
  };
  // Small chunks, as a socket delivers them, so limits are hit mid-stream.
  const request = Object.assign(Readable.from(chunk(body, 1024)), { headers });
  return request;
}

function* chunk(buffer: Buffer, size: number) {
  for (let offset = 0; offset < buffer.length; offset += size)
    yield buffer.subarray(offset, offset + size);
}

const options = {
  maxBytes: 10_000,
  allowedContentTypes: new Set(['text/plain', 'image/png']),
  verifyCsrf: async (token: string | undefined) => token === 'good',
};

describe('receiveUpload', () => {
  it('streams an allowed file to the sink under a new id', async () => {
    const sink = new MemorySink();
    const request = await multipart([
      ['_csrf', 'good'],
      [
        'file',
        new Blob(['hello\nworld'], { type: 'text/plain;charset=utf-8' }),
        '../../etc/notes.txt',
      ],
    ]);
    const result = await receiveUpload(request, sink, options);
    expect(result).toMatchObject({
      ok: true,
      upload: { fileName: 'notes.txt', contentType: 'text/plain', size: 11 },
    });
    if (!result.ok) throw new Error('unreachable');
    expect(sink.committed.get(result.upload.id)?.bytes.toString()).toBe('hello\nworld');
  });

  it.each([
    ['no CSRF field', [['file', new Blob(['x'], { type: 'text/plain' }), 'a.txt']], 403],
    [
      'a wrong CSRF token',
      [
        ['_csrf', 'bad'],
        ['file', new Blob(['x'], { type: 'text/plain' }), 'a.txt'],
      ],
      403,
    ],
    [
      'the CSRF field after the file',
      [
        ['file', new Blob(['x'], { type: 'text/plain' }), 'a.txt'],
        ['_csrf', 'good'],
      ],
      403,
    ],
    [
      'a disallowed type',
      [
        ['_csrf', 'good'],
        ['file', new Blob(['MZ'], { type: 'application/x-msdownload' }), 'a.exe'],
      ],
      415,
    ],
    [
      'an empty file',
      [
        ['_csrf', 'good'],
        ['file', new Blob([], { type: 'text/plain' }), 'a.txt'],
      ],
      400,
    ],
    ['no file field', [['_csrf', 'good']], 400],
    [
      'a file one byte over the limit',
      [
        ['_csrf', 'good'],
        ['file', new Blob(['x'.repeat(10_001)], { type: 'text/plain' }), 'a.txt'],
      ],
      413,
    ],
  ] as [string, [string, string | Blob, string?][], number][])(
    'refuses %s and stores nothing',
    async (_case, parts, status) => {
      const sink = new MemorySink();
      const result = await receiveUpload(await multipart(parts), sink, options);
      expect(result).toMatchObject({ ok: false, status });
      expect(sink.committed.size).toBe(0);
    },
  );

  it('accepts a file of exactly the limit', async () => {
    const sink = new MemorySink();
    const parts: [string, string | Blob, string?][] = [
      ['_csrf', 'good'],
      ['file', new Blob(['x'.repeat(10_000)], { type: 'text/plain' }), 'a.txt'],
    ];
    const result = await receiveUpload(await multipart(parts), sink, options);
    expect(result).toMatchObject({ ok: true, upload: { size: 10_000 } });
  });

  it('reports a failing sink as 503 with the cause, for the log', async () => {
    const sink = new MemorySink();
    sink.failWith = new Error('AuthorizationPermissionMismatch');
    const parts: [string, string | Blob, string?][] = [
      ['_csrf', 'good'],
      ['file', new Blob(['x'], { type: 'text/plain' }), 'a.txt'],
    ];
    const result = await receiveUpload(await multipart(parts), sink, options);
    expect(result).toMatchObject({ ok: false, status: 503 });
    expect(sink.committed.size).toBe(0);
  });

  it('answers a body cut off mid-file with 400, not as a storage failure, and commits nothing', async () => {
    const sink = new MemorySink();
    const whole = await multipart([
      ['_csrf', 'good'],
      ['file', new Blob(['y'.repeat(5_000)], { type: 'text/plain' }), 'a.txt'],
    ]);
    const bytes = Buffer.concat(await whole.toArray());
    const truncated = Object.assign(Readable.from(chunk(bytes.subarray(0, 3_000), 1024)), {
      headers: whole.headers,
    });
    const result = await receiveUpload(truncated, sink, options);
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(sink.committed.size).toBe(0);
  });

  it('decodes a UTF-8 file name and removes bidi characters from it', async () => {
    const sink = new MemorySink();
    const boundary = 'x-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\ngood\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="`),
      Buffer.from('résumé\u202Etxt.exe', 'utf8'),
      Buffer.from(`"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`),
    ]);
    const request = Object.assign(Readable.from([body]), {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    const result = await receiveUpload(request, sink, options);
    expect(result).toMatchObject({ ok: true, upload: { fileName: 'résumétxt.exe' } });
  });

  it('refuses a request that is not multipart, or declares a body far over the limit, from its headers', () => {
    expect(rejectFromHeaders({ 'content-type': 'application/json' }, 100)?.status).toBe(400);
    expect(
      rejectFromHeaders(
        { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '999999999' },
        100,
      )?.status,
    ).toBe(413);
    expect(
      rejectFromHeaders(
        { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '1000' },
        100,
      ),
    ).toBeUndefined();
  });
});
