import { beforeAll, describe, expect, it } from 'vitest';
import { type ArmObject, show } from './support/arm-expression.js';
import { created, dryRun, single } from './support/arm-deployment.js';
import { skipBicepTests } from './support/bicep-cli.js';
import {
  APPLICATION_INSIGHTS_OUTPUT,
  applicationInsightsOutputProblems,
  credentialTextProblems,
} from './support/credential-text.js';
import { resourceTypes as types } from './support/identity-checks.js';
import {
  everythingOn,
  infraUnderTest,
  type InfraUnderTest,
  testTarget,
} from './support/infra-deployment.js';

/**
 * What "local auth disabled" means per resource type. A type the template starts to deploy that
 * is in neither list fails the test until someone decides which list it belongs in.
 */
const entraOnly: Record<string, (properties: ArmObject) => unknown> = {
  'Microsoft.Storage/storageAccounts': (p) => ({
    allowSharedKeyAccess: p.allowSharedKeyAccess,
    allowBlobPublicAccess: p.allowBlobPublicAccess,
  }),
  'Microsoft.ServiceBus/namespaces': (p) => ({ disableLocalAuth: p.disableLocalAuth }),
  'Microsoft.DocumentDB/databaseAccounts': (p) => ({
    disableLocalAuth: p.disableLocalAuth,
    disableKeyBasedMetadataWriteAccess: p.disableKeyBasedMetadataWriteAccess,
  }),
  'Microsoft.ContainerRegistry/registries': (p) => ({ adminUserEnabled: p.adminUserEnabled }),
  'Microsoft.KeyVault/vaults': (p) => ({ enableRbacAuthorization: p.enableRbacAuthorization }),
  'Microsoft.ContainerService/managedClusters': (p) => ({
    disableLocalAccounts: p.disableLocalAccounts,
  }),
  'Microsoft.OperationalInsights/workspaces': (p) => ({
    disableLocalAuth: (p.features as ArmObject | undefined)?.disableLocalAuth,
  }),
  'Microsoft.Insights/components': (p) => ({ DisableLocalAuth: p.DisableLocalAuth }),
};
const expected: Record<string, unknown> = {
  'Microsoft.Storage/storageAccounts': {
    allowSharedKeyAccess: false,
    allowBlobPublicAccess: false,
  },
  'Microsoft.ServiceBus/namespaces': { disableLocalAuth: true },
  'Microsoft.DocumentDB/databaseAccounts': {
    disableLocalAuth: true,
    disableKeyBasedMetadataWriteAccess: true,
  },
  'Microsoft.ContainerRegistry/registries': { adminUserEnabled: false },
  'Microsoft.KeyVault/vaults': { enableRbacAuthorization: true },
  'Microsoft.ContainerService/managedClusters': { disableLocalAccounts: true },
  'Microsoft.OperationalInsights/workspaces': { disableLocalAuth: true },
  'Microsoft.Insights/components': { DisableLocalAuth: true },
};
/** Types with no credential of their own: children, identities, grants, monitoring rules. */
const noOwnCredential = new Set([
  'Microsoft.Resources/deployments',
  'Microsoft.ManagedIdentity/userAssignedIdentities',
  'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
  'Microsoft.Authorization/roleAssignments',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
  'Microsoft.Storage/storageAccounts/blobServices',
  'Microsoft.Storage/storageAccounts/blobServices/containers',
  'Microsoft.ServiceBus/namespaces/queues',
  'Microsoft.KeyVault/vaults/secrets',
  'Microsoft.Insights/dataCollectionRules',
  'Microsoft.Insights/dataCollectionRuleAssociations',
  // Where logs go, and the isolated network: no data plane of their own to authenticate to.
  'Microsoft.Insights/diagnosticSettings',
  'Microsoft.Network/virtualNetworks',
  'Microsoft.Network/networkSecurityGroups',
  'Microsoft.Network/privateDnsZones',
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
  'Microsoft.Network/privateEndpoints',
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
]);

