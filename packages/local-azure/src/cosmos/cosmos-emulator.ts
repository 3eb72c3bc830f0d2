import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { AuthorizationDecision } from '../authorization/decision.js';
import { LoopbackHttpsServer, sendJson } from '../http/https-server.js';
import {
  AccessTokenError,
  verifyAccessToken,
  type AccessTokenClaims,
  type JwksSource,
} from '../tokens/access-token.js';
import { cosmosRequestTarget } from './cosmos-data-actions.js';

const require = createRequire(import.meta.url);

export const COSMOS_RESOURCE = 'https://cosmos.azure.com';

export interface CosmosEmulatorOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  jwks: JwksSource;
  authorize?: (
    claims: AccessTokenClaims,
    action: string,
    scope: { database?: string; container?: string },
  ) => AuthorizationDecision;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * Cosmos DB for NoSQL: @vercel/cosmosdb-server (in this process, plain HTTP on an internal
 * loopback port) behind a TLS proxy that does what a Cosmos account with local auth disabled
 * does: accept only AAD tokens (verified), check native RBAC data actions, refuse keys.
 */
export class CosmosEmulator {
  private readonly proxy: LoopbackHttpsServer;
  private backend?: Server;
  private backendPort = 0;
  private port = 0;

  constructor(private readonly options: CosmosEmulatorOptions) {
    this.proxy = new LoopbackHttpsServer(options.tls, (req, res) => this.handle(req, res));
  }

  async start(): Promise<{ port: number }> {
    const { createHttpServer } = require('@vercel/cosmosdb-server') as {
      createHttpServer: (opts?: object) => Server;
    };
    const backend = createHttpServer({ keepAlive: true });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    this.backend = backend;
    this.backendPort = (backend.address() as AddressInfo).port;
    this.port = await this.proxy.listen(this.options.port, this.options.host);
    return { port: this.port };
  }

  async stop(): Promise<void> {
    await this.proxy.close();
    const backend = this.backend;
    if (backend) {
      backend.closeAllConnections();
      await new Promise<void>((resolve) => backend.close(() => resolve()));
    }
  }

  /** An outage: connections cut, port silent; the data stays until resume(). */
  suspend(): Promise<void> {
    return this.proxy.suspend();
  }

  resume(): Promise<void> {
    return this.proxy.resume();
  }

  get endpoint(): string {
    return `https://localhost:${this.port}/`;
  }

  /** Seeding (Bicep creates these in Azure, through the control plane). */
  async ensureDatabase(id: string): Promise<void> {
    const { status } = await this.internal('POST', '/dbs', { id });
    if (status !== 201 && status !== 409)
      throw new Error(`Could not create database ${id}: HTTP ${status}`);
  }

  async ensureContainer(database: string, id: string, partitionKeyPath: string): Promise<void> {
    const { status } = await this.internal('POST', `/dbs/${database}/colls`, {
      id,
      partitionKey: { paths: [partitionKeyPath], kind: 'Hash', version: 2 },
    });
    if (status !== 201 && status !== 409)
      throw new Error(`Could not create container ${id}: HTTP ${status}`);
  }

