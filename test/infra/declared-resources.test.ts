// Bicep creates the data-plane resources the declaration lists, all of them and nothing else: the
// committed infra/identities.json, and a scratch copy of infra/ whose declaration has more of each
// kind (three containers, three queues with their own settings, two Cosmos DB databases with
// three containers, three secrets) and roles on the new ones.
import { join } from 'node:path';
import { type IdentitiesFile, loadIdentities, type RoleAssignment } from '@wi/identities';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ArmObject } from './support/arm-expression.js';
import { type DeploymentResult, created } from './support/arm-deployment.js';
import { infraDir, skipBicepTests } from './support/bicep-cli.js';
import { roleAssignmentProblems } from './support/identity-checks.js';
import {
  infraUnderTest,
  infraWithDeclaration,
  type InfraUnderTest,
} from './support/infra-deployment.js';

type Resources = IdentitiesFile['resources'];

/** What a deployment creates, in the declaration's own shape (sorted), read off the resources. */
function createdResources(result: DeploymentResult): Omit<Resources, 'keyVault'> & {
  secrets: string[];
} {
  const names = (type: string) => created(result, type).map((r) => r.name.split('/'));
  const byName = <T extends { name: string }>(list: T[]) =>
    [...list].sort((a, b) => a.name.localeCompare(b.name));
  const containers = names('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');
  const cosmosContainers = created(
    result,
    'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
  );
  return {
    secrets: names('Microsoft.KeyVault/vaults/secrets')
      .map(([, name]) => name!)
      .sort(),
    storage: {
      containers: names('Microsoft.Storage/storageAccounts/blobServices/containers')
        .map(([, , name]) => name!)
        .sort(),
    },
    serviceBus: {
      queues: byName(
        created(result, 'Microsoft.ServiceBus/namespaces/queues').map((queue) => ({
          name: queue.name.split('/')[1]!,
          maxDeliveryCount: queue.properties.maxDeliveryCount as number,
          lockDurationSeconds: isoSeconds(String(queue.properties.lockDuration)),
        })),
      ),
    },
    cosmos: {
      databases: byName(
        names('Microsoft.DocumentDB/databaseAccounts/sqlDatabases').map(([, database]) => ({
          name: database!,
          containers: byName(
            containers
              .map((path, i) => ({ path, resource: cosmosContainers[i]!.properties.resource }))
              .filter(({ path }) => path[1] === database)
              .map(({ path, resource }) => ({
                name: path[2]!,
                partitionKeyPath: (
                  ((resource as ArmObject).partitionKey as ArmObject).paths as string[]
                ).join(','),
              })),
          ),
        })),
      ),
    },
  };
}

/** The declaration's resources, sorted the same way. */
function declaredResources(resources: Resources): ReturnType<typeof createdResources> {
  const byName = <T extends { name: string }>(list: T[]) =>
    [...list].sort((a, b) => a.name.localeCompare(b.name));
  return {
    secrets: [...resources.keyVault.secrets].sort(),
    storage: { containers: [...resources.storage.containers].sort() },
    serviceBus: { queues: byName(resources.serviceBus.queues) },
    cosmos: {
      databases: byName(
        resources.cosmos.databases.map((database) => ({
          name: database.name,
          containers: byName(database.containers),
        })),
      ),
    },
  };
}

