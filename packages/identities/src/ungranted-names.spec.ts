import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { type IdentitiesFile, parseIdentities, ungrantedNames } from './index.js';

const committed = parseIdentities(
  JSON.parse(await readFile(new URL('../../../infra/identities.json', import.meta.url), 'utf8')),
);

function withExtraResources(file: IdentitiesFile): IdentitiesFile {
  const copy = structuredClone(file);
  copy.resources.storage.containers.push('archive');
  copy.resources.serviceBus.queues.push({
    name: 'audit',
    maxDeliveryCount: 5,
    lockDurationSeconds: 60,
  });
  copy.resources.cosmos.databases.push({
    name: 'reports',
    containers: [{ name: 'daily', partitionKeyPath: '/id' }],
  });
  copy.resources.cosmos.databases[0]!.containers.push({ name: 'audit', partitionKeyPath: '/id' });
  return copy;
}

describe('ungrantedNames', () => {
  it("gives each service of the committed declaration the other's secret, and nothing it holds", () => {
    expect(ungrantedNames(committed, 'frontend')).toEqual({
      secrets: ['backend-signing-key'],
      containers: [],
      queues: [],
      cosmosContainers: [{ database: 'intake', container: 'documents' }],
    });
    expect(ungrantedNames(committed, 'backend')).toEqual({
      secrets: ['frontend-session-key'],
      containers: [],
      queues: [],
      cosmosContainers: [],
    });
  });

  it('lists every declared name no role assignment is scoped to', () => {
    const names = ungrantedNames(withExtraResources(committed), 'backend');
    expect(names.containers).toEqual(['archive']);
    expect(names.queues).toEqual(['audit']);
    // The database-wide role on intake covers its new container; reports has no role at all.
    expect(names.cosmosContainers).toEqual([{ database: 'reports', container: 'daily' }]);
  });

  it('honours a Cosmos DB role scoped to one container', () => {
    const file = withExtraResources(committed);
    const backend = file.identities.find((identity) => identity.service === 'backend')!;
    const cosmosRole = backend.roleAssignments.find((role) => role.scope.resource === 'cosmos')!;
    cosmosRole.scope = { resource: 'cosmos', database: 'intake', container: 'documents' };
    expect(ungrantedNames(file, 'backend').cosmosContainers).toEqual([
      { database: 'intake', container: 'audit' },
      { database: 'reports', container: 'daily' },
    ]);
  });

  it('takes a secret out of the list once a role grants it', () => {
    const file = structuredClone(committed);
    file.identities
      .find((identity) => identity.service === 'frontend')!
      .roleAssignments.push({
        role: 'Key Vault Secrets User',
        roleDefinitionId: '4633458b-17de-408a-b874-0445c86b69e6',
        scope: { resource: 'keyVault', secret: 'backend-signing-key' },
      });
    expect(ungrantedNames(file, 'frontend').secrets).toEqual([]);
  });

  it('refuses a service the declaration does not have', () => {
    expect(() => ungrantedNames(committed, 'worker')).toThrow(
      "service 'worker' is not declared in the identities file",
    );
  });
});
