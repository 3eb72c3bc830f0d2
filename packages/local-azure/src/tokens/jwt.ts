import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

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

export function signJwt(claims: JwtClaims, key: SigningKey, type = 'JWT'): string {
  const header = { alg: 'RS256', typ: type, kid: key.kid };
  const signingInput = `${b64json(header)}.${b64json(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), key.privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

export interface DecodedJwt {
  header: { alg?: string; kid?: string; typ?: string };
  claims: JwtClaims;
}

/** Decodes without verifying: only for reading claims that are then checked, or for reports. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('malformed', 'A JWT has three dot-separated parts.');
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')),
      claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')),
    };
  } catch {
    throw new JwtError('malformed', 'The JWT header or payload is not base64url-encoded JSON.');
  }
}

/** Checks the signature against a set of public keys (a JWKS); time and audience are the caller's. */
export function verifyJwtSignature(token: string, keys: readonly Jwk[]): DecodedJwt {
  const decoded = decodeJwt(token);
  if (decoded.header.alg !== 'RS256') {
    throw new JwtError('unsupported-alg', `Unsupported JWT alg '${String(decoded.header.alg)}'.`);
  }
  const jwk = keys.find((k) => k.kid === decoded.header.kid);
  if (!jwk) throw new JwtError('unknown-key', `No key with kid '${String(decoded.header.kid)}'.`);
  const [h, p, s] = token.split('.') as [string, string, string];
  const publicKey = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))) {
    throw new JwtError('bad-signature', 'The JWT signature does not verify.');
  }
  return decoded;
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
