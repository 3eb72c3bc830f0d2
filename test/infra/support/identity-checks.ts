import {
  GITHUB_ACTIONS_ISSUER,
  type IdentitiesFile,
  type RoleAssignment,
  type ServiceIdentity,
} from '@wi/identities';
import { type ArmValue, isObject, show } from './arm-expression.js';
import { created, type DeploymentResult, runtimeReference, single } from './arm-deployment.js';

/**
 * The checks that tie the compiled template to infra/identities.json. Each returns the problems it
 * finds (empty: all good), so a test can also show that a wrong template is caught.
 */

const types = {
  identity: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  federatedCredential:
    'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
  roleAssignment: 'Microsoft.Authorization/roleAssignments',
  cosmosRoleAssignment: 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
  cluster: 'Microsoft.ContainerService/managedClusters',
  storageAccount: 'Microsoft.Storage/storageAccounts',
  serviceBus: 'Microsoft.ServiceBus/namespaces',
  keyVault: 'Microsoft.KeyVault/vaults',
  cosmos: 'Microsoft.DocumentDB/databaseAccounts',
  applicationInsights: 'Microsoft.Insights/components',
} as const;

export { types as resourceTypes };

const same = (a: ArmValue | undefined, b: ArmValue | undefined) =>
  show(a ?? null) === show(b ?? null);

/** Federated credentials of Kubernetes workloads: all but those trusting GitHub Actions' issuer. */
export function workloadCredentials(result: DeploymentResult) {
  return created(result, types.federatedCredential).filter(
    (c) => c.properties.issuer !== GITHUB_ACTIONS_ISSUER,
  );
}

/** The managed identity the deployment creates for a service, by the file's name for it. */
export function identityResource(result: DeploymentResult, identity: ServiceIdentity) {
  const found = created(result, types.identity).filter(
    (r) => r.name === identity.managedIdentityName,
  );
  if (found.length !== 1) {
    throw new Error(
      `expected one managed identity ${identity.managedIdentityName}, found ${found.length}`,
    );
  }
  return found[0]!;
}

/** The exact id a role of the identities file must be scoped to, in this deployment. */
export function expectedScope(result: DeploymentResult, scope: RoleAssignment['scope']): string {
  switch (scope.resource) {
    case 'storage':
      return `${single(result, types.storageAccount).id}/blobServices/default/containers/${scope.container}`;
    case 'serviceBus':
      return `${single(result, types.serviceBus).id}/queues/${scope.queue}`;
    case 'keyVault':
      return `${single(result, types.keyVault).id}/secrets/${scope.secret}`;
    case 'cosmos':
      return `${single(result, types.cosmos).id}/dbs/${scope.database}${scope.container ? `/colls/${scope.container}` : ''}`;
    case 'applicationInsights':
      return single(result, types.applicationInsights).id;
  }
}

interface Grant {
  principal: string;
  roleDefinitionId: string;
  scope: string;
}

/** Every grant of the deployment, Azure RBAC and Cosmos DB SQL alike, as comparable strings. */
function grants(result: DeploymentResult): Grant[] {
  const azureRbac = created(result, types.roleAssignment).map((r) => ({
    principal: show(r.properties.principalId ?? null),
    roleDefinitionId: String(r.properties.roleDefinitionId),
    scope: r.scope ?? '(resource group)',
  }));
  const cosmos = created(result, types.cosmosRoleAssignment).map((r) => ({
    principal: show(r.properties.principalId ?? null),
    roleDefinitionId: String(r.properties.roleDefinitionId),
    scope: String(r.properties.scope),
  }));
  return [...azureRbac, ...cosmos];
}

/**
 * Each identity holds exactly the roles the file lists, each at its exact scope and with the
 * built-in role definition id; nothing more, nothing broader.
 */
