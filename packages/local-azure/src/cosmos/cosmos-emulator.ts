import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { AuthorizationDecision } from '../authorization/decision.js';
import { dataPlaneHandler, PlaneRefusal, type DataPlane } from '../http/data-plane-pipeline.js';
import { LoopbackHttpsServer, sendJson } from '../http/https-server.js';
import { formatRequestTarget } from '../http/request-path.js';
import { v1Issuer } from '../sts/access-token-claims.js';
import {
  AccessTokenError,
  verifyAccessToken,
  type AccessTokenClaims,
  type JwksSource,
} from '../tokens/access-token.js';
import { cosmosRequestTarget, type CosmosRequestTarget } from './cosmos-data-actions.js';
import { isQueryPlanRequest, sendQueryPlan } from './query-plan.js';
import { CosmosResourceNames } from './resource-names.js';

type AllowedCosmosTarget = CosmosRequestTarget & { segments: string[]; query: URLSearchParams };

/** Cosmos's error body: code and message with the activity id, substatus in a header. */
function cosmosRefusal(
  status: number,
  substatus: number,
  code: string,
  message: string,
): PlaneRefusal {
  const activityId = randomUUID();
  return new PlaneRefusal((res) =>
    sendJson(
      res,
      status,
      {
        code,
        message: `${message}\r\nActivityId: ${activityId}, Microsoft.Azure.Documents.Common/2.14.0`,
      },
      { 'x-ms-substatus': String(substatus), 'x-ms-activity-id': activityId },
    ),
  );
}

const require = createRequire(import.meta.url);

export const COSMOS_RESOURCE = 'https://cosmos.azure.com';
/** The account name the account read reports (Azure's is the account's name; there is one here). */
const ACCOUNT_NAME = 'local';