describe.skipIf(skipBicepTests)('no keys: local auth off, no key or secret in the template', () => {
  let infra: InfraUnderTest;
  beforeAll(async () => {
    infra = await infraUnderTest();
  });

  it('has every resource accept Entra ID only', () => {
    const deployed = infra.deployment.resources.filter((r) => !r.existing);
    for (const resource of deployed) {
      const check = entraOnly[resource.type];
      if (check) expect(check(resource.properties), resource.id).toEqual(expected[resource.type]);
      else expect(noOwnCredential.has(resource.type), `${resource.type}: which list?`).toBe(true);
    }
    // Every type with a local credential is actually deployed (the lists are not stale).
    const types = new Set(deployed.map((r) => r.type));
    expect(Object.keys(entraOnly).filter((type) => !types.has(type))).toEqual([]);
  });

  it('calls no listKeys()/list*() and holds no connection string, account key or SAS', () => {
    expect(credentialTextProblems(infra.compiled.texts)).toEqual([]);
  });

  it("outputs one connection string only: Application Insights', which authorizes nothing", () => {
    // Where the services send telemetry; the component takes Entra tokens only.
    expect(applicationInsightsOutputProblems(infra.deployment)).toEqual([]);
    expect(infra.compiled.texts.get('main.json')).toContain(APPLICATION_INSIGHTS_OUTPUT);
  });

  it('would catch any other connection string, key or SAS, under any name', () => {
    const edited = (file: string, edit: (template: ArmObject) => void) => {
      const texts = new Map(infra.compiled.texts);
      const template = JSON.parse(texts.get(file)!) as ArmObject;
      edit(template);
      texts.set(file, JSON.stringify(template));
      return credentialTextProblems(texts);
    };
    const output = (template: ArmObject, name: string, value: string) =>
      ((template.outputs as Record<string, ArmObject>)[name] = { type: 'string', value });
    // A storage connection string, however it is built.
    expect(
      edited('main.json', (t) =>
        output(
          t,
          'storageConnectionString',
          "[format('DefaultEndpointsProtocol=https;AccountName={0}', variables('names').storage)]",
        ),
      ),
    ).toEqual([expect.stringMatching(/^main\.json: 'ConnectionString' in /)]);
    // A Service Bus one in a module, under a name that does not say so.
    expect(
      edited('modules/service-bus.json', (t) =>
        output(t, 'endpoint', "[format('Endpoint=sb://{0}/;SharedAccessKeyName=Root', 'sb')]"),
      ),
    ).toEqual([expect.stringMatching(/^modules\/service-bus\.json: 'SharedAccessKey' in /)]);
    expect(
      edited('modules/storage.json', (t) =>
        output(t, 'keys', "[listKeys('st', '2026-06-01').keys[0].value]"),
      ),
    ).toEqual(['modules/storage.json: calls listKeys(']);
    // The allowed name holding something else: the value is checked, not just the name.
    const main = structuredClone(infra.compiled.main);
    output(main, APPLICATION_INSIGHTS_OUTPUT, "[format('Endpoint=sb://{0}/', 'sb')]");
    expect(
      applicationInsightsOutputProblems(dryRun(main, everythingOn, { target: testTarget() })),
    ).toEqual([expect.stringMatching(/^output applicationInsightsConnectionString is 'Endpoint/)]);
  });

  it('writes every declared Key Vault secret with a value derived from a seed generated at deployment time', () => {
    const secrets = created(infra.deployment, 'Microsoft.KeyVault/vaults/secrets');
    const declared = infra.identities.resources.keyVault.secrets;
    expect(secrets.map((s) => s.name.split('/')[1]).sort()).toEqual([...declared].sort());
    const values = secrets.map((secret) => String(secret.properties.value));
    for (const value of values) expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(values).size).toBe(values.length); // one value per secret, never shared
    // The values come from newGuid(): another deployment (other GUIDs) gets other values.
    let other = 0;
    const again = dryRun(infra.compiled.main, everythingOn, {
      target: { ...testTarget(), newGuid: () => `otherGuid#${++other}` },
    });
    const againValues = created(again, 'Microsoft.KeyVault/vaults/secrets').map((s) =>
      String(s.properties.value),
    );
    expect(againValues.filter((value) => values.includes(value))).toEqual([]);
    // One secure parameter, generated: no secret value is a parameter of its own, per name.
    const parameters = infra.compiled.main.parameters as Record<string, ArmObject>;
    const secure = Object.keys(parameters).filter((name) =>
      /^secure/i.test(String(parameters[name]!.type)),
    );
    expect(secure).toEqual(['secretSeed']);
    expect(parameters.secretSeed).toMatchObject({
      type: 'securestring',
      defaultValue: "[format('{0}{1}', newGuid(), newGuid())]",
    });
    const keyVaultModule = JSON.parse(
      infra.compiled.texts.get('modules/key-vault.json')!,
    ) as ArmObject;
    expect((keyVaultModule.parameters as Record<string, ArmObject>).secretSeed!.type).toBe(
      'securestring',
    );
  });

  it('leaves existing secrets alone when writeSecrets is false, and still scopes their roles to them', async () => {
    const { deployment, identities } = await infraUnderTest({
      ...everythingOn,
      writeSecrets: false,
    });
    expect(created(deployment, 'Microsoft.KeyVault/vaults/secrets')).toEqual([]);
    const vault = single(deployment, types.keyVault).id;
    const scopes = created(deployment, types.roleAssignment)
      .map((r) => r.scope)
      .filter((scope) => scope?.startsWith(`${vault}/secrets/`));
    const declaredScopes = identities.identities.flatMap((identity) =>
      identity.roleAssignments.filter((role) => role.scope.resource === 'keyVault'),
    );
    expect(scopes).toHaveLength(declaredScopes.length);
    expect(declaredScopes.length).toBeGreaterThan(0);
  });

  it('creates only the declared secrets that do not exist yet (existingSecrets), rotating none', async () => {
    const [kept, ...rest] = infra.identities.resources.keyVault.secrets;
    expect(kept, 'the declaration names no secret').toBeDefined();
    const { deployment } = await infraUnderTest({ ...everythingOn, existingSecrets: [kept!] });
    expect(
      created(deployment, 'Microsoft.KeyVault/vaults/secrets')
        .map((s) => s.name.split('/')[1])
        .sort(),
    ).toEqual([...rest].sort());
  });

  it('keeps secret values out of every output', () => {
    expect(show(infra.deployment.outputs)).not.toContain('newGuid');
  });

  it('protects the vault: soft delete and purge protection', () => {
    expect(single(infra.deployment, types.keyVault).properties).toMatchObject({
      enableSoftDelete: true,
      enablePurgeProtection: true,
    });
  });
});
