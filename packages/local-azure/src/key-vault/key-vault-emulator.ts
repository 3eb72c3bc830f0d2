import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AuthorizationDecision } from '../authorization/decision.js';
import { dataPlaneHandler, PlaneRefusal, type DataPlane } from '../http/data-plane-pipeline.js';
import { LoopbackHttpsServer, readBody, sendJson } from '../http/https-server.js';
import { v1Issuer } from '../sts/access-token-claims.js';
import { keyVaultRequestTarget, type VaultTarget } from './key-vault-request.js';
import {
  AccessTokenError,
  verifyAccessToken,
  type AccessTokenClaims,
  type JwksSource,
} from '../tokens/access-token.js';
import { SecretStore, type SecretVersion } from './secret-store.js';

/**
 * The resource (token audience) of the local vault. The Key Vault SDK only sends a token to a
 * vault whose host ends with `.<resource host>` (vault.azure.net in Azure), hence the vault URL
 * https://<name>.vault.localhost:<port>.
 */
export const LOCAL_VAULT_RESOURCE = 'https://vault.localhost';

export type { KeyVaultDataAction } from './key-vault-request.js';
import type { KeyVaultDataAction } from './key-vault-request.js';

export interface KeyVaultEmulatorOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  vaultName: string;
  authorityHost: string;
  tenantId: string;
  jwks: JwksSource;
  /** Required: a plane with no decision refuses (there is no default allow). */
  authorize: (
    claims: AccessTokenClaims,
    action: KeyVaultDataAction,
    /** undefined for vault-wide operations (listing secrets). */
    secretName: string | undefined,
  ) => AuthorizationDecision;
  /** Persist secrets under stateDir/key-vault/secrets.json; in memory when omitted. */
  stateDir?: string;
  log?: (event: Record<string, unknown>) => void;
}

/** The Key Vault secrets data plane (RBAC authorization model), enough for @azure/keyvault-secrets. */
export class KeyVaultEmulator {
  private readonly server: LoopbackHttpsServer;
  private readonly store: SecretStore;
  private port = 0;

  constructor(private readonly options: KeyVaultEmulatorOptions) {
    this.server = new LoopbackHttpsServer(
      options.tls,
      dataPlaneHandler(this.plane()),
      (res, failure) =>
        failure === 'bad-request'
          ? this.error(res, 400, 'BadParameter', 'The request is malformed.')
          : this.error(
              res,
              500,
              'InternalServerError',
              'The service encountered an internal error.',
            ),
      options.log,
    );
    this.store = new SecretStore(
      options.stateDir ? join(options.stateDir, 'key-vault', 'secrets.json') : undefined,
    );
  }

  async start(): Promise<{ port: number }> {
    await this.store.load();
    this.port = await this.server.listen(this.options.port, this.options.host);
    return { port: this.port };
  }

  stop(): Promise<void> {
    return this.server.close();
  }

  /** An outage: connections cut, port silent; the data stays until resume(). */
  suspend(): Promise<void> {
    return this.server.suspend();
  }

  resume(): Promise<void> {
    return this.server.resume();
  }

  get vaultUrl(): string {
    return `https://${this.options.vaultName}.vault.localhost:${this.port}`;
  }

  /** Seeding and rotation from the local cloud or a test (in Azure: Bicep or `az keyvault secret set`). */
  async setSecret(name: string, value: string): Promise<{ version: string }> {
    const { version } = await this.store.set(name, value);
    return { version };
  }

  /** Creates the secret only when it does not exist yet, so restarts keep the keys. */
  async ensureSecret(name: string, generate: () => string): Promise<{ version: string }> {
    const existing = this.store.latest(name);
    return existing ? { version: existing.version } : this.setSecret(name, generate());
  }

