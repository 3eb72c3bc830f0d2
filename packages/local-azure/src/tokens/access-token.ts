import { verifyJwtSignature, JwtError, type Jwk, type JwtClaims } from './jwt.js';

/** The claims of an access token minted by the local Entra token endpoint (a subset of Entra's v1 token). */
export interface AccessTokenClaims extends JwtClaims {
  iss: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  tid: string;
  oid: string;
  appid: string;
  sub: string;
  /** The identity's name from infra/identities.json, for messages a person reads. */
  xms_mirid?: string;
}

export type AccessTokenProblem =
  | 'missing'
  | 'malformed'
  | 'bad-signature'
  | 'wrong-audience'
  | 'wrong-issuer'
  | 'wrong-tenant'
  | 'expired'
  | 'not-yet-valid';

/** Who may have issued a token a plane accepts: the tenant's issuer(s), and the tenant itself. */
export interface TokenIssuerPolicy {
  issuers: readonly string[];
  tenantId: string;
}

export class AccessTokenError extends Error {
  constructor(
    readonly problem: AccessTokenProblem,
    message: string,
  ) {
    super(message);
    this.name = 'AccessTokenError';
  }
}

/** Where a data-plane emulator gets the STS's current public keys (rotated keys stay listed while valid). */
export type JwksSource = () => readonly Jwk[];

/** Entra's and the data planes' tolerance for clock skew, on exp and nbf alike. */
export const CLOCK_SKEW_SECONDS = 300;

/**
 * Verifies a bearer token the way Azure data planes do: signature by the tenant's keys (and no
 * critical header extension it does not understand, RFC 7515 §4.1.11), issued by the tenant's
 * issuer for this tenant, audience of this resource, not expired, not before nbf (with five
 * minutes of skew, as Entra allows).
 */
export async function verifyAccessToken(
  authorizationHeader: string | undefined,
  jwks: JwksSource,
  acceptedAudiences: readonly string[],
  issuer: TokenIssuerPolicy,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<AccessTokenClaims> {
  const token = bearerToken(authorizationHeader);
  let claims: JwtClaims;
  try {
    // jose refuses any `crit` extension it is not told to understand (none here).
    claims = (await verifyJwtSignature(token, jwks())).claims;
  } catch (error) {
    if (error instanceof JwtError && error.reason !== 'malformed') {
      throw new AccessTokenError('bad-signature', `Token signature is invalid: ${error.message}`);
    }
    throw new AccessTokenError('malformed', 'The access token is malformed.');
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (
    !audiences.some((aud) => typeof aud === 'string' && acceptedAudiences.includes(stripSlash(aud)))
  ) {
    throw new AccessTokenError(
      'wrong-audience',
      `The audience '${String(claims.aud)}' is invalid; expected one of ${acceptedAudiences.join(', ')}.`,
    );
  }
  if (typeof claims.iss !== 'string' || !issuer.issuers.includes(claims.iss)) {
    throw new AccessTokenError(
      'wrong-issuer',
      `The issuer '${String(claims.iss)}' is not trusted.`,
    );
  }
  if (claims.tid !== issuer.tenantId) {
    throw new AccessTokenError('wrong-tenant', `The token is for tenant '${String(claims.tid)}'.`);
  }
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_SECONDS < nowSeconds) {
    throw new AccessTokenError('expired', `The token is expired (exp ${String(claims.exp)}).`);
  }
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') {
    throw new AccessTokenError('malformed', 'The token nbf is not a number.');
  }
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_SKEW_SECONDS > nowSeconds) {
    throw new AccessTokenError('not-yet-valid', `The token is not valid before ${claims.nbf}.`);
  }
  return claims as AccessTokenClaims;
}

export function bearerToken(authorizationHeader: string | undefined): string {
  const match = /^Bearer\s+(\S+)$/i.exec(authorizationHeader ?? '');
  if (!match) throw new AccessTokenError('missing', 'No bearer token in the Authorization header.');
  return match[1]!;
}

function stripSlash(value: string): string {
  return value.endsWith('/') ? value.slice(0, -1) : value;
}
