import { localApiAppId, type IdentitiesFile, type ServiceIdentity } from '../identities/index.js';

/** What a client_credentials scope names: a data plane's resource, a declared service API, or nothing. */
export type RequestedResource =
  | { kind: 'resource'; audience: string }
  | { kind: 'api'; callee: ServiceIdentity; appId: string }
  | { kind: 'unknown'; resource: string };

/**
 * The resource principals of the local tenant. Entra issues tokens only for resources whose
 * service principal exists in the tenant and answers AADSTS500011 for anything else; the SDKs
 * depend on that answer (the Cosmos SDKs fall back from the account scope to
 * https://cosmos.azure.com only on AADSTS500011), so the local tenant lists exactly the data
 * planes the local cloud runs plus the APIs the declaration exposes.
 */
export class TokenResources {
  private readonly audiences = new Map<string, string>();

  constructor(
    private readonly identities: IdentitiesFile,
    audiences: readonly string[] = [],
  ) {
    for (const audience of audiences) this.add(audience);
  }

  /** Registers a resource principal (a data plane whose address is known only once it listens). */
  add(audience: string): void {
    const canonical = withoutTrailingSlashes(audience);
    this.audiences.set(canonical.toLowerCase(), canonical);
  }

  /** `scope` is the resource part of a `/.default` scope, e.g. `https://storage.azure.com/`. */
  resolve(resource: string): RequestedResource {
    const canonical = withoutTrailingSlashes(resource);
    const known = this.audiences.get(canonical.toLowerCase());
    if (known) return { kind: 'resource', audience: known };
    // An API is named by its identifier URI (api://<app id>) or by its application id alone.
    const appId = canonical.toLowerCase().replace(/^api:\/\//, '');
    const callee = this.identities.identities.find(
      (identity) => identity.api && localApiAppId(identity.service) === appId,
    );
    if (callee) return { kind: 'api', callee, appId: localApiAppId(callee.service) };
    return { kind: 'unknown', resource: canonical };
  }
}

function withoutTrailingSlashes(value: string): string {
  return value.replace(/\/+$/, '');
}
