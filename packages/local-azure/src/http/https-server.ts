import { once } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** An HTTPS server on loopback that can be stopped without waiting for keep-alive clients. */
export class LoopbackHttpsServer {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private address?: { port: number; host: string };

  constructor(
    private readonly tls: { cert: string; key: string },
    private readonly handler: RequestListener,
  ) {}

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer({ ...this.tls }, (req, res) => {
      Promise.resolve(this.handler(req, res)).catch((error: unknown) => {
        if (!res.headersSent)
          sendJson(res, 500, { error: 'internal_error', message: String(error) });
        else res.destroy();
      });
    });
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
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
