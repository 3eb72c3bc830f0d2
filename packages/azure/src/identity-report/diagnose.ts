import type { IdentityDiagnosis, ProbeResource } from '@wi/contracts';
import { describeAzureError, lastAttempt } from '../errors/describe-azure-error.js';

/** A data plane refusing a valid token: HTTP 403, or Service Bus's unauthorized-access. */
export function isAuthorizationDenial(error: unknown): boolean {
  const fields = lastAttempt(error) as
    { statusCode?: unknown; code?: unknown; message?: unknown } | undefined;
  if (fields?.statusCode === 403 || fields?.code === 403) return true;
  if (fields?.code === 'UnauthorizedAccess') return true;
  // Entra refuses a token for an API whose app role the caller was not assigned.
  if (/AADSTS501051/.test(String(fields?.message ?? ''))) return true;
  return /amqp:unauthorized-access/.test(String(fields?.message ?? ''));
}

interface Rule {
  /** Matched against Azure's code, then against the message. */
  match: RegExp;
  code?: string;
  cause: string;
  fix: string;
}

const FIC = 'federatedCredential in infra/identities.json (Bicep creates it from there)';

/**
 * The failures that break workload identity, with the likely cause and the exact fix. Codes are
 * the ones Entra and the data planes return; the local cloud returns the same ones.
 */
const RULES: Rule[] = [
  {
    match: /AADSTS700213/,
    cause:
      "The federated credential's subject does not match the pod's service account token (sub = system:serviceaccount:<namespace>:<service account>).",
    fix: `Make ${FIC}.subject equal system:serviceaccount:<namespace>:<serviceAccountName of the Deployment>, or: az identity federated-credential update --identity-name <id> -g <rg> -n <fic> --subject system:serviceaccount:<ns>:<sa>`,
  },
  {
    match: /AADSTS700211/,
    cause:
      "The federated credential's issuer is not the cluster's OIDC issuer URL (a missing or extra trailing slash is enough).",
    fix: `Set ${FIC}.issuer to exactly: az aks show -g <rg> -n <cluster> --query oidcIssuerProfile.issuerUrl -o tsv`,
  },
  {
    match: /AADSTS700212/,
    cause: "The federated credential's audience does not match the projected token's audience.",
    fix: `Use the audience api://AzureADTokenExchange in ${FIC}.audiences (the webhook projects tokens for it).`,
  },
  {
    match: /AADSTS700024/,
    cause:
      'The service account token presented as the client assertion has expired: the file was not re-read or not rotated.',
    fix: 'Let the credential read AZURE_FEDERATED_TOKEN_FILE on each exchange (WorkloadIdentityCredential does); check that the kubelet still projects the token (kubectl describe pod: volume azure-identity-token).',
  },
  {
    match: /AADSTS70021\b/,
    cause:
      'No federated credential on this identity matches the assertion (issuer, subject and audience together).',
    fix: `Compare the token's iss/sub/aud (below) with ${FIC}; az identity federated-credential list --identity-name <id> -g <rg>`,
  },
  {
    match: /AADSTS700016/,
    cause:
      "No application with this client id in the tenant: AZURE_CLIENT_ID is not the managed identity's client id.",
    fix: 'Annotate the service account with azure.workload.identity/client-id: <clientId of the identity> (k8s overlay env file, from the Bicep output), then restart the pod.',
  },
  {
    // MSAL reports Entra's AADSTS90002 (tenant not found) as endpoints_resolution_error; Key
    // Vault's challenge names its own tenant, which the SDK refuses to switch to.
    match:
      /AADSTS90002|AADSTS900023|endpoints_resolution_error|not configured to acquire tokens for tenant/,
    code: 'TenantMismatch',
    cause:
      "The tenant in AZURE_TENANT_ID (or the authority host) does not exist or is not the identity's tenant.",
    fix: "Set azure.workload.identity/tenant-id on the service account (or the webhook's default) to: az account show --query tenantId -o tsv",
  },
  {
    match: /AADSTS501051/,
    cause:
      "The calling identity has no assignment of the API's app role, and the API's app registration requires one (appRoleAssignmentRequired), so Entra issues no token for it.",
    fix: 'Add { "service": "<API service>", "appRole": "<role>" } to calls of the calling identity in infra/identities.json (the deploy script assigns it through Microsoft Graph), or: az rest -m POST -u https://graph.microsoft.com/v1.0/servicePrincipals/<caller principalId>/appRoleAssignments -b \'{"principalId":"<caller principalId>","resourceId":"<API service principal id>","appRoleId":"<app role id>"}\'',
  },
  {
    match: /MissingAppRole/,
    code: 'MissingAppRole',
    cause:
      "The API verified the caller's token but it carries no roles claim with the app role this route requires: the identity is assigned another role, or none.",
    fix: 'Grant the role the API requires: set appRole in calls of the calling identity in infra/identities.json to it (for example "Documents.Read"), or assign that app role with az rest (Microsoft Graph appRoleAssignments); then the next token carries it.',
  },
  {
    match: /ENOENT|token file|tokenFilePath|federated token/i,
    code: 'TokenFileMissing',
    cause:
      'The projected service account token file does not exist: the webhook did not mutate the pod.',
    fix: 'Put the label azure.workload.identity/use: "true" on the pod template (spec.template.metadata.labels), not on the Deployment or service account; then recreate the pod.',
  },
];

