import { createHash } from 'node:crypto';
import type { ServiceIdentity } from './declaration.js';

// Stand-ins the local cloud uses for ids that Azure assigns: stable across runs and machines,
// derived from names in the declaration, so token files and env files stay valid on restart.

/** The local stand-in for the managed identity's client id: stable across runs, derived from its name. */
export function localClientId(identity: Pick<ServiceIdentity, 'managedIdentityName'>): string {
  return nameBasedGuid(`client:${identity.managedIdentityName}`);
}

/** The local stand-in for the identity's principal (object) id. */
export function localPrincipalId(identity: Pick<ServiceIdentity, 'managedIdentityName'>): string {
  return nameBasedGuid(`principal:${identity.managedIdentityName}`);
}

/**
 * The local stand-in for the application (client) id of the app registration that protects this
 * service's API. Its identifier URI, and so the audience of tokens for the API, is
 * `api://<this id>`, the form Entra gives new app registrations.
 */
export function localApiAppId(service: string): string {
  return nameBasedGuid(`api:${service}`);
}

/** The identifier URI (token audience) of a service's API in the local cloud. */
export function localApiIdentifierUri(service: string): string {
  return `api://${localApiAppId(service)}`;
}

function nameBasedGuid(name: string): string {
  const hex = createHash('sha256').update(`workload-identity-sample/${name}`).digest('hex');
  // Shaped like an RFC 4122 version 5 UUID so every GUID validator accepts it.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
