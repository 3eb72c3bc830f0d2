import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { formatBytes } from '../web/format.js';
import { baseContentType, cleanFileName } from './upload-policy.js';

/** Where the file's bytes go while they arrive; the blob container in production. */
export interface UploadSink {
  /** Must not make the upload visible unless `body` ends without error. */
  store(id: string, body: Readable, contentType: string, signal: AbortSignal): Promise<void>;
  /** Removes a stored upload that will not be announced. */
  discard(id: string): Promise<void>;
}

export interface ReceiveUploadOptions {
  maxBytes: number;
  allowedContentTypes: ReadonlySet<string>;
  /** Checks the form's CSRF field; called before a single byte of the file is read. */
  verifyCsrf: (token: string | undefined) => boolean | Promise<boolean>;
}

export interface ReceivedUpload {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
}

export type UploadResult =
  | { ok: true; upload: ReceivedUpload }
  | { ok: false; status: 400 | 403 | 413 | 415; message: string }
  /** The sink failed: storage is unreachable or refused the service's identity. */
  | { ok: false; status: 503; message: string; cause: unknown };

/** Multipart framing around a file is a few hundred bytes; anything far beyond the limit is refused unparsed. */
const FRAMING_ALLOWANCE_BYTES = 64 * 1024;
const NOT_MULTIPART = 'Send the file as multipart/form-data in a field named "file".';
/** The connection closed before the multipart form ended. */
const INCOMPLETE_FORM = 'The upload ended before the form was complete; nothing was stored.';
const MALFORMED_FORM =
  'The upload could not be read as a complete multipart form (was it cut short?); nothing was stored.';
/** A refused body is read and thrown away up to this size, so the client can read the answer. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

class IncompleteForm extends Error {
  override name = 'IncompleteForm';
  constructor() {
    super('the request body ended before the multipart form');
  }
}

export class UploadRejected extends Error {
  constructor(
    readonly status: 400 | 403 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** Refuses a request from its headers alone, before any of its body is read. */
export function rejectFromHeaders(
  headers: IncomingHttpHeaders,
  maxBytes: number,
): UploadRejected | undefined {
  if (!/^multipart\/form-data\b/i.test(headers['content-type'] ?? '')) {
    return new UploadRejected(400, NOT_MULTIPART);
  }
  const declaredLength = Number(headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes + FRAMING_ALLOWANCE_BYTES) {
    return new UploadRejected(413, tooLarge(maxBytes));
  }
  return undefined;
}

/**
 * Reads and discards a refused request body. HTTP clients, browsers included, often report a
 * connection closed mid-upload as a network error instead of showing the answer, so the body is
 * drained; only beyond DRAIN_LIMIT_BYTES is the connection cut.
 */
export function drainRequest(request: Readable): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > DRAIN_LIMIT_BYTES) {
        request.destroy();
        resolve();
      }
    });
    request.once('end', resolve);
    request.once('close', resolve);
    request.once('error', () => resolve());
  });
}

/**
 * Streams one multipart file field into the sink as it arrives: the CSRF field must come first,
 * the declared type must be allowed, and the file must be non-empty and within the limit. A
 * refused upload never reaches the sink, or is aborted before the sink commits it.
 */