/** A data plane's 403 (or Service Bus's unauthorized-access), by resource: a missing or misplaced role. */
const DENIALS: Record<ProbeResource, Omit<Rule, 'match'>> = {
  blob: {
    cause: 'The identity has no Storage Blob Data role that allows this action on this container.',
    fix: 'Add the role to roleAssignments in infra/identities.json (scope { "resource": "storage", "container": … }), or: az role assignment create --assignee <principalId> --role "Storage Blob Data Contributor" --scope <storage id>/blobServices/default/containers/<name>',
  },
  serviceBus: {
    code: 'UnauthorizedAccess',
    cause:
      'The identity has no Service Bus Data role with this right (Send or Listen) on this queue.',
    fix: 'Add "Azure Service Bus Data Sender" / "Data Receiver" at scope { "resource": "serviceBus", "queue": … } in infra/identities.json, or: az role assignment create --assignee <principalId> --role "Azure Service Bus Data Receiver" --scope <namespace id>/queues/<name>',
  },
  keyVault: {
    code: 'Forbidden',
    cause:
      'The identity has no Key Vault role on this secret (Key Vault Secrets User is granted per secret here).',
    fix: 'Add "Key Vault Secrets User" at scope { "resource": "keyVault", "secret": … } in infra/identities.json, or: az role assignment create --assignee <principalId> --role "Key Vault Secrets User" --scope <vault id>/secrets/<name>',
  },
  api: {
    code: 'Forbidden',
    cause: 'The API refused the caller: its token lacks the app role the route requires.',
    fix: 'Assign the app role the API requires to the calling identity (calls in infra/identities.json).',
  },
  cosmos: {
    code: 'Forbidden',
    cause:
      'The identity has no Cosmos DB data-plane role on this database (Azure RBAC control-plane roles such as Contributor do not grant data access).',
    fix: 'Add "Cosmos DB Built-in Data Contributor" at scope { "resource": "cosmos", "database": … } in infra/identities.json, or: az cosmosdb sql role assignment create -a <account> -g <rg> --role-definition-id 00000000-0000-0000-0000-000000000002 --principal-id <principalId> --scope /dbs/<database>',
  },
};

/** Azure's code for an error plus what most likely caused it and how to fix it. */
export function diagnose(error: unknown, resource?: ProbeResource): IdentityDiagnosis {
  const message = describeAzureError(error);
  const rule =
    RULES.find((r) => r.match.test(message)) ??
    (resource && isAuthorizationDenial(error) ? DENIALS[resource] : undefined);
  const aadsts = /AADSTS\d+/.exec(message)?.[0];
  const leading = /^([A-Za-z][\w:.-]*)(?: HTTP \d+)?:/.exec(message)?.[1];
  return {
    code: aadsts ?? leading ?? rule?.code ?? 'Error',
    message,
    cause: rule?.cause ?? 'Not a known workload identity failure; see the message.',
    fix: rule?.fix ?? 'Check the service log for this request id.',
  };
}
