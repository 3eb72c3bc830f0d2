import { beforeAll, describe, expect, it } from 'vitest';
import { type ArmObject, show } from './support/arm-expression.js';
import { created, runtimeReference, single } from './support/arm-deployment.js';
import { skipBicepTests } from './support/bicep-cli.js';
import { identityResource, resourceTypes as types } from './support/identity-checks.js';
import { infraUnderTest, type InfraUnderTest, testTarget } from './support/infra-deployment.js';

/** The keys of the overlay's env file (agreed with the Kustomize overlay), one per output. */
const overlayKeys = [
  'frontendClientId',
  'backendClientId',
  'tenantId',
  'keyVaultUrl',
  'storageBlobEndpoint',
  'serviceBusFullyQualifiedNamespace',
  'cosmosEndpoint',
  'acrLoginServer',
  'oidcIssuerUrl',
  'uploadsContainer',
  'documentsQueue',
  'cosmosDatabase',
  'cosmosContainer',
  'namespace',
  'applicationInsightsConnectionString',
];

describe.skipIf(skipBicepTests)('outputs and resource settings', () => {
  let infra: InfraUnderTest;
  beforeAll(async () => {
    infra = await infraUnderTest();
  });
  /** The declaration's one container, queue, database and Cosmos DB container. */
  const declared = () => {
    const { storage, serviceBus, cosmos } = infra.identities.resources;
    const database = cosmos.databases[0]!;
    return {
      container: storage.containers[0]!,
      queue: serviceBus.queues[0]!,
      database,
      cosmosContainer: database.containers[0]!,
    };
  };

  it('give the overlay every value it needs, under the agreed names, from the resources themselves', () => {
    const outputs = infra.deployment.outputs;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(overlayKeys));
    const ref = (type: string, path: string) =>
      show(runtimeReference(single(infra.deployment, type).id, path));
    const clientId = (service: string) => {
      const identity = infra.identities.identities.find((i) => i.service === service)!;
      return show(runtimeReference(identityResource(infra.deployment, identity).id, 'clientId'));
    };
    expect(Object.fromEntries(overlayKeys.map((key) => [key, show(outputs[key]!)]))).toEqual({
      frontendClientId: clientId('frontend'),
      backendClientId: clientId('backend'),
      tenantId: `'${testTarget().tenantId}'`,
      keyVaultUrl: ref(types.keyVault, 'vaultUri'),
      storageBlobEndpoint: ref(types.storageAccount, 'primaryEndpoints.blob'),
      serviceBusFullyQualifiedNamespace: expect.stringContaining(
        ref(types.serviceBus, 'serviceBusEndpoint'),
      ),
      cosmosEndpoint: ref(types.cosmos, 'documentEndpoint'),
      acrLoginServer: ref('Microsoft.ContainerRegistry/registries', 'loginServer'),
      oidcIssuerUrl: ref(types.cluster, 'oidcIssuerProfile.issuerURL'),
      uploadsContainer: `'${declared().container}'`,
      documentsQueue: `'${declared().queue.name}'`,
      cosmosDatabase: `'${declared().database.name}'`,
      cosmosContainer: `'${declared().cosmosContainer.name}'`,
      namespace: `'${infra.identities.namespace}'`,
      applicationInsightsConnectionString: ref(types.applicationInsights, 'ConnectionString'),
    });
  });

  it('turn the namespace endpoint Azure returns into the bare host the Service Bus SDK wants', async () => {
    const { deployment } = await infraUnderTest(undefined, (resource) =>
      resource.type === types.serviceBus
        ? { serviceBusEndpoint: `https://${resource.name}.servicebus.windows.net:443/` }
        : undefined,
    );
    expect(deployment.outputs.serviceBusFullyQualifiedNamespace).toMatch(
      /^sb-[a-z0-9]+\.servicebus\.windows\.net$/,
    );
  });

  it('create the names and settings the declaration lists (and the local cloud creates)', () => {
    const {
      container,
      queue: declaredQueue,
      database,
      cosmosContainer: declaredCosmos,
    } = declared();
    const queue = single(infra.deployment, 'Microsoft.ServiceBus/namespaces/queues');
    expect(queue.name.split('/')[1]).toBe(declaredQueue.name);
    expect(queue.properties).toMatchObject({
      maxDeliveryCount: declaredQueue.maxDeliveryCount,

      deadLetteringOnMessageExpiration: true,
    });
    const blobContainer = single(
      infra.deployment,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );
    expect(isoSeconds(String(queue.properties.lockDuration))).toBe(
      declaredQueue.lockDurationSeconds,
    );
    expect(blobContainer.name.split('/')[2]).toBe(container);
    expect(blobContainer.properties.publicAccess).toBe('None');

    const cosmosContainer = single(
      infra.deployment,
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
    );
    expect(cosmosContainer.name.split('/').slice(1)).toEqual([database.name, declaredCosmos.name]);
    expect((cosmosContainer.properties.resource as ArmObject).partitionKey).toMatchObject({
      paths: [declaredCosmos.partitionKeyPath],
    });
    expect(single(infra.deployment, types.cosmos).properties.capabilities).toEqual([
      { name: 'EnableServerless' },
    ]);

    const secrets = created(infra.deployment, 'Microsoft.KeyVault/vaults/secrets').map(
      (s) => s.name.split('/')[1],
    );
    expect(secrets.sort()).toEqual([...infra.identities.resources.keyVault.secrets].sort());
  });
});

/** Seconds of an ISO 8601 duration of minutes and seconds (Service Bus's lockDuration). */
function isoSeconds(duration: string): number {
  const match = /^PT(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!match) throw new Error(`not a PTnMnS duration: ${duration}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}
