import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  compactVerify,
  createLocalJWKSet,
  decodeJwt as joseDecodeJwt,
  decodeProtectedHeader,
  errors,
  SignJWT,
  type JWTPayload,
} from 'jose';

/** An RS256 signing key with a stable key id, as Entra and the Kubernetes API server use. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface Jwk {
  kty: string;
  kid: string;
  use: 'sig';
  alg: 'RS256';
  n: string;
  e: string;
}

export type JwtClaims = Record<string, unknown> & {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
};

export class JwtError extends Error {
  constructor(
    readonly reason: 'malformed' | 'unknown-key' | 'bad-signature' | 'unsupported-alg',
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: keyId(publicKey), privateKey, publicKey };
}

/** RFC 7638 thumbprint, so the kid is derived from the key and never goes stale. */
function keyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

export function toJwk(key: SigningKey): Jwk {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return {
    kty: jwk.kty ?? 'RSA',
    kid: key.kid,
    use: 'sig',
    alg: 'RS256',
    n: jwk.n ?? '',
    e: jwk.e ?? '',
  };
}

/**
 * Signs with jose (RS256, the key's kid in the header), as the Kubernetes API server signs
 * service account tokens and Entra signs access tokens.
 */
export function signJwt(claims: JwtClaims, key: SigningKey, type = 'JWT'): Promise<string> {
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ alg: 'RS256', typ: type, kid: key.kid })
    .sign(key.privateKey);
}

export interface DecodedJwt {
  header: { alg?: string; kid?: string; typ?: string; crit?: string[] };
  claims: JwtClaims;
}

/** Decodes without verifying: only for reading claims that are then checked, or for reports. */
export function decodeJwt(token: string): DecodedJwt {
  if (token.split('.').length !== 3) {
    throw new JwtError('malformed', 'A JWT has three dot-separated parts.');
  }
  try {
    return {
      header: decodeProtectedHeader(token) as DecodedJwt['header'],
      claims: joseDecodeJwt(token) as JwtClaims,
    };
  } catch {
    throw new JwtError('malformed', 'The JWT header or payload is not base64url-encoded JSON.');
  }
}

/**
 * Verifies the signature with jose against a set of public keys (a JWKS): RS256 only (so no
 * `none` and no algorithm confusion), the key chosen by kid, and any `crit` header extension
 * refused, since none is understood here (RFC 7515 §4.1.11). Time and audience are the caller's.
 */
export async function verifyJwtSignature(token: string, keys: readonly Jwk[]): Promise<DecodedJwt> {
  const decoded = decodeJwt(token);
  try {
    await compactVerify(token, createLocalJWKSet({ keys: keys.map((k) => ({ ...k })) }), {
      algorithms: ['RS256'],
    });
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey) {
      throw new JwtError('unknown-key', `No key with kid '${String(decoded.header.kid)}'.`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      throw new JwtError('unsupported-alg', `Unsupported JWT alg '${String(decoded.header.alg)}'.`);
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw new JwtError('bad-signature', 'The JWT signature does not verify.');
    }
    // Unrecognised crit, malformed JWS, a key that does not fit: not a token this trusts.
    throw new JwtError('bad-signature', `The JWT does not verify: ${(error as Error).message}`);
  }
  return decoded;
}