export function roleAssignmentProblems(result: DeploymentResult, file: IdentitiesFile): string[] {
  const problems: string[] = [];
  const all = grants(result);
  for (const identity of file.identities) {
    const uami = identityResource(result, identity);
    const principal = show(runtimeReference(uami.id, 'principalId'));
    const expected = identity.roleAssignments.map((assignment) => {
      const scope = expectedScope(result, assignment.scope);
      const roleDefinitionId =
        assignment.scope.resource === 'cosmos'
          ? `${single(result, types.cosmos).id}/sqlRoleDefinitions/${assignment.roleDefinitionId}`
          : `/subscriptions/${subscriptionOf(uami.id)}/providers/Microsoft.Authorization/roleDefinitions/${assignment.roleDefinitionId}`;
      return {
        label: `${identity.service}: ${assignment.role} on ${scope}`,
        roleDefinitionId,
        scope,
      };
    });
    const actual = all.filter((g) => g.principal === principal);
    for (const want of expected) {
      const matches = actual.filter(
        (g) => g.scope === want.scope && g.roleDefinitionId === want.roleDefinitionId,
      );
      if (matches.length !== 1)
        problems.push(`${want.label}: ${matches.length} assignments, want 1`);
      // Cosmos DB names its data-plane scopes /dbs/<db>/colls/<container>; ARM says sqlDatabases/containers.
      const scopeResource = want.scope
        .replace(/\/dbs\//, '/sqlDatabases/')
        .replace(/\/colls\//, '/containers/');
      const scopeExists = result.resources.some((r) => !r.existing && r.id === scopeResource);
      if (!scopeExists) problems.push(`${want.label}: the scope is not created by this deployment`);
    }
    for (const extra of actual.filter(
      (g) =>
        !expected.some((e) => e.scope === g.scope && e.roleDefinitionId === g.roleDefinitionId),
    )) {
      problems.push(`${identity.service}: unexpected ${extra.roleDefinitionId} on ${extra.scope}`);
    }
  }
  for (const r of created(result, types.roleAssignment)) {
    if (r.properties.principalType === undefined) problems.push(`${r.id}: no principalType`);
  }
  return problems;
}

/**
 * One federated credential per identity: the cluster's issuer URL (from the cluster resource, not
 * a literal), the subject of the file's service account, its audiences, written one at a time.
 */
export function federatedCredentialProblems(
  result: DeploymentResult,
  file: IdentitiesFile,
): string[] {
  const problems: string[] = [];
  const issuer = show(
    runtimeReference(single(result, types.cluster).id, 'oidcIssuerProfile.issuerURL'),
  );
  // The workloads' credentials; a deploy identity's (GitHub Actions) are checked in deploy-identity.test.ts.
  const credentials = workloadCredentials(result);
  for (const identity of file.identities) {
    const uami = identityResource(result, identity);
    const mine = credentials.filter((c) => c.id.startsWith(`${uami.id}/`));
    const want = identity.federatedCredential;
    const label = `${identity.service} (${want.name})`;
    if (mine.length !== 1 || mine[0]!.name !== `${identity.managedIdentityName}/${want.name}`) {
      problems.push(
        `${label}: ${mine.length} federated credentials on ${identity.managedIdentityName}, want 1`,
      );
      continue;
    }
    const { properties, copy } = mine[0]!;
    if (want.issuer === 'aks-oidc-issuer' && show(properties.issuer ?? null) !== issuer) {
      problems.push(`${label}: issuer ${show(properties.issuer ?? null)}, want ${issuer}`);
    }
    const subject = `system:serviceaccount:${identity.serviceAccount.namespace}:${identity.serviceAccount.name}`;
    if (properties.subject !== subject || want.subject !== subject) {
      problems.push(`${label}: subject ${show(properties.subject ?? null)}, want ${subject}`);
    }
    if (!same(properties.audiences, want.audiences)) {
      problems.push(
        `${label}: audiences ${show(properties.audiences ?? null)}, want ${show(want.audiences)}`,
      );
    }
    if (!isObject(copy) || copy.mode !== 'serial' || copy.batchSize !== 1) {
      problems.push(
        `${label}: not written serially (copy ${show(copy ?? null)}), want @batchSize(1)`,
      );
    }
  }
  if (credentials.length !== file.identities.length) {
    problems.push(`${credentials.length} federated credentials, want ${file.identities.length}`);
  }
  return problems;
}

function subscriptionOf(id: string): string {
  return /^\/subscriptions\/([^/]+)/i.exec(id)?.[1] ?? '';
}
