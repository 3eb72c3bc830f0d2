import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackHttpsServer, readBody, sendJson } from '../http/https-server.js';
import {
  CLUSTER_ISSUER_REFERENCE,
  deploySubject,
  GITHUB_ACTIONS_ISSUER,
  grantedAppRoles,
  localClientId,
  type DeployIdentity,
  type IdentitiesFile,
  type ServiceIdentity,
} from '../identities/index.js';
import { apiClaims, dataPlaneClaims } from './access-token-claims.js';
import { fetchIssuerKeys } from './issuer-keys.js';
import { TokenResources } from './token-resources.js';
import {
  decodeJwt,
  generateSigningKey,
  signJwt,
  toJwk,
  verifyJwtSignature,
  JwtError,
  type Jwk,
  type JwtClaims,
} from '../tokens/jwt.js';
import { entraErrorBody, entraErrors, type EntraError } from './entra-errors.js';
import {
  ServiceAccountTokenWriter,
  type ServiceAccountTokenOverrides,
} from './service-account-tokens.js';

export interface LocalStsOptions {
  host?: string;
  port: number;
  tls: { cert: string; key: string };
  tenantId: string;
  identities: IdentitiesFile;
  stateDir: string;
  serviceAccountTokenLifetimeSeconds?: number;
  accessTokenLifetimeSeconds?: number;
  /** Resource URIs (token audiences) of the tenant's data planes; more with addResource(). */
  resources?: readonly string[];
  /**
   * The repository (`owner/name`) that `github-repository` stands for in the deploy identities'
   * federated credentials (infra/main.bicep's githubRepository); LOCAL_DEPLOY_REPOSITORY by default.
   */
  deployRepository?: string;
  log?: (event: Record<string, unknown>) => void;
}

/** One token exchange as the STS saw it: never the assertion or the token, only their claims. */
export interface TokenExchangeRecord {
  at: string;
  clientId: string;
  scope: string;
  assertionIssuer?: string;
  assertionSubject?: string;
  assertionAudience?: string;
  /** When the service account token used as the assertion was issued and expires (ISO). */
  assertionIssuedAt?: string;
  assertionExpiresAt?: string;
  outcome: 'success' | 'failure';
  error?: string;
}

interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The repository a deploy identity's `github-repository` stands for in the local cloud. */
export const LOCAL_DEPLOY_REPOSITORY = 'local/repository';

/** Why a deploy identity's matching assertion stops at AADSTS50166 in the local cloud. */
const GITHUB_UNREACHABLE = `the local cloud does not reach ${GITHUB_ACTIONS_ISSUER}`;

/**
 * A client of the local tenant with one federated credential: a workload's managed identity, or a
 * deploy identity that a GitHub Actions workflow signs in as (azure/login with OIDC).
 */
type FederatedClient =
  | { kind: 'workload'; identity: ServiceIdentity; fic: FederatedCredentialMatch }
  | { kind: 'deploy'; identity: DeployIdentity; fic: FederatedCredentialMatch };

/** What Entra compares an assertion with: the credential's issuer, subject and audiences. */
interface FederatedCredentialMatch {
  issuer: string;
  subject: string;
  audiences: readonly string[];
}

/**
 * The two identity services of workload identity in one HTTPS server: the cluster's OIDC issuer
 * (discovery + JWKS, and the kubelet's token files) and Entra's token endpoint, which accepts a
 * service account token as client assertion when a federated credential of the identity matches
 * its issuer, subject and audience exactly, and answers mismatches with Entra's codes. The
 * declaration's deploy identities are clients too, matched the same way against their GitHub
 * Actions credential (a pull request's subject gets AADSTS700213); a matching one stops at
 * AADSTS50166, since GitHub's issuer is out of reach here.
 */
export class LocalSts {
  private readonly issuerKey = generateSigningKey();
  private readonly accessTokenKey = generateSigningKey();
  private readonly server: LoopbackHttpsServer;
  private readonly tokenWriter: ServiceAccountTokenWriter;
  private readonly records: TokenExchangeRecord[] = [];
  private readonly resources: TokenResources;
  private port = 0;

