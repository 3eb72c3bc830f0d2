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
  'missing' | 'malformed' | 'bad-signature' | 'wrong-audience' | 'expired' | 'not-yet-valid';

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

const CLOCK_SKEW_SECONDS = 300;

/**
 * Verifies a bearer token the way Azure data planes do: signature by the tenant's keys,
 * audience of this resource, not expired, not before nbf (with five minutes of skew, as Entra allows).
 */
export function verifyAccessToken(
  authorizationHeader: string | undefined,
  jwks: JwksSource,
  acceptedAudiences: readonly string[],
  nowSeconds = Math.floor(Date.now() / 1000),
): AccessTokenClaims {
  const token = bearerToken(authorizationHeader);
  let claims: JwtClaims;
  try {
    claims = verifyJwtSignature(token, jwks()).claims;
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
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_SECONDS < nowSeconds) {
    throw new AccessTokenError('expired', `The token is expired (exp ${String(claims.exp)}).`);
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
