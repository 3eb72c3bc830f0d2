import { beforeAll, describe, expect, it } from 'vitest';
import { type ArmObject, show } from './support/arm-expression.js';
import { created, dryRun, runtimeReference, single } from './support/arm-deployment.js';
import { skipBicepTests } from './support/bicep-cli.js';
import {
  expectedScope,
  federatedCredentialProblems,
  identityResource,
  resourceTypes as types,
  roleAssignmentProblems,
  workloadCredentials,
} from './support/identity-checks.js';
import {
  everythingOn,
  infraUnderTest,
  type InfraUnderTest,
  testTarget,
} from './support/infra-deployment.js';

/** The compiled template with one nested resource definition changed, to show a check bites. */
function mutated(main: ArmObject, symbolicName: string, change: (resource: ArmObject) => void) {
  const copy = structuredClone(main);
  const visit = (template: ArmObject): boolean => {
    const resources = template.resources as Record<string, ArmObject>;
    if (resources[symbolicName]) {
      change(resources[symbolicName]);
      return true;
    }
    return Object.values(resources).some(
      (r) =>
        r.type === 'Microsoft.Resources/deployments' &&
        visit((r.properties as ArmObject).template as ArmObject),
    );
  };
  if (!visit(copy)) throw new Error(`no resource ${symbolicName} in the compiled template`);
  return dryRun(copy, everythingOn, { target: testTarget() });
}

describe.skipIf(skipBicepTests)('identities and role assignments in the compiled template', () => {
  let infra: InfraUnderTest;
  beforeAll(async () => {
    infra = await infraUnderTest();
  });

  it('give each identity exactly the roles of identities.json, each at its scope, with built-in role ids', () => {
    expect(roleAssignmentProblems(infra.deployment, infra.identities)).toEqual([]);
    // The table from the design, spelled out once more so a reader sees what was compared.
    const backend = infra.identities.identities.find((i) => i.service === 'backend')!;
    const cosmos = backend.roleAssignments.find((r) => r.scope.resource === 'cosmos')!;
    expect(expectedScope(infra.deployment, cosmos.scope)).toMatch(
      /\/Microsoft\.DocumentDB\/databaseAccounts\/cosmos-[a-z0-9]+\/dbs\/intake$/,
    );
    const sql = created(infra.deployment, types.cosmosRoleAssignment);
    expect(sql).toHaveLength(1);
    expect(sql[0]!.properties.roleDefinitionId).toMatch(
      /\/sqlRoleDefinitions\/00000000-0000-0000-0000-000000000002$/,
    );
    // Telemetry: each service may publish to the Application Insights component, nothing more.
    const publishers = infra.identities.identities.filter((identity) =>
      identity.roleAssignments.some((r) => r.scope.resource === 'applicationInsights'),
    );
    expect(publishers.map((i) => i.service)).toEqual(['frontend', 'backend']);
    for (const identity of publishers) {
      const publish = identity.roleAssignments.find(
        (r) => r.scope.resource === 'applicationInsights',
      )!;
      expect(publish.roleDefinitionId).toBe('3913510d-42f4-4e42-8a64-420c390055eb'); // Monitoring Metrics Publisher
      expect(expectedScope(infra.deployment, publish.scope)).toMatch(
        /\/Microsoft\.Insights\/components\/appi-[a-z0-9]+$/,
      );
    }
  });

  it('catch a role assigned at the storage account instead of the container', () => {
    const wrong = mutated(infra.compiled.main, 'storageRoles', (resource) => {
      resource.scope =
        "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]";
    });
    const problems = roleAssignmentProblems(wrong, infra.identities);
    expect(problems.join('\n')).toMatch(
      /frontend: Storage Blob Data Contributor on .*containers\/uploads: 0 assignments/,
    );
    expect(problems.join('\n')).toMatch(/unexpected .* on .*storageAccounts\/st[a-z0-9]+$/m);
  });

  it('catch a broader role than the file names', () => {
    const owner = '8e3af657-a8ff-443f-a75c-2fe8c4bcb635';
    const wrong = mutated(infra.compiled.main, 'keyVaultRoles', (resource) => {
      (resource.properties as ArmObject).roleDefinitionId =
        `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${owner}')]`;
    });
    expect(roleAssignmentProblems(wrong, infra.identities).join('\n')).toContain(owner);
  });

  it('give no one else a role but the kubelet, the deployer, the control plane and the deploy identity', () => {
    const principal = (r: { properties: ArmObject }) => show(r.properties.principalId ?? null);
    const workload = new Set(
      infra.identities.identities.map((identity) =>
        show(runtimeReference(identityResource(infra.deployment, identity).id, 'principalId')),
      ),
    );
    const group =
      '/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-doc-intake';
    const others = created(infra.deployment, types.roleAssignment)
      .filter((r) => !workload.has(principal(r)))
      .map((r) => ({
        principal: principal(r),
        role: String(r.properties.roleDefinitionId).split('/').pop(),
        // No scope: the resource group the deployment targets.
        scope: r.scope ?? group,
      }));
    const cluster = single(infra.deployment, types.cluster).id;
    const deployer = `'${String(everythingOn.deployerPrincipalId)}'`;
    const identityId = (name: string) =>
      created(infra.deployment, types.identity).find((r) => r.name === name)!.id;
    const deployIdentity = show(runtimeReference(identityId('id-deploy'), 'principalId'));
    expect(others).toEqual(
      expect.arrayContaining([
        {
          principal: show(runtimeReference(cluster, 'identityProfile.kubeletidentity.objectId')),
          role: '7f951dda-4ed3-4680-a7ca-43fe172d538d', // AcrPull
          scope: single(infra.deployment, 'Microsoft.ContainerRegistry/registries').id,
        },
        {
          principal: deployer,
          role: 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b', // Azure Kubernetes Service RBAC Cluster Admin
          scope: cluster,
        },
        {
          principal: deployer,
          role: 'a4417e6f-fecd-4de8-b567-7b0420556985', // Key Vault Certificates Officer
          scope: single(infra.deployment, types.keyVault).id,
        },
        {
          principal: show(runtimeReference(identityId('id-aks-test-control-plane'), 'principalId')),
          role: '4d97b98b-1d4f-4787-a291-c67834d212e7', // Network Contributor
          scope: `${single(infra.deployment, 'Microsoft.Network/virtualNetworks').id}/subnets/aks-nodes`,
        },
        ...infra.file.deployIdentities![0]!.roleAssignments.map((a) => ({
          principal: deployIdentity,
          role: a.roleDefinitionId,
          scope: group,
        })),
      ]),
    );
    expect(others).toHaveLength(7);
  });
});

