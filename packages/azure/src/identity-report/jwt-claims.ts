/**
 * The claims of a JWT, unverified: for reporting what a token says (the projected service
 * account token, an access token), never for trusting it.
 */
export function jwtClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
