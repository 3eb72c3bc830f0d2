import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ArmObject, show } from './support/arm-expression.js';
import { created, type DeploymentResult, single } from './support/arm-deployment.js';
import { BICEP_ENV, infraDir, skipBicepTests } from './support/bicep-cli.js';
import { resourceTypes as types } from './support/identity-checks.js';
import { defaults, everythingOn, infraUnderTest } from './support/infra-deployment.js';

// The production posture of infra/main.bicep (issue 18), proven on the compiled template: each
// default, and each option when it is switched on. infra/README.md ("Security") maps every control
// here to its Azure Security Benchmark item and says what only a subscription can prove.

const dataPlanes = {
  keyVault: types.keyVault,
  storage: types.storageAccount,
  cosmos: types.cosmos,
  serviceBus: types.serviceBus,
  registry: 'Microsoft.ContainerRegistry/registries',
} as const;
const settingType = 'Microsoft.Insights/diagnosticSettings';

/** The diagnostic settings attached to a resource id. */
const settingsOf = (result: DeploymentResult, id: string) =>
  created(result, settingType).filter((r) => r.scope === id);

/** Where a data plane's diagnostic setting attaches: blob logs live on the blob service. */
const logSource = (result: DeploymentResult, plane: keyof typeof dataPlanes) =>
  plane === 'storage'
    ? `${single(result, types.storageAccount).id}/blobServices/default`
    : single(result, dataPlanes[plane]).id;

const workspaceId = (result: DeploymentResult) =>
  single(result, 'Microsoft.OperationalInsights/workspaces').id;

const cluster = (result: DeploymentResult) => single(result, types.cluster).properties;

/** `bicep build-params main.bicepparam` with only these environment variables: its parameters. */
async function buildParams(
  env: Record<string, string>,
): Promise<Record<string, { value: unknown }>> {
  const { stdout } = await promisify(execFile)(
    'bicep',
    ['build-params', 'main.bicepparam', '--stdout'],
    {
      cwd: infraDir,
      encoding: 'utf8',
      // Only this test's variables: a developer's NETWORK_ISOLATION must not leak in.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...BICEP_ENV, ...env },
    },
  );
  const { parametersJson } = JSON.parse(stdout) as { parametersJson: string };
  return (JSON.parse(parametersJson) as { parameters: Record<string, { value: unknown }> })
    .parameters;
}

