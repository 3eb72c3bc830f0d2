import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';

/** Who called, as the verified token says: never the token itself. */
export interface VerifiedCaller {
  /** `azp`: the client id of the calling identity (the frontend's managed identity). */
  clientId: string;
  /** `oid`: the calling identity's service principal object id. */
  objectId?: string;
  /** `roles`: the app roles of this API assigned to the caller. */
  roles: string[];
}

/** The token is not one this API accepts: answered with 401 and a Bearer challenge. */
export class InvalidAccessToken extends Error {
  override name = 'InvalidAccessToken';
}

/** The authority's keys cannot be read right now: the request is refused (503), never let through. */
export class TokenVerificationUnavailable extends Error {
  override name = 'TokenVerificationUnavailable';
}

/** Finds the issuer's signing keys; the default reads the OpenID discovery document. */
export type SigningKeySource = (issuer: string) => Promise<JWTVerifyGetKey>;

export interface EntraTokenVerifierOptions {
  /** AZURE_AUTHORITY_HOST: https://login.microsoftonline.com/ on Azure. */
  authorityHost: string;
  tenantId: string;
  /** API_AUDIENCE: the app id of the API's registration, the `aud` of its v2 tokens. */
  audience: string;
  signingKeys?: SigningKeySource;
  now?: () => number;
}

/** Entra access tokens are a few KB; anything far longer is refused unread. */
const MAX_TOKEN_LENGTH = 16_384;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;
/** A failed discovery is not retried by every request: the next attempt waits this long. */
const DISCOVERY_RETRY_MS = 5_000;
/** Clock skew allowed between Entra and this pod. */
const CLOCK_TOLERANCE_S = 60;

/**
 * Reads `<issuer>/.well-known/openid-configuration`, checks that it names the same issuer, and
 * returns a JWKS from its jwks_uri that jose caches (10 min) and re-reads at most every 30 s when
 * a token names an unknown key id (a token signed with a random kid costs no call).
 */
export const discoverSigningKeys: SigningKeySource = async (issuer) => {
  const url = `${issuer}/.well-known/openid-configuration`;
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (document.issuer !== issuer)
    throw new Error(`${url} names issuer ${String(document.issuer)}, not ${issuer}`);
  if (typeof document.jwks_uri !== 'string' || !/^https?:\/\//.test(document.jwks_uri))
    throw new Error(`${url} has no jwks_uri`);
  return createRemoteJWKSet(new URL(document.jwks_uri), {
    timeoutDuration: 5_000,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
};

/**
 * Verifies Entra v2 access tokens for this API: RS256 signature by a key of the authority's JWKS,
 * `iss` = <authority>/<tenant>/v2.0, `aud` = the API's app id, `exp`/`nbf` (60 s skew), `tid` =
 * our tenant, `ver` 2.0. Malformed input is refused before any key lookup; discovery is shared by
 * all requests and a failure is retried only after a pause: nothing fails open.
 */
export class EntraTokenVerifier {
  readonly issuer: string;
  private keys?: Promise<JWTVerifyGetKey>;
  private discoveryFailedAt?: number;
  private readonly signingKeys: SigningKeySource;
  private readonly now: () => number;

  constructor(private readonly options: EntraTokenVerifierOptions) {
    this.issuer = `${options.authorityHost.replace(/\/+$/, '')}/${options.tenantId}/v2.0`;
    this.signingKeys = options.signingKeys ?? discoverSigningKeys;
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<VerifiedCaller> {
    if (token.length > MAX_TOKEN_LENGTH || !JWT_SHAPE.test(token))
      throw new InvalidAccessToken('not a JWT');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new InvalidAccessToken('unreadable header');
    }
    if (header.alg !== 'RS256' || typeof header.kid !== 'string')
      throw new InvalidAccessToken('not RS256 with a key id');

    const keys = await this.signingKeySet();
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.issuer,
        audience: this.options.audience,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'nbf'],
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      // jose's own errors are about the token (expired, wrong audience, bad signature, unknown
      // key); anything else (the JWKS unreachable, a timeout) is ours, and refuses too.
      if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError))
        throw new TokenVerificationUnavailable('signing keys unavailable', { cause: error });
      throw new InvalidAccessToken(error.code);
    }
    if (payload.tid !== this.options.tenantId) throw new InvalidAccessToken('tenant');
    if (payload.ver !== '2.0') throw new InvalidAccessToken('not a v2 token');
    if (typeof payload.azp !== 'string') throw new InvalidAccessToken('no azp');
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((role): role is string => typeof role === 'string')
      : [];
    return {
      clientId: payload.azp,
      objectId: typeof payload.oid === 'string' ? payload.oid : undefined,
      roles,
    };
  }

  private signingKeySet(): Promise<JWTVerifyGetKey> {
    if (!this.keys) {
      if (
        this.discoveryFailedAt !== undefined &&
        this.now() - this.discoveryFailedAt < DISCOVERY_RETRY_MS
      )
        return Promise.reject(new TokenVerificationUnavailable('discovery failed recently'));
      const keys = this.signingKeys(this.issuer).catch((error: unknown) => {
        this.keys = undefined;
        this.discoveryFailedAt = this.now();
        throw new TokenVerificationUnavailable('discovery failed', { cause: error });
      });
      this.keys = keys;
    }
    return this.keys;
  }
}