  /** The Key Vault plane's steps: every operation is mapped to its data action, or refused. */
  private plane(): DataPlane<AccessTokenClaims, VaultTarget> {
    return {
      authenticate: (req) => this.authenticate(req),
      malformed: (message) =>
        new PlaneRefusal((res) =>
          this.error(res, 400, 'BadParameter', `The request URI is not valid. ${message}`),
        ),
      map: (req, parsed) => {
        const target = keyVaultRequestTarget(req.method ?? 'GET', parsed.segments);
        if ('status' in target) {
          throw new PlaneRefusal((res) =>
            this.error(res, target.status, target.code, target.message),
          );
        }
        return target;
      },
      authorize: (claims, target) =>
        this.options.authorize
          ? this.options.authorize(claims, target.action, target.secret)
          : { allowed: false, message: 'No authorization is configured.' },
      forbidden: (claims, target, reason) =>
        new PlaneRefusal((res) =>
          this.forbidden(res, claims, target.action, target.secret, reason),
        ),
      serve: (req, res, _claims, target) => this.serve(req, res, target),
    };
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    target: VaultTarget,
  ): Promise<void> {
    const { operation, secret: name, version } = target;
    if (operation === 'list') {
      return sendJson(res, 200, {
        value: this.store.names().map((secret) => {
          const latest = this.store.latest(secret)!;
          const { value: _value, id: _id, ...item } = this.bundle(secret, latest);
          return { id: `${this.vaultUrl}/secrets/${encodeURIComponent(secret)}`, ...item };
        }),
        nextLink: null,
      });
    }
    if (operation === 'set') {
      let body: { value?: unknown; contentType?: unknown };
      try {
        body = JSON.parse((await readBody(req, 64 * 1024)) || '{}') as typeof body;
      } catch {
        return this.error(res, 400, 'BadParameter', 'The request body is not valid JSON.');
      }
      if (typeof body !== 'object' || body === null || typeof body.value !== 'string')
        return this.error(res, 400, 'BadParameter', 'Secret value is required.');
      const contentType = typeof body.contentType === 'string' ? body.contentType : undefined;
      const created = await this.store.set(name!, body.value, contentType);
      return sendJson(res, 200, this.bundle(name!, created));
    }
    if (operation === 'versions') {
      return sendJson(res, 200, {
        value: this.store.versions(name!).map((v) => {
          const { value: _secret, ...item } = this.bundle(name!, v);
          return item;
        }),
        nextLink: null,
      });
    }
    const secret = version ? this.store.version(name!, version) : this.store.latest(name!);
    if (!secret) {
      return this.error(
        res,
        404,
        'SecretNotFound',
        `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    return sendJson(res, 200, this.bundle(name!, secret));
  }

  /** Verifies the bearer token; throws the challenge or Key Vault's 401 when it fails. */
  private async authenticate(req: IncomingMessage): Promise<AccessTokenClaims> {
    const challenge = {
      'www-authenticate': `Bearer authorization="${this.options.authorityHost}/${this.options.tenantId}", resource="${LOCAL_VAULT_RESOURCE}"`,
    };
    try {
      return await verifyAccessToken(
        req.headers.authorization,
        this.options.jwks,
        [LOCAL_VAULT_RESOURCE],
        {
          issuers: [v1Issuer(this.options.tenantId)],
          tenantId: this.options.tenantId,
        },
      );
    } catch (error) {
      const problem = error instanceof AccessTokenError ? error.problem : 'malformed';
      const message = {
        missing: 'AKV10000: Request is missing a Bearer or PoP token.',
        'wrong-audience': `AKV10022: Invalid audience. Expected ${LOCAL_VAULT_RESOURCE}, found: ${(error as Error).message}`,
        'wrong-issuer': `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${this.options.tenantId}/.`,
        'wrong-tenant': `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${this.options.tenantId}/.`,
        expired: "[TokenExpired] Error validating token: 'S2S12086'.",
        'not-yet-valid': "[TokenNotYetValid] Error validating token: 'S2S12086'.",
        'bad-signature': 'AKV10046: Unable to resolve the key used for signature validation.',
        malformed: 'AKV10001: Invalid token format.',
      }[problem];
      this.options.log?.({ event: 'key-vault-unauthorized', problem });
      throw new PlaneRefusal((res) =>
        sendJson(res, 401, { error: { code: 'Unauthorized', message } }, challenge),
      );
    }
  }

  private forbidden(
    res: ServerResponse,
    claims: AccessTokenClaims,
    action: string,
    secret: string | undefined,
    reason: string,
  ) {
    this.options.log?.({
      event: 'key-vault-forbidden',
      identity: claims.xms_mirid,
      action,
      secret,
    });
    sendJson(res, 403, {
      error: {
        code: 'Forbidden',
        message:
          `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n` +
          `Caller: appid=${claims.appid};oid=${claims.oid};iss=${claims.iss}\r\nAction: '${action}'\r\n` +
          `Resource: '/providers/microsoft.keyvault/vaults/${this.options.vaultName}${secret === undefined ? '' : `/secrets/${secret}`}'\r\n` +
          `Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: ${this.options.vaultName};location=local\r\n(${reason})`,
        innererror: { code: 'ForbiddenByRbac' },
      },
    });
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    sendJson(res, status, { error: { code, message } });
  }

  private bundle(name: string, secret: SecretVersion) {
    return {
      value: secret.value,
      id: `${this.vaultUrl}/secrets/${encodeURIComponent(name)}/${secret.version}`,
      ...(secret.contentType ? { contentType: secret.contentType } : {}),
      attributes: {
        enabled: true,
        created: secret.created,
        updated: secret.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      tags: {},
    };
  }
}
