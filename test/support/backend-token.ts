import type { LocalCloud } from '@wi/local-azure';
import { frontendCredential } from './seed.js';

/**
 * The Authorization header the frontend sends the backend: an Entra access token for the backend
 * API's app registration, got with the frontend's own identity (the only one granted an app role).
 * For tests that call the backend's API directly.
 */
export async function backendAuthorization(cloud: LocalCloud): Promise<Record<string, string>> {
  const scope = cloud.env('frontend').BACKEND_API_SCOPE;
  if (!scope) throw new Error('LocalCloud.env(frontend) has no BACKEND_API_SCOPE');
  const token = await frontendCredential(cloud).getToken(scope);
  return { authorization: `Bearer ${token.token}` };
}
