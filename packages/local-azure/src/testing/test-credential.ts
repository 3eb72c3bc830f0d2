import type { TokenCredential } from '@azure/core-auth';
import { signJwt, type SigningKey } from '../tokens/jwt.js';

export const TEST_TENANT = '4f3a8c2e-1b7d-4e9a-9c55-0d1e2f3a4b5c';

/**
 * For emulator specs: a credential that mints an Entra-shaped access token with the local
 * signing key, for the audience asked for (or a fixed one), with `claims` overriding the
 * defaults, so a spec can present an expired, foreign or wrongly-addressed token.
 */
export function testCredential(
  key: SigningKey,
  options: { audience?: string; claims?: Record<string, unknown> } = {},
): TokenCredential {
  return {
    getToken: async (scopes) => {
      const now = Math.floor(Date.now() / 1000);
      const scope = Array.isArray(scopes) ? scopes[0]! : String(scopes);
      return {
        token: await signJwt(
          {
            aud: options.audience ?? scope.replace(/\/\.default$/, ''),
            iss: `https://sts.windows.net/${TEST_TENANT}/`,
            appid: 'app',
            oid: 'oid-1',
            tid: TEST_TENANT,
            iat: now,
            nbf: now,
            exp: now + 600,
            ...options.claims,
          },
          key,
        ),
        expiresOnTimestamp: Date.now() + 600_000,
      };
    },
  };
}