export interface CosmosEmulatorOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  jwks: JwksSource;
  tenantId: string;
  /** Required: a plane with no decision refuses (there is no default allow). */
  authorize: (
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
  private engine?: Server;
  private engineSocket = '';
  private readonly resourceNames = new CosmosResourceNames((path) => this.internal('GET', path));
  private socketDir?: string;
  private port = 0;

  constructor(private readonly options: CosmosEmulatorOptions) {
    this.proxy = new LoopbackHttpsServer(
      options.tls,
      dataPlaneHandler(this.plane()),
      (res, failure) =>
        (failure === 'bad-request'
          ? cosmosRefusal(400, 0, 'BadRequest', 'The request is malformed.')
          : cosmosRefusal(500, 0, 'InternalServerError', 'The request failed.')
        ).send(res),
      options.log,
    );
  }

  async start(): Promise<{ port: number }> {
    const { createHttpServer } = require('@vercel/cosmosdb-server') as {
      createHttpServer: (opts?: object) => Server;
    };
    const engine = createHttpServer({ keepAlive: true });
    // A Unix socket in a directory only this user can enter (mkdtemp makes it 0700): the
    // emulator has no TCP port, so only this proxy reaches it.
    this.socketDir = await mkdtemp(join(tmpdir(), 'cosmos-'));
    this.engineSocket = join(this.socketDir, 'cosmos.sock');
    // cosmosdb-server builds its account record from server.address(), which it expects to be
    // host and port; for a socket it is the path. The record's endpoints are this proxy's anyway
    // (the account read is rewritten below), so it is given the proxy's host.
    engine.address = () => ({ address: 'localhost', family: 'IPv4', port: this.port });
    engine.listen(this.engineSocket);
    await once(engine, 'listening');
    this.engine = engine;
    this.port = await this.proxy.listen(this.options.port, this.options.host);
    return { port: this.port };
  }

  async stop(): Promise<void> {
    await this.proxy.close();
    const engine = this.engine;
    if (engine) {
      engine.closeAllConnections();
      await new Promise<void>((resolve) => engine.close(() => resolve()));
    }
    if (this.socketDir) await rm(this.socketDir, { recursive: true, force: true });
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

  /** The Cosmos plane's steps: keys refused, AAD tokens verified, native RBAC decided. */
  private plane(): DataPlane<AccessTokenClaims, AllowedCosmosTarget> {
    return {
      authenticate: (req) => this.authenticate(req),
      malformed: (message) =>
        cosmosRefusal(400, 0, 'BadRequest', `The request URI is not valid. ${message}`),
      map: async (req, parsed) => {
        // RBAC scopes name databases and containers; the .NET SDK addresses them by resource id
        // (/dbs/<rid>/colls/<rid>/...). Both resolve to the same names before the decision.
        const named = await this.resourceNames.resolve(parsed.segments);
        if (!named) {
          throw cosmosRefusal(
            404,
            0,
            'NotFound',
            'Resource Not Found. Learn more: https://aka.ms/cosmosdb-tsg-not-found',
          );
        }
        const target = cosmosRequestTarget(req.method ?? 'GET', named, req.headers);
        if (target.controlPlane) {
          const path = formatRequestTarget(parsed.segments, new URLSearchParams());
          throw cosmosRefusal(
            403,
            5300,
            'Forbidden',
            `Request blocked by Auth local : The given request [${req.method} ${path}] cannot be authorized by AAD token in data plane. Learn more: https://aka.ms/cosmos-native-rbac.`,
          );
        }
        return { ...target, segments: parsed.segments, query: parsed.query };
      },
      authorize: (claims, target) =>
        this.options.authorize
          ? this.options.authorize(claims, target.action, target)
          : { allowed: false, message: 'No authorization is configured.' },
      forbidden: (claims, target) => {
        this.options.log?.({
          event: 'cosmos-forbidden',
          identity: claims.xms_mirid,
          action: target.action,
        });
        const resource = target.database
          ? `/dbs/${target.database}${target.container ? `/colls/${target.container}` : ''}`
          : '/';
        return cosmosRefusal(
          403,
          5301,
          'Forbidden',
          `Request blocked by Auth local : Request is blocked because principal [${claims.oid}] does not have required RBAC permissions to perform action [${target.action}] on resource [${resource}]. Learn more: https://aka.ms/cosmos-native-rbac.`,
        );
      },
      serve: (req, res, _claims, target) =>
        isQueryPlanRequest(req.headers)
          ? sendQueryPlan(req, res)
          : this.forward(
              req,
              res,
              formatRequestTarget(target.segments, target.query),
              target.segments.length === 0 && req.method === 'GET',
            ),
    };
  }

  private async authenticate(req: IncomingMessage): Promise<AccessTokenClaims> {
    // The header is `type=aad&ver=1.0&sig=<token>`, percent-encoded as a whole; a malformed
    // encoding is a malformed token, answered like one.
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(decodeURIComponent(String(req.headers.authorization ?? '')));
    } catch {
      params = new URLSearchParams('type=aad&sig=malformed');
    }
    if (params.get('type') === 'master' || params.get('type') === 'resource') {
      throw cosmosRefusal(
        401,
        5202,
        'Unauthorized',
        'Local Authorization is disabled. Use an AAD token to authorize all requests.',
      );
    }
    const origin = this.endpoint.replace(/\/$/, '');
    try {
      if (params.get('type') !== 'aad') throw new AccessTokenError('missing', 'no AAD token');
      return await verifyAccessToken(
        `Bearer ${params.get('sig') ?? ''}`,
        this.options.jwks,
        [origin, COSMOS_RESOURCE],
        {
          issuers: [v1Issuer(this.options.tenantId)],
          tenantId: this.options.tenantId,
        },
      );
    } catch (error) {
      const problem = error instanceof AccessTokenError ? error.problem : 'malformed';
      this.options.log?.({ event: 'cosmos-unauthorized', problem });
      const message = {
        missing:
          'Required Header authorization is missing. Ensure a valid Authorization token is passed.',
        'wrong-audience': `Provided AAD token is intended for another audience. This database account accepts tokens intended for [${origin}, ${COSMOS_RESOURCE}].`,
        'wrong-issuer': 'The AAD token issuer is not valid for this database account.',
        'wrong-tenant': 'The AAD token is from a tenant this database account does not trust.',
        expired: 'The authorization token expired.',
        'not-yet-valid': 'The authorization token is not yet valid.',
        'bad-signature':
          'The input authorization token could not be validated: signature verification failed.',
        malformed: 'The input authorization token could not be parsed.',
      }[problem];
      throw cosmosRefusal(401, problem === 'wrong-audience' ? 5008 : 0, 'Unauthorized', message);
    }
  }

  /** Forwards the request target rebuilt from what was authorized, never the raw one. */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    isAccountRead: boolean,
  ): void {
    const upstream = request(
      {
        socketPath: this.engineSocket,
        method: req.method,
        path,
        headers: {
          ...req.headers,
          host: 'localhost',
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
          // An account's id is its name, as in Azure. cosmosdb-server names it 'localhost', and
          // the SDK ignores the locations of an account so named (the Windows emulator's id):
          // its location cache then stays empty and it read the account again before every
          // request, two extra round trips per document.
          const text = JSON.stringify({
            ...account,
            id: ACCOUNT_NAME,
            _rid: `${ACCOUNT_NAME}.documents.azure.com`,
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
          socketPath: this.engineSocket,
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
