import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthorizationDecision } from '../authorization/decision.js';
import { LoopbackHttpsServer } from '../http/https-server.js';
import { dataPlaneHandler, PlaneRefusal, type DataPlane } from '../http/data-plane-pipeline.js';
import { formatRequestTarget } from '../http/request-path.js';
import { v1Issuer } from '../sts/access-token-claims.js';
import {
  AccessTokenError,
  verifyAccessToken,
  type AccessTokenClaims,
  type JwksSource,
} from '../tokens/access-token.js';
import { AZURITE_ACCOUNT, startAzuriteBlob, type AzuriteBlobServer } from './azurite.js';
import { blobRequestTarget, type BlobRequestTarget } from './blob-request.js';
import { sendStorageError } from './blob-errors.js';

export const STORAGE_RESOURCE = 'https://storage.azure.com';

type AllowedBlobTarget = Extract<BlobRequestTarget, { ok: true }>;

export interface BlobEmulatorOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  /** The CA that signed tls.cert: the proxy trusts Azurite's certificate through it. */
  caCertPem: string;
  authorityHost: string;
  tenantId: string;
  jwks: JwksSource;
  /** Required: a plane with no decision refuses (there is no default allow). */
  authorize: (
    claims: AccessTokenClaims,
    action: string,
    scope: { container?: string; blob?: string },
  ) => AuthorizationDecision;
  /** Keep blobs under stateDir/blob across restarts; in memory when omitted. */
  stateDir?: string;
  log?: (event: Record<string, unknown>) => void;
}

/**
 * Blob Storage: Azurite (in this process, on an internal loopback port) behind an authorization
 * proxy that does what Azure Storage does and Azurite does not: verify the token's signature and
 * check the caller's role assignments for the exact permission. Bodies stream through.
 */
export class BlobEmulator {
  private readonly proxy: LoopbackHttpsServer;
  private azurite?: AzuriteBlobServer;
  /** Azurite listens on a Unix socket in a directory only this user can enter: no TCP port. */
  private azuriteSocket = '';
  private tlsDir?: string;
  private port = 0;

  constructor(private readonly options: BlobEmulatorOptions) {
    this.proxy = new LoopbackHttpsServer(
      options.tls,
      dataPlaneHandler(this.plane()),
      (res, failure) =>
        failure === 'bad-request'
          ? sendStorageError(res, 400, 'InvalidInput', 'One of the request inputs is not valid.')
          : sendStorageError(
              res,
              500,
              'InternalError',
              'The server encountered an internal error. Please retry the request.',
            ),
      options.log,
    );
  }

  async start(): Promise<{ port: number }> {
    // mkdtemp makes the directory 0700: the key and Azurite's socket are this user's only.
    this.tlsDir = await mkdtemp(join(tmpdir(), 'azurite-'));
    this.azuriteSocket = join(this.tlsDir, 'blob.sock');
    const certPath = join(this.tlsDir, 'cert.pem');
    const keyPath = join(this.tlsDir, 'key.pem');
    await writeFile(certPath, this.options.tls.cert);
    await writeFile(keyPath, this.options.tls.key, { mode: 0o600 });
    this.azurite = await startAzuriteBlob({
      socketPath: this.azuriteSocket,
      tls: { ...this.options.tls, certPath, keyPath },
      persistDir: this.options.stateDir ? join(this.options.stateDir, 'blob') : undefined,
    });
    this.port = await this.proxy.listen(this.options.port, this.options.host);
    return { port: this.port };
  }

  async stop(): Promise<void> {
    await this.proxy.close();
    await this.azurite?.close();
    if (this.tlsDir) await rm(this.tlsDir, { recursive: true, force: true });
  }

  /**
   * Path-style, on the loopback address: every SDK reads the account from the path when the
   * host is an IP address (.NET's BlobUriBuilder does so for a host name only on Azurite's
   * default ports, and would take `localhost` as the account's DNS name).
   */
  get endpoint(): string {
    return `https://127.0.0.1:${this.port}/${AZURITE_ACCOUNT}`;
  }

  /** Seeding (Bicep creates the container in Azure): straight to Azurite, as the platform would. */
  async ensureContainer(name: string): Promise<void> {
    const status = await this.internal('PUT', `/${AZURITE_ACCOUNT}/${name}?restype=container`);
    if (status !== 201 && status !== 409)
      throw new Error(`Could not create container ${name}: HTTP ${status}`);
  }

