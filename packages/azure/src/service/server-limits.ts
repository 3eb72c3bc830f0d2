import { createServer, type Server, type ServerOptions } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { z } from 'zod';
import { envVar, parseEnvironment } from '../config/azure-config.js';

const { positiveInt } = envVar;

/**
 * Where the service listens and how long a client may hold a connection. The default address is
 * loopback: `pnpm dev` and a bare `node dist/main.js` are not reachable from the network unless
 * asked (HOST=0.0.0.0, which the Kubernetes Deployments and docker-compose set explicitly).
 */
const schema = z.object({
  HOST: z
    .string()
    .regex(/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+|localhost)$/i, {
      message: 'must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::) or localhost',
    })
    .default('127.0.0.1'),
  // A client has this long to send all of its request headers (Node's default is 60 s).
  HTTP_HEADERS_TIMEOUT_MS: positiveInt(10_000),
  // ... and this long for the whole request, body included: a 10 MiB upload at 2 Mbit/s fits.
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(60_000),
  // An idle keep-alive connection is closed after this long.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(5_000),
  // A connection that sends nothing at all for this long is closed.
  HTTP_IDLE_TIMEOUT_MS: positiveInt(30_000),
});

export interface ServerLimits {
  host: string;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
}

export function loadServerLimits(env: NodeJS.ProcessEnv): ServerLimits {
  const c = parseEnvironment(schema, env);
  return {
    host: c.HOST,
    headersTimeoutMs: c.HTTP_HEADERS_TIMEOUT_MS,
    // Node requires headersTimeout <= requestTimeout.
    requestTimeoutMs: Math.max(c.HTTP_REQUEST_TIMEOUT_MS, c.HTTP_HEADERS_TIMEOUT_MS),
    keepAliveTimeoutMs: c.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: c.HTTP_IDLE_TIMEOUT_MS,
  };
}

/**
 * Nest's Express adapter with an HTTP server that enforces the limits. Node checks the header and
 * request timeouts every `connectionsCheckingInterval` (30 s by default), an option only
 * http.createServer takes, so the adapter creates the server itself.
 */
export class BoundedExpressAdapter extends ExpressAdapter {
  constructor(private readonly limits: ServerLimits) {
    super();
  }

  override initHttpServer(options: NestApplicationOptions): void {
    if (options.httpsOptions) throw new Error('TLS terminates at the ingress; serve plain HTTP.');
    const serverOptions: ServerOptions = {
      headersTimeout: this.limits.headersTimeoutMs,
      requestTimeout: this.limits.requestTimeoutMs,
      keepAliveTimeout: this.limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1_000,
    };
    const server: Server = createServer(serverOptions, this.getInstance());
    server.setTimeout(this.limits.idleTimeoutMs, (socket) => socket.destroy());
    this.httpServer = server;
  }
}