export function receiveUpload(
  request: Readable & { headers: IncomingHttpHeaders },
  sink: UploadSink,
  options: ReceiveUploadOptions,
): Promise<UploadResult> {
  return new Promise((resolve) => {
    let csrfToken: string | undefined;
    let handled: Promise<UploadResult> | undefined;
    let settled = false;
    const finish = (result: UploadResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const refuse = (error: unknown): UploadResult =>
      error instanceof UploadRejected
        ? { ok: false, status: error.status, message: error.message }
        : {
            ok: false,
            status: 503,
            message: 'Storage is unavailable; try again shortly.',
            cause: error,
          };

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        // Browsers send the file name as raw UTF-8 in filename="..."; busboy's default reads it
        // as Latin-1 ("résumé" would become "rÃ©sumÃ©").
        defParamCharset: 'utf8',
        // busboy flags a file that reaches its limit, not only one that exceeds it: allow one more
        // byte and judge the size here.
        limits: { files: 1, fileSize: options.maxBytes + 1, fields: 4, fieldSize: 1024, parts: 6 },
      });
    } catch {
      finish({
        ok: false,
        status: 400,
        message: NOT_MULTIPART,
      });
      request.resume();
      return;
    }

    parser.on('field', (name, value) => {
      if (name === '_csrf') csrfToken = value;
    });
    parser.on('file', (field, file, info) => {
      // A body cut short errors the file stream too; the parser's own 'error' event decides the
      // answer, and an error event nobody listens to would end the process.
      file.on('error', () => undefined);
      if (field !== 'file' || handled) {
        file.resume();
        return;
      }
      handled = storeFile(file, info, csrfToken, sink, options).then(
        (upload) => ({ ok: true as const, upload }),
        (error: unknown) => {
          file.resume(); // keep the request flowing so the refusal can be sent
          return refuse(error);
        },
      );
    });
    parser.on('close', () => {
      if (!handled)
        finish({
          ok: false,
          status: 400,
          message: 'The form has no file in a field named "file".',
        });
      else void handled.then(finish);
    });
    parser.on('error', (error: Error) => {
      request.unpipe(parser);
      request.resume();
      const malformed: UploadResult = {
        ok: false,
        status: 400,
        // busboy's errors are all about the body (cut short, bad framing, too many parts).
        message: error instanceof IncompleteForm ? INCOMPLETE_FORM : MALFORMED_FORM,
      };
      if (!handled) return finish(malformed);
      void handled.then(async (result) => {
        if (result.ok) await sink.discard(result.upload.id).catch(() => undefined);
        // The sink failed because the file stream it read broke off with the form: the cause is
        // the client's body, not storage. A refusal (403, 413, 415) stays as it was.
        finish(result.ok || result.status === 503 ? malformed : result);
      });
    });
    // A client that goes away mid-body (or is cut off by the server's request timeout) never
    // ends the form: end it here, so the upload is aborted and its slot freed.
    let ended = false;
    request.once('end', () => (ended = true));
    request.once('close', () => {
      if (!ended && !settled) parser.destroy(new IncompleteForm());
    });
    request.pipe(parser);
  });
}

async function storeFile(
  file: Readable & { truncated?: boolean },
  info: busboy.FileInfo,
  csrfToken: string | undefined,
  sink: UploadSink,
  options: ReceiveUploadOptions,
): Promise<ReceivedUpload> {
  if (!(await options.verifyCsrf(csrfToken))) {
    throw new UploadRejected(
      403,
      'The form has expired or did not come from this site; reload the page and try again.',
    );
  }
  const contentType = baseContentType(info.mimeType);
  if (!options.allowedContentTypes.has(contentType)) {
    throw new UploadRejected(415, `Files of type ${contentType} are not accepted.`);
  }

  // Not destroyed on early exit: busboy must be able to drain the rest of the part.
  const chunks = file.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  try {
    const first = await chunks.next();
    if (first.done) throw new UploadRejected(400, 'The file is empty.');

    let size = 0;
    const aborter = new AbortController();
    const counted = Readable.from(
      (async function* () {
        for (let next: IteratorResult<Buffer> = first; !next.done; next = await chunks.next()) {
          size += next.value.length;
          yield next.value;
        }
        // busboy stops at its limit and ends the stream; what arrived is not the whole file.
        if (file.truncated || size > options.maxBytes) {
          const error = new UploadRejected(413, tooLarge(options.maxBytes));
          aborter.abort(error);
          throw error;
        }
      })(),
    );
    const id = randomUUID();
    try {
      await sink.store(id, counted, contentType, aborter.signal);
    } catch (error) {
      if (aborter.signal.reason instanceof UploadRejected) throw aborter.signal.reason;
      throw error;
    }
    return { id, fileName: cleanFileName(info.filename), contentType, size };
  } finally {
    await chunks.return?.();
  }
}

function tooLarge(maxBytes: number): string {
  return `The file is larger than the ${formatBytes(maxBytes)} limit.`;
}
