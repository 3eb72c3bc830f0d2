/**
 * The contract between infra/main.bicep and k8s/: the overlays' env files hold the deployment's
 * outputs under their Bicep names, and k8s/components/azure-outputs maps each one into the
 * manifests. These are the names the wiring check needs to know.
 */

/** The env-file key (Bicep output) that holds the client id of a service's managed identity. */
export function clientIdOutput(service: string): string {
  return `${service}ClientId`;
}

export const TENANT_ID_OUTPUT = 'tenantId';

// The webhook's annotations, label and variables, and the exchange audience: the workload
// identity vocabulary, written once in @wi/identities.
export {
  CLIENT_ID_ANNOTATION,
  TENANT_ID_ANNOTATION,
  TOKEN_EXCHANGE_AUDIENCE,
  USE_LABEL,
  WEBHOOK_VARIABLES,
} from '@wi/identities';

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