  constructor(private readonly options: LocalStsOptions) {
    this.resources = new TokenResources(options.identities, options.resources);
    this.server = new LoopbackHttpsServer(
      options.tls,
      (req, res) => this.handle(req, res),
      // Entra answers a request it cannot parse with its own error body, never a stack's text.
      (res, failure) =>
        this.fail(
          res,
          failure === 'bad-request' ? entraErrors.malformedRequest() : entraErrors.internal(),
        ),
      options.log,
    );
    this.tokenWriter = new ServiceAccountTokenWriter({
      stateDir: options.stateDir,
      issuerUrl: () => this.issuerUrl,
      signingKey: this.issuerKey,
      lifetimeSeconds: options.serviceAccountTokenLifetimeSeconds ?? 3600,
      log: options.log,
    });
  }

  async start(): Promise<{ port: number }> {
    this.port = await this.server.listen(this.options.port, this.options.host);
    await Promise.all(
      this.options.identities.identities.map((identity) => this.tokenWriter.write(identity)),
    );
    return { port: this.port };
  }

  async stop(): Promise<void> {
    this.tokenWriter.stop();
    await this.server.close();
  }

  get tenantId(): string {
    return this.options.tenantId;
  }

  get authorityHost(): string {
    return `https://localhost:${this.port}`;
  }

  /** Like an AKS issuer URL, it ends with a slash; federated credentials must match it exactly. */
  get issuerUrl(): string {
    return `https://localhost:${this.port}/oidc/`;
  }

  /** The tenant's v2.0 issuer: what its v2.0 discovery document names, and v2 tokens carry. */
  get v2Issuer(): string {
    return `${this.authorityHost}/${this.options.tenantId}/v2.0`;
  }

  /** Makes a resource principal exist in the local tenant, so tokens can be issued for it. */
  addResource(audience: string): void {
    this.resources.add(audience);
  }

  tokenFilePath(service: string): string {
    return this.tokenWriter.tokenFilePath(service);
  }

  clientId(service: string): string {
    return localClientId(this.identity(service));
  }

  /** The local client id of a deploy identity (by its declared `name`). */
  deployClientId(name: string): string {
    const identity = (this.options.identities.deployIdentities ?? []).find((i) => i.name === name);
    if (!identity) throw new Error(`No deploy identity '${name}' in the identities file.`);
    return localClientId(identity);
  }

  /** The `sub` a deploy identity's federated credential trusts here (its environment's). */
  deploySubject(name: string): string {
    const identity = (this.options.identities.deployIdentities ?? []).find((i) => i.name === name);
    if (!identity) throw new Error(`No deploy identity '${name}' in the identities file.`);
    return deploySubject(identity, this.deployRepository);
  }

  private get deployRepository(): string {
    return this.options.deployRepository ?? LOCAL_DEPLOY_REPOSITORY;
  }

  /**
   * The client whose local client id this is. Deploy identities are clients too (they sign in from
   * GitHub Actions), but get no token file: they are not workloads.
   */
  private federatedClient(clientId: string): FederatedClient | undefined {
    const identity = this.options.identities.identities.find((i) => localClientId(i) === clientId);
    if (identity) {
      const fic = identity.federatedCredential;
      return {
        kind: 'workload',
        identity,
        fic: {
          issuer: fic.issuer === CLUSTER_ISSUER_REFERENCE ? this.issuerUrl : fic.issuer,
          subject: fic.subject,
          audiences: fic.audiences,
        },
      };
    }
    const deploy = (this.options.identities.deployIdentities ?? []).find(
      (i) => localClientId(i) === clientId,
    );
    if (!deploy) return undefined;
    return {
      kind: 'deploy',
      identity: deploy,
      fic: {
        issuer: deploy.federatedCredential.issuer,
        subject: deploySubject(deploy, this.deployRepository),
        audiences: deploy.federatedCredential.audiences,
      },
    };
  }

  /** The keys access tokens are signed with, for the data planes to verify them. */
  jwks(): Jwk[] {
    return [toJwk(this.accessTokenKey)];
  }

  exchanges(): readonly TokenExchangeRecord[] {
    return this.records;
  }

  writeServiceAccountToken(
    service: string,
    overrides?: ServiceAccountTokenOverrides,
  ): Promise<void> {
    return this.tokenWriter.write(this.identity(service), overrides);
  }

