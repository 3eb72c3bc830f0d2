import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AuthorizationDecision } from '../authorization/decision.js';
import { LoopbackHttpsServer, readBody, sendJson } from '../http/https-server.js';
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

export type KeyVaultDataAction =
  | 'Microsoft.KeyVault/vaults/secrets/getSecret/action'
  | 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
  | 'Microsoft.KeyVault/vaults/secrets/setSecret/action';

export interface KeyVaultEmulatorOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  vaultName: string;
  authorityHost: string;
  tenantId: string;
  jwks: JwksSource;
  authorize?: (
    claims: AccessTokenClaims,
    action: KeyVaultDataAction,
    secretName: string,
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
    this.server = new LoopbackHttpsServer(options.tls, (req, res) => this.handle(req, res));
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.vaultUrl);
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'secrets' || parts.length < 2 || parts.length > 3) {
      return this.error(
        res,
        400,
        'BadParameter',
        `The request URI ${url.pathname} is not supported.`,
      );
    }
    const name = decodeURIComponent(parts[1]!);
    const tail = parts[2] ? decodeURIComponent(parts[2]) : undefined;
    const action: KeyVaultDataAction =
      req.method === 'PUT'
        ? 'Microsoft.KeyVault/vaults/secrets/setSecret/action'
        : tail === 'versions'
          ? 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
          : 'Microsoft.KeyVault/vaults/secrets/getSecret/action';
    const claims = this.authenticate(req, res);
    if (!claims) return;
    const decision = this.options.authorize?.(claims, action, name) ?? { allowed: true };
    if (!decision.allowed) return this.forbidden(res, claims, action, name, decision.message);

    if (req.method === 'PUT' && !tail) {
      const body = JSON.parse((await readBody(req)) || '{}') as {
        value?: unknown;
        contentType?: string;
      };
      if (typeof body.value !== 'string')
        return this.error(res, 400, 'BadParameter', 'Secret value is required.');
      const created = await this.store.set(name, body.value, body.contentType);
      return sendJson(res, 200, this.bundle(name, created));
    }
    if (req.method !== 'GET')
      return this.error(res, 405, 'MethodNotAllowed', `${req.method} is not supported.`);
    if (tail === 'versions') {
      return sendJson(res, 200, {
        value: this.store.versions(name).map((v) => {
          const { value: _secret, ...item } = this.bundle(name, v);
          return item;
        }),
        nextLink: null,
      });
    }
    const secret = tail ? this.store.version(name, tail) : this.store.latest(name);
    if (!secret) {
      return this.error(
        res,
        404,
        'SecretNotFound',
        `A secret with (name/id) ${name}${tail ? `/${tail}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    return sendJson(res, 200, this.bundle(name, secret));
  }

  /** Verifies the bearer token; answers the challenge or Key Vault's 401 and returns undefined when it fails. */
  private authenticate(req: IncomingMessage, res: ServerResponse): AccessTokenClaims | undefined {
    const challenge = {
      'www-authenticate': `Bearer authorization="${this.options.authorityHost}/${this.options.tenantId}", resource="${LOCAL_VAULT_RESOURCE}"`,
    };
    try {
      return verifyAccessToken(req.headers.authorization, this.options.jwks, [
        LOCAL_VAULT_RESOURCE,
      ]);
    } catch (error) {
      const problem = error instanceof AccessTokenError ? error.problem : 'malformed';
      const message = {
        missing: 'AKV10000: Request is missing a Bearer or PoP token.',
        'wrong-audience': `AKV10022: Invalid audience. Expected ${LOCAL_VAULT_RESOURCE}, found: ${(error as Error).message}`,
        expired: "[TokenExpired] Error validating token: 'S2S12086'.",
        'not-yet-valid': "[TokenNotYetValid] Error validating token: 'S2S12086'.",
        'bad-signature': 'AKV10046: Unable to resolve the key used for signature validation.',
        malformed: 'AKV10001: Invalid token format.',
      }[problem];
      this.options.log?.({ event: 'key-vault-unauthorized', problem });
      sendJson(res, 401, { error: { code: 'Unauthorized', message } }, challenge);
      return undefined;
    }
  }

  private forbidden(
    res: ServerResponse,
    claims: AccessTokenClaims,
    action: string,
    secret: string,
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
          `Resource: '/providers/microsoft.keyvault/vaults/${this.options.vaultName}/secrets/${secret}'\r\n` +
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
