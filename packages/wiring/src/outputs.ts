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

/** The annotations the workload identity webhook reads from a ServiceAccount. */
export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
export const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';

/** The pod label the webhook selects pods by; on anything but the pod it does nothing. */
export const USE_LABEL = 'azure.workload.identity/use';

/** The audience of the token the webhook projects, and so of every federated credential. */
export { TOKEN_EXCHANGE_AUDIENCE } from '@wi/local-azure';

/** What the webhook injects; it adds each only where a container does not set it already. */
export const WEBHOOK_VARIABLES = [
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_AUTHORITY_HOST',
] as const;

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