/** Seconds of an ISO 8601 duration of minutes and seconds (Service Bus's lockDuration). */
function isoSeconds(duration: string): number {
  const match = /^PT(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!match) throw new Error(`not a PTnMnS duration: ${duration}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

/** The committed declaration with more of every kind, and roles at the new scopes. */
function widerDeclaration(file: IdentitiesFile): IdentitiesFile {
  const wider = structuredClone(file);
  wider.resources = {
    keyVault: {
      localName: file.resources.keyVault.localName,
      secrets: [...file.resources.keyVault.secrets, 'reporter-api-key'],
    },
    storage: { containers: [...file.resources.storage.containers, 'reports', 'archive'] },
    serviceBus: {
      queues: [
        ...file.resources.serviceBus.queues,
        { name: 'reports', maxDeliveryCount: 10, lockDurationSeconds: 30 },
        { name: 'audit', maxDeliveryCount: 1, lockDurationSeconds: 90 },
      ],
    },
    cosmos: {
      databases: [
        ...file.resources.cosmos.databases,
        {
          name: 'reporting',
          containers: [
            { name: 'reports', partitionKeyPath: '/tenantId' },
            { name: 'summaries', partitionKeyPath: '/month' },
          ],
        },
      ],
    },
  };
  const backend = wider.identities.find((identity) => identity.service === 'backend')!;
  const roles: RoleAssignment[] = [
    {
      role: 'Storage Blob Data Reader',
      roleDefinitionId: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
      scope: { resource: 'storage', container: 'reports' },
    },
    {
      role: 'Azure Service Bus Data Receiver',
      roleDefinitionId: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
      scope: { resource: 'serviceBus', queue: 'audit' },
    },
    {
      role: 'Key Vault Secrets User',
      roleDefinitionId: '4633458b-17de-408a-b874-0445c86b69e6',
      scope: { resource: 'keyVault', secret: 'reporter-api-key' },
    },
    {
      role: 'Cosmos DB Built-in Data Reader',
      roleDefinitionId: '00000000-0000-0000-0000-000000000001',
      scope: { resource: 'cosmos', database: 'reporting', container: 'summaries' },
    },
  ];
  backend.roleAssignments.push(...roles);
  return wider;
}

describe.skipIf(skipBicepTests)('Bicep creates the declared resources', () => {
  let real: InfraUnderTest;
  let wider: IdentitiesFile;
  let widerBuild: ReturnType<typeof infraWithDeclaration>;
  beforeAll(async () => {
    // The scratch copy's build (below) runs beside the shared build of infra/: two Bicep
    // processes, one a core, instead of one after the other.
    wider = widerDeclaration(await loadIdentities(join(infraDir, 'identities.json')));
    widerBuild = infraWithDeclaration(wider);
    widerBuild.catch(() => undefined); // its failure is reported by the beforeAll that awaits it
    real = await infraUnderTest();
  }, 300_000);

  it('from the committed declaration: exactly what it declares', () => {
    expect(createdResources(real.deployment)).toEqual(declaredResources(real.file.resources));
  });

  describe('from a declaration with more of each kind (a scratch copy of infra/)', () => {
    let result: Awaited<ReturnType<typeof infraWithDeclaration>>;
    beforeAll(async () => {
      result = await widerBuild;
    }, 300_000);

    it('creates every container, queue, database, Cosmos DB container and secret, with its settings', () => {
      const resources = createdResources(result.deployment);
      expect(resources).toEqual(declaredResources(wider.resources));
      // The scratch declaration has what it claims to: more than one of each kind.
      expect(resources.storage.containers).toHaveLength(3);
      expect(resources.serviceBus.queues).toHaveLength(3);
      expect(resources.cosmos.databases).toHaveLength(2);
      expect(resources.secrets).toHaveLength(3);
    });

    it('writes each queue’s lock duration as Service Bus does, and its other settings alike', () => {
      const queues = created(result.deployment, 'Microsoft.ServiceBus/namespaces/queues');
      expect(
        Object.fromEntries(queues.map((q) => [q.name.split('/')[1], q.properties.lockDuration])),
      ).toEqual({ documents: 'PT1M', reports: 'PT30S', audit: 'PT90S' });
      for (const queue of queues) {
        expect(queue.properties, queue.name).toMatchObject({
          deadLetteringOnMessageExpiration: true,
          requiresSession: false,
        });
      }
      for (const container of created(
        result.deployment,
        'Microsoft.Storage/storageAccounts/blobServices/containers',
      )) {
        expect(container.properties.publicAccess, container.name).toBe('None');
      }
    });

    it('gives every secret its own generated value', () => {
      const values = created(result.deployment, 'Microsoft.KeyVault/vaults/secrets').map((s) =>
        String(s.properties.value),
      );
      expect(values).toHaveLength(3);
      expect(new Set(values).size).toBe(3);
      for (const value of values) expect(value).toMatch(/^[0-9a-f]{64}$/);
    });

    it('scopes each role, the new ones too, to the resource this deployment creates', () => {
      expect(roleAssignmentProblems(result.deployment, result.identities)).toEqual([]);
    });
  });
});
