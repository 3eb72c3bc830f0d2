import { localApiAppId, localApiIdentifierUri, type IdentitiesFile } from '../identities/index.js';

/**
 * The service-to-service variables of one service: API_AUDIENCE for a service that exposes an API
 * (the application id, which is what Entra's v2 tokens carry in `aud`), and `<CALLEE>_API_SCOPE`
 * for each API it calls (what it passes to getToken, e.g. BACKEND_API_SCOPE).
 */
export function serviceApiEnv(file: IdentitiesFile, service: string): Record<string, string> {
  const identity = file.identities.find((candidate) => candidate.service === service);
  const env: Record<string, string> = {};
  if (identity?.api) env.API_AUDIENCE = localApiAppId(service);
  for (const call of identity?.calls ?? []) {
    const name = `${call.service.toUpperCase().replace(/-/g, '_')}_API_SCOPE`;
    env[name] = `${localApiIdentifierUri(call.service)}/.default`;
  }
  return env;
}
