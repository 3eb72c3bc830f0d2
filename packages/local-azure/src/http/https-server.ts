import { once } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How a plane answers a request its handler failed on: its own error dialect, a 400 for input
 * it could not parse (a URIError, a SyntaxError, a body over the limit), a 500 otherwise, and
 * never the error's text (internal detail is not the caller's business).
 */
export type PlaneErrorWriter = (res: ServerResponse, failure: 'bad-request' | 'internal') => void;

/** The default: a JSON error that names nothing internal. */
const genericErrors: PlaneErrorWriter = (res, failure) =>
  failure === 'bad-request'
    ? sendJson(res, 400, { error: 'bad_request', message: 'The request is malformed.' })
    : sendJson(res, 500, { error: 'internal_error', message: 'The request failed.' });

/** Whether a handler error is the request's fault: input that did not parse. */
export function isBadInput(error: unknown): boolean {
  return (
    error instanceof URIError || error instanceof SyntaxError || error instanceof BodyTooLargeError
  );
}

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/**
 * An HTTPS server on loopback that can be stopped without waiting for keep-alive clients. No
 * handler error, thrown or rejected, escapes it: the request gets the plane's error and the
 * server keeps serving.
 */
export class LoopbackHttpsServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private address?: { port: number; host: string };

  constructor(
    private readonly tls: { cert: string; key: string },
    private readonly handler: RequestListener,
    private readonly errors: PlaneErrorWriter = genericErrors,
    private readonly log?: (event: Record<string, unknown>) => void,
  ) {}

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer({ ...this.tls }, (req, res) => {
      const failed = (error: unknown) => {
        this.log?.({ event: 'request-failed', error: String(error), method: req.method });
        req.resume();
        if (res.headersSent) return void res.destroy();
        try {
          this.errors(res, isBadInput(error) ? 'bad-request' : 'internal');
        } catch {
          res.destroy();
        }
      };
      try {
        Promise.resolve(this.handler(req, res)).catch(failed);
      } catch (error) {
        failed(error);
      }
    });
    // A socket error (reset, TLS garbage) ends that socket only.
    server.on('tlsClientError', () => undefined);
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.listen(port, host);
    await once(server, 'listening');
    this.server = server;
    this.address = { port: (server.address() as AddressInfo).port, host };
    return this.address.port;
  }

  /** An outage: connections are cut and the port stops answering, until resume(). */
  async suspend(): Promise<void> {
    await this.close();
  }

  /** Listens again on the same port, as the service would come back at the same address. */
  async resume(): Promise<void> {
    if (!this.address || this.server) return;
    await this.listen(this.address.port, this.address.host);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
