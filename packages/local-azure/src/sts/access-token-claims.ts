import { randomBytes } from 'node:crypto';
import { localClientId, localPrincipalId, type ServiceIdentity } from '../identities/index.js';
import type { JwtClaims } from '../tokens/jwt.js';

export interface TokenTimes {
  nowSeconds: number;
  lifetimeSeconds: number;
}

/** Entra's v1 issuer, the one Azure's own data planes receive (Azurite insists on it). */
export function v1Issuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/**
 * A v1 access token, as Entra issues for Azure's data planes (their resources accept v1): `aud`
 * is the resource URI, the caller is `appid` with `appidacr` 2 (authenticated by assertion).
 */
export function dataPlaneClaims(
  identity: ServiceIdentity,
  audience: string,
  tenantId: string,
  times: TokenTimes,
): JwtClaims {
  const oid = localPrincipalId(identity);
  return {
    aud: audience,
    iss: v1Issuer(tenantId),
    iat: times.nowSeconds,
    nbf: times.nowSeconds,
    exp: times.nowSeconds + times.lifetimeSeconds,
    appid: localClientId(identity),
    appidacr: '2',
    idp: v1Issuer(tenantId),
    idtyp: 'app',
    oid,
    sub: oid,
    tid: tenantId,
    uti: randomBytes(16).toString('base64url'),
    ver: '1.0',
    xms_mirid: identity.managedIdentityName,
  };
}

/**
 * A v2 access token for a declared service API. An app registration created today accepts v2
 * tokens (requestedAccessTokenVersion 2), so Entra sets `iss` to the tenant's v2.0 issuer (the
 * one its v2.0 discovery document names), `aud` to the API's application id (a GUID, not the
 * identifier URI), and names the caller in `azp`/`azpacr`; `roles` holds the app roles granted.
 */
export function apiClaims(
  caller: ServiceIdentity,
  apiAppId: string,
  roles: readonly string[],
  issuer: string,
  tenantId: string,
  times: TokenTimes,
): JwtClaims {
  const oid = localPrincipalId(caller);
  return {
    aud: apiAppId,
    iss: issuer,
    iat: times.nowSeconds,
    nbf: times.nowSeconds,
    exp: times.nowSeconds + times.lifetimeSeconds,
    azp: localClientId(caller),
    azpacr: '2',
    oid,
    sub: oid,
    tid: tenantId,
    roles: [...roles],
    uti: randomBytes(16).toString('base64url'),
    ver: '2.0',
  };
}