describe.skipIf(skipBicepTests)('federated identity credentials in the compiled template', () => {
  let infra: InfraUnderTest;
  beforeAll(async () => {
    infra = await infraUnderTest();
  });

  it("trust the cluster's issuer output, the file's service account subject and audience, one write at a time", () => {
    expect(federatedCredentialProblems(infra.deployment, infra.identities)).toEqual([]);
    // @batchSize(1) as ARM receives it.
    const compiled = infra.compiled.texts.get('modules/workload-identities.json')!;
    expect(compiled).toMatch(/"mode": "serial",\s*"batchSize": 1/);
  });

  it('match the subjects to the service accounts of identities.json', () => {
    const subjects = workloadCredentials(infra.deployment).map((c) => c.properties.subject);
    expect(subjects.sort()).toEqual(
      infra.identities.identities
        .map((i) => `system:serviceaccount:${i.serviceAccount.namespace}:${i.serviceAccount.name}`)
        .sort(),
    );
  });

  it('catch a literal issuer and credentials written in parallel', () => {
    const wrong = mutated(infra.compiled.main, 'federatedCredentials', (resource) => {
      (resource.properties as ArmObject).issuer =
        'https://eastus.oic.prod-aks.azure.com/tenant/cluster/';
      delete (resource.copy as ArmObject).mode;
      delete (resource.copy as ArmObject).batchSize;
    });
    const problems = federatedCredentialProblems(wrong, infra.identities).join('\n');
    expect(problems).toMatch(/frontend \(fic-frontend\): issuer 'https:\/\/eastus/);
    expect(problems).toMatch(/backend \(fic-backend\): not written serially/);
  });

  it('enable the OIDC issuer and the workload identity webhook on the cluster, with Entra ID and Azure RBAC only', () => {
    const cluster = single(infra.deployment, types.cluster).properties;
    expect(cluster).toMatchObject({
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true } },
      aadProfile: { managed: true, enableAzureRBAC: true, tenantID: testTarget().tenantId },
      disableLocalAccounts: true,
      enableRBAC: true,
      ingressProfile: { webAppRouting: { enabled: true } },
      networkProfile: {
        networkPlugin: 'azure',
        networkPluginMode: 'overlay',
        networkPolicy: 'cilium',
      },
    });
  });
});