  private identity(service: string): ServiceIdentity {
    const identity = this.options.identities.identities.find((i) => i.service === service);
    if (!identity) throw new Error(`No identity for service '${service}' in the identities file.`);
    return identity;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only origin-form targets: `//host/...` would parse as another authority.
    const target = req.url ?? '/';
    if (
      !target.startsWith('/') ||
      target.startsWith('//') ||
      !URL.canParse(target, this.authorityHost)
    ) {
      return this.fail(res, entraErrors.malformedRequest());
    }
    const url = new URL(target, this.authorityHost);
    const path = url.pathname;
    if (req.method === 'GET' && path === '/oidc/.well-known/openid-configuration') {
      return sendJson(res, 200, {
        issuer: this.issuerUrl,
        jwks_uri: `${this.issuerUrl}openid/v1/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.method === 'GET' && path === '/oidc/openid/v1/jwks') {
      return sendJson(res, 200, { keys: [toJwk(this.issuerKey)] });
    }
    const match =
      /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/token)$/.exec(
        path,
      );
    if (!match) return sendJson(res, 404, { error: 'not_found' });
    const [, tenant, endpoint] = match as unknown as [string, string, string];
    if (tenant !== this.options.tenantId) return this.fail(res, entraErrors.unknownTenant(tenant));
    const base = `${this.authorityHost}/${tenant}`;
    if (req.method === 'GET' && endpoint.startsWith('v2.0')) {
      return sendJson(res, 200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: this.v2Issuer,
        request_uri_parameter_supported: false,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        tenant_region_scope: null,
        cloud_instance_name: 'localhost',
      });
    }
    if (req.method === 'GET' && endpoint.startsWith('discovery')) {
      return sendJson(res, 200, { keys: this.jwks() });
    }
    if (req.method === 'POST') return this.token(req, res);
    return sendJson(res, 405, { error: 'method_not_allowed' });
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A token request is a few kilobytes; Entra refuses far larger bodies.
    const form = new URLSearchParams(await readBody(req, 64 * 1024));
    const clientId = form.get('client_id') ?? '';
    const scope = form.get('scope') ?? '';
    const record: TokenExchangeRecord = {
      at: new Date().toISOString(),
      clientId,
      scope,
      outcome: 'failure',
    };
    this.records.push(record);
    const result = await this.exchange(form, record);
    if ('status' in result) {
      record.error = `AADSTS${result.code}`;
      this.options.log?.({
        event: 'token-exchange',
        at: record.at,
        outcome: 'failure',
        clientId,
        scope,
        error: record.error,
        assertionExpiresAt: record.assertionExpiresAt,
      });
      return this.fail(res, result);
    }
    record.outcome = 'success';
    this.options.log?.({
      event: 'token-exchange',
      at: record.at,
      outcome: 'success',
      clientId,
      scope,
      subject: record.assertionSubject,
      assertionIssuedAt: record.assertionIssuedAt,
      assertionExpiresAt: record.assertionExpiresAt,
    });
    return sendJson(res, 200, result, { 'cache-control': 'no-store' });
  }

  private async exchange(
    form: URLSearchParams,
    record: TokenExchangeRecord,
  ): Promise<EntraError | TokenResponse> {
    // Workload identity is the only way in: client_credentials, authenticated by a federated
    // assertion. Other grants and client secrets are refused as Entra refuses them.
    const grantType = form.get('grant_type');
    if (!grantType) return entraErrors.invalidRequest('grant_type');
    if (grantType !== 'client_credentials') return entraErrors.unsupportedGrantType(grantType);
    for (const required of ['client_id', 'scope']) {
      if (!form.get(required)) return entraErrors.invalidRequest(required);
    }
    if (!form.get('client_assertion')) {
      return form.get('client_secret')
        ? entraErrors.invalidClientSecret(form.get('client_id')!)
        : entraErrors.missingClientCredential();
    }
    if (form.get('client_assertion_type') !== ASSERTION_TYPE)
      return entraErrors.invalidRequest('client_assertion_type');
    // Client credentials name exactly one resource, as `<resource>/.default`.
    const scopes = form.get('scope')!.split(' ').filter(Boolean);
    const scope = scopes.length === 1 ? scopes[0]! : '';
    if (!scope.endsWith('/.default')) return entraErrors.invalidScope(form.get('scope')!);

    // Entra's order: read the assertion, match it to a federated credential of the client by
    // issuer, subject and audience, then fetch that issuer's keys and verify the signature.
    const assertion = form.get('client_assertion')!;
    let claims: JwtClaims;
    try {
      claims = decodeJwt(assertion).claims;
    } catch {
      return entraErrors.malformedAssertion();
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [String(claims.aud)];
    record.assertionIssuer = String(claims.iss);
    record.assertionSubject = String(claims.sub);
    record.assertionAudience = audiences.join(' ');
    record.assertionIssuedAt = isoFromSeconds(claims.iat);
    record.assertionExpiresAt = isoFromSeconds(claims.exp);

    const now = new Date();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const exp = Number(claims.exp);
    const nbf = Number(claims.nbf ?? claims.iat ?? 0);
    // A not-yet-valid assertion (nbf ahead by more than the skew Entra allows) gets the same
    // code as an expired one: "not within its valid time range".
    if (!(exp > nowSeconds) || !(nbf <= nowSeconds + 300))
      return entraErrors.assertionExpired(now, nbf, exp);

    const client = this.federatedClient(form.get('client_id')!);
    if (!client) return entraErrors.unknownClient(form.get('client_id')!, this.options.tenantId);

    // Exact, case-sensitive comparison of each field, in Entra's order: issuer, subject, audience.
    // A deploy identity is matched the same way, so a pull request's token
    // (repo:<owner>/<name>:pull_request) against its environment subject gets AADSTS700213 here,
    // before any issuer is contacted.
    const { fic } = client;
    const ficIssuer = fic.issuer;
    if (claims.iss !== ficIssuer) return entraErrors.issuerMismatch(String(claims.iss));
    if (claims.sub !== fic.subject) {
      // Since 2025 Entra names the case-only difference with its own code.
      return String(claims.sub).toLowerCase() === fic.subject.toLowerCase()
        ? entraErrors.subjectCaseMismatch(String(claims.sub))
        : entraErrors.subjectMismatch(String(claims.sub));
    }
    if (!audiences.some((aud) => fic.audiences.includes(aud)))
      return entraErrors.audienceMismatch(audiences.join(','));

    // A matching GitHub Actions assertion cannot complete here: the local cloud does not reach
    // GitHub's discovery document (token.actions.githubusercontent.com), so it cannot verify the
    // signature, and no token is ever issued on an unverified one. It answers what Entra answers
    // when it cannot fetch an issuer's keys: AADSTS50166 (issuerUnreachable). Had it a token,
    // the deploy identity would still hold no data-plane role here (its roles are ARM roles on
    // the resource group).
    if (client.kind === 'deploy') {
      return entraErrors.issuerUnreachable(ficIssuer, GITHUB_UNREACHABLE);
    }
    const identity = client.identity;

    const issuerKeys =
      ficIssuer === this.issuerUrl
        ? { ok: true as const, keys: [toJwk(this.issuerKey)] }
        : await fetchIssuerKeys(ficIssuer);
    if (!issuerKeys.ok) return entraErrors.issuerUnreachable(ficIssuer, issuerKeys.reason);
    try {
      await verifyJwtSignature(assertion, issuerKeys.keys);
    } catch (error) {
      if (error instanceof JwtError && error.reason === 'unknown-key') {
        return entraErrors.signingKeyNotFound(String(decodeJwt(assertion).header.kid), ficIssuer);
      }
      return entraErrors.malformedAssertion();
    }

    const times = { nowSeconds, lifetimeSeconds: this.options.accessTokenLifetimeSeconds ?? 3600 };
    const tenantId = this.options.tenantId;
    const requested = this.resources.resolve(scope.slice(0, -'/.default'.length));
    let tokenClaims: JwtClaims;
    if (requested.kind === 'unknown') {
      return entraErrors.resourceNotFound(requested.resource, tenantId);
    } else if (requested.kind === 'api') {
      const roles = grantedAppRoles(
        this.options.identities,
        identity.service,
        requested.callee.service,
      );
      if (roles.length === 0) {
        return entraErrors.notAssignedToRole(localClientId(identity), requested.appId);
      }
      tokenClaims = apiClaims(identity, requested.appId, roles, this.v2Issuer, tenantId, times);
    } else {
      tokenClaims = dataPlaneClaims(identity, requested.audience, tenantId, times);
    }
    return {
      token_type: 'Bearer',
      expires_in: times.lifetimeSeconds,
      ext_expires_in: times.lifetimeSeconds,
      access_token: await signJwt(tokenClaims, this.accessTokenKey),
    };
  }

  private fail(res: ServerResponse, failure: EntraError): void {
    sendJson(res, failure.status, entraErrorBody(failure));
  }
}

function isoFromSeconds(value: unknown): string | undefined {
  const seconds = Number(value);
  return Number.isFinite(seconds) && value !== undefined
    ? new Date(seconds * 1000).toISOString()
    : undefined;
}
