// The words of Microsoft Entra Workload ID on AKS, written once. The webhook, the kubelet and
// Entra use these exact strings; the services, the local cloud, the wiring check and the scripts
// import them from here.

/**
 * What the workload identity webhook injects into every container of a pod labelled
 * `azure.workload.identity/use: "true"` (azure-workload-identity, pkg/webhook).
 */
export const WEBHOOK_VARIABLES = [
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_AUTHORITY_HOST',
] as const;
export type WebhookVariable = (typeof WEBHOOK_VARIABLES)[number];

/** The audience of the projected service account token, and of every federated credential. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/** The pod label that makes the webhook mutate a pod (on the pod template, not the Deployment). */
export const USE_LABEL = 'azure.workload.identity/use';
/** The service account annotation that names the managed identity's client id. */
export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
/** The service account annotation that overrides the webhook's default tenant. */
export const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';

/** Where the webhook mounts the projected token in the container. */
export const PROJECTED_TOKEN_PATH = '/var/run/secrets/azure/tokens/azure-identity-token';

/** The symbolic issuer that means "this cluster's OIDC issuer URL" (resolved at deploy time). */
export const CLUSTER_ISSUER_REFERENCE = 'aks-oidc-issuer';

/** The issuer of GitHub Actions' OIDC tokens: what a deploy identity's federated credential trusts. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The symbolic repository that means "the repository the deployment names" (infra/main.bicep's
 * githubRepository, azd env GITHUB_REPOSITORY), the way `aks-oidc-issuer` stands for the cluster's
 * issuer: a fork deploys its own repository, and no value written here trusts someone else's.
 */
export const DEPLOYMENT_REPOSITORY_REFERENCE = 'github-repository';

/** The `sub` of a projected service account token: what a federated credential's subject names. */
export function serviceAccountSubject(account: { namespace: string; name: string }): string {
  return `system:serviceaccount:${account.namespace}:${account.name}`;
}