  /** For tests and reports: the committed blobs of a container. */
  async listBlobNames(container: string): Promise<string[]> {
    const body = await this.internalText(
      'GET',
      `/${AZURITE_ACCOUNT}/${container}?restype=container&comp=list`,
    );
    return [...body.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]!);
  }

  /** The Blob plane's steps; the proxy has no other way to reach Azurite. */
  private plane(): DataPlane<AccessTokenClaims, AllowedBlobTarget> {
    const head = (req: IncomingMessage) => req.method === 'HEAD';
    return {
      authenticate: (req) => this.authenticate(req, head(req)),
      malformed: (message) =>
        new PlaneRefusal((res) =>
          sendStorageError(
            res,
            400,
            'InvalidUri',
            `The requested URI does not represent any resource on the server. ${message}`,
          ),
        ),
      map: (req, parsed) => {
        const target = blobRequestTarget(req.method ?? 'GET', parsed, req.headers, AZURITE_ACCOUNT);
        if (!target.ok) {
          throw new PlaneRefusal((res) =>
            sendStorageError(res, target.status, target.code, target.message, { head: head(req) }),
          );
        }
        return target;
      },
      authorize: (claims, target) => {
        if (!this.options.authorize)
          return { allowed: false, message: 'No authorization is configured.' };
        return this.options.authorize(claims, target.action, target);
      },
      forbidden: (claims, target, reason) => {
        this.options.log?.({
          event: 'blob-forbidden',
          identity: claims.xms_mirid,
          action: target.action,
          container: target.container,
        });
        return new PlaneRefusal((res) =>
          sendStorageError(
            res,
            403,
            'AuthorizationPermissionMismatch',
            `This request is not authorized to perform this operation using this permission. ${reason}`,
          ),
        );
      },
      serve: (req, res, _claims, target) => this.forward(req, res, target),
    };
  }

  private async authenticate(req: IncomingMessage, head: boolean): Promise<AccessTokenClaims> {
    const challenge = {
      'www-authenticate': `Bearer authorization_uri=${this.options.authorityHost}/${this.options.tenantId}/oauth2/authorize resource_id=${STORAGE_RESOURCE}`,
    };
    try {
      return await verifyAccessToken(
        req.headers.authorization,
        this.options.jwks,
        [STORAGE_RESOURCE],
        {
          issuers: [v1Issuer(this.options.tenantId)],
          tenantId: this.options.tenantId,
        },
      );
    } catch (error) {
      const problem = error instanceof AccessTokenError ? error.problem : 'malformed';
      if (problem === 'missing') {
        throw new PlaneRefusal((res) =>
          sendStorageError(
            res,
            401,
            'NoAuthenticationInformation',
            'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
            { headers: challenge, head },
          ),
        );
      }
      const detail = {
        'wrong-audience': 'Audience validation failed. Audience did not match.',
        'wrong-issuer': 'Issuer validation failed. Issuer did not match.',
        'wrong-tenant': 'Issuer validation failed. Issuer did not match.',
        expired: 'Lifetime validation failed. The token is expired.',
        'not-yet-valid': 'Lifetime validation failed. The token is not yet valid.',
        'bad-signature': 'Signature validation failed. Signature is invalid.',
        malformed: 'Signature validation failed. Token is malformed.',
      }[problem];
      this.options.log?.({ event: 'blob-unauthorized', problem });
      throw new PlaneRefusal((res) =>
        sendStorageError(
          res,
          401,
          'InvalidAuthenticationInfo',
          'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
          { detail, headers: challenge, head },
        ),
      );
    }
  }

  /** Forwards the request target rebuilt from what was authorized, never the raw one. */
  private forward(req: IncomingMessage, res: ServerResponse, target: AllowedBlobTarget): void {
    const upstream = request(
      {
        socketPath: this.azuriteSocket,
        servername: 'localhost',
        method: req.method,
        path: formatRequestTarget(target.segments, target.query),
        headers: { ...req.headers, host: 'localhost' },
        ca: this.options.caCertPem,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent)
        sendStorageError(res, 503, 'ServerBusy', 'The blob service is unavailable.');
      else res.destroy();
    });
    req.on('aborted', () => upstream.destroy());
    req.pipe(upstream);
  }

  /** A request straight to Azurite with a token Azurite's basic OAuth check accepts (signature unchecked there). */
  private internal(method: string, path: string): Promise<number> {
    return this.internalRequest(method, path).then((r) => r.status);
  }

  private internalText(method: string, path: string): Promise<string> {
    return this.internalRequest(method, path).then((r) => r.body);
  }

  private internalRequest(method: string, path: string): Promise<{ status: number; body: string }> {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    // Unsigned: this never leaves the process; the proxy would reject it.
    const platformToken = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: `https://sts.windows.net/${this.options.tenantId}/`, aud: STORAGE_RESOURCE, iat: now, nbf: now, exp: now + 300 })}.`;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          socketPath: this.azuriteSocket,
          method,
          path,
          ca: this.options.caCertPem,
          headers: {
            authorization: `Bearer ${platformToken}`,
            'x-ms-version': '2025-11-05',
            'content-length': 0,
          },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}