  /** For tests: every item of a container. */
  async items(database: string, container: string): Promise<Array<Record<string, unknown>>> {
    const { body } = await this.internal('GET', `/dbs/${database}/colls/${container}/docs`);
    return (body as { Documents?: Array<Record<string, unknown>> }).Documents ?? [];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const activityId = randomUUID();
    const fail = (status: number, substatus: number, code: string, message: string) => {
      req.resume();
      sendJson(
        res,
        status,
        {
          code,
          message: `${message}\r\nActivityId: ${activityId}, Microsoft.Azure.Documents.Common/2.14.0`,
        },
        {
          'x-ms-substatus': String(substatus),
          'x-ms-activity-id': activityId,
        },
      );
    };
    const auth = decodeURIComponent(String(req.headers.authorization ?? ''));
    const params = new URLSearchParams(auth);
    if (params.get('type') === 'master' || params.get('type') === 'resource') {
      return fail(
        401,
        5202,
        'Unauthorized',
        'Local Authorization is disabled. Use an AAD token to authorize all requests.',
      );
    }
    let claims: AccessTokenClaims;
    const origin = this.endpoint.replace(/\/$/, '');
    try {
      if (params.get('type') !== 'aad') throw new AccessTokenError('missing', 'no AAD token');
      claims = verifyAccessToken(`Bearer ${params.get('sig') ?? ''}`, this.options.jwks, [
        origin,
        COSMOS_RESOURCE,
      ]);
    } catch (error) {
      const problem = error instanceof AccessTokenError ? error.problem : 'malformed';
      this.options.log?.({ event: 'cosmos-unauthorized', problem });
      const message = {
        missing:
          'Required Header authorization is missing. Ensure a valid Authorization token is passed.',
        'wrong-audience': `Provided AAD token is intended for another audience. This database account accepts tokens intended for [${origin}, ${COSMOS_RESOURCE}].`,
        expired: 'The authorization token expired.',
        'not-yet-valid': 'The authorization token is not yet valid.',
        'bad-signature':
          'The input authorization token could not be validated: signature verification failed.',
        malformed: 'The input authorization token could not be parsed.',
      }[problem];
      return fail(401, problem === 'wrong-audience' ? 5008 : 0, 'Unauthorized', message);
    }
    const path = new URL(req.url ?? '/', origin).pathname;
    const target = cosmosRequestTarget(req.method ?? 'GET', path, req.headers);
    if (target.controlPlane) {
      return fail(
        403,
        5300,
        'Forbidden',
        `Request blocked by Auth local : The given request [${req.method} ${path}] cannot be authorized by AAD token in data plane. Learn more: https://aka.ms/cosmos-native-rbac.`,
      );
    }
    const decision = this.options.authorize?.(claims, target.action, target) ?? { allowed: true };
    if (!decision.allowed) {
      this.options.log?.({
        event: 'cosmos-forbidden',
        identity: claims.xms_mirid,
        action: target.action,
      });
      const resource = target.database
        ? `/dbs/${target.database}${target.container ? `/colls/${target.container}` : ''}`
        : '/';
      return fail(
        403,
        5301,
        'Forbidden',
        `Request blocked by Auth local : Request is blocked because principal [${claims.oid}] does not have required RBAC permissions to perform action [${target.action}] on resource [${resource}]. Learn more: https://aka.ms/cosmos-native-rbac.`,
      );
    }
    this.forward(req, res, path === '/' && req.method === 'GET');
  }

  private forward(req: IncomingMessage, res: ServerResponse, isAccountRead: boolean): void {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: this.backendPort,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          host: `localhost:${this.backendPort}`,
          connection: 'keep-alive',
        },
      },
      (answer) => {
        const headers = { ...answer.headers };
        delete headers['content-location'];
        delete headers.connection;
        if (!isAccountRead) {
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
          return;
        }
        // Keep the SDK's endpoint discovery on this proxy, not on the internal server.
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const account = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<
            string,
            unknown
          >;
          const location = [{ name: 'Local', databaseAccountEndpoint: this.endpoint }];
          const text = JSON.stringify({
            ...account,
            writableLocations: location,
            readableLocations: location,
          });
          delete headers['content-length'];
          res.writeHead(answer.statusCode ?? 200, {
            ...headers,
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        });
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent)
        sendJson(res, 503, {
          code: 'ServiceUnavailable',
          message: 'The Cosmos DB emulator is unavailable.',
        });
      else res.destroy();
    });
    req.pipe(upstream);
  }

  private internal(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const text = body === undefined ? '' : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.backendPort,
          method,
          path,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          },
        },
        (res) => {
          let data = '';
          res.on('data', (chunk: Buffer) => (data += chunk.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }),
          );
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }
}
