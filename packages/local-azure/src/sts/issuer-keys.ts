import type { Jwk } from '../tokens/jwt.js';

export type IssuerKeys = { ok: true; keys: Jwk[] } | { ok: false; reason: string };

/**
 * The signing keys of a federated credential's issuer, found as Entra finds them: its discovery
 * document at `{iss}/.well-known/openid-configuration`, whose `issuer` must be `iss`, then the
 * document's `jwks_uri`. Only an issuer the declaration names is ever fetched (the assertion's
 * issuer must already match a federated credential), so an assertion cannot make the token
 * endpoint call an address of its choosing.
 */
export async function fetchIssuerKeys(issuer: string, timeoutMs = 3000): Promise<IssuerKeys> {
  const get = async (url: string): Promise<unknown> => {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    return response.json();
  };
  try {
    if (!issuer.startsWith('https://')) throw new Error('the issuer is not an https URL');
    const discovery = (await get(
      `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    )) as { issuer?: unknown; jwks_uri?: unknown };
    if (discovery.issuer !== issuer) throw new Error('the discovery document names another issuer');
    if (typeof discovery.jwks_uri !== 'string')
      throw new Error('the discovery document has no jwks_uri');
    const jwks = (await get(discovery.jwks_uri)) as { keys?: unknown };
    if (!Array.isArray(jwks.keys)) throw new Error('the JWKS has no keys');
    return { ok: true, keys: jwks.keys as Jwk[] };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