describe.skipIf(skipBicepTests)('production posture: defaults and options', () => {
  let byDefault: DeploymentResult;
  let isolated: DeploymentResult;
  let privateApi: DeploymentResult;
  let deployerParameters: Promise<Record<string, { value: unknown }>>;
  beforeAll(async () => {
    // main.bicepparam built with the deployer's variables (asserted below), started first so that
    // its Bicep process runs beside the wait for the shared build.
    deployerParameters = buildParams({
      AKS_DEPLOYER_IP_RANGE: '198.51.100.4/32',
      AKS_AUTHORIZED_IP_RANGES: '203.0.113.0/24, 192.0.2.8/32',
    });
    deployerParameters.catch(() => undefined); // reported by the test that awaits it
    byDefault = (await infraUnderTest(defaults)).deployment;
    isolated = (await infraUnderTest(everythingOn)).deployment;
    privateApi = (await infraUnderTest({ ...defaults, privateCluster: true })).deployment;
  });

  describe('network isolation (networkIsolation)', () => {
    it('is off by default: public endpoints (Entra tokens only), no VNet, no private endpoint', () => {
      for (const type of Object.values(dataPlanes)) {
        expect(single(byDefault, type).properties.publicNetworkAccess, type).toBe('Enabled');
      }
      expect(created(byDefault, 'Microsoft.Network/virtualNetworks')).toEqual([]);
      expect(created(byDefault, 'Microsoft.Network/privateEndpoints')).toEqual([]);
      expect(single(byDefault, types.serviceBus).body.sku).toMatchObject({ name: 'Standard' });
    });

    it('turns public network access off on every data plane and the registry', () => {
      for (const type of Object.values(dataPlanes)) {
        expect(single(isolated, type).properties.publicNetworkAccess, type).toBe('Disabled');
      }
      expect(single(isolated, types.keyVault).properties.networkAcls).toEqual({
        bypass: 'None',
        defaultAction: 'Deny',
      });
      expect(single(isolated, types.storageAccount).properties.networkAcls).toMatchObject({
        defaultAction: 'Deny',
      });
      expect(single(isolated, 'Microsoft.ContainerRegistry/registries').properties).toMatchObject({
        networkRuleBypassOptions: 'None',
      });
    });

    it('moves Service Bus and the registry to Premium, the tiers with private endpoints', () => {
      expect(single(isolated, types.serviceBus).body.sku).toMatchObject({ name: 'Premium' });
      expect(single(isolated, 'Microsoft.ContainerRegistry/registries').body.sku).toEqual({
        name: 'Premium',
      });
    });

    it('gives each data plane a private endpoint registered in its private DNS zone', () => {
      const zones = new Map(
        created(isolated, 'Microsoft.Network/privateDnsZones').map((z) => [z.id, z.name]),
      );
      const groups = created(isolated, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
      const endpoints = created(isolated, 'Microsoft.Network/privateEndpoints').map((pe) => {
        const connection = (pe.properties.privateLinkServiceConnections as ArmObject[])[0]!
          .properties as ArmObject;
        const group = groups.find((g) => g.id.startsWith(`${pe.id}/`))!;
        const zoneId = (
          (group.properties.privateDnsZoneConfigs as ArmObject[])[0]!.properties as ArmObject
        ).privateDnsZoneId as string;
        return {
          target: connection.privateLinkServiceId,
          groupIds: connection.groupIds,
          zone: zones.get(zoneId),
          subnet: (pe.properties.subnet as ArmObject).id,
        };
      });
      const subnet = `${single(isolated, 'Microsoft.Network/virtualNetworks').id}/subnets/private-endpoints`;
      expect(subnet).toMatch(/vnet-test\/subnets\/private-endpoints$/);
      expect(new Set(endpoints.map((e) => e.subnet))).toEqual(new Set([subnet]));
      expect(endpoints.map(({ subnet: _, ...e }) => e)).toEqual(
        expect.arrayContaining([
          {
            target: single(isolated, types.keyVault).id,
            groupIds: ['vault'],
            zone: 'privatelink.vaultcore.azure.net',
          },
          {
            target: single(isolated, types.storageAccount).id,
            groupIds: ['blob'],
            zone: 'privatelink.blob.core.windows.net',
          },
          {
            target: single(isolated, types.cosmos).id,
            groupIds: ['Sql'],
            zone: 'privatelink.documents.azure.com',
          },
          {
            target: single(isolated, types.serviceBus).id,
            groupIds: ['namespace'],
            zone: 'privatelink.servicebus.windows.net',
          },
          {
            target: single(isolated, 'Microsoft.ContainerRegistry/registries').id,
            groupIds: ['registry'],
            zone: 'privatelink.azurecr.io',
          },
        ]),
      );
      expect(endpoints).toHaveLength(5);
    });

    it('links every zone to the VNet the node pools join', () => {
      const vnet = single(isolated, 'Microsoft.Network/virtualNetworks').id;
      const links = created(isolated, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks');
      expect(links).toHaveLength(5);
      for (const link of links) {
        expect((link.properties.virtualNetwork as ArmObject).id).toBe(vnet);
      }
      for (const pool of cluster(isolated).agentPoolProfiles as ArmObject[]) {
        expect(pool.vnetSubnetID).toBe(`${vnet}/subnets/aks-nodes`);
      }
      expect(single(isolated, types.cluster).body.identity).toMatchObject({ type: 'UserAssigned' });
    });
  });

  describe('API server exposure', () => {
    it('takes the authorized ranges it is given, and has a public endpoint by default', () => {
      expect(cluster(isolated).apiServerAccessProfile).toEqual({
        enablePrivateCluster: false,
        authorizedIPRanges: ['203.0.113.7/32'],
      });
    });

    it('is private with privateCluster, where authorized ranges do not apply', () => {
      expect(cluster(privateApi).apiServerAccessProfile).toEqual({
        enablePrivateCluster: true,
        authorizedIPRanges: [],
      });
      expect(show(privateApi.outputs.privateCluster!)).toBe('true');
    });

    it("gets the deployer's detected address from main.bicepparam, plus AKS_AUTHORIZED_IP_RANGES", async () => {
      const both = await deployerParameters;
      expect(both.apiServerAuthorizedIpRanges!.value).toEqual([
        '198.51.100.4/32',
        '203.0.113.0/24',
        '192.0.2.8/32',
      ]);
      // The learning defaults, in the same compile (a second bicep process costs a minute here).
      expect(both.enableContainerInsights!.value).toBe(true);
      expect(both.networkIsolation!.value).toBe(false);
      expect(both.privateCluster!.value).toBe(false);
      expect(both.githubRepository!.value).toBe('');
      expect(both.keyVaultRetentionDays!.value).toBe(90);
    }, 240_000); // a bicep process on a shared two-core machine
  });

  describe('logs', () => {
    it.each([
      ['by default', () => byDefault],
      ['isolated', () => isolated],
    ])('%s: one diagnostic setting per data plane, all logs, to the workspace', (_name, result) => {
      for (const plane of Object.keys(dataPlanes) as (keyof typeof dataPlanes)[]) {
        const settings = settingsOf(result(), logSource(result(), plane));
        expect(settings, plane).toHaveLength(1);
        expect(settings[0]!.properties).toMatchObject({
          workspaceId: workspaceId(result()),
          logs: [{ categoryGroup: 'allLogs', enabled: true }],
        });
      }
    });

    it('sends the AKS audit (kube-audit-admin) and guard logs to the workspace', () => {
      const settings = settingsOf(byDefault, single(byDefault, types.cluster).id);
      expect(settings).toHaveLength(1);
      expect(settings[0]!.properties).toEqual({
        workspaceId: workspaceId(byDefault),
        logAnalyticsDestinationType: 'Dedicated',
        logs: [
          { category: 'kube-audit-admin', enabled: true },
          { category: 'guard', enabled: true },
        ],
      });
    });

    it('has no diagnostic setting that sends anywhere else', () => {
      for (const setting of created(isolated, settingType)) {
        expect(Object.keys(setting.properties).sort()).not.toContain('storageAccountId');
        expect(setting.properties.workspaceId).toBe(workspaceId(isolated));
      }
    });

    it('turns Container Insights on by default', () => {
      expect(cluster(byDefault).addonProfiles).toMatchObject({
        omsagent: { enabled: true, config: { useAADAuth: 'true' } },
      });
      expect(created(byDefault, 'Microsoft.Insights/dataCollectionRuleAssociations')).toHaveLength(
        1,
      );
    });
  });

  describe('recovery', () => {
    it('keeps a deleted vault or secret recoverable for 90 days, with purge protection', () => {
      expect(single(byDefault, types.keyVault).properties).toMatchObject({
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enablePurgeProtection: true,
      });
    });

    it('versions blobs and keeps deleted blobs and containers for 14 days', () => {
      expect(
        single(byDefault, 'Microsoft.Storage/storageAccounts/blobServices').properties,
      ).toEqual({
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: 14 },
        containerDeleteRetentionPolicy: { enabled: true, days: 14 },
      });
    });

    it('backs Cosmos DB up continuously (point-in-time restore, last 7 days)', () => {
      expect(single(byDefault, types.cosmos).properties.backupPolicy).toEqual({
        type: 'Continuous',
        continuousModeProperties: { tier: 'Continuous7Days' },
      });
    });

    it("lets the frontend delete an upload's current version only: never a version or snapshot", () => {
      const storageGrants = created(byDefault, types.roleAssignment).filter((r) =>
        (r.scope ?? '').includes('/containers/uploads'),
      );
      const byRole = (id: string) =>
        storageGrants.find((r) => String(r.properties.roleDefinitionId).endsWith(id))!.properties;
      const contributor = byRole('ba92f5b4-2d11-453d-a403-e96b0029c9fe');
      expect(contributor.conditionVersion).toBe('2.0');
      const condition = String(contributor.condition).replace(/\s+/g, ' ');
      expect(condition).toContain(
        "!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})",
      );
      expect(condition).toContain(
        'NOT Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:versionId]',
      );
      expect(condition).toContain(
        'NOT Exists @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:snapshot]',
      );
      // The backend's Reader cannot delete: nothing to condition.
      expect(byRole('2a2b9908-6ea1-4ae2-8e65-a410df84e7d1').condition ?? null).toBeNull();
    });
  });

  describe('cluster', () => {
    it('runs the apps on a user pool, keeping the system pool to system pods', () => {
      const pools = cluster(byDefault).agentPoolProfiles as ArmObject[];
      expect(pools.map((p) => [p.name, p.mode, p.nodeTaints ?? null])).toEqual([
        ['system', 'System', ['CriticalAddonsOnly=true:NoSchedule']],
        ['apps', 'User', null],
      ]);
    });

    it('leaves Azure Policy, Defender and encryption at host off by default, on when asked', () => {
      expect(cluster(byDefault).addonProfiles).toMatchObject({ azurepolicy: { enabled: false } });
      expect((cluster(byDefault).securityProfile as ArmObject).defender ?? null).toBeNull();
      expect(
        (cluster(byDefault).agentPoolProfiles as ArmObject[]).map((p) => p.enableEncryptionAtHost),
      ).toEqual([false, false]);

      expect(cluster(isolated).addonProfiles).toMatchObject({ azurepolicy: { enabled: true } });
      expect((cluster(isolated).securityProfile as ArmObject).defender).toEqual({
        logAnalyticsWorkspaceResourceId: workspaceId(isolated),
        securityMonitoring: { enabled: true },
      });
      expect(
        (cluster(isolated).agentPoolProfiles as ArmObject[]).map((p) => p.enableEncryptionAtHost),
      ).toEqual([true, true]);
    });

    it('runs the Key Vault secrets provider the application routing add-on reads certificates with', () => {
      expect(cluster(byDefault).addonProfiles).toMatchObject({
        azureKeyvaultSecretsProvider: { enabled: true },
      });
      expect(cluster(byDefault).ingressProfile).toEqual({ webAppRouting: { enabled: true } });
      expect(show(byDefault.outputs.webAppRoutingPrincipalId!)).toMatch(
        /ingressProfile\.webAppRouting\.identity\.objectId$/,
      );
    });
  });
});
